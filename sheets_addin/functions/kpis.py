"""Receivables KPIs.  Days are returned as Decimal rounded half-up to 0.1 day, from exact cents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from encours.connectors.model import Ledger
from encours.sheets_addin.functions.frames import (
    _as_of_day,
    _cents,
    _frame_days,
    credit_frame,
    from_cents,
    instalment_frame,
    invoice_rows,
    ledger_frames,
)

# ---------------------------------------------------------------------------------------------
# Receivables KPIs.  Days are returned as Decimal rounded half-up to 0.1 day, from exact cents.
# ---------------------------------------------------------------------------------------------

TENTH = Decimal("0.1")


def _tenths(numerator: int, denominator: int) -> Decimal | None:
    """numerator ÷ denominator (in tenths) rounded half away from zero, exactly; None when ÷ 0 or < 0."""
    if denominator <= 0:
        return None
    quotient, remainder = divmod(abs(numerator), denominator)
    rounded = quotient + (1 if 2 * remainder >= denominator else 0)
    return Decimal(rounded if numerator >= 0 else -rounded) * TENTH


def _c(amount: Decimal | int) -> int:
    return _cents(Decimal(amount))


def dso_simple(receivables: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """DSO, simple = receivables ÷ credit sales of the period × days in the period.

    ``None`` when the period has no (or negative) sales.
    """
    return _tenths(_c(receivables) * days * 10, _c(credit_sales))


def dso_countback(receivables: Decimal, monthly_sales: Sequence[Decimal], month_days: int | Sequence[int] = 30) -> (
        Decimal | None):
    """DSO, countback = walk back month by month from the period end, consuming each month's sales
    until the receivables are used up (receivables 212k with monthly sales 100k/80k/70k → 73.7 days).

    ``monthly_sales`` starts with the most recent month; ``month_days`` is the length of each
    month (30 by default, as in the example; or one length per month).  Receivables larger than
    every month given are capped at the total length of those months.  0 for no receivables.
    """
    lengths = [month_days] * len(monthly_sales) if isinstance(month_days, int) else list(month_days)
    if len(lengths) != len(monthly_sales):
        raise ValueError("countback DSO: one month length per month of sales")
    left = _c(receivables)
    if left <= 0:
        return Decimal("0.0")
    elapsed = 0
    for sales, length in zip(monthly_sales, lengths, strict=True):
        month = _c(sales)
        if month <= 0:
            elapsed += length
            continue
        if left <= month:
            return _tenths((elapsed * month + left * length) * 10, month)
        left -= month
        elapsed += length
    return Decimal(elapsed).quantize(TENTH)


def best_possible_dso(current_receivables: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """Best possible DSO = not-yet-due receivables ÷ credit sales × days."""
    return _tenths(_c(current_receivables) * days * 10, _c(credit_sales))


def average_days_delinquent(receivables: Decimal, current_receivables: Decimal, credit_sales: Decimal, days: int) -> (
        Decimal | None):
    """ADD (average days delinquent) = DSO − best possible DSO (computed exactly, then rounded)."""
    return _tenths((_c(receivables) - _c(current_receivables)) * days * 10, _c(credit_sales))


def collection_effectiveness(opening: Decimal, credit_sales: Decimal, closing_total: Decimal,
                             closing_current: Decimal) -> Decimal | None:
    """CEI (collection effectiveness index) = (opening receivables + credit sales − closing total
    receivables) ÷ (opening receivables + credit sales − closing current receivables) × 100.

    Choice stated: credit sales of the whole period (not per month), so CEI is one figure for the
    period.  ``None`` when the denominator is not positive.
    """
    num = _c(opening) + _c(credit_sales) - _c(closing_total)
    den = _c(opening) + _c(credit_sales) - _c(closing_current)
    return _tenths(num * 1000, den)


@dataclass(frozen=True)
class ReceivablesKpis:
    """The dashboard figures for a period of ``period_days`` ending on ``as_of`` (EUR documents)."""

    as_of: date
    period_days: int
    receivables: Decimal  # closing total receivables, unallocated credits deducted
    current: Decimal  # closing not-yet-due receivables
    overdue: Decimal  # past due, gross: what the invoices say (credits are in ``unallocated``)
    opening: Decimal  # receivables at the start of the period
    credit_sales: Decimal
    monthly_sales: tuple[Decimal, ...]  # most recent 30-day month first
    dso: Decimal | None
    dso_countback: Decimal | None
    best_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None
    unallocated: Decimal = Decimal("0.00")  # closing credits matched to no invoice (≤ 0)


def receivables_kpis(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    as_of: date,
    *,
    period_days: int = 90,
    month_days: int = 30,
    credits: pd.DataFrame | None = None,
    instalments: pd.DataFrame | None = None,
) -> ReceivablesKpis:
    """DSO (simple and countback), best possible DSO, ADD and CEI from :func:`ledger_frames`.

    Choices stated (the dashboard's native formulas make the same ones):
    - amounts in the company currency: receivables are the remaining amounts in EUR (foreign
      documents converted when the source states the amount, else left out); credit sales are
      the documents in EUR only (a foreign document's converted total is not known);
    - drafts and deleted documents are left out; cancelled invoices count with the credit notes
      that cancel them (they net to zero); credit notes reduce sales and receivables;
    - the period is the ``period_days`` days ending on ``as_of`` (inclusive), cut in months of
      ``month_days`` days back from ``as_of`` for the countback;
    - "current" means not yet due (due date ≥ as-of date); an invoice split in instalments
      (``instalments``: :func:`instalment_frame`) is current or overdue per open instalment, as
      the sheet's rows are;
    - opening receivables = what is owed now on documents issued on or before the period start,
      plus what was collected on them after the start (allocations of EUR documents), less the
      unallocated credits (``credits``: :func:`credit_frame`) dated on or before the start;
    - unallocated credits (payments on account, credit notes not imputed, opening credit
      balances) reduce the receivables as the sheet's ``Factures`` rows do; they are not sales,
      and never "current": a credit allocated since the start of the period cannot be known
      from today's ledger and is not added back.
    """
    as_day = _as_of_day(as_of)
    start_day = as_day - period_days
    live = ~invoices["status"].isin(("draft", "deleted")).to_numpy(dtype=bool)
    issue_day, _ = _frame_days(invoices, "issue_date")
    due_day, _ = _frame_days(invoices, "due_date")
    owed = invoices["remaining_eur_cents"].fillna(0).to_numpy(dtype="int64")
    total = invoices["total_cents"].to_numpy(dtype="int64")
    is_eur = (invoices["currency"] == "EUR").to_numpy(dtype=bool)
    issued = live & (issue_day <= as_day)
    closing = int(owed.sum(where=issued))
    if instalments is not None and len(instalments):
        split_rows = pd.Index(invoices["id"]).get_indexer(instalments["invoice_id"])
        split = np.zeros(len(invoices), dtype=bool)
        split[split_rows[split_rows >= 0]] = True
        part_day, _ = _frame_days(instalments, "due_date")
        part_owed = instalments["eur_cents"].fillna(0).to_numpy(dtype="int64")
        part_current = (split_rows >= 0) & (part_day >= as_day)
        part_current[part_current] &= issued[split_rows[part_current]]
        current = int(owed.sum(where=issued & ~split & (due_day >= as_day))) + int(part_owed.sum(where=part_current))
    else:
        current = int(owed.sum(where=issued & (due_day >= as_day)))
    in_period = issued & (issue_day > start_day)
    sales = int(total.sum(where=in_period & is_eur))
    months = max(1, period_days // month_days)
    age = as_day - issue_day
    counted = is_eur & live & (age >= 0) & (age < months * month_days)
    by_month = np.bincount(age[counted] // month_days, weights=total[counted].astype("float64"), minlength=months)
    monthly = [round(float(m)) for m in by_month[:months]]
    before = issued & ~in_period
    pay_day, _ = _frame_days(payments, "date")
    rows = invoice_rows(invoices, payments)
    collected_back = (before & is_eur)[rows] & (rows >= 0) & (pay_day > start_day) & (pay_day <= as_day)
    sign = np.where((invoices["kind"] == "credit_note").to_numpy(dtype=bool), -1, 1)
    amounts = payments["amount_cents"].to_numpy(dtype="int64")
    added_back = int((amounts[collected_back] * sign[rows[collected_back]]).sum())
    opening = int(owed.sum(where=before)) + added_back
    unallocated = 0
    if credits is not None and len(credits):
        credit_day, _ = _frame_days(credits, "date")
        credit_eur = credits["eur_cents"].fillna(0).to_numpy(dtype="int64")
        unallocated = int(credit_eur.sum(where=credit_day <= as_day))
        opening += int(credit_eur.sum(where=credit_day <= start_day))
    overdue = closing - current
    closing += unallocated
    d = from_cents
    return ReceivablesKpis(
        as_of=as_of,
        period_days=period_days,
        receivables=d(closing),
        current=d(current),
        overdue=d(overdue),
        opening=d(opening),
        credit_sales=d(sales),
        monthly_sales=tuple(d(m) for m in monthly),
        dso=dso_simple(d(closing), d(sales), period_days),
        dso_countback=dso_countback(d(closing), [d(m) for m in monthly], month_days),
        best_dso=best_possible_dso(d(current), d(sales), period_days),
        add=average_days_delinquent(d(closing), d(current), d(sales), period_days),
        cei=collection_effectiveness(d(opening), d(sales), d(closing), d(current)),
        unallocated=d(unallocated),
    )


def ledger_kpis(ledger: Ledger, as_of: date, *, period_days: int = 90, default_terms: int = 30) -> ReceivablesKpis:
    """:func:`receivables_kpis` straight from a ledger (for the sync: ``opening`` feeds the dashboard's CEI)."""
    invoices, payments = ledger_frames(ledger, default_terms=default_terms)
    return receivables_kpis(invoices, payments, as_of, period_days=period_days, credits=credit_frame(ledger),
                            instalments=instalment_frame(ledger, default_terms=default_terms))
