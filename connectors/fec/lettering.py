"""Lettering: which credits of a customer account settle which debits, to the cent.

The matching codes (EcritureLet) say it; what they cannot say is settled as an accountant would:
a book with no lettering at all oldest first per customer, opening lines (A-nouveaux) still open
after their lettering against each other.
"""

from __future__ import annotations

from decimal import Decimal

from encours.connectors.fec.book import ZERO, Item


def settle(items: list[Item]) -> None:
    """Match the lines of one lettering group, oldest debit with oldest credit, to the cent."""
    if len(items) == 2 and items[0].debit != items[1].debit:  # the usual group: an invoice and its payment
        debit, credit = items if items[0].debit else (items[1], items[0])
        amount = min(debit.open, credit.open)
        debit.open -= amount
        credit.open -= amount
        debit.matches.append((credit, amount))
        credit.matches.append((debit, amount))
        return
    debits = sorted((i for i in items if i.debit), key=lambda i: (i.day, i.line))
    credits = sorted((i for i in items if not i.debit), key=lambda i: (i.day, i.line))
    d = c = 0
    while d < len(debits) and c < len(credits):
        debit, credit = debits[d], credits[c]
        amount = min(debit.open, credit.open)
        debit.open -= amount
        credit.open -= amount
        debit.matches.append((credit, amount))
        credit.matches.append((debit, amount))
        if debit.open == 0:
            d += 1
        if credit.open == 0:
            c += 1


def letter(items: list[Item], opening_journals: set[str]) -> list[str]:
    """Settle what the lettering says; then what it cannot say.  Returns the customers left unlettered.

    A book with no lettering at all is settled oldest first per customer (and said so).
    Opening lines (A-nouveaux, journals *opening_journals*) still open after their lettering —
    their settlement was lettered in a previous year, or they carry a balance as one line —
    settle each other, oldest first, per customer.  What is left stays open: invoices, and
    unallocated credits.  The unlettered customers are those with debits and credits and no lettering.
    """
    groups: dict[tuple[str, str], list[Item]] = {}
    opening: dict[str, list[Item]] = {}
    for item in items:
        if item.letter:
            group = groups.get((item.customer, item.letter))
            if group is None:
                groups[(item.customer, item.letter)] = [item]
            else:
                group.append(item)
        if item.journal in opening_journals:
            opening.setdefault(item.customer, []).append(item)
    lettered = {customer for customer, _ in groups}
    by_customer: dict[str, list[Item]] = {}
    for item in items:
        if item.customer not in lettered:
            mine = by_customer.get(item.customer)
            if mine is None:
                by_customer[item.customer] = [item]
            else:
                mine.append(item)
    unlettered = [customer for customer, mine in by_customer.items() if _both_ways(mine)]
    if not groups:
        for mine in by_customer.values():
            settle(mine)
        return unlettered
    for group in groups.values():
        if len(group) > 1:
            settle(group)
    for lines in opening.values():
        still_open = [i for i in lines if i.open]
        if len(still_open) > 1:
            settle(still_open)
    return unlettered


def _both_ways(items: list[Item]) -> bool:
    return any(i.debit for i in items) and any(not i.debit for i in items)


def currency_open(item: Item) -> Decimal:
    """What is still open on a foreign-currency line, in its currency (exact; rounded by the caller)."""
    assert item.currency_amount is not None
    if item.open == 0:
        return ZERO
    used = ZERO
    for other, amount in item.matches:
        if other.currency == item.currency and other.currency_amount is not None:
            used += other.currency_amount * amount / other.amount
        else:
            used += item.currency_amount * amount / item.amount
    return max(item.currency_amount - used, ZERO)
