"""What the journal records, as values: the message a pass dispatches (:class:`Dispatch`), one row
per step key (:class:`Entry`), one line of the append-only history (:class:`Event`), the states a
key goes through, the reference shown in the sheet — and how a stored row reads back."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from encours.connectors.errors import EncoursError
from encours.connectors.money import Money
from encours.scenarios.actions import PlannedAction, StepKey
from encours.sheets_addin.rows import JournalRow
from encours.sync.labels import STATE_LABELS_FR


class State(enum.StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCERTAIN = "uncertain"




#: Event states the ``Relances`` tab shows (planned/sending are kept in the database only).
VISIBLE_EVENTS = frozenset({"sent", "failed", "skipped", "uncertain", "recovery"})


class JournalError(EncoursError):
    """A journal operation is impossible (unknown reference, wrong state); nothing was changed."""

    exit_code = 2


class ConfirmTooEarlyError(JournalError):
    """``not-sent`` answered while the server may still deliver the message; nothing was changed."""


@dataclass(frozen=True)
class Dispatch:
    """What the journal records about one outgoing message or task (built from a planned action)."""

    keys: tuple[StepKey, ...]
    customer_id: str
    customer_name: str
    scenario: str
    step: str
    channel: str
    invoice_ids: tuple[str, ...]
    invoice_numbers: tuple[str, ...]
    amount: Money | None  # None: a skip recorded without an amount
    recipients: tuple[str, ...]
    planned_date: date

    def __post_init__(self) -> None:
        # the journal stores scenario and step beside each key: they must be the key's own
        strays = [k.id for k in self.keys if (k.scenario, k.step) != (self.scenario, self.step)]
        if strays:
            raise ValueError(f"step keys {', '.join(strays)} are not of {self.scenario}/{self.step}")

    @classmethod
    def from_action(cls, action: PlannedAction) -> Dispatch:
        recipients = action.recipients.to + action.recipients.cc if action.channel in ("email", "thanks") else ()
        return cls(
            keys=tuple(sorted(action.step_keys)),
            customer_id=action.customer_id,
            customer_name=action.customer_name,
            scenario=action.scenario,
            step=action.step.id,
            channel=action.channel,
            invoice_ids=action.invoice_ids,
            invoice_numbers=tuple(i.number or i.invoice_id for i in action.items),
            amount=action.amount,
            recipients=tuple(recipients),
            planned_date=action.planned_date,
        )

    @property
    def currency(self) -> str:
        return "" if self.amount is None else self.amount.currency

    @property
    def action_key(self) -> str:
        return " ".join(sorted(k.id for k in self.keys))


def by_message(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    """Entries grouped by the message that carries them (its reference; a key never sent: itself)."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.reference or entry.key.id, []).append(entry)
    return groups


def reference_for(dossier: str, action_key: str) -> str:
    """The short, stable reference of a message (``R-`` + 10 hex): shown in the sheet, typed to confirm."""
    return "R-" + hashlib.sha256(f"{dossier}\n{action_key}".encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Entry:
    """One journal row: a step key and where it stands."""

    key: StepKey
    customer_id: str
    customer_name: str
    invoice_ids: tuple[str, ...]
    invoice_numbers: str
    amount: Money | None  # what the message asked; None for a skip recorded without an amount
    channel: str
    recipients: str
    reference: str
    message_id: str
    state: State
    reason: str
    artifact: str
    attempts: int
    retry_at: datetime | None
    planned_date: date | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @property
    def scenario(self) -> str:
        return self.key.scenario

    @property
    def step(self) -> str:
        """The step's id in its scenario."""
        return self.key.step

    @property
    def currency(self) -> str:
        return "" if self.amount is None else self.amount.currency


@dataclass(frozen=True)
class Event:
    """One line of the append-only history."""

    seq: int
    at: datetime
    reference: str
    keys: tuple[StepKey, ...]
    customer_id: str
    customer_name: str
    invoices: str
    scenario: str
    step: str
    channel: str
    recipients: str
    state: str
    reason: str
    message_id: str
    artifact: str

    @property
    def sheet_id(self) -> str:
        return f"J-{self.seq:06d}"

    def sheet_row(self, tz: Any = None) -> JournalRow:
        """The ``Relances`` row (layout JOURNAL keys); ``at`` in the company's time zone, naive."""
        at = self.at.astimezone(tz) if tz is not None else self.at
        status = STATE_LABELS_FR.get(self.state, self.state)
        return {
            "id": self.sheet_id,
            "at": at.replace(tzinfo=None, microsecond=0),
            "customer": self.customer_name,
            "invoices": self.invoices,
            "scenario": self.scenario,
            "step": self.step,
            "channel": self.channel,
            "recipient": self.recipients,
            "status": status,
            "reason": self.reason,
            "message": " ".join(p for p in (self.reference, self.message_id, self.artifact) if p),
        }


#: The ``journal`` columns an :class:`Entry` is read from (the key's parts are read from the key).
ENTRY_COLUMNS = (
    "key, customer_id, customer_name, invoice_ids, invoice_numbers, amount, currency, channel, "
    "recipients, reference, message_id, state, reason, artifact, attempts, retry_at, planned_date, created_at, "
    "updated_at, sent_at"
)
EVENT_COLUMNS = (
    "seq, at, reference, keys, customer_id, customer_name, invoices, scenario, step, channel, recipients, state, "
    "reason, message_id, artifact"
)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def entry_of_row(row: Sequence[Any]) -> Entry:
    return Entry(
        key=StepKey.parse(row[0]),
        customer_id=row[1],
        customer_name=row[2],
        invoice_ids=tuple(json.loads(row[3])),
        invoice_numbers=row[4],
        amount=stored_money(row[5], row[6]),
        channel=row[7],
        recipients=row[8],
        reference=row[9],
        message_id=row[10],
        state=State(row[11]),
        reason=row[12],
        artifact=row[13],
        attempts=int(row[14]),
        retry_at=_dt(row[15]),
        planned_date=None if row[16] is None else date.fromisoformat(row[16]),
        created_at=datetime.fromisoformat(row[17]),
        updated_at=datetime.fromisoformat(row[18]),
        sent_at=_dt(row[19]),
    )


def event_of_row(row: Sequence[Any]) -> Event:
    keys = tuple(StepKey.parse(k) for k in row[3].split())
    return Event(int(row[0]), datetime.fromisoformat(row[1]), row[2], keys, *row[4:])


def stored_amount(amount: Money | None) -> tuple[str, str]:
    """(amount, currency) as the ``journal`` table stores them: the exact decimal as text, the ISO code;
    ("", "") when there is none.  The same text form since the table was created: state files written
    by any version read back alike."""
    return ("", "") if amount is None else (str(amount.amount), amount.currency)


def stored_money(amount: str | None, currency: str | None) -> Money | None:
    """The inverse of :func:`stored_amount`; a row without an amount (a skip) or currency reads as None."""
    if not amount or not currency:
        return None
    return Money(Decimal(amount), currency)
