"""The one domain model every layer shares: customers, invoices, credit notes, payments.

Raw platform data never leaves ``connectors/``: each connector turns its payloads into these
frozen dataclasses.  Money is ``Decimal`` with its currency; rounding is explicit (half-up to the
cent, :func:`to_cents`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from encours.connectors.parsing import parse_amount

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """Round half-up to the cent, the rounding used everywhere money is shown or compared."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_decimal(text: str | int | float | Decimal, *, what: str = "amount") -> Decimal:
    """:func:`encours.connectors.parsing.parse_amount` (the one amount parser), under its older name."""
    return parse_amount(text, what=what)


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were added or compared."""


#: Upper-case codes already checked by :class:`Money` (a few dozen at most).
_CHECKED_CODES: set[str] = set()


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency (ISO 4217 code)."""

    amount: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if type(self.amount) is not Decimal:
            object.__setattr__(self, "amount", parse_decimal(self.amount))
        if self.currency in _CHECKED_CODES:  # the common case, a code already seen: no more work
            return
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isascii():
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 code")
        if self.currency.isupper():
            _CHECKED_CODES.add(self.currency)
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


class CreditKind(enum.StrEnum):
    """Why money sits to a customer's credit without being matched to an invoice."""

    PAYMENT_ON_ACCOUNT = "payment_on_account"  # acompte, transfer not lettered yet
    CREDIT_NOTE = "credit_note"  # a credit note known only as a ledger line, not imputed
    OPENING_BALANCE = "opening_balance"  # a credit carried forward by the opening entries
    OTHER = "other"  # miscellaneous entry, unbalanced lettering group …


#: How the sheet's ``Statut`` names each kind of unallocated credit.
CREDIT_LABELS_FR = {
    CreditKind.PAYMENT_ON_ACCOUNT: "Paiement non affecté",
    CreditKind.CREDIT_NOTE: "Avoir non imputé",
    CreditKind.OPENING_BALANCE: "Solde créditeur reporté",
    CreditKind.OTHER: "Crédit non affecté",
}


@dataclass(frozen=True, slots=True)
class UnallocatedCredit:
    """Money to a customer's credit that no invoice absorbs (yet).

    ``amount`` is positive: what the customer has paid or been credited and not matched.  Its
    effect on the customer's balance is ``signed_amount`` (negative).  A credit note that the
    source gives as a document stays an :class:`Invoice` of kind ``CREDIT_NOTE`` and is never
    also listed here: this holds what has no document of its own (the unmatched part of a
    payment, a ledger line, an opening balance).  ``amount_company`` is the amount in the
    company's currency when the source states it (non-EUR credits).
    """

    id: str
    customer_id: str
    source: str
    date: date
    amount: Money
    kind: CreditKind = CreditKind.PAYMENT_ON_ACCOUNT
    reference: str = ""
    label: str = ""
    amount_company: Money | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.amount.amount < 0:
            raise ValueError(f"unallocated credit {self.id}: amount {self.amount} is negative")

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def signed_amount(self) -> Money:
        return -self.amount


def credit_from_payment(payment: Payment, kind: CreditKind = CreditKind.PAYMENT_ON_ACCOUNT) -> UnallocatedCredit | None:
    """The unmatched part of a payment as an unallocated credit (same id), or None when all matched."""
    rest = payment.unallocated
    if rest.amount <= 0:
        return None
    return UnallocatedCredit(
        id=payment.id,
        customer_id=payment.customer_id,
        source=payment.source,
        date=payment.date,
        amount=rest,
        kind=kind,
        reference=payment.reference,
    )


#: Separates an invoice id from the instalment number in an open item's id ("INV-7#2").
ITEM_SEPARATOR = "#"


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One thing that ages on its own: an invoice, one instalment of a split invoice, or a credit.

    ``remaining`` is signed as in the customer's balance (credit notes and credits negative).
    ``instalment`` is the 1-based position of the instalment in the invoice's schedule, 0 when
    the item is the whole invoice or a credit.  ``due_date`` is the day it ages from (a credit
    ages from its date).
    """

    id: str
    invoice_id: str
    number: str
    customer_id: str
    due_date: date
    remaining: Money
    instalment: int = 0
    credit: UnallocatedCredit | None = None


def item_invoice_id(item_id: str) -> str:
    """The invoice id behind an open item id: ``"INV-7#2"`` → ``"INV-7"`` (other ids unchanged)."""
    head, sep, tail = item_id.rpartition(ITEM_SEPARATOR)
    return head if sep and tail.isdigit() else item_id


def is_split(invoice: Invoice) -> bool:
    """True when the invoice ages per instalment: several instalments that add up to it."""
    if len(invoice.installments) < 2:
        return False
    try:
        total = sum((i.remaining for i in invoice.installments), Money.zero(invoice.currency))
    except CurrencyMismatchError:
        return False
    return to_cents(total.amount) == to_cents(invoice.remaining.amount)


def invoice_items(invoice: Invoice, default_terms_days: int = 30) -> list[OpenItem]:
    """The invoice's open items: one per open instalment when split, else the invoice itself.

    A split invoice gives an item per instalment (paid ones too, with nothing remaining) so that
    a sheet row for an instalment paid since is refreshed; callers keep the open ones.
    """
    if not is_split(invoice):
        return [
            OpenItem(
                id=invoice.id,
                invoice_id=invoice.id,
                number=invoice.number,
                customer_id=invoice.customer_id,
                due_date=earliest_unpaid_due(invoice) or invoice.effective_due_date(default_terms_days),
                remaining=invoice.signed_remaining,
            )
        ]
    sign = invoice.sign
    return [
        OpenItem(
            id=f"{invoice.id}{ITEM_SEPARATOR}{n}",
            invoice_id=invoice.id,
            number=invoice.number,
            customer_id=invoice.customer_id,
            due_date=inst.due_date,
            remaining=inst.remaining if sign > 0 else -inst.remaining,
            instalment=n,
        )
        for n, inst in enumerate(invoice.installments, start=1)
    ]


def earliest_unpaid_due(invoice: Invoice) -> date | None:
    """The due date of the earliest instalment with something left to pay, if the invoice has any."""
    dues = [i.due_date for i in invoice.installments if i.remaining.amount != 0]
    return min(dues) if dues else None


def credit_item(credit: UnallocatedCredit) -> OpenItem:
    return OpenItem(
        id=credit.id,
        invoice_id="",
        number=credit.reference,
        customer_id=credit.customer_id,
        due_date=credit.date,
        remaining=credit.signed_amount,
        credit=credit,
    )


@dataclass(frozen=True, slots=True)
class Ledger:
    """Everything a source holds for encours at one moment.

    ``credits`` are the unallocated credits (payments on account, credit notes not imputed,
    opening credit balances …): a customer's balance is its open invoices minus its open credit
    notes minus these (:meth:`balances`).
    """

    customers: tuple[Customer, ...]
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...] = ()
    credits: tuple[UnallocatedCredit, ...] = ()

    def customer_index(self) -> dict[str, Customer]:
        return {c.id: c for c in self.customers}

    def open_invoices(self) -> list[Invoice]:
        return [i for i in self.invoices if i.is_open]

    def unallocated_credits(self, customer_id: str | None = None) -> list[UnallocatedCredit]:
        """The credits with something left, for one customer or all — the one list the sheet, the
        balances and the reminders net against.

        Sources state them (``credits``); a ledger that states none (the demo, a ledger made of
        invoices and payments alone) has them derived from its payments' unmatched parts.
        """
        credits = self.credits or tuple(c for c in map(credit_from_payment, self.payments) if c is not None)
        return [c for c in credits if c.amount.amount != 0 and (customer_id is None or c.customer_id == customer_id)]

    def open_items(self, default_terms_days: int = 30) -> list[OpenItem]:
        """Everything that ages: open invoices (per open instalment), open credit notes, credits."""
        items: list[OpenItem] = []
        for invoice in self.open_invoices():
            items.extend(i for i in invoice_items(invoice, default_terms_days) if i.remaining.amount != 0)
        items.extend(credit_item(c) for c in self.unallocated_credits())
        return items

    def balances(self) -> dict[tuple[str, str], Money]:
        """(customer id, currency) → the customer's balance: what it owes, negative when in credit."""
        out: dict[tuple[str, str], Money] = {}
        for invoice in self.open_invoices():
            key = (invoice.customer_id, invoice.currency)
            out[key] = out.get(key, Money.zero(invoice.currency)) + invoice.signed_remaining
        for credit in self.unallocated_credits():
            key = (credit.customer_id, credit.currency)
            out[key] = out.get(key, Money.zero(credit.currency)) + credit.signed_amount
        return out

    def apply(self, delta: Delta) -> Ledger:
        """This ledger with a pull merged, as the state store merges it.

        A full delta replaces the ledger, except that invoices it no longer lists stay, marked
        deleted with nothing remaining (their sheet rows are closed, not removed).
        """
        customers = {} if delta.full else {c.id: c for c in self.customers}
        invoices = {i.id: i for i in self.invoices}
        payments = {} if delta.full else {p.id: p for p in self.payments}
        credits = {} if delta.full or delta.credits_complete else {c.id: c for c in self.credits}
        gone = set(delta.deleted_invoice_ids)
        if delta.full:
            listed = {i.id for i in delta.invoices}
            gone |= {iid for iid in invoices if iid not in listed}
            kept_customers = {i.customer_id for i in self.invoices}
            customers = {c.id: c for c in self.customers if c.id in kept_customers}
        customers.update((c.id, c) for c in delta.customers)
        invoices.update((i.id, i) for i in delta.invoices)
        payments.update((p.id, p) for p in delta.payments)
        credits.update((c.id, c) for c in delta.credits)
        for invoice_id in gone:
            if invoice_id in invoices:
                invoices[invoice_id] = invoices[invoice_id].closed()
        for pid in delta.deleted_payment_ids:
            payments.pop(pid, None)
        for pid in stale_payments(payments.values(), delta):
            payments.pop(pid, None)
        for cid in delta.deleted_credit_ids:
            credits.pop(cid, None)
        for cid in delta.deleted_customer_ids:
            customers.pop(cid, None)
        return Ledger(
            tuple(sorted(customers.values(), key=lambda c: c.id)),
            tuple(sorted(invoices.values(), key=lambda i: i.id)),
            tuple(sorted(payments.values(), key=lambda p: p.id)),
            tuple(sorted(credits.values(), key=lambda c: c.id)),
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
    credits: tuple[UnallocatedCredit, ...] = ()
    deleted_credit_ids: tuple[str, ...] = ()
    #: What the source wants said in the sync summary and log (e.g. a book without lettering).
    notes: tuple[str, ...] = ()
    #: ``credits`` is every open unallocated credit (even in an incremental delta): replace them all.
    credits_complete: bool = False
    #: Invoices whose payments the delta lists completely: a stored payment allocated only to these
    #: and absent from ``payments`` was cancelled at the source and is dropped.
    payments_of: tuple[str, ...] = ()

    @classmethod
    def of_ledger(cls, ledger: Ledger, cursor: str) -> Delta:
        """A full delta: the whole ledger (sources that cannot answer incrementally)."""
        return cls(
            ledger.customers, ledger.invoices, ledger.payments, full=True, cursor=cursor, credits=ledger.credits
        )


def stale_payments(stored: Iterable[Payment], delta: Delta) -> list[str]:
    """Ids of stored payments that ``delta.payments_of`` says no longer exist at the source."""
    if not delta.payments_of:
        return []
    complete = set(delta.payments_of)
    listed = {p.id for p in delta.payments}
    return [
        p.id for p in stored
        if p.id not in listed and p.allocations and all(a.invoice_id in complete for a in p.allocations)
    ]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What ``encours check`` says about a source."""

    source: str
    organisation: str
    open_invoices: int
    details: str = ""
