"""A pass over a dossier where nothing changed costs next to nothing (issue 17, "a pass costs what
changed").

A reminder pass is a function of its inputs: the as-of day, the ledger (the source's cursor), what
people typed in the sheet (the workbook file), the journal and the other state tables (approvals,
proceedings, registry checks), the configuration, the scenario files and encours's own code.  When a
pass changed none of its inputs — it sent nothing, had nothing due, wrote nothing — a later pass
with the same inputs would plan, check and write exactly the same nothing.  So such a pass leaves a
*fixpoint* record: the digest of its inputs and what it reported.  The next pass whose inputs have
that digest reports the same and stops there, without decoding the ledger, reading the sheet or
planning (the scheduled job runs every 15 minutes: all but the first pass of a quiet day are such
passes).

What keeps this right: the record is written only when the digest at the pass's start equals the
digest at its end and the pass had nothing sent, held, failed or uncertain, and nothing due but
what a closed sending window held back (the record then holds until the window opens: nights and
weekends cost next to nothing too).  The digest takes every state table except the ledger's (an
applied change moves the ledger's generation, in ``meta``) and the caches; the workbook's file
identity (a person saving it changes it); the configuration and the environment variables it names
(and ``ENCOURS*``); the scenario files' stamps and encours's own files.  A registry check falling
due (``[risk]``) ends the record's validity.  A sheet that is not a file (Google Sheets) never gets
a record: its marks are read on each pass.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import encours
from encours.connectors.model import Customer, Delta
from encours.sync.config import Config
from encours.sync.redact import named_variables
from encours.sync.risk import customer_sirens, risk_settings, stored_checks
from encours.sync.run_report import Outcome, RunReport
from encours.sync.state import StateStore, changes_ledger

#: Bump when what the digest covers changes: older records then never match.
FORMAT = "1"
#: Where the record lives: the state store's cache table (not part of the digest).
NAMESPACE = "unchanged_pass"
#: Tables a pass's digest leaves out: the ledger (its generation, in ``meta``, is in the digest),
#: the cursor (an API source moves it on every pull; an empty pull changes nothing), caches (the
#: customers' kept plans among them) and bookkeeping.
NOT_INPUTS = frozenset({"customers", "invoices", "payments", "credits", "cursors", "cache", "migrations",
                        "sqlite_sequence", "customer_plans"})
#: Tables only ever appended to (triggers refuse updates, or rows are never changed): their size and
#: last row say all.
APPEND_ONLY = frozenset({"journal_events", "journal_messages"})
#: An environment variable that turns the records off (tests comparing with and without them).
DISABLE_ENV = "ENCOURS_NO_UNCHANGED_PASS"

NOTE = "Nothing changed since the last pass (source, sheet, journal, settings): nothing to send, sheet as it is."


@dataclass(frozen=True)
class PassInputs:
    """The digest of a pass's inputs, and the workbook it read (a pass without one gets no record)."""

    digest: str
    has_sheet_file: bool


@cache
def code_stamp() -> str:
    """encours's files (code, shipped scenarios, templates) by path, size and time: an upgrade or an
    edit changes every digest.  Worked out once per process — a running daemon's code does not change."""
    digest = hashlib.sha256()
    for root in sorted(str(p) for p in encours.__path__):
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _files_stamp(folder: Path | None) -> str:
    if folder is None or not folder.is_dir():
        return ""
    stats = ((str(p), p.stat()) for p in sorted(folder.rglob("*")) if p.is_file())
    return "|".join(f"{name}:{s.st_size}:{s.st_mtime_ns}" for name, s in stats)


def sheet_file_stamp(backend: object) -> str | None:
    """The workbook file's identity (size, time, inode); None when the sheet is not a local file."""
    path = getattr(backend, "path", None)
    if not isinstance(path, Path):
        return None
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"


def _tables_digest(store: StateStore) -> str:
    db = store.db
    digest = hashlib.sha256()
    names = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    for name in names:  # names read from sqlite_master, not from any input
        if name in NOT_INPUTS:
            continue
        digest.update(f"[{name}]".encode())
        if name in APPEND_ONLY:
            rows: Iterable[tuple[object, ...]] = db.execute(f"SELECT count(*), max(rowid) FROM {name}")
        else:
            rows = db.execute(f"SELECT * FROM {name} ORDER BY rowid")
        for row in rows:
            digest.update(repr(row).encode())
    return digest.hexdigest()


def pass_inputs(config: Config, store: StateStore, backend: object, *, source: str, as_of: date,
                flags: Iterable[bool] = ()) -> PassInputs:
    """The digest of what a pass on ``as_of`` reads, the source's changes aside (a pass with a delta
    is never an unchanged one).  The ledger is there through its generation (``meta``), which every
    change applied to it moves — not through the cursor, which an API source moves on every pull."""
    stamp = sheet_file_stamp(backend)
    digest = hashlib.sha256()
    settings = repr(sorted(config.raw.items(), key=str))
    named = named_variables(config.raw)  # not any variable whose name is a piece of the settings' text ("_")
    environ = sorted((k, v) for k, v in config.company.environ.items() if k.startswith("ENCOURS") or k in named)
    for part in (FORMAT, code_stamp(), settings, repr(environ), str(config.file), config.dossier,
                 _files_stamp(config.settings.scenario_dir), as_of.isoformat(), source, stamp or "",
                 repr(tuple(flags)), _tables_digest(store)):
        digest.update(part.encode())
        digest.update(b"\x00")
    return PassInputs(digest.hexdigest(), stamp is not None)


def _empty(delta: Delta) -> bool:
    return not (changes_ledger(delta) or delta.notes)


def enabled() -> bool:
    return not os.environ.get(DISABLE_ENV)


def unchanged_report(store: StateStore, inputs: PassInputs, delta: Delta, report: RunReport,
                     now: datetime) -> RunReport | None:
    """The report of the last pass if this one's inputs are that pass's fixpoint; None: run the pass."""
    if not (enabled() and inputs.has_sheet_file and _empty(delta)):
        return None
    raw = store.cache().get(NAMESPACE, "record")
    if raw is None:
        return None
    record = json.loads(raw)
    if record.get("digest") != inputs.digest:
        return None
    until = record.get("until")
    if until is not None and now >= datetime.fromisoformat(until):
        return None  # a registry check falls due, or the sending window opens
    report.sync_lines = [*record["sync_lines"], NOTE]
    report.waiting_approval = [Outcome(**o) for o in record["waiting_approval"]]
    report.deferred = [Outcome(**o) for o in record["deferred"]]
    return report


def quiet(report: RunReport) -> bool:
    """Nothing sent, held, failed or in doubt, and nothing due but what a closed sending window
    holds back: a pass that did nothing but look."""
    window_closed = report.window is not None and not report.window.open
    return not (report.sent or report.tasks or report.would_send or (report.deferred and not window_closed)
                or report.skipped or report.held or report.uncertain or report.failed or report.problems
                or report.stopped or report.dry_run)


def valid_until(report: RunReport, registry_check: datetime | None) -> datetime | None:
    """Until when a record of ``report`` holds: the next registry check, and — when due messages
    wait for the sending window — its opening."""
    times = [registry_check] if registry_check is not None else []
    if report.deferred and report.window is not None and report.window.next_open is not None:
        times.append(report.window.next_open)
    return min(times, default=None)


def next_registry_check(config: Config, store: StateStore, customers: Iterable[Customer],
                        now: datetime) -> datetime | None:
    """When the first customer's registry check falls due (``[risk]``; ``now`` when one is due
    already); None when the registries are off or no customer has a SIREN."""
    settings = risk_settings(config)
    if not settings.enabled:
        return None
    sirens, _ = customer_sirens(customers)
    checks = stored_checks(store)
    age = timedelta(days=settings.max_age_days)
    due = [now if c is None or c.checked_at is None else c.checked_at + age
           for c in (checks.get(s) for s in sirens.values())]
    return min(due, default=None)


def remember(store: StateStore, before: PassInputs, after: PassInputs, delta: Delta, report: RunReport,
             until: datetime | None) -> None:
    """Record the pass as a fixpoint when it changed none of its inputs and did nothing; else forget.
    ``until``: when the record stops holding (a registry check or the sending window's opening)."""
    cache_ = store.cache()
    if enabled() and before == after and after.has_sheet_file and _empty(delta) and quiet(report):
        cache_.put(NAMESPACE, "record", json.dumps({
            "digest": after.digest,
            "until": None if until is None else until.isoformat(),
            "sync_lines": report.sync_lines,
            "waiting_approval": [_outcome_fields(o) for o in report.waiting_approval],
            "deferred": [_outcome_fields(o) for o in report.deferred],
        }, ensure_ascii=False))
    elif cache_.get(NAMESPACE, "record") is not None:
        cache_.delete(NAMESPACE, "record")


def _outcome_fields(outcome: Outcome) -> dict[str, str]:
    return {"reference": outcome.reference, "customer": outcome.customer, "step": outcome.step,
            "channel": outcome.channel, "recipients": outcome.recipients, "detail": outcome.detail}
