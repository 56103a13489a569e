"""Late-payment interest and the fixed recovery indemnity a formal notice claims, per reminded
invoice (or per instalment of its payment plan), and the rates charged by half-year as the
letter states them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from encours.connectors.model import Money, to_cents
from encours.scenarios.actions import ActionItem
from encours.scenarios.company import CompanySettings
from encours.scenarios.document_labels import half_year_name
from encours.scenarios.formatting import format_percent


@dataclass(frozen=True)
class InterestLine:
    number: str
    due_date: date
    amount: Money
    days: int
    rate: Decimal
    interest: Money
    indemnity: Money
    periods: tuple[tuple[date, Decimal], ...] = ()  # (first day of each half-year charged, its rate)


#: A payment imputed on a debt: from which day the part it settles stops bearing interest, and that part.
Paid = tuple[date, Decimal]


def compute_interest(item: ActionItem, as_of: date, company: CompanySettings,
                     paid: Sequence[Paid] = ()) -> InterestLine:
    """Late-payment interest and the fixed indemnity on one reminded invoice, as of a date.

    The one call into the rate table (:mod:`encours.sheets_addin.rates`): interest on the amount due
    including VAT from the day after the due date to ``as_of``, the statutory rate of the
    company's country (or the contractual ``[company] interest_rate``, floored as the law says).
    ``paid``: payments on account imputed on this invoice (:func:`imputed_payments`), oldest part of it
    first — the part each settles bears interest only until the day it was received (from the due
    date on, a payment received before it).
    """
    from encours.sheets_addin.rates import late_interest

    currency = item.amount.currency
    # a payment plan: each instalment bears interest from its own date, on its own unpaid part
    parts = [(when, part.amount) for when, part in item.instalments] or [(item.due_date, item.amount.amount)]
    parts.sort(key=lambda p: p[0])
    payments = sorted(paid)
    results = []
    for when, amount in parts:
        start, principal, settled = when, amount, False
        while payments and principal > 0:  # the payments this part takes, oldest first
            day, value = payments[0]
            taken = min(value, principal)
            if day > start:  # the whole principal bears interest until that payment came
                results.append(late_interest(principal, start, min(day, as_of), company.country,
                                             contract_rate=company.interest_rate))
                start = max(start, min(day, as_of))
            principal, settled = principal - taken, True
            payments[0] = (day, value - taken)
            if payments[0][1] <= 0:
                payments.pop(0)
        if principal > 0 or not settled:  # what is still unpaid bears interest until as_of
            results.append(late_interest(principal, start, as_of, company.country,
                                         contract_rate=company.interest_rate))
    interest = sum((r.interest for r in results), Decimal(0))
    days = max(0, max((as_of - when).days for when, _ in parts))
    slices = [p for r in results for p in r.parts if p.days > 0]
    rate = slices[-1].rate if slices else Decimal(0)
    indemnity = company.indemnity if days > 0 and item.amount.amount > 0 else Decimal(0)
    periods = tuple(dict.fromkeys((p.start, p.rate) for p in slices))
    return InterestLine(item.number or item.invoice_id, item.due_date, item.amount, days, rate,
                        Money(interest, currency), Money(to_cents(indemnity), "EUR"), periods)


def imputed_payments(items: Sequence[ActionItem], credits: Sequence[tuple[date, Money]]) -> dict[str, list[Paid]]:
    """Which invoice each payment on account a message deducts settles, for its interest: by the
    order of the law when the debtor named none (French civil code art. 1342-10: the debt due that the
    debtor had most interest to pay — at one rate, the oldest; applied for Belgian companies too), so
    the oldest due date first; each payment, oldest first, taken until it is used up.  ``credits``:
    (day received, the part of it the message deducts)."""
    order = sorted(items, key=lambda i: (i.due_date, i.invoice_id))
    owed = {i.invoice_id: i.amount.amount for i in order}
    out: dict[str, list[Paid]] = {}
    for day, part in sorted(credits, key=lambda c: c[0]):
        left = part.amount
        for item in order:
            if left <= 0:
                break
            taken = min(left, owed[item.invoice_id])
            if taken > 0:
                out.setdefault(item.invoice_id, []).append((day, taken))
                owed[item.invoice_id] -= taken
                left -= taken
    return out


def rates_by_half_year(lines: list[InterestLine], language: str) -> list[str]:
    """Each half-year's rate the interest charges, oldest first: "12,15 % (2e semestre 2026)"."""
    seen: dict[tuple[int, int], Decimal] = {}
    for line in lines:
        for start, rate in line.periods:
            seen.setdefault((start.year, 1 if start.month <= 6 else 2), rate)
    return [f"{format_percent(rate, language)} ({half_year_name(date(year, 1 if half == 1 else 7, 1), language)})"
            for (year, half), rate in sorted(seen.items())]
