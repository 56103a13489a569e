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
from encours.connectors.model import Customer, Delta, Ledger, to_cents
from encours.connectors.quarantine import quarantine_notes
from encours.sheets_addin.functions import ReceivablesKpis, sync_figures
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import CustomerFigures, SheetBackend, SheetView, build_view
from encours.sync.config import Config
from encours.sync.lock import DossierLock
from encours.sync.risk import apply_risk, refresh_for_config
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


def format_eur(amount: Decimal) -> str:
    """French style: 12 345,67 €."""
    text = f"{to_cents(amount):,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text} €"


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


def mark_counts(ledger: Ledger, marks: SheetMarks | None, as_of: date) -> tuple[dict[str, int], dict[str, int]]:
    """Per customer: open invoices people marked disputed (``Litige``), and broken promises
    (a ``Promesse (date)`` already past with the invoice still open) — inputs of the payer score."""
    disputes: dict[str, int] = {}
    broken: dict[str, int] = {}
    if marks is None:
        return disputes, broken
    for invoice in ledger.invoices:
        mark = marks.invoices.get(invoice.id)
        if mark is None or not invoice.is_open:
            continue
        if mark.dispute:
            disputes[invoice.customer_id] = disputes.get(invoice.customer_id, 0) + 1
        if mark.promise_date is not None and mark.promise_date < as_of:
            broken[invoice.customer_id] = broken.get(invoice.customer_id, 0) + 1
    return disputes, broken


def figures_and_kpis(
    ledger: Ledger, as_of: date, *, marks: SheetMarks | None = None, default_terms: int = 30
) -> tuple[dict[str, CustomerFigures], ReceivablesKpis]:
    """Scores, delays and the dashboard KPIs, the ledger's frames built once."""
    disputes, broken = mark_counts(ledger, marks, as_of)
    return sync_figures(ledger, as_of, disputes=disputes, broken_promises=broken, default_terms=default_terms)


def customer_figures(
    ledger: Ledger, as_of: date, marks: SheetMarks | None = None, default_terms: int = 30
) -> dict[str, CustomerFigures]:
    """Scores and delays per customer (see :func:`figures_and_kpis`)."""
    return figures_and_kpis(ledger, as_of, marks=marks, default_terms=default_terms)[0]


def _customers_after(store: StateStore, delta: Delta) -> list[Customer]:
    """The customers the ledger will hold once the delta is applied (for registry lookups)."""
    if delta.full:
        return list(delta.customers)
    known = {c.id: c for c in store.ledger().customers}
    known.update({c.id: c for c in delta.customers})
    for customer_id in delta.deleted_customer_ids:
        known.pop(customer_id, None)
    return list(known.values())


def summarise(view: SheetView, ledger: Ledger, source: str, full: bool, sheet: str) -> SyncSummary:
    outstanding = Decimal(0)
    overdue = Decimal(0)
    open_count = 0
    for row in view.invoices:
        remaining = row.get("remaining_eur")
        if row["id"] not in view.shown_invoice_ids or not row.get("remaining"):
            continue
        open_count += 1
        if remaining is None:
            continue
        outstanding += remaining
        due = row.get("due_date")
        if due is not None and due < view.as_of:
            overdue += remaining
    return SyncSummary(source, full, len(ledger.customers), open_count, outstanding, overdue, sheet, view.notes)


def sync(
    config: Config,
    *,
    as_of: date,
    now: datetime,
    full: bool = False,
    progress: Progress | None = None,
    sheet: SheetBackend | None = None,
) -> SyncSummary:
    """One sync: pull → state store → sheet → cursor.  Sends nothing."""
    say = progress or (lambda message: None)
    backend = sheet or open_sheet(config)
    check = getattr(backend, "check_writable", None)
    if check is not None:
        check()  # an unwritable workbook is found before anything is pulled
    # one process at a time per dossier: a sync never races a reminder pass
    with DossierLock(config.state_path, config.dossier), StateStore(config.state_path) as store:
        connector = open_connector(config, store.cache(), as_of=as_of)
        mark = store.sync_mark(connector.source)
        cursor = None if full or mark is None else mark.cursor
        say(f"Pulling from {connector.source}{' (full)' if cursor is None else ''}…")
        delta = connector.pull(cursor)
        say(f"Pulled {len(delta.invoices)} invoices and credit notes, {len(delta.payments)} payments, "
            f"{len(delta.customers)} customers")
        risk = refresh_for_config(config, store, _customers_after(store, delta), now=now)
        say("Reading what people typed in the sheet…")
        marks = backend.read_marks()
        with store.transaction():
            store.apply_delta(delta)
            ledger = store.ledger()
            say("Computing aging and scores…")
            figures, kpis = figures_and_kpis(ledger, as_of, marks=marks, default_terms=config.payment_terms_days)
            view = build_view(
                ledger,
                as_of,
                figures=apply_risk(figures, risk, as_of),
                default_terms=config.payment_terms_days,
                company=config.company_name,
                notes=(*delta.notes, *risk.notes()),
                opening_receivables=kpis.opening,
            )
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
