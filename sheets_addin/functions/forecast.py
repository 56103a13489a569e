"""Weekly cash forecast."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from encours.sheets_addin.functions.frames import _DEAD_STATUSES, _as_of_day, _day_numbers, _per_row, from_cents

# ---------------------------------------------------------------------------------------------
# Weekly cash forecast
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CashForecast:
    """Expected receipts per week (weeks start on Monday; the first holds the as-of date)."""

    weeks: tuple[date, ...]
    amounts: tuple[Decimal, ...]
    later: Decimal  # expected after the last week


def expected_payment_days(due: pd.Series, customer: pd.Series, avg_delays: Mapping[str, float] | pd.Series,
                          as_of: date) -> np.ndarray[Any, Any]:
    """Each open invoice's expected payment day number: due date + its customer's average delay
    (rounded half-up to whole days; 0 when unknown), never before the as-of date."""
    delays = _per_row(customer, avg_delays)
    shift = np.floor(delays + 0.5).astype("int64")
    due_day, missing = _day_numbers(due)
    expected = np.maximum(due_day + shift, _as_of_day(as_of))
    return np.where(missing, _as_of_day(as_of), expected)


def _net_of_credits(customers: np.ndarray[Any, Any], expected: np.ndarray[Any, Any], amount: np.ndarray[Any, Any],
                    credits: pd.DataFrame) -> np.ndarray[Any, Any]:
    """``amount`` with each customer's credits taken off its invoices, earliest expected first."""
    held = -credits["eur_cents"].fillna(0).astype("int64").groupby(credits["customer_id"].astype(str)).sum()
    order = np.lexsort((expected, customers))
    frame = pd.DataFrame({"customer": customers[order], "amount": amount[order]})
    owed = frame["amount"].clip(lower=0)
    reached = owed.groupby(frame["customer"]).cumsum().to_numpy(dtype="int64")
    cap = frame["customer"].map(held).fillna(0).to_numpy(dtype="int64")
    taken = np.minimum(reached, cap) - np.minimum(reached - owed.to_numpy(dtype="int64"), cap)
    netted = amount.copy()
    netted[order] = frame["amount"].to_numpy(dtype="int64") - np.maximum(taken, 0)
    return netted


def weekly_cash_forecast(
    invoices: pd.DataFrame,
    as_of: date,
    avg_delays: Mapping[str, float] | pd.Series,
    *,
    weeks: int = 13,
    credits: pd.DataFrame | None = None,
) -> CashForecast:
    """Weekly cash forecast: each open invoice expected at its due date shifted by the customer's
    average delay; what is expected before ``as_of`` lands in the current week.

    Amounts are the signed EUR remaining (credit notes reduce the week they fall in), exact cents.
    A customer's unallocated credits (``credits``: :func:`credit_frame`; payments on account…) are
    money already received: they come off that customer's invoices in the order they are expected,
    and what they leave over (a customer in credit) is no receipt.
    """
    amount = invoices["remaining_eur_cents"].fillna(0).to_numpy(dtype="int64")
    keep = (amount != 0) & ~invoices["status"].isin(_DEAD_STATUSES).to_numpy(dtype=bool)
    expected = expected_payment_days(invoices["due_date"], invoices["customer_id"], avg_delays, as_of)[keep]
    amount = amount[keep]
    if credits is not None and len(credits):
        amount = _net_of_credits(invoices["customer_id"].to_numpy()[keep].astype(str), expected, amount, credits)
    as_day = _as_of_day(as_of)
    monday = as_day - ((as_day + 3) % 7)  # 1970-01-01 was a Thursday
    week_index = (expected - monday) // 7
    inside = week_index < weeks
    sums = np.bincount(week_index[inside], weights=amount[inside].astype("float64"), minlength=weeks)[:weeks]
    epoch = date(1970, 1, 1)
    return CashForecast(
        weeks=tuple(epoch + timedelta(days=int(monday + 7 * k)) for k in range(weeks)),
        amounts=tuple(from_cents(round(float(s))) for s in sums),
        later=from_cents(int(amount[~inside].sum())),
    )
