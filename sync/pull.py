"""``encours sync``: pull from the source, merge into the state store, refresh the sheet.

The order is what keeps a failed sync harmless: the pull happens first (nothing written), then
one state-store transaction applies the delta, the sheet is written (all or nothing), and only
then are the new ledger and the cursor committed.  If the sheet write fails, the transaction
rolls back: the sheet and the cursor stay as they were and the next sync pulls the same changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from encours.connectors.errors import ConfigError
from encours.connectors.memory import collected_after, without_cycle_collection
from encours.connectors.model import Ledger, to_cents
from encours.connectors.quarantine import quarantine_notes
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import CustomerFigures, SheetBackend, SheetView, build_view
from encours.sync.config import Config
from encours.sync.lock import DossierLock
from encours.sync.pipeline import assemble, figures_and_kpis
from encours.sync.preflight import (
    owner_of,
    read_marks_guarded,
    refuse_sudden_empty,
    require_writable,
    restorable_sheet,
)
from encours.sync.sources import open_connector
from encours.sync.state import StateStore

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SyncSummary:
    source: str
    full: bool
    customers: int
    open_invoices: int
    outstanding: Decimal  # EUR, credit notes deducted
    overdue: Decimal  # EUR
    sheet: str
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        kind = "full" if self.full else "incremental"
        return [
            f"Source: {self.source} ({kind} sync)",
            f"Customers: {self.customers}",
            f"Open invoices and credit notes: {self.open_invoices}",
            f"Total outstanding: {format_eur(self.outstanding)}",
            f"Overdue: {format_eur(self.overdue)}",
            f"Sheet: {self.sheet}",
            *self.notes,
        ]


def format_amount(amount: Decimal) -> str:
    """French style: 12 345,67."""
    return f"{to_cents(amount):,.2f}".replace(",", "\u202f").replace(".", ",")


def format_eur(amount: Decimal) -> str:
    """French style: 12 345,67 €."""
    return f"{format_amount(amount)} €"


def aging_bounds(config: Config) -> tuple[int, ...]:
    return config.settings.sheet.aging_bounds


def open_sheet(config: Config) -> SheetBackend:
    """The configured sheet backend (the one place that maps ``[sheet] type`` to a backend)."""
    kind = config.sheet.type or "xlsx"
    if kind == "xlsx":
        from encours.sheets_addin.xlsx import XlsxWorkbook

        return XlsxWorkbook(config.sheet.path("path", "encours.xlsx"), bounds=aging_bounds(config))
    if kind == "excel":
        from encours.sheets_addin.excel import ExcelWorkbook

        return ExcelWorkbook.from_config(config.sheet, bounds=aging_bounds(config))
    if kind == "gsheets":
        from encours.sheets_addin.gsheets import GoogleSheet

        return GoogleSheet.from_config(config.sheet, bounds=aging_bounds(config))
    raise ConfigError(f"sheet type {kind!r} is not available yet", file=str(config.file), key="[sheet] type")


def sheet_label(config: Config) -> str:
    return config.settings.sheet.label


def customer_figures(
    ledger: Ledger, as_of: date, marks: SheetMarks | None = None, default_terms: int = 30
) -> dict[str, CustomerFigures]:
    """Scores and delays per customer (see :func:`encours.sync.pipeline.figures_and_kpis`)."""
    return figures_and_kpis(ledger, as_of, marks=marks, default_terms=default_terms)[0]


def summarise(view: SheetView, ledger: Ledger, source: str, full: bool, sheet: str) -> SyncSummary:
    """What a sync or a pass prints: the EUR totals of the sheet, and what they leave out (an amount in
    another currency the source gives no EUR value for is never counted as nothing without saying so)."""
    outstanding = Decimal(0)
    overdue = Decimal(0)
    open_count = 0
    left_out: dict[str, tuple[Decimal, int]] = {}  # currency → amount, rows, without an EUR value
    for row in view.invoices:
        remaining = row.get("remaining_eur")
        if row["id"] not in view.shown_invoice_ids or not row.get("remaining"):
            continue
        open_count += 1
        if remaining is None:
            amount, count = left_out.get(row["currency"], (Decimal(0), 0))
            left_out[row["currency"]] = (amount + row["remaining"], count + 1)
            continue
        outstanding += remaining
        due = row.get("due_date")
        if due is not None and due < view.as_of:
            overdue += remaining
    notes = view.notes
    if left_out:
        parts = ", ".join(f"{format_amount(amount)} {currency} ({count} row{'s' if count > 1 else ''})"
                          for currency, (amount, count) in sorted(left_out.items()))
        notes = (f"Not in the EUR totals (the source gives no EUR value or exchange rate): {parts}", *notes)
    return SyncSummary(source, full, len(ledger.customers), open_count, outstanding, overdue, sheet, notes)


@collected_after  # a sync button or the demo syncs again in the same process
@without_cycle_collection  # the ledger, its view and the sheet's rows all live until the sync ends
def sync(
    config: Config,
    *,
    as_of: date,
    now: datetime,
    full: bool = False,
    progress: Progress | None = None,
    sheet: SheetBackend | None = None,
    new_sheet: bool = False,
    allow_empty: bool = False,
) -> SyncSummary:
    """One sync: pull → state store → sheet → cursor.  Sends nothing.

    The guards of :mod:`encours.sync.preflight` apply: the state file's owner, the missing sheet
    (``new_sheet``), the export suddenly empty (``allow_empty``), the workbook put back when the
    commit fails."""
    say = progress or (lambda message: None)
    backend = sheet or open_sheet(config)
    require_writable(backend)  # an unwritable workbook is found before anything is pulled
    # one process at a time per dossier: a sync never races a reminder pass
    with DossierLock(config.state_path, config.dossier), \
            StateStore(config.state_path, owner=owner_of(config)) as store:
        connector = open_connector(config, store.cache(), as_of=as_of)
        mark = store.sync_mark(connector.source)
        cursor = None if full or mark is None else mark.cursor
        say(f"Pulling from {connector.source}{' (full)' if cursor is None else ''}…")
        delta = connector.pull(cursor)
        refuse_sudden_empty(delta, store, connector.source, allow_empty=allow_empty)
        say(f"Pulled {len(delta.invoices)} invoices and credit notes, {len(delta.payments)} payments, "
            f"{len(delta.customers)} customers")
        say("Reading what people typed in the sheet…")
        marks = read_marks_guarded(backend, store, sheet_label(config), new_sheet=new_sheet)
        state = assemble(config, store, as_of=as_of, now=now, marks=marks, delta=delta, source=connector.source,
                         refresh_risk=True)
        ledger = state.ledger
        view = build_view(
            ledger,
            as_of,
            figures=state.figures,
            default_terms=config.payment_terms_days,
            company=config.company_name,
            notes=(*delta.notes, *state.risk.notes()),
            opening_receivables=state.kpis.opening,
        )
        with restorable_sheet(backend), store.transaction():
            store.apply_delta(delta)
            say(f"Writing {sheet_label(config)}…")
            backend.write(view)
            store.set_sync_mark(connector.source, delta.cursor, now)
        notes = tuple(getattr(backend, "notes", ()))
        summary = summarise(view, ledger, connector.source, delta.full, sheet_label(config))
        if notes:
            summary = SyncSummary(**{**summary.__dict__, "notes": (*summary.notes, *(f"Note: {n}" for n in notes))})
        summary = SyncSummary(**{**summary.__dict__, "notes": summary.notes + quarantine_notes(connector)})
        log.info("sync done: %s open invoices", summary.open_invoices)
        for note in view.notes:
            log.info("sync: %s", note)
        return summary
