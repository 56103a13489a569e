"""Odoo records → the domain model: pure functions, no request.

* an invoice or credit note is an ``account.move`` (``out_invoice``/``out_refund``) with its
  receivable ``account.move.line`` (one per instalment, ``date_maturity``); ``amount_residual``
  is in the document's currency, ``amount_residual_signed`` in the company's;
* a customer is a commercial ``res.partner`` with its contacts (the invoicing contact first);
* a payment share is an ``account.partial.reconcile`` on an invoice's receivable line, dated by
  the paying line;
* a receivable line of another entry (payment on account, opening or miscellaneous entry) is an
  unallocated credit when it is a credit, an invoice of its own (``aml-<id>``) when a debit.

A record that cannot be mapped raises :class:`MalformedResponseError` naming the record and the
field — also for a value the model refuses (an unknown currency code): the connector quarantines it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from encours.connectors.fields import Fields
from encours.connectors.model import (
    Allocation,
    Contact,
    CreditKind,
    Customer,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    UnallocatedCredit,
    to_cents,
)

T = TypeVar("T")

PAYMENT_STATES: dict[str, InvoiceStatus] = {
    "not_paid": InvoiceStatus.OPEN,
    "partial": InvoiceStatus.PARTIALLY_PAID,
    "in_payment": InvoiceStatus.PAID,  # registered, awaiting the bank statement: nothing left to claim
    "paid": InvoiceStatus.PAID,
    "reversed": InvoiceStatus.CANCELLED,  # fully credited by a credit note
}
MOVE_FIELDS = [
    "name", "move_type", "state", "payment_state", "partner_id", "commercial_partner_id", "invoice_date",
    "invoice_date_due", "amount_total", "amount_residual", "amount_total_signed", "amount_residual_signed",
    "currency_id", "company_id", "invoice_user_id", "reversed_entry_id", "payment_reference", "ref", "write_date",
]
LINE_FIELDS = [
    "move_id", "date", "date_maturity", "debit", "credit", "amount_currency", "amount_residual",
    "amount_residual_currency", "currency_id", "reconciled",
]
OTHER_LINE_FIELDS = [
    "move_id", "partner_id", "date", "date_maturity", "name", "balance", "amount_currency", "amount_residual",
    "amount_residual_currency", "currency_id", "company_id", "payment_id", "reconciled", "parent_state", "write_date",
]
PARTIAL_FIELDS = ["debit_move_id", "credit_move_id", "amount", "debit_amount_currency", "max_date"]
PAYING_LINE_FIELDS = ["move_id", "date", "payment_id"]
PARTNER_FIELDS = ["name", "email", "phone", "vat", "ref", "lang", "is_company", "commercial_partner_id", "user_id",
                  "type", "function", "street", "street2", "zip", "city", "country_code", "company_registry",
                  "write_date", "active"]
_LANGS = {"fr": "fr", "nl": "nl", "en": "en"}
_ACCOUNTING_WORDS = ("compta", "account", "factur", "billing", "invoice", "finance", "boekhoud")
OTHER_ENTRY = "écriture (hors facture)"


def checked(f: Fields, build: Callable[[], T]) -> T:
    """``build()``, a value the model refuses (currency, amount, date) reported as the record's fault."""
    try:
        return build()
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise f.fail(str(exc) or type(exc).__name__) from None


# -- invoices -----------------------------------------------------------------------------------
def invoice(f: Fields, lines: Sequence[Fields], *, company_currency: dict[str, str], platform: str,
            name_companies: bool = False) -> Invoice:
    """An ``account.move`` with its receivable lines (several: one instalment each)."""
    return checked(f, lambda: _invoice(f, lines, company_currency, platform, name_companies))


def _invoice(f: Fields, lines: Sequence[Fields], company_currency: dict[str, str], platform: str,
             name_companies: bool) -> Invoice:
    move_type = f.text("move_type")
    state = f.text("state")
    payment_state = f.text("payment_state", required=False)
    currency = f.many2one("currency_id", required=True)
    assert currency is not None
    code = currency[1]
    company = f.many2one("company_id", required=False)
    in_company = company_currency.get(company[0], code) if company else code
    total = Money(to_cents(abs(f.amount("amount_total"))), code)
    remaining = Money(to_cents(abs(f.amount("amount_residual"))), code)
    if state == "cancel":
        status = InvoiceStatus.CANCELLED
    elif state == "draft":
        status = InvoiceStatus.DRAFT
    else:
        status = PAYMENT_STATES.get(payment_state, InvoiceStatus.UNKNOWN)
    if status in (InvoiceStatus.CANCELLED, InvoiceStatus.DRAFT):
        remaining = Money.zero(code)
    remaining_company = None
    if code != in_company:
        remaining_company = Money(to_cents(abs(f.amount("amount_residual_signed"))), in_company)
    partner = f.many2one("commercial_partner_id") or f.many2one("partner_id", required=True)
    assert partner is not None
    salesperson = f.many2one("invoice_user_id")
    reversed_of = f.many2one("reversed_entry_id")
    installments = tuple(instalment(line, code) for line in sorted(lines, key=line_date))
    issue = f.date("invoice_date", required=False) or f.date("date", required=False)
    if issue is None:
        raise f.fail("field 'invoice_date' is empty on a posted invoice")
    extra: tuple[tuple[str, str], ...] = (("company", company[1]),) if company and name_companies else ()
    return Invoice(
        id=f.id(),
        number=f.text("name"),
        customer_id=partner[0],
        source=platform,
        issue_date=issue,
        due_date=f.date("invoice_date_due", required=False),
        total=total,
        remaining=remaining,
        kind=DocumentKind.CREDIT_NOTE if move_type == "out_refund" else DocumentKind.INVOICE,
        status=status,
        source_status=payment_state if state == "posted" else state,
        salesperson=salesperson[1] if salesperson else "",
        credited_invoice_id=reversed_of[0] if reversed_of else "",
        remaining_company=remaining_company,
        installments=installments if len(installments) > 1 else (),
        payment_reference=f.text("payment_reference", required=False),
        updated_at=f.datetime("write_date"),
        extra=extra,
    )


def instalment(line: Fields, currency: str) -> Installment:
    try:
        return Installment(
            due_date=line_date(line),
            amount=Money(to_cents(abs(line_amount(line, "amount_currency", "balance"))), currency),
            remaining=Money(to_cents(abs(line_amount(line, "amount_residual_currency", "amount_residual"))), currency),
        )
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise line.fail(str(exc)) from None


def line_date(line: Fields) -> date:
    value = line.date("date_maturity", required=False) or line.date("date", required=False)
    if value is None:
        raise line.fail("a receivable line has no date_maturity")
    return value


def line_amount(line: Fields, currency_key: str, company_key: str) -> Decimal:
    value = line.decimal(currency_key, required=False)
    if value is not None and (value != 0 or line.raw.get(company_key) in (0, 0.0, None)):
        return value
    if company_key == "balance" and "balance" not in line.raw:
        return line.amount("debit") - line.amount("credit")
    return line.decimal(company_key, required=False) or Decimal(0)


# -- other receivable lines ---------------------------------------------------------------------
def other_receivable(line: Fields, *, company_currency: dict[str, str], as_of: date,
                     platform: str) -> Invoice | UnallocatedCredit | None:
    """A receivable line of an entry that is not an invoice: an open credit, a debit ``aml-<id>``
    (open, paid once reconciled, cancelled, or a draft when its entry was reset), or nothing (a
    settled credit, a line without partner: no customer to show it under)."""
    return checked(line, lambda: _other_receivable(line, company_currency, as_of, platform))


def _other_receivable(line: Fields, company_currency: dict[str, str], as_of: date,
                      platform: str) -> Invoice | UnallocatedCredit | None:
    partner = line.many2one("partner_id")
    if partner is None:
        return None
    company = line.many2one("company_id")
    in_company = company_currency.get(company[0], "EUR") if company else "EUR"
    currency = line.many2one("currency_id")
    code = currency[1] if currency else in_company
    residual = line_amount(line, "amount_residual_currency", "amount_residual")
    residual_company = line.decimal("amount_residual", required=False) or Decimal(0)
    state = line.text("parent_state", required=False)
    reconciled = line.flag("reconciled", required=False)
    is_open = state == "posted" and not reconciled
    move = line.many2one("move_id", required=True)
    assert move is not None
    day = line.date("date", required=False) or as_of
    balance = line_amount(line, "amount_currency", "balance")
    if balance < 0:
        if not (is_open and residual < 0):
            return None
        return UnallocatedCredit(
            id=f"aml-{line.id()}",
            customer_id=partner[0],
            source=platform,
            date=day,
            amount=Money(to_cents(-residual), code),
            kind=CreditKind.PAYMENT_ON_ACCOUNT if line.many2one("payment_id") else CreditKind.OTHER,
            reference=move[1],
            label=line.text("name", required=False),
            amount_company=Money(to_cents(-residual_company), in_company) if code != in_company else None,
        )
    if state == "cancel":
        status, left = InvoiceStatus.CANCELLED, Decimal(0)
    elif state == "draft":
        status, left = InvoiceStatus.DRAFT, Decimal(0)
    elif not is_open or residual == 0:
        status, left = InvoiceStatus.PAID, Decimal(0)  # reconciled since: settled, not deleted
    else:
        status = InvoiceStatus.OPEN if residual == balance else InvoiceStatus.PARTIALLY_PAID
        left = residual
    return Invoice(
        id=f"aml-{line.id()}",
        number=move[1],
        customer_id=partner[0],
        source=platform,
        issue_date=day,
        due_date=line.date("date_maturity", required=False) or day,
        total=Money(to_cents(abs(balance)), code),
        remaining=Money(to_cents(abs(left)), code),
        status=status,
        source_status=OTHER_ENTRY,
        label=line.text("name", required=False),
        remaining_company=Money(to_cents(abs(residual_company)), in_company) if code != in_company and left else None,
        updated_at=line.datetime("write_date"),
    )


# -- payments -----------------------------------------------------------------------------------
def payment(partial: Fields, paid: Invoice, paying: Fields | None, *, from_credit_note: bool,
            platform: str) -> Payment:
    """One share of a payment (or of a credit note) reconciled with an invoice's receivable line."""
    return checked(partial, lambda: _payment(partial, paid, paying, from_credit_note, platform))


def _payment(partial: Fields, paid: Invoice, paying: Fields | None, from_credit_note: bool,
             platform: str) -> Payment:
    when = (paying.date("date", required=False) if paying else None) or partial.date("max_date")
    assert when is not None
    value = partial.decimal("debit_amount_currency", required=False) or partial.amount("amount")
    amount = Money(to_cents(abs(value)), paid.currency)
    move = paying.many2one("move_id") if paying else None
    return Payment(
        id=f"partial-{partial.id()}",
        customer_id=paid.customer_id,
        source=platform,
        date=when,
        amount=amount,
        allocations=(Allocation(paid.id, amount),),
        method=_method(paying, from_credit_note),
        reference=move[1] if move else "",
    )


def _method(line: Fields | None, from_credit_note: bool) -> str:
    if from_credit_note:
        return "credit_note"
    if line is not None and line.many2one("payment_id"):
        return "transfer"
    return "other"  # a write-off or a miscellaneous entry


# -- customers ----------------------------------------------------------------------------------
def customer(partner: Fields, kids: Sequence[Fields], *, salesperson_email: str, direct_debit: bool,
             platform: str) -> Customer:
    """A commercial partner with its contacts: reminders go to the invoicing contact, then an
    accounting contact, then the company; the letter to the invoicing address when there is one."""
    return checked(partner, lambda: _customer(partner, kids, salesperson_email, direct_debit, platform))


def _customer(f: Fields, kids: Sequence[Fields], salesperson_email: str, direct_debit: bool,
              platform: str) -> Customer:
    email = f.text("email", required=False)
    ranked = sorted(kids, key=contact_rank)
    contacts = tuple(
        Contact(name=c.text("name", required=False), email=c.text("email", required=False),
                phone=c.text("phone", required=False), role=contact_role(c))
        for c in ranked
        if c.text("email", required=False)
    )
    preferred = [c.email for c in contacts if c.role in ("invoice", "accounting")]
    emails = tuple(dict.fromkeys([*preferred, *([email] if email else [])]))
    invoicing = next((c for c in ranked if contact_rank(c) == 0 and _has_address(c)), None)
    user = f.many2one("user_id")
    lang = f.text("lang", required=False)[:2].lower()
    vat = f.text("vat", required=False)
    name = f.text("name").strip()
    if not name:  # Odoo writes an empty name as false: a reminder to nobody by name is no reminder
        raise f.fail("field 'name' is empty")
    return Customer(
        id=f.id(),
        name=name,
        source=platform,
        emails=emails,
        phone=f.text("phone", required=False),
        contacts=contacts,
        salesperson=user[1] if user else "",
        salesperson_email=salesperson_email,
        language=_LANGS.get(lang, ""),
        siren=siren(f.text("company_registry", required=False), vat),
        vat_number=vat,
        reference=f.text("ref", required=False),
        direct_debit=direct_debit,
        address=address(invoicing or f),
        country=(invoicing or f).text("country_code", required=False).upper(),
        updated_at=f.datetime("write_date"),
    )


def contact_check(contact: Fields) -> None:
    """Read every field of a contact that :func:`customer` uses (its fault is then the contact's)."""
    for key in ("name", "email", "phone", "type", "function", "street", "street2", "zip", "city", "country_code"):
        contact.text(key, required=False)


def contact_role(contact: Fields) -> str:
    """"invoice" for an invoicing address, "accounting" for an accounting role, else ""."""
    if contact.text("type", required=False) == "invoice":
        return "invoice"
    function = contact.text("function", required=False).casefold()
    return "accounting" if any(word in function for word in _ACCOUNTING_WORDS) else ""


def contact_rank(contact: Fields) -> int:
    return {"invoice": 0, "accounting": 1}.get(contact_role(contact), 2)


def _has_address(partner: Fields) -> bool:
    return bool(partner.text("street", required=False) or partner.text("city", required=False))


def address(partner: Fields) -> str:
    """One line: street, street 2, postcode and city (the country is :attr:`Customer.country`)."""
    town = " ".join(p for p in (partner.text("zip", required=False), partner.text("city", required=False)) if p)
    parts = (partner.text("street", required=False), partner.text("street2", required=False), town)
    return ", ".join(p.strip() for p in parts if p and p.strip())


def siren(registry: str, vat: str) -> str:
    """The SIREN: the company registry when it is one (9 digits, or a 14-digit SIRET), else from a
    French VAT number (FR + 2-digit key + SIREN)."""
    digits = re.sub(r"\D", "", registry or "")
    if len(digits) in (9, 14):
        return digits[:9]
    compact = re.sub(r"\s", "", vat or "").upper()
    if re.fullmatch(r"FR[0-9A-Z]{2}\d{9}", compact):
        return compact[4:]
    return ""
