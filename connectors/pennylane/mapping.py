"""Pennylane records into the domain model: pure functions, no request.

Amounts are JSON strings read as Decimal.  For a foreign invoice ``currency_amount`` is the total
in the invoice currency, ``amount`` the same total in EUR, and ``remaining_amount_with_tax`` is
*reported* (unconfirmed) to be in EUR: :func:`remaining_of` converts it back with the invoice's
own ratio and raises (the invoice is then quarantined) on a record that contradicts the assumption.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
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
    to_cents,
)

PLATFORM = "pennylane"

#: Pennylane status word -> normalised status (open ones are refined by the remaining amount).
STATUSES: dict[str, InvoiceStatus] = {
    "draft": InvoiceStatus.DRAFT,
    "upcoming": InvoiceStatus.OPEN,
    "late": InvoiceStatus.OPEN,
    "partially_paid": InvoiceStatus.PARTIALLY_PAID,
    "paid": InvoiceStatus.PAID,
    "cancelled": InvoiceStatus.CANCELLED,
    "partially_cancelled": InvoiceStatus.PARTIALLY_PAID,
    "archived": InvoiceStatus.CANCELLED,
    "credit_note": InvoiceStatus.OPEN,  # refined: a used-up credit note is closed
}
#: Documents the listing may return that are not invoices: never synced.
NOT_INVOICES = frozenset(
    {
        "proforma",
        "shipping_order",
        "purchasing_order",
        "estimate_pending",
        "estimate_accepted",
        "estimate_invoiced",
        "estimate_denied",
    }
)
#: ``payment_conditions`` ending in ``_end_of_month``: the days are counted, then the due date
#: moves to the last day of that month ("30 jours fin de mois"); see :func:`due_date_for`.
END_OF_MONTH = "_end_of_month"
TERMS = {
    "upon_receipt": 0,
    "7_days": 7,
    "15_days": 15,
    "30_days": 30,
    "30_days_end_of_month": 30,
    "45_days": 45,
    "45_days_end_of_month": 45,
    "60_days": 60,
}



def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def customer(raw: Any) -> tuple[Customer, str]:
    """A customer, and its ``payment_conditions`` (they give the due date of invoices without one)."""
    f = Fields(raw, platform=PLATFORM, endpoint="GET /customers")
    emails = tuple(str(e) for e in f.list("emails", required=False) if isinstance(e, str) and e)
    address = f.obj("billing_address", required=False)
    address_text = ""
    country = ""
    if address is not None:
        parts = [address.text(k, required=False) for k in ("address", "postal_code", "city")]
        address_text = ", ".join(p for p in parts if p)
        country = address.text("country_alpha2", required=False)
    language = f.text("billing_language", required=False)[:2].lower()
    terms = f.text("payment_conditions", required=False)
    return Customer(
        id=f.id(),
        name=f.text("name"),
        source=PLATFORM,
        emails=emails,
        phone=f.text("phone", required=False),
        language=language if language in ("fr", "nl", "en") else "",
        siren=f.text("reg_no", required=False),
        vat_number=f.text("vat_number", required=False),
        reference=f.text("reference", required=False) or f.text("external_reference", required=False),
        payment_terms_days=TERMS.get(terms),
        address=address_text,
        country=country,
        updated_at=f.datetime("updated_at"),
    ), terms


def invoice(
    raw: Any, endpoint: str, *, company_currency: str, conditions: Mapping[str, str]
) -> Invoice | None:
    """An invoice or credit note; ``None`` for drafts and documents that are not invoices.

    ``conditions``: customer id -> ``payment_conditions``, for invoices without ``deadline``.
    """
    f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
    status_word = f.text("status")
    if status_word in NOT_INVOICES or f.flag("draft", required=False):
        return None
    currency = f.text("currency", required=False, default="EUR").upper() or "EUR"
    amount_eur = f.amount("amount")
    amount_cur = f.amount("currency_amount")
    credited = f.obj("credited_invoice", required=False)
    is_credit = status_word == "credit_note" or credited is not None or amount_cur < 0
    total = Money(abs(amount_cur), currency)
    remaining, remaining_company = remaining_of(f, currency, abs(amount_eur), abs(amount_cur), company_currency)
    status = STATUSES.get(status_word, InvoiceStatus.UNKNOWN)
    if status is InvoiceStatus.OPEN and remaining.amount == 0:
        status = InvoiceStatus.PAID
    elif status is InvoiceStatus.OPEN and not is_credit and remaining < total:
        status = InvoiceStatus.PARTIALLY_PAID
    elif status is InvoiceStatus.PARTIALLY_PAID and remaining.amount == 0:
        status = InvoiceStatus.PAID if status_word == "partially_paid" else InvoiceStatus.CANCELLED
    customer = f.obj("customer", required=False)
    issued = f.date("date", required=False)
    if issued is None:
        raise f.fail(f"field 'date' is empty (status {status_word!r}): an invoice without a date cannot be aged")
    return Invoice(
        id=f.id(),
        number=f.text("invoice_number", required=False),
        customer_id=customer.id() if customer else "",
        source=PLATFORM,
        issue_date=issued,
        due_date=f.date("deadline", required=False) or _due_by_conditions(customer, conditions, issued),
        total=total,
        remaining=remaining,
        kind=DocumentKind.CREDIT_NOTE if is_credit else DocumentKind.INVOICE,
        status=status,
        source_status=status_word,
        label=f.text("label", required=False),
        credited_invoice_id=credited.id() if credited else "",
        remaining_company=remaining_company,
        updated_at=f.datetime("updated_at"),
        extra=(("company_total", str(abs(amount_eur))),) if remaining_company is not None else (),
    )


def _due_by_conditions(customer: Fields | None, conditions: Mapping[str, str], issued: date) -> date | None:
    """No ``deadline``: the customer's payment conditions, read exactly (end of month included)."""
    return due_date_for(conditions.get(customer.id(), ""), issued) if customer else None


def remaining_of(
    f: Fields, currency: str, total_company: Decimal, total_doc: Decimal, company_currency: str
) -> tuple[Money, Money | None]:
    """Remaining in the invoice currency, and in the company currency for foreign invoices.

    Assumption (reported by Pennylane users, unconfirmed by the reference): for a foreign
    invoice ``remaining_amount_with_tax`` is in EUR.  It is converted back with the invoice's
    own ratio ``currency_amount / amount``.  A record that contradicts the assumption — a
    remaining amount above the EUR total, an unpaid invoice whose remaining equals the foreign
    total instead of the EUR one, or an ``exchange_rate`` matching neither direction of that
    ratio — raises instead of storing a wrong figure.
    """
    raw_remaining = f.decimal("remaining_amount_with_tax", required=False)
    paid = f.flag("paid", required=False)
    if raw_remaining is None:
        raw_remaining = Decimal(0) if paid else (total_doc if currency == company_currency else total_company)
    raw_remaining = abs(raw_remaining)
    if currency == company_currency:
        return Money(raw_remaining, currency), None
    if total_company == 0 or total_doc == 0:
        return Money(Decimal(0), currency), Money(Decimal(0), company_currency)
    ratio = total_doc / total_company
    rate = f.decimal("exchange_rate", required=False)
    if rate is not None and rate > 0 and not (close(rate, 1 / ratio) or close(rate, ratio)):
        raise f.fail(
            f"exchange_rate {rate} matches neither amount/currency_amount ({(1 / ratio):.6f}) "
            f"nor its inverse ({ratio:.6f}), even to the {decimals(rate)} decimals it is given with: "
            "the EUR and invoice-currency totals disagree"
        )
    tolerance = Decimal("0.01")
    if raw_remaining > total_company + tolerance:
        raise f.fail(
            f"remaining_amount_with_tax {raw_remaining} is above the EUR total {total_company} of this "
            f"{currency} invoice: encours assumes Pennylane states it in EUR, and this record contradicts it"
        )
    if (
        f.text("status", required=False) in ("upcoming", "late")
        and abs(raw_remaining - total_doc) <= tolerance
        and abs(raw_remaining - total_company) > tolerance
    ):
        raise f.fail(
            f"remaining_amount_with_tax {raw_remaining} equals the {currency} total, not the EUR total "
            f"{total_company}: encours assumes Pennylane states it in EUR, and this record contradicts it"
        )
    remaining_doc = to_cents(raw_remaining * ratio)
    if raw_remaining == total_company:
        remaining_doc = total_doc
    return Money(remaining_doc, currency), Money(raw_remaining, company_currency)


def contact(raw: Any, endpoint: str) -> Contact:
    f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
    name = " ".join(p for p in (f.text("first_name", required=False), f.text("last_name", required=False)) if p)
    phone = f.text("telephone_number", required=False) or f.text("mobile_number", required=False)
    return Contact(name=name, email=f.text("email", required=False), phone=phone, role=f.text("role", required=False))


def due_date_for(conditions: str, issued: date) -> date | None:
    """The due date Pennylane's ``payment_conditions`` give an invoice issued on ``issued``.

    ``30_days_end_of_month``: 30 days after the issue date, then the end of that month (issued
    15 January → 14 February → 28 February).  Unknown or custom conditions give ``None``.
    """
    days = TERMS.get(conditions)
    if days is None:
        return None
    due = issued + timedelta(days=days)
    if conditions.endswith(END_OF_MONTH):
        following = date(due.year + due.month // 12, due.month % 12 + 1, 1)
        due = following - timedelta(days=1)
    return due


def is_supplier_match(raw: Any) -> bool:
    """A transaction's match may be a supplier invoice (same id space? unconfirmed): told by its
    ``type`` or its ``url``, and never re-read as a customer invoice."""
    if not isinstance(raw, dict):
        return False
    kind = str(raw.get("type") or "").lower()
    url = str(raw.get("url") or "")
    return "supplier" in kind or "/supplier_invoices/" in url


def remaining_currency_error(invoice: Invoice, paid: Decimal) -> str:
    """Why ``remaining_amount_with_tax`` of a partly paid foreign invoice is not in EUR, or "".

    encours reads the field as EUR (reported, unconfirmed).  When the bank transactions matched to
    the invoice are in its own currency, the total minus what they paid is what is really left:
    if the stated figure equals that in the invoice currency and our EUR reading disagrees with
    it, Pennylane stated it in the invoice currency — the figure cannot be trusted.
    """
    stated = invoice.remaining_company
    if stated is None or paid <= 0:
        return ""
    left = invoice.total.amount - paid
    tolerance = Decimal("0.05")
    if abs(invoice.remaining.amount - left) > tolerance and abs(stated.amount - left) <= tolerance:
        return (
            f"remaining_amount_with_tax {stated.amount} equals the {invoice.currency} total minus the matched "
            f"payments ({left} {invoice.currency}): Pennylane states it in {invoice.currency} here, not in EUR "
            "as encours assumes — not synced until this is settled"
        )
    return ""


def company_total(invoice: Invoice) -> Decimal:
    """The invoice total in EUR as Pennylane stated it (kept in ``extra`` for foreign invoices)."""
    return Decimal(dict(invoice.extra).get("company_total", "0"))


def payment_from(invoice: Invoice, share: Mapping[str, str]) -> Payment:
    amount = Money(Decimal(share["amount"]), invoice.currency)
    return Payment(
        id=f"{share['id']}-{invoice.id}",
        customer_id=invoice.customer_id,
        source=PLATFORM,
        date=date.fromisoformat(share["date"]),
        amount=amount,
        allocations=(Allocation(invoice.id, amount),),
        method="transfer" if share["id"].startswith("tx") else "",
        reference=share.get("label", ""),
    )


def contact_dict(contact: Contact) -> dict[str, str]:
    return {"name": contact.name, "email": contact.email, "phone": contact.phone, "role": contact.role}


def required_date(f: Fields, key: str) -> date:
    value = f.date(key)
    if value is None:
        raise f.fail(f"field {key!r} is empty")
    return value


def decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def close(rate: Decimal, expected: Decimal) -> bool:
    """A published rate agrees with the totals' ratio: within 0.5 %, or within half a unit of
    the rate's last published decimal (0.0062 for 0.006160 JPY: 4 decimals published, 0.65 % off)."""
    half_unit = Decimal(5) / Decimal(10) ** (decimals(rate) + 1)
    return abs(rate - expected) <= max(abs(expected) * Decimal("0.005"), half_unit)


def id_order(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- bank transactions that pay nothing yet -----------------------------------------------------
# A customer's transfer that Pennylane has not matched to an invoice (``customer`` set, money in,
# ``outstanding_balance`` above zero) is money the customer paid and encours nets before reminding.
# ``outstanding_balance`` is read as what is still unmatched, in the transaction's currency
# (unconfirmed): a transaction without that field gives no credit rather than a guessed one.
ENDPOINT = "GET /transactions"
#: Prefix of a credit's id: the transaction's id follows ("tx88004").
PREFIX = "tx"


def credit_id(transaction_id: str) -> str:
    return f"{PREFIX}{transaction_id}"


def credit_of_transaction(raw: Any, company_currency: str) -> UnallocatedCredit | None:
    """The unmatched part of a customer's incoming transaction, or ``None`` (nothing to credit)."""
    f = Fields(raw, platform=PLATFORM, endpoint=ENDPOINT)
    customer = f.obj("customer", required=False)
    left = f.decimal("outstanding_balance", required=False)
    if customer is None or left is None or left <= 0:
        return None
    currency = f.text("currency", required=False, default=company_currency).upper() or company_currency
    in_currency = f.decimal("currency_amount", required=False)
    in_company = f.decimal("amount", required=False)
    if in_currency is not None and in_currency <= 0:
        return None  # money out (a refund to the customer): not a credit
    when = f.date("date")
    if when is None:
        raise f.fail("field 'date' is empty")
    amount_company = None
    if currency != company_currency and in_currency and in_company:
        amount_company = Money(to_cents(abs(left * in_company / in_currency)), company_currency)
    return UnallocatedCredit(
        id=credit_id(f.id()),
        customer_id=customer.id(),
        source=PLATFORM,
        date=when,
        amount=Money(to_cents(abs(Decimal(left))), currency),
        kind=CreditKind.PAYMENT_ON_ACCOUNT,
        reference=f.text("label", required=False),
        label="virement non rapproché",
        amount_company=amount_company,
        updated_at=f.datetime("updated_at", required=False),
    )


# -- whose a record is, read as far as an odd record allows (for the reminders it holds) ---------
def owner_hint(raw: Any) -> str:
    """The ``customer`` id of an invoice or transaction that may not map, or "" (then unknown)."""
    customer = raw.get("customer") if isinstance(raw, dict) else None
    ident = customer.get("id") if isinstance(customer, dict) else None
    return str(ident) if isinstance(ident, (int, str)) and not isinstance(ident, bool) and ident != "" else ""


def currency_hint(raw: Any, company_currency: str) -> str:
    """The record's currency (absent: the company's), or "" when it cannot be read (then every currency)."""
    value = raw.get("currency", company_currency) if isinstance(raw, dict) else None
    value = value or company_currency
    return value.upper() if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha() else ""


def may_be_credit(raw: Any) -> bool:
    """A document that may be a credit note (a credit the customer holds): its quarantine holds reminders."""
    if not isinstance(raw, dict):
        return True
    amount = raw.get("currency_amount") or raw.get("amount") or ""
    return raw.get("status") == "credit_note" or bool(raw.get("credited_invoice")) or str(amount).startswith("-")
