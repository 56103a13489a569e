"""The one domain model every layer shares: customers, invoices, credit notes, payments.

Raw platform data never leaves ``connectors/``: each connector turns its payloads into these
frozen dataclasses.  Money is ``Decimal`` with its currency; rounding is explicit (half-up to the
cent, :func:`to_cents`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """Round half-up to the cent, the rounding used everywhere money is shown or compared."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_decimal(text: str | int | float | Decimal, *, what: str = "amount") -> Decimal:
    """Parse an amount written with a dot or a decimal comma ("1 234,50"); floats go through str.

    Raises ``ValueError`` naming *what* when the text is not a number.
    """
    if isinstance(text, Decimal):
        return text
    if isinstance(text, bool):
        raise ValueError(f"{what}: {text!r} is not an amount")
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{what}: {text!r} is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"{what}: {text!r} is not an amount")
    return value


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were added or compared."""


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency (ISO 4217 code)."""

    amount: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", parse_decimal(self.amount))
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 code")
        object.__setattr__(self, "currency", self.currency.upper())

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(Decimal("0"), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def times(self, factor: Decimal) -> Money:
        """Multiply by an exact factor, rounded half-up to the cent."""
        return Money(to_cents(self.amount * factor), self.currency)

    def rounded(self) -> Money:
        return Money(to_cents(self.amount), self.currency)

    def __str__(self) -> str:
        return f"{to_cents(self.amount):.2f} {self.currency}"


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.StrEnum):
    """Normalised life-cycle status; the platform's own word is kept in ``Invoice.source_status``."""

    DRAFT = "draft"
    OPEN = "open"  # issued, nothing paid yet
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CANCELLED = "cancelled"  # voided, or fully credited by a credit note
    DELETED = "deleted"  # removed at the source
    UNKNOWN = "unknown"  # a status this version of encours does not know: shown, never reminded

    @property
    def is_open(self) -> bool:
        return self in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


#: How the sheet shows each status (French by default).
STATUS_LABELS_FR = {
    InvoiceStatus.DRAFT: "Brouillon",
    InvoiceStatus.OPEN: "À payer",
    InvoiceStatus.PARTIALLY_PAID: "Partiellement payée",
    InvoiceStatus.PAID: "Payée",
    InvoiceStatus.CANCELLED: "Annulée",
    InvoiceStatus.DELETED: "Supprimée",
    InvoiceStatus.UNKNOWN: "Inconnu",
}


@dataclass(frozen=True, slots=True)
class Contact:
    name: str = ""
    email: str = ""
    phone: str = ""
    role: str = ""  # e.g. "comptabilité", "billing"


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    source: str
    emails: tuple[str, ...] = ()
    phone: str = ""
    contacts: tuple[Contact, ...] = ()
    salesperson: str = ""
    salesperson_email: str = ""
    language: str = ""  # fr | nl | en; empty means the company's default
    siren: str = ""
    vat_number: str = ""
    reference: str = ""
    payment_terms_days: int | None = None
    direct_debit: bool = False  # paid by SEPA direct debit: never reminded
    address: str = ""
    country: str = ""
    updated_at: datetime | None = None

    @property
    def email(self) -> str:
        """The first e-mail address known for the customer, or ''."""
        for address in self.emails:
            if address:
                return address
        for contact in self.contacts:
            if contact.email:
                return contact.email
        return ""


@dataclass(frozen=True, slots=True)
class Installment:
    """One due date of an invoice split in several (Odoo payment terms, payment plans)."""

    due_date: date
    amount: Money
    remaining: Money


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice or a credit note.

    Amounts are in the document's currency and positive for both kinds: a credit note's
    ``total`` is what it credits, its ``remaining`` what is still to be used or refunded.
    ``signed_remaining`` gives the amount with the sign it has in the customer's balance.
    ``remaining_company`` is the remaining amount in the company's currency when the source
    states it (non-EUR documents), else ``None``.
    """

    id: str
    number: str
    customer_id: str
    source: str
    issue_date: date
    due_date: date | None
    total: Money
    remaining: Money
    kind: DocumentKind = DocumentKind.INVOICE
    status: InvoiceStatus = InvoiceStatus.OPEN
    source_status: str = ""
    salesperson: str = ""
    label: str = ""
    pdf_url: str = ""
    credited_invoice_id: str = ""
    remaining_company: Money | None = None
    installments: tuple[Installment, ...] = ()
    payment_reference: str = ""
    updated_at: datetime | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.total.currency != self.remaining.currency:
            raise CurrencyMismatchError(
                f"invoice {self.number or self.id}: total in {self.total.currency} "
                f"but remaining in {self.remaining.currency}"
            )

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE

    @property
    def is_open(self) -> bool:
        return self.status.is_open and self.remaining.amount != 0

    @property
    def sign(self) -> int:
        return -1 if self.is_credit_note else 1

    @property
    def signed_remaining(self) -> Money:
        return self.remaining if not self.is_credit_note else -self.remaining

    @property
    def signed_total(self) -> Money:
        return self.total if not self.is_credit_note else -self.total

    def effective_due_date(self, default_terms_days: int = 30) -> date:
        """The due date, or the issue date plus the payment terms when the source has none."""
        if self.due_date is not None:
            return self.due_date
        from datetime import timedelta

        return self.issue_date + timedelta(days=default_terms_days)

    def with_changes(self, **changes: Any) -> Invoice:
        return replace(self, **changes)

    def closed(self) -> Invoice:
        """The invoice as the ledger keeps it once the source no longer lists it."""
        return replace(self, status=InvoiceStatus.DELETED, remaining=Money.zero(self.currency))


@dataclass(frozen=True, slots=True)
class Allocation:
    """The part of a payment (or a credit note) matched to one invoice (lettrage)."""

    invoice_id: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    customer_id: str
    source: str
    date: date
    amount: Money
    allocations: tuple[Allocation, ...] = ()
    method: str = ""  # transfer, direct_debit, card, cheque, credit_note …
    reference: str = ""

    @property
    def unallocated(self) -> Money:
        total = Money.zero(self.amount.currency)
        for allocation in self.allocations:
            if allocation.amount.currency == self.amount.currency:
                total = total + allocation.amount
        return self.amount - total


@dataclass(frozen=True, slots=True)
class Ledger:
    """Everything a source holds for encours at one moment."""

    customers: tuple[Customer, ...]
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...] = ()

    def customer_index(self) -> dict[str, Customer]:
        return {c.id: c for c in self.customers}

    def open_invoices(self) -> list[Invoice]:
        return [i for i in self.invoices if i.is_open]

    def apply(self, delta: Delta) -> Ledger:
        """The ledger once a pull is merged in — the one definition of "apply a delta".

        A full delta replaces the ledger: invoices it no longer lists are closed (status deleted,
        nothing remaining: their sheet rows are marked, not removed), payments it no longer lists
        are dropped, customers it no longer lists are dropped unless an invoice still names them.
        An incremental delta upserts its records and removes what it lists as deleted.  Records
        come back ordered by id, as the state store returns them.
        """
        invoices = {i.id: i for i in self.invoices}
        customers = {c.id: c for c in self.customers}
        payments = {p.id: p for p in self.payments}
        if delta.full:
            listed = {i.id for i in delta.invoices}
            for invoice_id in [i for i in invoices if i not in listed]:
                invoices[invoice_id] = invoices[invoice_id].closed()
            payments = {}
            used = {i.customer_id for i in invoices.values()}
            listed_customers = {c.id for c in delta.customers}
            customers = {k: c for k, c in customers.items() if k in listed_customers or k in used}
        customers.update((c.id, c) for c in delta.customers)
        invoices.update((i.id, i) for i in delta.invoices)
        payments.update((p.id, p) for p in delta.payments)
        for invoice_id in delta.deleted_invoice_ids:
            if invoice_id in invoices:
                invoices[invoice_id] = invoices[invoice_id].closed()
        for payment_id in delta.deleted_payment_ids:
            payments.pop(payment_id, None)
        for customer_id in delta.deleted_customer_ids:
            customers.pop(customer_id, None)
        return Ledger(
            tuple(customers[k] for k in sorted(customers)),
            tuple(invoices[k] for k in sorted(invoices)),
            tuple(payments[k] for k in sorted(payments)),
        )


@dataclass(frozen=True, slots=True)
class Delta:
    """What a pull brought: records new or changed since the cursor, and ids deleted at source.

    ``full`` is true when the delta is the whole ledger (first sync, ``--full``, a cursor older
    than the source keeps changes for): records absent from a full delta are closed.
    ``cursor`` is opaque to everyone but the connector that made it.
    """

    customers: tuple[Customer, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    deleted_invoice_ids: tuple[str, ...] = ()
    deleted_customer_ids: tuple[str, ...] = ()
    deleted_payment_ids: tuple[str, ...] = ()
    full: bool = True
    cursor: str = ""

    @classmethod
    def of_ledger(cls, ledger: Ledger, cursor: str) -> Delta:
        """A full delta: the whole ledger (sources that cannot answer incrementally)."""
        return cls(ledger.customers, ledger.invoices, ledger.payments, full=True, cursor=cursor)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What ``encours check`` says about a source."""

    source: str
    organisation: str
    open_invoices: int
    details: str = ""
