"""What people typed in the sheet, as read back by any backend (xlsx, live Excel, Google Sheets).

These are the "yours" columns of :mod:`sheets_addin.layout`, parsed and keyed by ID.  The planner
reads them; no backend ever writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class InvoiceMarks:
    scenario: str = ""
    dispute: bool = False
    promise_date: date | None = None
    pause_until: date | None = None
    comment: str = ""
    approve: bool = False  # "À envoyer": a person approved the step waiting for approval


@dataclass(frozen=True)
class CustomerMarks:
    scenario: str = ""
    reminder_email: str = ""
    block_deliveries: bool = False
    comment: str = ""


@dataclass(frozen=True)
class PaymentPlanLine:
    invoice_id: str
    due_date: date
    amount: Decimal
    comment: str = ""
    row: int = 0  # the sheet row it was read from, for error messages


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

    def for_invoice(self, invoice_id: str) -> InvoiceMarks:
        return self.invoices.get(invoice_id, InvoiceMarks())

    def for_customer(self, customer_id: str) -> CustomerMarks:
        return self.customers.get(customer_id, CustomerMarks())
