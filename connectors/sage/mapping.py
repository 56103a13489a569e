"""Sage records into the domain model: pure functions, no request.

Amounts are JSON numbers.  A negative ``outstanding_amount`` on an invoice is an overpayment: the
invoice is settled and the excess is the customer's credit (:func:`overpayment`).  Allocations
state no currency: :func:`allocation` takes the documents' (``currency_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from encours.connectors.fields import Fields
from encours.connectors.model import (
    Allocation,
    Contact,
    CreditKind,
    Customer,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    UnallocatedCredit,
    credit_from_payment,
    to_cents,
)

PLATFORM = "sage"
#: Suffix of the id of the credit an overpaid invoice leaves (invoice id + suffix).
OVERPAID = "-overpaid"

#: Sage artefact status ids -> normalised status (ids are confirmed against /artefact_statuses).
STATUSES: dict[str, InvoiceStatus] = {
    "DRAFT": InvoiceStatus.DRAFT,
    "UNPAID": InvoiceStatus.OPEN,
    "PART_PAID": InvoiceStatus.PARTIALLY_PAID,
    "PAID": InvoiceStatus.PAID,
    "VOID": InvoiceStatus.CANCELLED,
}
_LOCALES = {"fr": "fr", "nl": "nl", "en": "en"}


def sage_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def customer(raw: Any) -> Customer:
    f = Fields(raw, platform=PLATFORM, endpoint="GET /contacts")
    person = f.obj("main_contact_person", required=False)
    contacts: tuple[Contact, ...] = ()
    if person is not None:
        contacts = (
            Contact(
                name=person.text("name", required=False),
                email=person.text("email", required=False),
                phone=person.text("telephone", required=False) or person.text("mobile", required=False),
                role=person.text("job_title", required=False),
            ),
        )
    email = f.text("email", required=False)
    address, country = address_of(f.obj("main_address", required=False))
    locale = f.text("locale", required=False)[:2].lower()
    credit_days = f.decimal("credit_days", required=False)
    return Customer(
        id=f.id(),
        name=f.text("name", required=False) or f.text("displayed_as"),
        source=PLATFORM,
        emails=(email,) if email else (),
        phone=contacts[0].phone if contacts else "",
        contacts=contacts,
        language=_LOCALES.get(locale, ""),
        vat_number=f.text("tax_number", required=False),
        reference=f.text("reference", required=False),
        payment_terms_days=int(credit_days) if credit_days is not None else None,
        address=address,
        country=country,
        updated_at=f.datetime("updated_at"),
    )


def invoice(raw: Any, statuses: Mapping[str, str], endpoint: str, company_currency: str) -> Invoice | None:
    """A sales invoice or credit note; ``None`` once deleted.  ``statuses``: the business's status ids."""
    f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
    if f.datetime("deleted_at") is not None:
        return None
    is_credit = "credit_note" in endpoint
    status_obj = f.obj("status", required=False)
    status_id = status_obj.id() if status_obj else ""
    label = statuses.get(status_id, "") or (status_obj.text("displayed_as", required=False) if status_obj else "")
    status = STATUSES.get(status_id, InvoiceStatus.UNKNOWN)
    if statuses and status_id not in statuses:
        status = InvoiceStatus.UNKNOWN  # an id this business does not declare: shown, never reminded
    currency_obj = f.obj("currency", required=False)
    currency = (currency_obj.id() if currency_obj else company_currency).upper()
    total = Money(to_cents(abs(f.amount("total_amount"))), currency)
    outstanding = to_cents(f.amount("outstanding_amount"))
    extra: tuple[tuple[str, str], ...] = ()
    if outstanding < 0 and not is_credit:
        # Paid more than it was worth: the invoice is settled and the excess is the
        # customer's credit (see _overpayments), never a debt.
        extra = (("overpaid", str(-outstanding)),)
        outstanding = Decimal(0)
        if status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
            status = InvoiceStatus.PAID
    remaining = Money(abs(outstanding), currency)
    if status is InvoiceStatus.CANCELLED:
        remaining = Money.zero(currency)
    remaining_company = None
    if currency != company_currency:
        base = f.decimal("base_currency_outstanding_amount", required=False)
        if base is None:
            raise f.fail(f"field 'base_currency_outstanding_amount' is missing on a {currency} document")
        remaining_company = Money(to_cents(abs(base)) if remaining.amount else Decimal(0), company_currency)
    contact = f.obj("contact")
    assert contact is not None
    number_key = "credit_note_number" if is_credit else "invoice_number"
    issue = f.date("date")
    assert issue is not None
    return Invoice(
        id=f.id(),
        number=f.text(number_key, required=False) or f.text("displayed_as", required=False),
        customer_id=contact.id(),
        source=PLATFORM,
        issue_date=issue,
        due_date=f.date("due_date", required=False),
        total=total,
        remaining=remaining,
        kind=DocumentKind.CREDIT_NOTE if is_credit else DocumentKind.INVOICE,
        status=status,
        source_status=label or status_id,
        label=f.text("reference", required=False),
        remaining_company=remaining_company,
        updated_at=f.datetime("updated_at"),
        extra=extra,
    )


def overpayment(invoice: Invoice) -> UnallocatedCredit | None:
    """The excess of an overpaid invoice (negative ``outstanding_amount``): the customer's credit."""
    excess = dict(invoice.extra).get("overpaid")
    if not excess:
        return None
    return UnallocatedCredit(
        id=f"{invoice.id}{OVERPAID}",
        customer_id=invoice.customer_id,
        source=PLATFORM,
        date=invoice.updated_at.date() if invoice.updated_at else invoice.issue_date,
        amount=Money(Decimal(excess), invoice.currency),
        kind=CreditKind.PAYMENT_ON_ACCOUNT,
        reference=invoice.number,
        label=f"trop-perçu sur {invoice.number}",
        updated_at=invoice.updated_at,
    )


def payment_credit(raw: Any, payment: Payment, company_currency: str) -> UnallocatedCredit | None:
    """What of a customer receipt is still unallocated: a payment on account's
    ``outstanding_amount`` (it shrinks as Sage allocates it later), else the receipt minus
    its allocations."""
    f = Fields(raw, platform=PLATFORM, endpoint="GET /contact_payments")
    on_account = f.obj("payment_on_account", required=False)
    if on_account is None:
        return credit_from_payment(payment)
    left = on_account.decimal("outstanding_amount", required=False)
    if left is None:
        return credit_from_payment(payment)
    if left <= 0:
        return None
    base = on_account.decimal("base_currency_outstanding_amount", required=False)
    foreign = payment.amount.currency != company_currency.upper()
    in_company = Money(to_cents(base), company_currency.upper()) if foreign and base is not None else None
    return UnallocatedCredit(
        id=payment.id,
        customer_id=payment.customer_id,
        source=PLATFORM,
        date=payment.date,
        amount=Money(to_cents(left), payment.amount.currency),
        kind=CreditKind.PAYMENT_ON_ACCOUNT,
        reference=payment.reference,
        label="acompte",
        amount_company=in_company,
    )


#: ``transaction_type`` ids of ``/contact_payments`` that are not a customer's receipt (Sage's
#: transaction types; the swagger does not list them): a refund pays a customer's credit back.
NOT_RECEIPTS = frozenset({"CUSTOMER_REFUND"})


def payment(raw: Any, company_currency: str) -> Payment | None:
    """A customer's receipt; ``None`` for vendor payments, other movements and refunds.  A
    customer movement of a type encours does not know raises (the record is quarantined and its
    customer's reminders held): read as a receipt it could claim money the customer never paid."""
    f = Fields(raw, platform=PLATFORM, endpoint="GET /contact_payments")
    kind = f.obj("transaction_type", required=False)
    kind_id = kind.id() if kind else ""
    if (kind_id and not kind_id.startswith("CUSTOMER")) or kind_id in NOT_RECEIPTS:
        return None  # vendor payments, other receipts and payments, refunds to customers
    if kind_id not in ("", "CUSTOMER_RECEIPT"):
        raise f.fail(f"transaction_type {kind_id!r} is not a customer receipt encours knows")
    currency_obj = f.obj("currency", required=False)
    currency = (currency_obj.id() if currency_obj else company_currency).upper()
    allocations = []
    for item in f.list("allocated_artefacts", required=False):
        line = Fields(item, platform=PLATFORM, endpoint="GET /contact_payments", record=f.record)
        artefact = line.obj("artefact")
        assert artefact is not None
        allocations.append(Allocation(artefact.id(), Money(to_cents(abs(line.amount("amount"))), currency)))
    contact = f.obj("contact")
    assert contact is not None
    when = f.date("date")
    assert when is not None
    method = f.obj("payment_method", required=False)
    return Payment(
        id=f.id(),
        customer_id=contact.id(),
        source=PLATFORM,
        date=when,
        amount=Money(to_cents(abs(f.amount("total_amount"))), currency),
        allocations=tuple(allocations),
        method=(method.text("displayed_as", required=False) if method else "") or "transfer",
        reference=f.text("reference", required=False),
    )


def allocation(raw: Any, currency_of: Callable[[str], str]) -> Payment | None:
    """A credit note set against invoices: a payment by credit note."""
    f = Fields(raw, platform=PLATFORM, endpoint="GET /contact_allocations")
    contact = f.obj("contact")
    assert contact is not None
    when = f.date("date")
    assert when is not None
    allocations = []
    for item in f.list("allocated_artefacts", required=False):
        line = Fields(item, platform=PLATFORM, endpoint="GET /contact_allocations", record=f.record)
        artefact = line.obj("artefact")
        assert artefact is not None
        path = artefact.text("$path", required=False)
        amount = line.amount("amount")
        if "sales_invoices" in path or (not path and amount > 0):
            # An allocation states no currency: it is the documents' (a GBP credit note set
            # against a GBP invoice is GBP, not the company's currency).
            currency = currency_of(artefact.id())
            allocations.append(Allocation(artefact.id(), Money(to_cents(abs(amount)), currency)))
    if not allocations:
        return None
    currencies = {a.amount.currency for a in allocations}
    if len(currencies) > 1:
        raise f.fail(f"one allocation sets documents in {', '.join(sorted(currencies))} against each other")
    total = sum((a.amount.amount for a in allocations), Decimal(0))
    return Payment(
        id=f.id(),
        customer_id=contact.id(),
        source=PLATFORM,
        date=when,
        amount=Money(total, currencies.pop()),
        allocations=tuple(allocations),
        method="credit_note",
    )


def address_of(main: Fields | None) -> tuple[str, str]:
    """``main_address`` as one line (street, postal code and city) and its country code."""
    if main is None:
        return "", ""
    street = ", ".join(p for p in (main.text(k, required=False) for k in ("address_line_1", "address_line_2")) if p)
    town = " ".join(p for p in (main.text("postal_code", required=False), main.text("city", required=False)) if p)
    country = main.obj("country", required=False)
    return ", ".join(p for p in (street, town) if p), country.id() if country else ""


# -- whose a record is, read as far as an odd record allows (for the reminders it holds) ---------
def owner_hint(raw: Any) -> str:
    """The ``contact`` id of a document, payment or allocation that may not map, or "" (unknown)."""
    contact = raw.get("contact") if isinstance(raw, dict) else None
    ident = contact.get("id") if isinstance(contact, dict) else None
    return str(ident) if isinstance(ident, str) and ident else ""


def currency_hint(raw: Any, company_currency: str) -> str:
    """The record's ``currency`` id (absent: the company's), or "" when it cannot be read (every currency)."""
    value = raw.get("currency") if isinstance(raw, dict) else {}
    code = value.get("id") if isinstance(value, dict) else (None if value else company_currency)
    code = code if code is not None else company_currency
    return code.upper() if isinstance(code, str) and len(code) == 3 and code.isascii() and code.isalpha() else ""


def allocated_ids(raw: Any) -> list[str]:
    """The documents a payment or allocation names in ``allocated_artefacts`` (as far as readable)."""
    lines = raw.get("allocated_artefacts") if isinstance(raw, dict) else None
    found = []
    for line in lines if isinstance(lines, list) else []:
        artefact = line.get("artefact") if isinstance(line, dict) else None
        ident = artefact.get("id") if isinstance(artefact, dict) else None
        if isinstance(ident, str) and ident:
            found.append(ident)
    return found
