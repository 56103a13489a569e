"""Pennylane bank transactions that pay nothing yet: the customer's unallocated credits.

A customer's transfer that Pennylane has not matched to an invoice (``customer`` set, money in,
``outstanding_balance`` above zero) is money the customer has paid and encours must net before
reminding.  ``outstanding_balance`` is read as what is still unmatched, in the transaction's
currency (reported by the reference's examples, unconfirmed): a transaction without that field
gives no credit rather than a guessed one.  Credit notes need nothing here: an unlinked credit
note is already an open document of kind credit note.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from encours.connectors.fields import Fields
from encours.connectors.model import CreditKind, Money, UnallocatedCredit, to_cents

PLATFORM = "pennylane"
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
