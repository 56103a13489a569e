"""What a sync or a run writes into the sheet, computed once, whatever the backend.

A :class:`SheetView` holds plain values keyed by layout column keys: text, ``date``, ``Decimal``,
``int`` or ``None``.  Backends (xlsx, live Excel, Google Sheets) only place them; they decide
nothing.  Data from the ledger is text, never a formula: backends must write it as a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from encours.connectors.labels import status_text
from encours.connectors.model import (
    CREDIT_LABELS_FR,
    STATUS_LABELS_FR,
    Customer,
    Invoice,
    Ledger,
    OpenItem,
    UnallocatedCredit,
    invoice_items,
    item_invoice_id,
    to_cents,
)
from encours.sheets_addin.functions.scores import CustomerFigures as CustomerFigures  # re-exported
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.rows import JournalRow

Row = dict[str, Any]

#: Closed invoices stay on ``Factures`` this many days after they closed, then are no longer added.
KEEP_CLOSED_DAYS = 90


@dataclass(frozen=True)
class SheetView:
    """Everything one write puts in the sheet.

    ``invoices`` holds the synced values of every invoice the ledger knows; ``shown_invoice_ids``
    the ones that must have a row (rows are added for them when missing).  A row already in the
    sheet for a known invoice is refreshed even when not shown (a paid invoice gets "Payée");
    a row whose ID the ledger does not know is marked "Supprimée".
    ``run`` (invoice id → run columns), ``journal`` and ``todo`` are ``None`` when this write
    leaves them as they are (a plain sync), else their full new content.
    """

    as_of: date
    invoices: Sequence[Row]
    shown_invoice_ids: frozenset[str]
    customers: Sequence[Row]
    run: Mapping[str, Row] | None = None
    journal: Sequence[JournalRow] | None = None
    todo: Sequence[Row] | None = None
    scenario_names: tuple[str, ...] = ("standard", "gentle", "firm")
    company: str = ""
    notes: tuple[str, ...] = field(default=())
    #: Receivables at the start of the dashboard's KPI period (the sheet has no payment history to
    #: know them): ``functions.ledger_kpis(ledger, as_of).opening``; None leaves the CEI empty.
    opening_receivables: Decimal | None = None


def aging_customers(view: SheetView, with_open: set[str] | None = None) -> list[tuple[str, str]]:
    """Customers with something open on the sheet, by name: the rows of ``Balance âgée``.

    ``with_open``: their IDs, when already known (those of the invoices shown with something remaining)."""
    if with_open is None:
        with_open = {row["customer_id"] for row in view.invoices
                     if row["id"] in view.shown_invoice_ids and row.get("remaining")}
    names = {row["id"]: row["name"] for row in view.customers}
    return sorted(((cid, names.get(cid, cid)) for cid in with_open), key=lambda c: (c[1].casefold(), c[0]))


class SheetBackend(Protocol):
    """One spreadsheet: a workbook file, a live Excel workbook, or a Google Sheet."""

    def read_marks(self) -> SheetMarks:
        """The user columns, keyed by ID (rows without an ID are people's own rows: ignored)."""
        ...

    def write(self, view: SheetView) -> None:
        """Write the view; all or nothing (a failure leaves the sheet as it was)."""
        ...


def invoice_row(
    invoice: Invoice, customer: Customer | None, default_terms: int = 30, item: OpenItem | None = None
) -> Row:
    """The ``Factures`` row of an invoice, or of one of its instalments when ``item`` is given."""
    sign = Decimal(invoice.sign)
    if item is not None and item.instalment:
        inst = invoice.installments[item.instalment - 1]
        remaining = to_cents(inst.remaining.amount) * sign
        total = to_cents(inst.amount.amount) * sign
        due = inst.due_date
        share = inst.remaining.amount / invoice.remaining.amount if invoice.remaining.amount else Decimal(0)
    else:
        remaining = to_cents(invoice.remaining.amount) * sign
        total = to_cents(invoice.total.amount) * sign
        due = item.due_date if item is not None else invoice.effective_due_date(default_terms)
        share = Decimal(1)
    if invoice.currency == "EUR":
        remaining_eur: Decimal | None = remaining
    elif invoice.remaining_company is not None:
        remaining_eur = to_cents(invoice.remaining_company.amount * share) * sign
    else:
        remaining_eur = None
    label = STATUS_LABELS_FR[invoice.status]
    if invoice.is_credit_note:
        label = status_text("credit_note", status=label if invoice.status.is_open else label.lower())
    if item is not None and item.instalment:
        label = status_text("instalment", status=label, number=item.instalment, count=len(invoice.installments))
    return {
        "id": item.id if item is not None else invoice.id,
        "number": invoice.number,
        "customer": customer.name if customer else "",
        "customer_id": invoice.customer_id,
        "salesperson": invoice.salesperson or (customer.salesperson if customer else ""),
        "issue_date": invoice.issue_date,
        "due_date": due,
        "total": total,
        "remaining": remaining,
        "currency": invoice.currency,
        "remaining_eur": remaining_eur,
        "status": label,
    }


def _split_row(invoice: Invoice, customer: Customer | None, default_terms: int, parts: int) -> Row:
    """A row for the invoice's own ID, never added, refreshed where a sheet already has one (from
    before the invoice was split): no amount there (sums stay right), the instalment rows carry them."""
    row = invoice_row(invoice, customer, default_terms)
    zero = Decimal("0.00")
    row.update(total=zero, remaining=zero, remaining_eur=zero,
               status=status_text("split", parts=parts, invoice=invoice.id))
    return row


def credit_row(credit: UnallocatedCredit, customer: Customer | None) -> Row:
    """The ``Factures`` row of an unallocated credit: negative amounts, dated, never aged in a bucket."""
    amount = -to_cents(credit.amount.amount)
    if credit.currency == "EUR":
        amount_eur: Decimal | None = amount
    elif credit.amount_company is not None:
        amount_eur = -to_cents(credit.amount_company.amount)
    else:
        amount_eur = None
    return {
        "id": credit.id,
        "number": credit.reference,
        "customer": customer.name if customer else "",
        "customer_id": credit.customer_id,
        "salesperson": customer.salesperson if customer else "",
        "issue_date": credit.date,
        "due_date": None,  # not due: no days late, no bucket (``Non affecté``)
        "total": amount,
        "remaining": amount,
        "currency": credit.currency,
        "remaining_eur": amount_eur,
        "status": CREDIT_LABELS_FR[credit.kind],
    }


def customer_row(customer: Customer, figures: CustomerFigures | None = None) -> Row:
    fig = figures or CustomerFigures()
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "salesperson": customer.salesperson,
        "siren": customer.siren,
        "language": customer.language,
        "avg_delay": None if fig.avg_delay is None else round(fig.avg_delay, 1),
        "score": fig.score,
        "profile": fig.profile,
        "score_reason": fig.reason,
        "alert": fig.alert,
    }


def closed_on(invoice: Invoice, ledger_payment_dates: Mapping[str, date]) -> date | None:
    """When a closed invoice closed: its last payment, else its last update at the source."""
    if invoice.id in ledger_payment_dates:
        return ledger_payment_dates[invoice.id]
    if invoice.updated_at is not None:
        return invoice.updated_at.date()
    return None


def build_view(
    ledger: Ledger,
    as_of: date,
    *,
    figures: Mapping[str, CustomerFigures] | None = None,
    default_terms: int = 30,
    keep_closed_days: int = KEEP_CLOSED_DAYS,
    **extra: Any,
) -> SheetView:
    """The sheet's content for a ledger on a date (``extra``: run, journal, todo … as in SheetView)."""
    customers = ledger.customer_index()
    last_payment: dict[str, date] = {}
    for payment in ledger.payments:
        for allocation in payment.allocations:
            known = last_payment.get(allocation.invoice_id)
            if known is None or payment.date > known:
                last_payment[allocation.invoice_id] = payment.date
    horizon = as_of - timedelta(days=keep_closed_days)
    rows: list[Row] = []
    shown: set[str] = set()
    def order(invoice: Invoice) -> tuple[bool, date, str]:
        return not invoice.is_open, invoice.effective_due_date(default_terms), invoice.number

    for invoice in sorted(ledger.invoices, key=order):
        if invoice.status.value == "draft":
            continue
        customer = customers.get(invoice.customer_id)
        items = invoice_items(invoice, default_terms)
        if len(items) > 1 or items[0].instalment:
            for item in items:
                rows.append(invoice_row(invoice, customer, default_terms, item))
                if invoice.is_outstanding and item.remaining.amount != 0:
                    shown.add(item.id)
            rows.append(_split_row(invoice, customer, default_terms, len(items)))
            continue
        rows.append(invoice_row(invoice, customer, default_terms, items[0]))
        if invoice.is_outstanding:
            shown.add(invoice.id)
        else:
            closed = closed_on(invoice, last_payment)
            if closed is not None and closed >= horizon and invoice.status.value != "deleted":
                shown.add(invoice.id)
    for credit in sorted(ledger.unallocated_credits(), key=lambda c: (c.date, c.id)):
        rows.append(credit_row(credit, customers.get(credit.customer_id)))
        shown.add(credit.id)
    figs = figures or {}
    customer_rows = [customer_row(c, figs.get(c.id)) for c in sorted(ledger.customers, key=lambda c: c.name.casefold())]
    notes = (*extra.pop("notes", ()), *ledger_notes(ledger))
    run = extra.pop("run", None)
    if run is not None:
        run = _run_on_instalments(run, rows, shown)
    return SheetView(
        as_of=as_of,
        invoices=rows,
        shown_invoice_ids=frozenset(shown),
        customers=customer_rows,
        notes=notes,
        run=run,
        **extra,
    )


def _run_on_instalments(run: Mapping[str, Row], rows: Sequence[Row], shown: set[str]) -> dict[str, Row]:
    """The run columns of a split invoice go on its first open instalment row (rows are by item)."""
    out = dict(run)
    first_item: dict[str, str] = {}
    for row in rows:
        base = item_invoice_id(row["id"])
        if base != row["id"] and row["id"] in shown and base not in first_item:
            first_item[base] = row["id"]
    for base, item in first_item.items():
        if base in out and item not in out:
            out[item] = out[base]
    return out


def ledger_notes(ledger: Ledger, *, limit: int = 10) -> tuple[str, ...]:
    """What the sync summary says about credits: unallocated ones (count, total) and customers in credit."""
    credits = ledger.unallocated_credits()
    if not credits:
        return ()
    totals: dict[str, Decimal] = {}
    for credit in credits:
        totals[credit.currency] = totals.get(credit.currency, Decimal(0)) + credit.amount.amount
    amounts = ", ".join(f"{to_cents(v):.2f} {k}" for k, v in sorted(totals.items()))
    notes = [f"Unallocated credits (payments on account, credit notes not imputed, opening credits): "
             f"{len(credits)}, total {amounts}"]
    names = {c.id: c.name for c in ledger.customers}
    in_credit = sorted(
        f"{names.get(cid, cid)} ({to_cents(-amount):.2f} EUR)"
        for cid, amount in _company_balances(ledger).items() if amount is not None and amount < 0
    )
    if in_credit:
        more = f" and {len(in_credit) - limit} more" if len(in_credit) > limit else ""
        notes.append(f"Customers in credit (to check for a refund, never reminded): {len(in_credit)}: "
                     f"{', '.join(in_credit[:limit])}{more}")
    return tuple(notes)


def _company_balances(ledger: Ledger) -> dict[str, Decimal | None]:
    """Each customer's balance in EUR, all currencies together; None when an item has no EUR figure."""
    out: dict[str, Decimal | None] = {}

    def add(customer: str, amount: Decimal | None) -> None:
        known = out.get(customer, Decimal(0))
        out[customer] = None if known is None or amount is None else known + amount

    for invoice in ledger.outstanding_invoices():
        if invoice.currency == "EUR":
            add(invoice.customer_id, invoice.signed_remaining.amount)
        elif invoice.remaining_company is not None:
            add(invoice.customer_id, invoice.sign * invoice.remaining_company.amount)
        else:
            add(invoice.customer_id, None)
    for credit in ledger.unallocated_credits():
        company = credit.amount if credit.currency == "EUR" else credit.amount_company
        add(credit.customer_id, None if company is None else -company.amount)
    return out
