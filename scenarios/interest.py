"""Late-payment interest and the fixed recovery indemnity a formal notice claims, per reminded
invoice (or per instalment of its payment plan), and the rates charged by half-year as the
letter states them."""

from __future__ import annotations

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


def compute_interest(item: ActionItem, as_of: date, company: CompanySettings) -> InterestLine:
    """Late-payment interest and the fixed indemnity on one reminded invoice, as of a date.

    The one call into the rate table (:mod:`encours.sheets_addin.rates`): interest on the amount due
    including VAT from the day after the due date to ``as_of``, the statutory rate of the
    company's country (or the contractual ``[company] interest_rate``, floored as the law says).
    """
    from encours.sheets_addin.rates import late_interest

    currency = item.amount.currency
    # a payment plan: each instalment bears interest from its own date, on its own unpaid part
    parts = [(when, part.amount) for when, part in item.instalments] or [(item.due_date, item.amount.amount)]
    results = [late_interest(amount, when, as_of, company.country, contract_rate=company.interest_rate)
               for when, amount in parts]
    interest = sum((r.interest for r in results), Decimal(0))
    days = max(r.days for r in results)
    slices = [p for r in results for p in r.parts if p.days > 0]
    rate = slices[-1].rate if slices else Decimal(0)
    indemnity = company.indemnity if days > 0 and item.amount.amount > 0 else Decimal(0)
    periods = tuple(dict.fromkeys((p.start, p.rate) for p in slices))
    return InterestLine(item.number or item.invoice_id, item.due_date, item.amount, days, rate,
                        Money(interest, currency), Money(to_cents(indemnity), "EUR"), periods)


def rates_by_half_year(lines: list[InterestLine], language: str) -> list[str]:
    """Each half-year's rate the interest charges, oldest first: "12,15 % (2e semestre 2026)"."""
    seen: dict[tuple[int, int], Decimal] = {}
    for line in lines:
        for start, rate in line.periods:
            seen.setdefault((start.year, 1 if start.month <= 6 else 2), rate)
    return [f"{format_percent(rate, language)} ({half_year_name(date(year, 1 if half == 1 else 7, 1), language)})"
            for (year, half), rate in sorted(seen.items())]
