"""The journal: what was planned, sent, failed or skipped, one row per step key — exactly once.

Its tables (``journal``, ``journal_events``, ``journal_messages``, ``approvals_used``, ``recovery``)
are described in :mod:`encours.sync.journal_schema`; its values in :mod:`encours.sync.journal_entries`.

States: ``planned → sending → sent | failed | skipped``, and ``uncertain``.  A row is committed
as ``sending`` before its message leaves and as ``sent`` once the channel answered; a row still
``sending`` when the next pass starts (the process died in between) becomes ``uncertain`` and
nothing is sent for it until a person says what happened (:meth:`Journal.confirm`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from encours.scenarios.actions import StepKey
from encours.sync.journal_entries import (
    ENTRY_COLUMNS,
    EVENT_COLUMNS,
    VISIBLE_EVENTS,
    ConfirmTooEarlyError,
    Dispatch,
    Entry,
    Event,
    JournalError,
    State,
    by_message,
    entry_of_row,
    event_of_row,
    reference_for,
    stored_amount,
)
from encours.sync.labels import STATE_LABELS_FR, pass_text
from encours.sync.redact import redact
from encours.sync.state import StateStore

#: The journal's values live in :mod:`encours.sync.journal_entries`; still importable from here.
__all__ = [
    "MAX_ATTEMPTS", "RETRY_MINUTES", "STATE_LABELS_FR", "VISIBLE_EVENTS", "ConfirmTooEarlyError", "Dispatch", "Entry",
    "Event", "Journal", "JournalError", "State", "reference_for",
]

#: A failed key is retried at the next passes, waiting longer each time, at most this many sends.
MAX_ATTEMPTS = 5
#: Wait before retrying a failed send: this many minutes, doubled at each attempt (capped at a day).
RETRY_MINUTES = 15


class Journal:
    """The journal of one dossier in its state store.

    Every method that changes a state commits before it returns (each in its own transaction),
    so what the journal says survives a crash that follows.  Reasons and details are passed
    through the secret redaction before they are stored.
    """

    def __init__(self, store: StateStore, dossier: str, *, secrets: Iterable[str] = (), tz: tzinfo = UTC,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.wall_clock = wall_clock  # journaled beside the pass's clock, for audit
        self.dossier = dossier
        self.tz = tz  # dates of sends are days in the company's time zone
        self._secrets = tuple(s for s in secrets if s)

    @property
    def db(self) -> Any:
        return self.store.db

    def _clean(self, text: str) -> str:
        return redact(redact(text), self._secrets) if text else text

    # -- reading ------------------------------------------------------------------------------
    def entries(self, states: Iterable[State] | None = None) -> list[Entry]:
        query = f"SELECT {ENTRY_COLUMNS} FROM journal WHERE dossier = ?"
        params: list[Any] = [self.dossier]
        if states is not None:
            wanted = [s.value for s in states]
            query += f" AND state IN ({', '.join('?' for _ in wanted)})"
            params += wanted
        return [entry_of_row(r) for r in self.db.execute(query + " ORDER BY created_at, key", params)]

    def entry(self, key: StepKey) -> Entry | None:
        row = self.db.execute(
            f"SELECT {ENTRY_COLUMNS} FROM journal WHERE dossier = ? AND key = ?", (self.dossier, key.id)
        ).fetchone()
        return None if row is None else entry_of_row(row)

    def by_reference(self, reference: str) -> list[Entry]:
        rows = self.db.execute(
            f"SELECT {ENTRY_COLUMNS} FROM journal WHERE dossier = ? AND (reference = ? OR message_id = ? OR key = ?)",
            (self.dossier, reference, reference, reference),
        )
        return [entry_of_row(r) for r in rows]

    def done(self) -> dict[StepKey, date]:
        """What the planner must treat as done: sent keys, and uncertain ones (until a person decides)."""
        rows = self.db.execute(
            "SELECT key, COALESCE(sent_at, sending_at, updated_at) FROM journal "
            "WHERE dossier = ? AND state IN ('sent', 'uncertain')",
            (self.dossier,),
        )
        return {StepKey.parse(key): datetime.fromisoformat(at).astimezone(self.tz).date() for key, at in rows}

    def blocked(self, now: datetime) -> dict[StepKey, Entry]:
        """Failed keys that must not be sent in this pass: waiting to retry, or given up."""
        out: dict[StepKey, Entry] = {}
        for entry in self.entries([State.FAILED]):
            if entry.attempts >= MAX_ATTEMPTS or (entry.retry_at is not None and entry.retry_at > now):
                out[entry.key] = entry
        return out

    def events(self, *, customer_id: str | None = None, visible_only: bool = False) -> list[Event]:
        query = f"SELECT {EVENT_COLUMNS} FROM journal_events WHERE dossier = ?"
        params: list[Any] = [self.dossier]
        if customer_id is not None:
            query += " AND customer_id = ?"
            params.append(customer_id)
        if visible_only:
            query += f" AND state IN ({', '.join(repr(s) for s in sorted(VISIBLE_EVENTS))})"
        return [event_of_row(r) for r in self.db.execute(query + " ORDER BY seq", params)]

    def message_content(self, message_id: str) -> tuple[str, bytes] | None:
        """(file name, bytes) of a message kept when it was sent."""
        row = self.db.execute(
            "SELECT filename, content FROM journal_messages WHERE dossier = ? AND message_id = ?",
            (self.dossier, message_id),
        ).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def used_approvals(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT invoice_id FROM approvals_used WHERE dossier = ?",
                                              (self.dossier,))}

    def in_recovery(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT customer_id FROM recovery WHERE dossier = ?", (self.dossier,))}

    # -- writing ------------------------------------------------------------------------------
    def _event_row(self, dispatch: Dispatch | None, entries: Sequence[Entry], state: str, reason: str,
                   now: datetime, *, reference: str = "", message_id: str = "", artifact: str = "",
                   keys: Sequence[str] = ()) -> None:
        if dispatch is not None:
            values = (
                dispatch.customer_id, dispatch.customer_name, ", ".join(dispatch.invoice_numbers), dispatch.scenario,
                dispatch.step, dispatch.channel, ", ".join(dispatch.recipients),
            )
            keys = [k.id for k in dispatch.keys]
        elif entries:
            first = entries[0]
            numbers = ", ".join(dict.fromkeys(e.invoice_numbers for e in entries if e.invoice_numbers))
            values = (first.customer_id, first.customer_name, numbers, first.scenario, first.step, first.channel,
                      first.recipients)
            keys = [e.key.id for e in entries]
        else:
            values = ("", "", "", "", "", "", "")
        self.db.execute(
            f"INSERT INTO journal_events ({EVENT_COLUMNS.replace('seq, ', '')}, dossier, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (now.isoformat(), reference, " ".join(keys), *values, state, self._clean(reason), message_id,
             self._clean(artifact), self.dossier, self.wall_clock().isoformat()),
        )

    def _upsert(self, dispatch: Dispatch, state: State, now: datetime, *, reference: str = "",
                message_id: str = "", reason: str = "") -> None:
        for key in dispatch.keys:
            invoice_ids = [key.target] if key.level == "invoice" else list(dispatch.invoice_ids)
            numbers = (
                ", ".join(n for i, n in zip(dispatch.invoice_ids, dispatch.invoice_numbers, strict=True)
                          if i == key.target)
                if key.level == "invoice" else ", ".join(dispatch.invoice_numbers)
            )
            self.db.execute(
                "INSERT INTO journal (dossier, key, level, target, scenario, step, cycle, customer_id, customer_name, "
                "invoice_ids, invoice_numbers, amount, currency, channel, recipients, reference, message_id, state, "
                "reason, planned_date, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (dossier, key) DO UPDATE SET customer_name = excluded.customer_name, "
                "invoice_ids = excluded.invoice_ids, invoice_numbers = excluded.invoice_numbers, "
                "amount = excluded.amount, currency = excluded.currency, channel = excluded.channel, "
                "recipients = excluded.recipients, reference = excluded.reference, "
                "message_id = excluded.message_id, state = excluded.state, reason = excluded.reason, "
                "planned_date = excluded.planned_date, updated_at = excluded.updated_at",
                (self.dossier, key.id, key.level, key.target, key.scenario, key.step, key.cycle, dispatch.customer_id,
                 dispatch.customer_name, json.dumps(invoice_ids), numbers, *stored_amount(dispatch.amount),
                 dispatch.channel, ", ".join(dispatch.recipients), reference, message_id, state.value,
                 self._clean(reason), dispatch.planned_date.isoformat(), now.isoformat(), now.isoformat()),
            )

    def _check_sendable(self, dispatch: Dispatch) -> None:
        for key in dispatch.keys:
            entry = self.entry(key)
            if entry is not None and entry.state in (State.SENT, State.SENDING, State.UNCERTAIN):
                raise JournalError(
                    f"{key.id} is already {entry.state.value} ({entry.reference}): refusing to send it again"
                )

    def plan(self, dispatches: Iterable[Dispatch], now: datetime) -> None:
        """Record the messages this pass is about to send (``planned``), in one transaction."""
        with self.store.transaction():
            for dispatch in dispatches:
                current = [self.entry(k) for k in dispatch.keys]
                if any(e is not None and e.state not in (State.PLANNED, State.SKIPPED, State.FAILED)
                       for e in current):
                    continue
                reference = reference_for(self.dossier, dispatch.action_key)
                for key, entry in zip(dispatch.keys, current, strict=True):
                    if entry is None or entry.state is State.SKIPPED:
                        one = replace(dispatch, keys=(key,))
                        self._upsert(one, State.PLANNED, now, reference=reference)
                    elif entry.state is State.FAILED:
                        continue  # stays failed (with its retry time) until it is sent again
                self._event_row(dispatch, (), "planned", "", now, reference=reference)

    def begin(self, dispatch: Dispatch, now: datetime, *, message_id: str, content: bytes | None = None,
              filename: str = "") -> str:
        """Commit ``sending`` for every key of the message, and keep its bytes; returns the reference.

        Raises :class:`JournalError` when a key is already sent, sending or uncertain: the caller
        must not send.
        """
        reference = reference_for(self.dossier, dispatch.action_key)
        with self.store.transaction():
            self._check_sendable(dispatch)
            self._upsert(dispatch, State.SENDING, now, reference=reference, message_id=message_id)
            self.db.execute(
                f"UPDATE journal SET attempts = attempts + 1, sending_at = ? WHERE dossier = ? AND key IN "
                f"({', '.join('?' for _ in dispatch.keys)})",
                (now.isoformat(), self.dossier, *(k.id for k in dispatch.keys)),
            )
            if content is not None:
                self.db.execute(
                    "INSERT INTO journal_messages (dossier, message_id, reference, channel, filename, content, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dossier, message_id) DO UPDATE SET "
                    "content = excluded.content, filename = excluded.filename, created_at = excluded.created_at",
                    (self.dossier, message_id, reference, dispatch.channel, filename, content, now.isoformat()),
                )
            self._event_row(dispatch, (), "sending", "", now, reference=reference, message_id=message_id)
        return reference

    def _finish(self, dispatch: Dispatch, state: State, now: datetime, *, reason: str = "", artifact: str = "",
                approvals: Iterable[str] = (), retry: bool = False) -> None:
        reference = reference_for(self.dossier, dispatch.action_key)
        keys = [k.id for k in dispatch.keys]
        marks = ", ".join("?" for _ in keys)
        with self.store.transaction():
            rows = self.db.execute(
                f"SELECT message_id, attempts FROM journal WHERE dossier = ? AND key IN ({marks})",
                (self.dossier, *keys),
            ).fetchall()
            message_id = rows[0][0] if rows else ""
            attempts = max((int(r[1]) for r in rows), default=1)
            retry_at = None
            if retry:
                retry_at = (now + timedelta(minutes=min(RETRY_MINUTES * 2 ** max(attempts - 1, 0), 24 * 60)))
            self.db.execute(
                f"UPDATE journal SET state = ?, reason = ?, artifact = ?, updated_at = ?, retry_at = ?, "
                f"sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE dossier = ? AND key IN ({marks})",
                (state.value, self._clean(reason), self._clean(artifact), now.isoformat(),
                 None if retry_at is None else retry_at.isoformat(), state.value, now.isoformat(), self.dossier,
                 *keys),
            )
            for invoice_id in approvals:
                self.db.execute(
                    "INSERT INTO approvals_used (dossier, invoice_id, reference, at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (dossier, invoice_id) DO UPDATE SET reference = excluded.reference, at = excluded.at",
                    (self.dossier, invoice_id, reference, now.isoformat()),
                )
            self._event_row(dispatch, (), state.value, reason, now, reference=reference, message_id=message_id,
                            artifact=artifact)

    def sent(self, dispatch: Dispatch, now: datetime, *, artifact: str = "", approvals: Iterable[str] = ()) -> None:
        """The channel took the message: ``sent`` (and the approvals it used are remembered)."""
        self._finish(dispatch, State.SENT, now, artifact=artifact, approvals=approvals)

    def failed(self, dispatch: Dispatch, now: datetime, reason: str) -> None:
        """The channel refused or broke: ``failed`` with the reason; retried at a later pass."""
        self._finish(dispatch, State.FAILED, now, reason=reason, retry=True)

    def uncertain(self, dispatch: Dispatch, now: datetime, reason: str) -> None:
        """The channel may have delivered it (timeout after DATA began): ``uncertain``, never resent
        until a person confirms (:meth:`confirm`)."""
        self._finish(dispatch, State.UNCERTAIN, now, reason=reason)

    def attempted_at(self, reference: str) -> datetime | None:
        """When the last attempt of a message began (``sending`` committed), or None."""
        row = self.db.execute(
            "SELECT MAX(sending_at) FROM journal WHERE dossier = ? AND (reference = ? OR message_id = ? OR key = ?)",
            (self.dossier, reference, reference, reference),
        ).fetchone()
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    def skipped(self, dispatch: Dispatch, now: datetime, reason: str) -> None:
        """Not sent on purpose (paid since the sync, re-check refused …): ``skipped`` with the reason.

        Recorded once per key and reason: the same skip seen again at the next pass adds nothing.
        """
        fresh = []
        for key in dispatch.keys:
            entry = self.entry(key)
            if entry is not None and entry.state in (State.SENT, State.SENDING, State.UNCERTAIN):
                continue
            if entry is not None and entry.state is State.SKIPPED and entry.reason == self._clean(reason):
                continue
            fresh.append(key)
        if not fresh:
            return
        part = replace(dispatch, keys=tuple(fresh))
        with self.store.transaction():
            self._upsert(part, State.SKIPPED, now, reference=reference_for(self.dossier, part.action_key),
                         reason=reason)
            self._event_row(part, (), "skipped", reason, now, reference=reference_for(self.dossier, part.action_key))

    def recover(self, now: datetime) -> list[Entry]:
        """Rows left ``sending`` by a pass that died: ``uncertain``, for a person to confirm."""
        stuck = self.entries([State.SENDING])
        if not stuck:
            return []
        reason = pass_text("interrupted")
        with self.store.transaction():
            for reference, entries in by_message(stuck).items():
                self.db.execute(
                    "UPDATE journal SET state = 'uncertain', reason = ?, updated_at = ? WHERE dossier = ? AND "
                    f"key IN ({', '.join('?' for _ in entries)})",
                    (reason, now.isoformat(), self.dossier, *(e.key.id for e in entries)),
                )
                self._event_row(None, entries, "uncertain", reason, now, reference=reference,
                                message_id=entries[0].message_id)
        return self.entries([State.UNCERTAIN])

    def confirm(self, reference: str, sent: bool, now: datetime, *, who: str = "",
                quiet: timedelta = timedelta(0)) -> list[Entry]:
        """A person says what happened to an uncertain (or failed) message.

        ``sent=True``: it did go out — the keys become ``sent`` and are never sent again.
        ``sent=False``: it did not — the keys become ``failed`` with no waiting time and a fresh
        count of attempts, so the next pass sends them.  Refused for an uncertain message whose
        attempt began less than ``quiet`` ago: a slow server may still deliver it.
        """
        entries = self.by_reference(reference.strip())
        if not entries:
            raise JournalError(f"no journal entry has the reference, Message-ID or key {reference!r}")
        states = {e.state for e in entries}
        if not states <= {State.UNCERTAIN, State.FAILED}:
            raise JournalError(
                f"{reference}: only an uncertain or failed message can be confirmed (it is "
                f"{', '.join(sorted(s.value for s in states))})"
            )
        attempted = self.attempted_at(reference.strip())
        if not sent and State.UNCERTAIN in states and attempted is not None and now < attempted + quiet:
            raise ConfirmTooEarlyError(
                f"{entries[0].reference}: the attempt of {attempted:%Y-%m-%d %H:%M:%S %Z} may still be delivered by "
                f"the server (it can answer after the client gave up); after {attempted + quiet:%H:%M:%S %Z}, search "
                f"the mailbox or the server's log for Message-ID {entries[0].message_id} "
                f"({entries[0].recipients or entries[0].channel}), then confirm"
            )
        by = pass_text("confirmed_by", who=who) if who else ""
        with self.store.transaction():
            keys = [e.key.id for e in entries]
            marks = ", ".join("?" for _ in keys)
            if sent:
                reason = pass_text("confirmed_sent", by=by)
                self.db.execute(
                    f"UPDATE journal SET state = 'sent', reason = ?, updated_at = ?, "
                    f"sent_at = COALESCE(sent_at, sending_at, ?) WHERE dossier = ? AND key IN ({marks})",
                    (reason, now.isoformat(), now.isoformat(), self.dossier, *keys),
                )
            else:
                reason = pass_text("confirmed_not_sent", by=by)
                self.db.execute(
                    f"UPDATE journal SET state = 'failed', reason = ?, updated_at = ?, attempts = 0, retry_at = NULL "
                    f"WHERE dossier = ? AND key IN ({marks})",
                    (reason, now.isoformat(), self.dossier, *keys),
                )
            self._event_row(None, entries, "sent" if sent else "failed", reason, now,
                            reference=entries[0].reference, message_id=entries[0].message_id)
        return self.by_reference(reference.strip())

    def forget_approvals(self, invoice_ids: Iterable[str]) -> None:
        """Ticks cleared in the sheet: a new tick on these invoices approves the next step."""
        ids = list(invoice_ids)
        if not ids:
            return
        with self.store.transaction():
            self.db.executemany("DELETE FROM approvals_used WHERE dossier = ? AND invoice_id = ?",
                                ((self.dossier, i) for i in ids))

    def mark_recovery(self, customer_id: str, customer_name: str, now: datetime, note: str = "") -> bool:
        """Hand a customer to recovery (amicable reminders stop); False when already there."""
        with self.store.transaction():
            cursor = self.db.execute(
                "INSERT INTO recovery (dossier, customer_id, since, note) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (dossier, customer_id) DO NOTHING",
                (self.dossier, customer_id, now.isoformat(), note),
            )
            if cursor.rowcount == 0:
                return False
            self.db.execute(
                "INSERT INTO journal_events (dossier, at, reference, keys, customer_id, customer_name, state, reason) "
                "VALUES (?, ?, '', '', ?, ?, 'recovery', ?)",
                (self.dossier, now.isoformat(), customer_id, customer_name, self._clean(note)),
            )
        return True
