"""What ages in the sheet: an open invoice (or each open instalment of a split one), an open credit
note, an unallocated credit — one :class:`OpenItem` each, with an id that names its invoice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from encours.connectors.money import CurrencyMismatchError, Money, to_cents
from encours.connectors.records import Invoice, UnallocatedCredit

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
