"""Credits not yet matched to an invoice, and what they leave a customer owing (issue 11, item 3).

A payment on account or any other unallocated credit of the ledger
(:meth:`~encours.connectors.model.Ledger.unallocated_credits`) or an open credit note is money the customer has
already given back: reminders claim the net.  A credit whose reference names one of the
customer's invoice numbers (or a credit note that names the invoice it credits) is attributed to
that invoice; the others reduce the customer's net overdue balance in their currency.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from encours.connectors.model import Invoice, Money, UnallocatedCredit


@dataclass(frozen=True)
class Credit:
    """One credit the customer holds: ``amount`` is positive, in the credit's currency."""

    reference: str
    on: date
    amount: Money
    kind: str  # "payment" | "credit_note"
    invoice_id: str = ""  # the invoice it is attributed to, when its reference names one
    invoice_number: str = ""


@dataclass
class CustomerCredits:
    """Per currency: credits attributed to an invoice (invoice id → credits) and the others."""

    attributed: dict[str, list[Credit]] = field(default_factory=lambda: defaultdict(list))
    unattributed: dict[str, list[Credit]] = field(default_factory=lambda: defaultdict(list))

    def free_total(self, currency: str) -> Money:
        return sum((c.amount for c in self.unattributed.get(currency, ())), Money.zero(currency))


def _named_invoice(reference: str, numbers: dict[str, str]) -> tuple[str, str]:
    """(invoice id, number) of the first invoice number the reference names as a whole word."""
    for number in sorted(numbers, key=len, reverse=True):
        if number and re.search(rf"(?<![0-9A-Za-z]){re.escape(number)}(?![0-9A-Za-z])", reference, re.IGNORECASE):
            return numbers[number], number
    return "", ""


def customer_credits(invoices: Iterable[Invoice], held: Iterable[UnallocatedCredit]) -> CustomerCredits:
    """The credits one customer holds: ``held`` (its payments not fully allocated) and its open credit
    notes among ``invoices`` (its invoices and credit notes), each attributed to the open invoice its
    reference names, when one does.  ``invoices`` in the ledger's order: of two invoices with one
    number, the later one is named."""
    result = CustomerCredits()
    mine = list(invoices)
    by_id = {i.id: i for i in mine}
    numbers = {i.number: i.id for i in mine if not i.is_credit_note and i.number}
    found: list[Credit] = []
    for unallocated in held:
        reference = unallocated.reference or unallocated.label or unallocated.id
        invoice_id, number = _named_invoice(reference, numbers)
        found.append(Credit(reference, unallocated.date, unallocated.amount, "payment", invoice_id, number))
    for note in mine:
        if note.is_credit_note and note.is_open and note.remaining.amount > 0:
            target = by_id.get(note.credited_invoice_id)
            if target is not None and target.customer_id == note.customer_id:
                invoice_id, number = target.id, target.number
            else:
                invoice_id, number = _named_invoice(f"{note.label} {note.payment_reference}", numbers)
            found.append(Credit(note.number or note.id, note.issue_date, note.remaining, "credit_note", invoice_id,
                                number))
    for credit in found:
        target = by_id.get(credit.invoice_id)
        if target is None or not target.is_open or target.currency != credit.amount.currency:
            credit = Credit(credit.reference, credit.on, credit.amount, credit.kind)  # nothing open to attribute to
        if credit.invoice_id:
            result.attributed[credit.invoice_id].append(credit)
        else:
            result.unattributed[credit.amount.currency].append(credit)
    return result
