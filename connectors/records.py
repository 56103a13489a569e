"""The records a source holds: customers and their contacts, invoices and credit notes with their
instalments and statuses, payments and their allocations, unallocated credits — frozen values
every connector maps its payloads to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from encours.connectors.money import CurrencyMismatchError, Money


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
    def is_outstanding(self) -> bool:
        """Counts in the customer's balance: open, or in a status this version does not know with
        something remaining (shown and counted as the source says, never reminded)."""
        return (self.status.is_open or self.status is InvoiceStatus.UNKNOWN) and self.remaining.amount != 0

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
        """What the allocations in the payment's currency leave of it."""
        currency = self.amount.currency
        matched = sum((a.amount.amount for a in self.allocations if a.amount.currency == currency), Decimal(0))
        return Money(self.amount.amount - matched, currency)


class CreditKind(enum.StrEnum):
    """Why money sits to a customer's credit without being matched to an invoice."""

    PAYMENT_ON_ACCOUNT = "payment_on_account"  # acompte, transfer not lettered yet
    CREDIT_NOTE = "credit_note"  # a credit note known only as a ledger line, not imputed
    OPENING_BALANCE = "opening_balance"  # a credit carried forward by the opening entries
    OTHER = "other"  # miscellaneous entry, unbalanced lettering group …


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
    allocations = payment.allocations
    if len(allocations) == 1 and allocations[0].amount == payment.amount:  # most payments: one invoice, in full
        return None
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


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What ``encours check`` says about a source."""

    source: str
    organisation: str
    open_invoices: int
    details: str = ""
