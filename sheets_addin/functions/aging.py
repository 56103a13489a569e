"""Days past due and aging buckets, per invoice and per customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from encours.connectors.model import to_cents
from encours.sheets_addin.functions.frames import _as_of_day, _day_numbers

#: Default upper bounds (days past due, inclusive) of the 1–30, 31–60 and 61–90 buckets.
DEFAULT_BOUNDS: tuple[int, ...] = (30, 60, 90)
NOT_DUE = "Non échu"


def bucket_labels(bounds: Sequence[int] = DEFAULT_BOUNDS) -> list[str]:
    """Labels for the buckets: "Non échu", "1-30", "31-60", "61-90", "> 90" by default."""
    _check_bounds(bounds)
    labels = [NOT_DUE]
    low = 1
    for high in bounds:
        labels.append(f"{low}-{high}")
        low = high + 1
    labels.append(f"> {bounds[-1]}")
    return labels


def _check_bounds(bounds: Sequence[int]) -> None:
    if not bounds:
        raise ValueError("aging bounds: at least one bound is needed")
    previous = 0
    for bound in bounds:
        if int(bound) != bound or bound <= previous:
            raise ValueError(f"aging bounds must be whole numbers rising from 1: {list(bounds)}")
        previous = bound


def days_past_due(due: date, as_of: date) -> int:
    """Days past due = as-of date − due date (negative: not yet due)."""
    return (as_of - due).days


def aging_bucket(days: int, bounds: Sequence[int] = DEFAULT_BOUNDS) -> str:
    """The bucket of a number of days past due: ≤ 0 is "Non échu", then each bound inclusive.

    Aging buckets (default): not due, 1–30, 31–60, 61–90, > 90 days past due; bounds configurable.
    """
    labels = bucket_labels(bounds)
    if days <= 0:
        return labels[0]
    for index, bound in enumerate(bounds):
        if days <= bound:
            return labels[index + 1]
    return labels[-1]


def days_past_due_series(due: pd.Series, as_of: date) -> pd.Series:
    """Vectorised :func:`days_past_due`; missing due dates give <NA>."""
    if isinstance(due.dtype, np.dtype) and np.issubdtype(due.dtype, np.datetime64):
        days, missing = _day_numbers(due)
    else:
        days, missing = _day_numbers(pd.to_datetime(due, errors="coerce"))
    values = _as_of_day(as_of) - days
    return pd.Series(pd.arrays.IntegerArray(np.where(missing, 0, values), missing), index=due.index)


def aging_bucket_series(days: pd.Series, bounds: Sequence[int] = DEFAULT_BOUNDS) -> pd.Series:
    """Vectorised :func:`aging_bucket`; <NA> days give <NA>."""
    labels = bucket_labels(bounds)
    missing = days.isna().to_numpy()
    values = days.to_numpy(dtype="float64", na_value=0.0)
    index = (values > 0).astype("int8")  # days ≤ 0 → 0; 1..b1 → 1; …
    for bound in bounds:
        index += values > bound
    result = np.array([*labels, None], dtype=object)[np.where(missing, len(labels), index)]
    return pd.Series(result, index=days.index, dtype="object")


def aging_frame(invoices: pd.DataFrame, as_of: date, bounds: Sequence[int] = DEFAULT_BOUNDS) -> pd.DataFrame:
    """Add ``days_late`` and ``bucket`` to a frame of invoices with a ``due_date`` column."""
    out = invoices.copy()
    out["days_late"] = days_past_due_series(out["due_date"], as_of)
    out["bucket"] = aging_bucket_series(out["days_late"], bounds)
    return out


def aging_by_customer(
    invoices: pd.DataFrame,
    as_of: date,
    bounds: Sequence[int] = DEFAULT_BOUNDS,
    *,
    amount: str = "remaining_eur",
    customer: str = "customer_id",
) -> pd.DataFrame:
    """Outstanding per customer split by bucket, plus ``Total`` — exact Decimals, rounded to cents.

    Credit notes carry negative amounts and reduce their customer's buckets.  Rows without a due
    date are left out (they cannot be aged).
    """
    labels = bucket_labels(bounds)
    aged = aging_frame(invoices[[customer, "due_date", amount]], as_of, bounds)
    aged = aged[aged["bucket"].notna()]
    values = aged[amount].map(lambda v: Decimal(str(v)) if not isinstance(v, Decimal) else v)
    grouped: dict[tuple[str, str], Decimal] = {}
    for key, value in zip(zip(aged[customer], aged["bucket"], strict=True), values, strict=True):
        grouped[key] = grouped.get(key, Decimal(0)) + value
    customers = sorted({c for c, _ in grouped})
    rows = []
    for cust in customers:
        row = {label: to_cents(grouped.get((cust, label), Decimal(0))) for label in labels}
        row["Total"] = to_cents(sum(row.values(), Decimal(0)))
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(customers, name=customer), columns=[*labels, "Total"])


def aging_totals(
    invoices: pd.DataFrame,
    as_of: date,
    bounds: Sequence[int] = DEFAULT_BOUNDS,
    *,
    amount: str = "remaining_eur_cents",
    customer: str = "customer_id",
) -> pd.DataFrame:
    """Vectorised per-customer aging in whole cents (int64): one column per bucket, plus ``Total``.

    The same figures as :func:`aging_by_customer` for frames holding cents (as
    :func:`ledger_frames` makes them); rows without a due date or an amount are left out.
    """
    labels = bucket_labels(bounds)
    days = days_past_due_series(invoices["due_date"], as_of).to_numpy(dtype="float64", na_value=np.nan)
    cents = invoices[amount].to_numpy(dtype="float64", na_value=np.nan)
    keep = ~np.isnan(days) & ~np.isnan(cents)
    codes, uniques = pd.factorize(invoices[customer][keep], sort=True)
    edges = np.array([0, *bounds], dtype="float64")
    bucket = np.minimum(np.searchsorted(edges, days[keep], side="left"), len(labels) - 1)
    flat = codes * len(labels) + bucket
    sums = np.bincount(flat, weights=cents[keep], minlength=len(uniques) * len(labels))
    table = pd.DataFrame(np.rint(sums).astype("int64").reshape(len(uniques), len(labels)), columns=labels,
                         index=pd.Index(uniques, name=customer))
    table["Total"] = table.sum(axis=1)
    return table
