"""What people typed in the sheet, as read back by any backend (xlsx, live Excel, Google Sheets).

These are the "yours" columns of :mod:`encours.sheets_addin.layout`, parsed and keyed by ID.  The planner
reads them; no backend ever writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from encours.connectors import parsing
from encours.connectors.model import item_invoice_id


@dataclass(frozen=True)
class InvoiceMarks:
    scenario: str = ""
    dispute: bool = False
    promise_date: date | None = None
    pause_until: date | None = None
    comment: str = ""
    approve: bool = False  # "À envoyer": a person approved the step waiting for approval


_NOTHING_TYPED = InvoiceMarks()


@dataclass(frozen=True)
class CustomerMarks:
    scenario: str = ""
    reminder_email: str = ""
    block_deliveries: bool = False
    comment: str = ""
    direct_debit: bool = False  # "Prélèvement": paid by direct debit (sources that do not say it)
    postal_address: str = ""  # "Adresse postale": for letters, when the source has none


@dataclass(frozen=True)
class PaymentPlanLine:
    invoice_id: str
    due_date: date
    amount: Decimal
    comment: str = ""
    row: int = 0  # the sheet row it was read from, for error messages


@dataclass(frozen=True)
class TaskMarks:
    """``À faire``'s own columns of one task row: ``Fait`` ticked, the ``Résultat`` typed (raw text)."""

    done: bool = False
    result: str = ""
    row: int = 0  # the sheet row it was read from, for the notes naming it


@dataclass(frozen=True)
class MarkProblem:
    """A cell people typed that could not be understood: shown, never fatal for the others."""

    tab: str
    row: int
    column: str
    value: str
    message: str


@dataclass(frozen=True)
class SheetMarks:
    invoices: dict[str, InvoiceMarks] = field(default_factory=dict)
    customers: dict[str, CustomerMarks] = field(default_factory=dict)
    payment_plans: tuple[PaymentPlanLine, ...] = ()
    problems: tuple[MarkProblem, ...] = ()
    tasks: dict[str, TaskMarks] = field(default_factory=dict)  # À faire: task ID → Fait / Résultat

    def for_invoice(self, invoice_id: str) -> InvoiceMarks:
        return self.invoices.get(invoice_id, NO_INVOICE_MARKS)

    def for_customer(self, customer_id: str) -> CustomerMarks:
        return self.customers.get(customer_id, NO_CUSTOMER_MARKS)


#: What a row nobody typed in reads as (frozen: one shared value).
NO_INVOICE_MARKS = InvoiceMarks()
NO_CUSTOMER_MARKS = CustomerMarks()


#: The headings of ``À faire``'s own columns, for the problems that name them.
TASK_HEADINGS = {"done": "Fait", "result": "Résultat"}


# -- parsing what people typed ---------------------------------------------------------------
_TRUE = {"oui", "yes", "ja", "true", "vrai", "x", "1", "✓", "✔", "o", "y"}
_FALSE = {"", "non", "no", "nee", "false", "faux", "0", "n"}
_EXCEL_EPOCH = date(1899, 12, 30)


class CellError(ValueError):
    """A typed cell could not be understood (the message says what was expected)."""


def parse_bool(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"{value!r} is not yes or no (Oui / Non, or a check box)")


def parse_date(value: object) -> date | None:
    """A date typed in a cell: a real date, an ISO or French date text, or a spreadsheet serial."""
    from datetime import datetime, timedelta

    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value <= 2958465:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise CellError(f"{value!r} is not a date")
    text = str(value).strip()
    if not text:
        return None
    try:
        return parsing.parse_date(text)
    except ValueError:
        raise CellError(f"{value!r} is not a date (expected e.g. 23/11/2026)") from None


def parse_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_amount(value: object) -> Decimal:
    """An amount typed in a cell: a number, or text read by the one amount parser ("1 234,56")."""
    if value is None or value == "":
        raise CellError("the amount is empty")
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise CellError(f"{value!r} is not an amount")
    try:
        return parsing.parse_amount(value)
    except ValueError:
        raise CellError(f"{value!r} is not an amount") from None


def marks_from_rows(
    invoice_rows: Iterable[tuple[int, Mapping[str, object]]],
    customer_rows: Iterable[tuple[int, Mapping[str, object]]],
    plan_rows: Iterable[tuple[int, Mapping[str, object]]] = (),
    *,
    invoices_tab: str = "Factures",
    customers_tab: str = "Clients",
    plans_tab: str = "Échéanciers",
    headings: Mapping[str, str] | None = None,
    task_rows: Iterable[tuple[int, Mapping[str, object]]] = (),
    tasks_tab: str = "À faire",
) -> SheetMarks:
    """Parse raw rows (sheet row number, {layout key: raw cell value}) into :class:`SheetMarks`.

    A cell that cannot be understood becomes a :class:`MarkProblem` and is treated as empty,
    except for invoice pauses, disputes and promises: a garbled pause must never resume reminders,
    so it is kept as a dispute-like stop (``dispute=True``) and reported.
    """
    names = headings or {}
    problems: list[MarkProblem] = []

    def cell(tab: str, row: int, key: str, raw: object, parse: Callable[[object], object]) -> tuple[object, bool]:
        try:
            return parse(raw), True
        except CellError as exc:
            problems.append(MarkProblem(tab, row, names.get(key, key), parse_text(raw), str(exc)))
            return None, False

    invoices: dict[str, InvoiceMarks] = {}
    for row, raw in invoice_rows:
        invoice_id = parse_text(raw.get("id"))
        if not invoice_id:
            continue
        if all(value is None or value == "" for key, value in raw.items() if key != "id"):
            invoices[invoice_id] = _NOTHING_TYPED  # what parsing its empty cells gives, for a tenth of the cost
            continue
        dispute, ok_d = cell(invoices_tab, row, "dispute", raw.get("dispute"), parse_bool)
        promise, ok_p = cell(invoices_tab, row, "promise_date", raw.get("promise_date"), parse_date)
        pause, ok_z = cell(invoices_tab, row, "pause_until", raw.get("pause_until"), parse_date)
        approve, _ = cell(invoices_tab, row, "approve", raw.get("approve"), parse_bool)
        invoices[invoice_id] = InvoiceMarks(
            scenario=parse_text(raw.get("scenario")),
            dispute=bool(dispute) or not (ok_d and ok_p and ok_z),
            promise_date=promise if isinstance(promise, date) else None,
            pause_until=pause if isinstance(pause, date) else None,
            comment=parse_text(raw.get("comment")),
            approve=bool(approve),
        )
    _fold_instalments(invoices)
    customers: dict[str, CustomerMarks] = {}
    for row, raw in customer_rows:
        customer_id = parse_text(raw.get("id"))
        if not customer_id:
            continue
        block, _ = cell(customers_tab, row, "block_deliveries", raw.get("block_deliveries"), parse_bool)
        debit, _ = cell(customers_tab, row, "direct_debit", raw.get("direct_debit"), parse_bool)
        customers[customer_id] = CustomerMarks(
            scenario=parse_text(raw.get("scenario")),
            reminder_email=parse_text(raw.get("reminder_email")),
            block_deliveries=bool(block),
            comment=parse_text(raw.get("comment")),
            direct_debit=bool(debit),
            postal_address=parse_text(raw.get("postal_address")),
        )
    plans: list[PaymentPlanLine] = []
    for row, raw in plan_rows:
        invoice_id = parse_text(raw.get("invoice_id"))
        if not invoice_id:
            continue
        due, ok_due = cell(plans_tab, row, "date", raw.get("date"), parse_date)
        amount, ok_amount = cell(plans_tab, row, "amount", raw.get("amount"), parse_amount)
        if ok_due and ok_amount and isinstance(due, date) and isinstance(amount, Decimal):
            plans.append(PaymentPlanLine(invoice_id, due, amount, parse_text(raw.get("comment")), row))
    tasks: dict[str, TaskMarks] = {}
    for row, raw in task_rows:
        task_id = parse_text(raw.get("id"))
        if not task_id:
            continue
        done, _ = cell(tasks_tab, row, "done", raw.get("done"), parse_bool)
        tasks[task_id] = TaskMarks(bool(done), parse_result_cell(raw.get("result")), row)
    return SheetMarks(invoices, customers, tuple(plans), tuple(problems), tasks)


def parse_result_cell(value: object) -> str:
    """A ``Résultat`` cell as text: a spreadsheet may have turned a bare "15/12/2026" into a date."""
    from datetime import datetime

    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return parse_text(value)


def _fold_instalments(invoices: dict[str, InvoiceMarks]) -> None:
    """Marks typed on instalment rows ("INV-7#2") also hold for their invoice ("INV-7").

    The planner asks by invoice: a dispute or a pause on any instalment stops the invoice's
    reminders (latest pause and promise win); an approval holds only when every instalment row
    of the invoice is approved; scenario and comment come from the first row that has one.
    """
    groups: dict[str, list[InvoiceMarks]] = {}
    for item_id, marks in invoices.items():
        base = item_invoice_id(item_id)
        if base != item_id:
            groups.setdefault(base, []).append(marks)
    for base, parts in groups.items():
        if base in invoices:
            parts = [invoices[base], *parts]
        pauses = [m.pause_until for m in parts if m.pause_until is not None]
        promises = [m.promise_date for m in parts if m.promise_date is not None]
        invoices[base] = InvoiceMarks(
            scenario=next((m.scenario for m in parts if m.scenario), ""),
            dispute=any(m.dispute for m in parts),
            promise_date=max(promises) if promises else None,
            pause_until=max(pauses) if pauses else None,
            comment=" / ".join(m.comment for m in parts if m.comment),
            approve=all(m.approve for m in parts),
        )
