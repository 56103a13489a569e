"""What the weekly report reads, and when it is due: the dossier as the pipeline assembles it
(the last synced ledger, the sheet's marks, the stored risk signals), the reminders the journal
holds as sent, the tasks of ``À faire`` with their outcomes, and the configured day of the week."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from encours.connectors.errors import EncoursError
from encours.connectors.model import Ledger
from encours.sheets_addin.marks import SheetMarks
from encours.sync.config import Config
from encours.sync.journal import Journal, State
from encours.sync.labels import pass_text
from encours.sync.pipeline import assemble
from encours.sync.pull import open_sheet
from encours.sync.report_model import REMINDER_WINDOW_DAYS, ReportError, SentReminder
from encours.sync.risk import RiskRefresh
from encours.sync.settings import ReportSettings
from encours.sync.state import StateStore
from encours.sync.task_store import Task, TaskStore

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# -- the journal ------------------------------------------------------------------------------
#: Journal channels that are not a reminder the customer received (a thank-you; a call task published).
NOT_REMINDERS = ("thanks", "call")


def sent_reminders(store: StateStore, since: date, *, dossier: str, tz: tzinfo = UTC) -> list[SentReminder] | None:
    """Messages the journal (:mod:`encours.sync.journal`) holds as sent since ``since``, one per message.

    ``None`` when the state store has no journal yet.  A message covering several invoices is one
    reminder (its journal rows share a reference); thank-you messages and call tasks are left out.
    """
    tables = {row[0] for row in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "journal" not in tables:
        return None
    messages: dict[str, tuple[date, str, list[str], str, str]] = {}
    for entry in Journal(store, dossier, tz=tz).entries([State.SENT]):
        if entry.channel in NOT_REMINDERS or entry.sent_at is None:
            continue
        sent_on = entry.sent_at.astimezone(tz).date()
        if sent_on < since:
            continue
        group = entry.reference or entry.message_id or entry.key.id
        known = messages.setdefault(group, (sent_on, entry.customer_id, [], entry.channel, entry.step))
        known[2].extend(i for i in entry.invoice_ids if i not in known[2])
    return [SentReminder(day, customer, tuple(ids), channel, step)
            for day, customer, ids, channel, step in sorted(messages.values(), key=lambda m: (m[0], m[1]))]


# -- the configuration --------------------------------------------------------------------------
def report_settings(config: Config) -> ReportSettings:
    """``[report]``: day = "monday", recipients = [...], per_salesperson = true (validated at load)."""
    return config.settings.report


def report_due(config: Config, as_of: date) -> bool:
    """True on the configured day of the week."""
    return DAYS[as_of.weekday()] == report_settings(config).day


def load_inputs(config: Config, as_of: date) -> tuple[Ledger, SheetMarks | None, list[SentReminder] | None,
                                                         RiskRefresh, list[str], list[Task]]:
    """The dossier as the pipeline assembles it (the last synced ledger, the sheet's marks, the
    stored risk signals), the journal's reminders of the last weeks and the ``À faire`` tasks
    (with the outcomes people recorded)."""
    notes: list[str] = []
    path = Path(config.state_path)
    if not path.exists():
        raise ReportError(f"{path}: no state file yet — run `encours sync -c {config.file.name}` first")
    marks: SheetMarks | None = None
    workbook = config.settings.sheet.path
    if workbook is not None and not workbook.exists():
        notes.append(pass_text("sheet_missing", path=workbook))
    else:
        try:
            marks = open_sheet(config).read_marks()
        except (EncoursError, OSError) as exc:
            notes.append(pass_text("sheet_unreadable", error=exc))
    with StateStore(path) as store:
        if not store.ledger().customers and not store.ledger().invoices:
            raise ReportError(f"{path}: nothing synced yet — run `encours sync -c {config.file.name}` first")
        moment = datetime.combine(as_of, time(12), tzinfo=config.timezone)
        state = assemble(config, store, as_of=as_of, now=moment, marks=marks or SheetMarks())
        reminders = sent_reminders(store, as_of - timedelta(days=REMINDER_WINDOW_DAYS), dossier=config.dossier,
                                   tz=config.timezone)
        tasks = TaskStore(store).all()
    if reminders is None:
        notes.append(pass_text("no_journal"))
    return state.ledger, marks, reminders, state.risk, notes, tasks
