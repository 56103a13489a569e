"""The reference maths of encours: pure functions, ``as_of`` always explicit.

Each measure exists in a scalar form (one cell) and a vectorised form over a pandas frame or
series (a whole ledger).  The Excel UDFs, the Apps Script port and the native workbook formulas
must agree with these (shared vectors in ``tests/vectors/``).

Money in the ledger frames (:func:`ledger_frames`) is whole cents in int64 columns — exact, and fast
for a million rows; results come back as ``Decimal`` (:func:`from_cents`), rounded half-up where a
division is involved.  :func:`aging_by_customer` also accepts ``Decimal`` amounts and sums them
exactly.  Days in KPIs are ``Decimal`` rounded half-up to 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from encours.connectors.model import Ledger, to_cents
from encours.sheets_addin.view import CustomerFigures

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

# ---------------------------------------------------------------------------------------------
# Ledger frames: the ledger as columns (cents as int64, dates as datetime64) for vectorised maths
# ---------------------------------------------------------------------------------------------

#: Statuses that never count in receivables, sales or payment behaviour.
_DEAD_STATUSES = ("draft", "cancelled", "deleted")


def _cents(value: Decimal) -> int:
    return int(to_cents(value) * 100)


def from_cents(cents: int | float | np.integer[Any]) -> Decimal:
    """Cents (an exact integer) back to a Decimal amount with two decimals."""
    return Decimal(int(cents)).scaleb(-2)


def ledger_frames(ledger: Ledger, *, default_terms: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger as two frames: one row per invoice or credit note, one row per allocation.

    ``invoices``: id, customer_id, kind, status, currency, issue_date, due_date (the effective due
    date), total_cents and remaining_cents (signed: credit notes negative), remaining_eur_cents
    (signed, in the company currency; <NA> when a foreign document has no converted amount).
    ``payments``: payment_id, customer_id (of the invoice), invoice_id, date, amount_cents,
    currency, method — one row per allocation of a payment to an invoice.
    """
    inv_rows = []
    for inv in ledger.invoices:
        sign = inv.sign
        if inv.currency == "EUR":
            eur: int | None = sign * _cents(inv.remaining.amount)
        elif inv.remaining_company is not None:
            eur = sign * _cents(inv.remaining_company.amount)
        else:
            eur = None
        inv_rows.append(
            (inv.id, inv.customer_id, inv.kind.value, inv.status.value, inv.currency, inv.issue_date,
             inv.effective_due_date(default_terms), sign * _cents(inv.total.amount),
             sign * _cents(inv.remaining.amount), eur)
        )
    invoices = pd.DataFrame(
        inv_rows,
        columns=["id", "customer_id", "kind", "status", "currency", "issue_date", "due_date",
                 "total_cents", "remaining_cents", "remaining_eur_cents"],
    )
    invoices["issue_date"] = pd.to_datetime(invoices["issue_date"])
    invoices["due_date"] = pd.to_datetime(invoices["due_date"])
    invoices["total_cents"] = invoices["total_cents"].astype("int64")
    invoices["remaining_cents"] = invoices["remaining_cents"].astype("int64")
    invoices["remaining_eur_cents"] = invoices["remaining_eur_cents"].astype("Int64")
    customer_ids = sorted({c.id for c in ledger.customers} | {inv.customer_id for inv in ledger.invoices})
    invoices["customer_id"] = pd.Categorical(invoices["customer_id"], categories=customer_ids)
    for column in ("kind", "status", "currency"):
        invoices[column] = invoices[column].astype("category")
    owner = {inv.id: inv.customer_id for inv in ledger.invoices}
    pay_rows = [
        (p.id, owner.get(a.invoice_id, p.customer_id), a.invoice_id, p.date, _cents(a.amount.amount),
         a.amount.currency, p.method)
        for p in ledger.payments
        for a in p.allocations
    ]
    payments = pd.DataFrame(
        pay_rows, columns=["payment_id", "customer_id", "invoice_id", "date", "amount_cents", "currency", "method"]
    )
    payments["date"] = pd.to_datetime(payments["date"])
    payments["amount_cents"] = payments["amount_cents"].astype("int64")
    payments["method"] = payments["method"].astype("category")
    payments["invoice_row"] = invoice_rows(invoices, payments)
    return with_day_columns(invoices), with_day_columns(payments)


def invoice_rows(invoices: pd.DataFrame, payments: pd.DataFrame) -> np.ndarray[Any, Any]:
    """For each payment allocation, the position of its invoice in ``invoices`` (-1: unknown)."""
    rows: np.ndarray[Any, Any]
    if "invoice_row" in payments.columns:
        rows = payments["invoice_row"].to_numpy(dtype="int64")
    else:
        rows = pd.Index(invoices["id"]).get_indexer(payments["invoice_id"]).astype("int64")
    return rows


def _codes(values: pd.Series) -> tuple[np.ndarray[Any, Any], pd.Index]:
    """Integer codes (-1: missing) and the distinct values, cheaply for a categorical column."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype="int64"), pd.Index(values.cat.categories.astype(str))
    codes, uniques = pd.factorize(values.astype(str).to_numpy())
    return codes.astype("int64"), pd.Index(uniques)


def _per_row(values: pd.Series, mapping: Mapping[str, float] | pd.Series) -> np.ndarray[Any, Any]:
    """``mapping`` looked up for each row of ``values`` (customer ids); 0.0 when absent."""
    codes, uniques = _codes(values)
    looked_up = pd.Series(uniques).map(mapping).astype("float64").fillna(0.0).to_numpy()
    result: np.ndarray[Any, Any] = np.where(codes >= 0, looked_up[np.maximum(codes, 0)] if len(looked_up) else 0.0, 0.0)
    return result


def payment_history(invoices: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """Payment lines for scoring: customer_id, due_date, amount_cents, paid_on (NaT: still open),
    and their day numbers (due_day, paid_day).

    One line per allocation of a payment to an invoice (partial payments weigh by their amount),
    plus one line per open invoice for what is still owed (in EUR when known).  Credit notes,
    settlements by credit note and dead documents (draft, cancelled, deleted) are left out: they
    say nothing about how a customer pays.
    """
    live = ((invoices["kind"] == "invoice") & ~invoices["status"].isin(_DEAD_STATUSES)).to_numpy(dtype=bool)
    rows = invoice_rows(invoices, payments)
    known = rows >= 0
    keep = known.copy()
    keep[known] = live[rows[known]]
    keep &= (payments["method"] != "credit_note").to_numpy(dtype=bool)
    paid_rows = rows[keep]
    owed = invoices["remaining_eur_cents"].fillna(invoices["remaining_cents"]).to_numpy(dtype="int64")
    open_rows = np.flatnonzero(live & (owed > 0))
    customer = invoices["customer_id"]
    take = np.concatenate([paid_rows, open_rows])
    if isinstance(customer.dtype, pd.CategoricalDtype):
        customers: Any = pd.Categorical.from_codes(customer.cat.codes.to_numpy()[take], dtype=customer.dtype)
    else:
        customers = customer.to_numpy()[take]
    paid_on = np.concatenate([
        payments["date"].to_numpy(dtype="datetime64[ns]")[keep],
        np.full(len(open_rows), np.datetime64("NaT"), dtype="datetime64[ns]"),
    ])
    due_day, _ = _frame_days(invoices, "due_date")
    pay_day, _ = _frame_days(payments, "date")
    return pd.DataFrame(
        {
            "customer_id": customers,
            "due_date": invoices["due_date"].to_numpy(dtype="datetime64[ns]")[take],
            "amount_cents": np.concatenate([payments["amount_cents"].to_numpy(dtype="int64")[keep], owed[open_rows]]),
            "paid_on": paid_on,
            "due_day": due_day[take],
            "paid_day": np.concatenate([pay_day[keep], np.full(len(open_rows), _NO_DAY, dtype="int64")]),
        }
    )


def _day_numbers(values: pd.Series | np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Dates as int64 day numbers since 1970 and a mask of the missing ones."""
    raw = np.asarray(values)
    if not np.issubdtype(raw.dtype, np.datetime64):
        raw = np.asarray(pd.to_datetime(values))
    days = raw.astype("datetime64[D]")
    missing = np.isnat(days)
    return days.astype("int64"), missing


#: Day-number columns (int64 days since 1970, NaT as the smallest int64) that frames may carry
#: beside their dates, so that each date column is converted once per ledger, not once per figure.
DAY_COLUMNS = {"due_date": "due_day", "issue_date": "issue_day", "date": "day", "paid_on": "paid_day"}
_NO_DAY = np.iinfo(np.int64).min


def _frame_days(frame: pd.DataFrame, column: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """:func:`_day_numbers` of a frame's date column, from its day-number column when it has one."""
    cached = DAY_COLUMNS.get(column)
    if cached is not None and cached in frame.columns:
        days = frame[cached].to_numpy(dtype="int64")
        return days, days == _NO_DAY
    return _day_numbers(frame[column])


def with_day_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the day-number columns of the frame's date columns (in place; returns the frame)."""
    for column, days in DAY_COLUMNS.items():
        if column in frame.columns and days not in frame.columns:
            frame[days] = np.asarray(frame[column].to_numpy(dtype="datetime64[ns]")).astype("datetime64[D]").astype(
                "int64")
    return frame


def _as_of_day(as_of: date) -> int:
    return int(np.datetime64(as_of, "D").astype("int64"))


# ---------------------------------------------------------------------------------------------
# Average payment delay and the payer score
# ---------------------------------------------------------------------------------------------

#: Payments older than this many days before the as-of date are not looked at.
SCORE_LOOKBACK_DAYS = 730
#: "Recent" for the trend: payments in the last this-many days against the older ones.
SCORE_RECENT_DAYS = 90
#: Fewer paid lines than this: the history part of the score is neutral, and the score flagged.
SCORE_MIN_HISTORY = 3
#: Points the neutral history takes off 100 (a customer with no history and nothing overdue: 60, "B").
SCORE_NEUTRAL_PENALTY = 40.0
#: Profile thresholds: A ≥ 80, B ≥ 60, C ≥ 40, D below.
PROFILE_THRESHOLDS: tuple[tuple[int, str], ...] = ((80, "A"), (60, "B"), (40, "C"), (0, "D"))

#: The score's drivers, in the order they are added (and tie-broken in explanations).
DRIVERS = ("frequency", "lateness", "amount", "trend", "neutral", "overdue", "disputes", "broken_promises")


def profile_for(score: int) -> str:
    """The payer profile of a score: A good payer (≥ 80), B (≥ 60), C (≥ 40), D high risk."""
    for threshold, profile in PROFILE_THRESHOLDS:
        if score >= threshold:
            return profile
    return "D"


def payer_scores(
    history: pd.DataFrame,
    as_of: date,
    *,
    customers: Sequence[str] | None = None,
    disputes: Mapping[str, int] | None = None,
    broken_promises: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Average payment delay, payer score (0–100), profile (A…D) and explanation per customer.

    ``history``: customer_id, due_date, amount_cents, paid_on (NaT while open) — see
    :func:`payment_history`.  A line paid after ``as_of`` counts as open on ``as_of``.

    Average payment delay of a customer: amount-weighted mean of (payment date − due date) over
    its paid invoices (each part of a partial payment weighs its amount), over the last 730 days.

    The score starts at 100 and loses points for each driver, added in this order:
    how often late (25 × share of paid lines paid after the due date), how late
    (0.5 per day of average delay, at most 30), how much (10 × share of the paid amount paid late),
    the trend (0.5 per day the last 90 days' average delay exceeds the older one's, −5 … +10),
    the current overdue share of what is owed (15 × share), disputes (5 each, at most 10) and
    broken promises (10 each, at most 20).  With fewer than 3 paid lines the first four are
    replaced by a neutral 40 points and the score is flagged.  The result is clamped to 0–100
    and rounded half-up.  The explanation names the one or two drivers that cost the most.
    """
    as_day = _as_of_day(as_of)
    raw_codes, present = _codes(history["customer_id"])
    if customers is not None:
        known = pd.Index(pd.unique(np.asarray(list(customers), dtype=object)))
        uniques = known.append(present.difference(known))
        mapping = uniques.get_indexer(present)
        codes = np.where(raw_codes >= 0, mapping[np.maximum(raw_codes, 0)] if len(mapping) else -1, -1)
    else:
        uniques, codes = present, raw_codes
    size = len(uniques)
    codes = np.where(codes < 0, size, codes)  # lines without a customer: counted apart, then dropped
    amount = history["amount_cents"].to_numpy(dtype="float64")
    due_day, due_missing = _frame_days(history, "due_date")
    paid_day, paid_missing = _frame_days(history, "paid_on")
    valid = (amount > 0) & ~due_missing
    is_paid = valid & ~paid_missing & (paid_day <= as_day) & (paid_day > as_day - SCORE_LOOKBACK_DAYS)
    is_open = valid & (paid_missing | (paid_day > as_day))

    delay = np.where(is_paid, paid_day - due_day, 0)
    late = is_paid & (delay > 0)
    recent = is_paid & (paid_day > as_day - SCORE_RECENT_DAYS)

    def total(mask: np.ndarray[Any, Any], weights: np.ndarray[Any, Any] | None = None) -> np.ndarray[Any, Any]:
        w = mask.astype("float64") if weights is None else np.where(mask, weights, 0.0)
        return np.bincount(codes, weights=w, minlength=size + 1)[:size]

    weighted_delay = amount * delay
    n_paid = total(is_paid)
    n_late = total(late)
    paid_amount = total(is_paid, amount)
    late_amount = total(late, amount)
    delay_sum = total(is_paid, weighted_delay)
    recent_amount, recent_sum = total(recent, amount), total(recent, weighted_delay)
    older_amount, older_sum = paid_amount - recent_amount, delay_sum - recent_sum  # exact: whole numbers
    owed = total(is_open, amount)
    overdue = total(is_open & (due_day < as_day), amount)

    with np.errstate(divide="ignore", invalid="ignore"):
        avg_delay = np.where(paid_amount > 0, delay_sum / paid_amount, np.nan)
        both = (recent_amount > 0) & (older_amount > 0)
        trend = np.where(both, recent_sum / recent_amount - older_sum / older_amount, 0.0)
        late_share = np.where(n_paid > 0, n_late / n_paid, 0.0)
        late_amount_share = np.where(paid_amount > 0, late_amount / paid_amount, 0.0)
        overdue_share = np.where(owed > 0, overdue / owed, 0.0)
    n_disputes = _per_customer(uniques, disputes)
    n_broken = _per_customer(uniques, broken_promises)
    flagged = n_paid < SCORE_MIN_HISTORY
    zero = np.zeros(size)
    penalties = np.stack(
        [
            np.where(flagged, zero, 25.0 * late_share),
            np.where(flagged, zero, np.minimum(30.0, np.maximum(0.0, np.nan_to_num(avg_delay)) * 0.5)),
            np.where(flagged, zero, 10.0 * late_amount_share),
            np.where(flagged, zero, np.minimum(10.0, np.maximum(-5.0, 0.5 * trend))),
            np.where(flagged, SCORE_NEUTRAL_PENALTY, zero),
            15.0 * overdue_share,
            np.minimum(10.0, 5.0 * n_disputes),
            np.minimum(20.0, 10.0 * n_broken),
        ],
        axis=1,
    )
    lost = penalties[:, 0].copy()
    for column in range(1, penalties.shape[1]):
        lost = lost + penalties[:, column]
    raw = np.minimum(100.0, np.maximum(0.0, 100.0 - lost))
    score = np.floor(raw + 0.5).astype("int64")
    profile = np.select([score >= t for t, _ in PROFILE_THRESHOLDS[:-1]], [p for _, p in PROFILE_THRESHOLDS[:-1]], "D")
    reasons = _explanations(penalties, flagged, n_paid, n_late, avg_delay, late_amount_share, trend,
                            overdue_share, n_disputes, n_broken)
    return pd.DataFrame(
        {
            "paid_count": n_paid.astype("int64"),
            "late_count": n_late.astype("int64"),
            "avg_delay": avg_delay,
            "late_amount_share": late_amount_share,
            "trend": trend,
            "overdue_share": overdue_share,
            "score": score,
            "profile": profile,
            "flagged": flagged,
            "reason": reasons,
        },
        index=pd.Index(uniques, name="customer_id"),
    )


def _per_customer(uniques: pd.Index, counts: Mapping[str, int] | None) -> np.ndarray[Any, Any]:
    if not counts:
        return np.zeros(len(uniques))
    return pd.Series(uniques).map(dict(counts)).fillna(0).to_numpy(dtype="float64")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


#: A driver must cost at least this many points to be named in the explanation.
EXPLAIN_MIN_POINTS = 5.0


def _explanations(penalties: np.ndarray[Any, Any], flagged: np.ndarray[Any, Any], n_paid: np.ndarray[Any, Any],
                  n_late: np.ndarray[Any, Any], avg: np.ndarray[Any, Any], late_amount: np.ndarray[Any, Any],
                  trend: np.ndarray[Any, Any], overdue: np.ndarray[Any, Any], disputes: np.ndarray[Any, Any],
                  broken: np.ndarray[Any, Any]) -> list[str]:
    """One line per customer: the neutral flag first when flagged, then the costliest drivers.

    Which drivers to name is decided on whole arrays; only the chosen texts are formatted.
    """
    size = len(flagged)
    rows = np.arange(size)
    first = np.argmax(penalties, axis=1)
    masked = penalties.copy()
    masked[rows, first] = -np.inf
    second = np.argmax(masked, axis=1)
    first_pts, second_pts = penalties[rows, first], penalties[rows, second]
    others = penalties.copy()
    others[:, 4] = -np.inf
    top = np.argmax(others, axis=1)
    top_pts = others[rows, top]
    part1 = np.where(flagged, 4, np.where(first_pts >= EXPLAIN_MIN_POINTS, first, -1))
    part2 = np.where(
        flagged,
        np.where(top_pts >= EXPLAIN_MIN_POINTS, top, -1),
        np.where((first_pts >= EXPLAIN_MIN_POINTS) & (second_pts >= EXPLAIN_MIN_POINTS), second, -1),
    )

    def rounded(values: np.ndarray[Any, Any]) -> list[int]:
        """Whole numbers rounded half-up (the same rounding as the Apps Script port)."""
        result: list[int] = np.floor(np.nan_to_num(values) + 0.5).astype("int64").tolist()
        return result

    paid: list[int] = n_paid.astype("int64").tolist()
    late: list[int] = n_late.astype("int64").tolist()
    avg_r, late_pct = rounded(avg), rounded(late_amount * 100)
    trend_r, overdue_pct = rounded(trend), rounded(overdue * 100)
    n_disp: list[int] = disputes.astype("int64").tolist()
    n_brok: list[int] = broken.astype("int64").tolist()

    def pl(count: int, word: str) -> str:
        return f"{count} {word}s" if count > 1 else f"{count} {word}"

    # Each driver's text depends on one or two whole numbers: format each distinct value once.
    values: tuple[list[Any], ...] = (
        list(zip(late, paid, strict=True)), avg_r, late_pct, trend_r, paid, overdue_pct, n_disp, n_brok,
    )
    formats: tuple[Any, ...] = (
        lambda v, up: f"{'E' if up else 'e'}n retard {v[0]} fois sur {v[1]}",
        lambda v, up: f"{'R' if up else 'r'}etard moyen de {v} j",
        lambda v, up: f"{v} % du montant payé en retard",
        lambda v, up: f"{'R' if up else 'r'}etards en hausse (+{v} j sur 3 mois)",
        lambda v, up: f"{'P' if up else 'p'}eu d'historique ({pl(v, 'paiement')}) : score neutre",
        lambda v, up: f"{v} % de l'encours échu",
        lambda v, up: pl(v, "litige"),
        lambda v, up: f"{pl(v, 'promesse')} non tenue{'s' if v > 1 else ''}",
    )

    def texts(k: int, rows: list[int], up: bool) -> list[str]:
        keys = [values[k][i] for i in rows]
        table = {key: formats[k](key, up) for key in set(keys)}
        return [table[key] for key in keys]

    lines = np.empty(size, dtype=object)
    on_time = np.flatnonzero(part1 < 0).tolist()
    keys = [(avg_r[i], paid[i]) for i in on_time]
    table = {key: f"Paie à l'heure : retard moyen de {key[0]} j sur {pl(key[1], 'paiement')}" for key in set(keys)}
    lines[on_time] = [table[key] for key in keys]
    for k in range(len(formats)):
        first = np.flatnonzero(part1 == k).tolist()
        if first:
            lines[first] = texts(k, first, True)
    for k in range(len(formats)):
        second = np.flatnonzero(part2 == k).tolist()
        if second:
            lines[second] = [f"{lines[i]} ; {text}" for i, text in zip(second, texts(k, second, False), strict=True)]
    result: list[str] = lines.tolist()
    return result


def payer_score(
    history: pd.DataFrame,
    customer_id: str,
    as_of: date,
    *,
    disputes: int = 0,
    broken_promises: int = 0,
) -> tuple[int, str, str]:
    """Scalar form of :func:`payer_scores` for one customer: (score, profile, explanation)."""
    rows = history[history["customer_id"].astype(str) == customer_id]
    result = payer_scores(rows, as_of, customers=[customer_id], disputes={customer_id: disputes},
                          broken_promises={customer_id: broken_promises}).iloc[0]
    return int(result["score"]), str(result["profile"]), str(result["reason"])


def average_payment_delay(lines: Sequence[tuple[date, date, Decimal]]) -> float | None:
    """Average payment delay of a customer: amount-weighted mean of (payment date − due date) over
    its paid invoices (Clearnox's measure uses invoice date → matching date, with due date optional).

    Scalar form over (due, paid_on, amount) lines; ``None`` when nothing was paid; amounts ≤ 0 are
    left out.  :func:`payer_scores` computes the same for whole ledgers (last 730 days).
    """
    weight = 0
    total = 0
    for due, paid_on, amount in lines:
        cents = _cents(amount)
        if cents <= 0:
            continue
        weight += cents
        total += cents * (paid_on - due).days
    return None if weight == 0 else total / weight


def customer_figures(
    ledger: Ledger,
    as_of: date,
    *,
    disputes: Mapping[str, int] | None = None,
    broken_promises: Mapping[str, int] | None = None,
    default_terms: int = 30,
) -> dict[str, CustomerFigures]:
    """Average delay, score, profile and explanation of every customer of the ledger (for the sync)."""
    invoices, payments = ledger_frames(ledger, default_terms=default_terms)
    return figures_from_frames(invoices, payments, as_of, [c.id for c in ledger.customers], disputes=disputes,
                               broken_promises=broken_promises)


def figures_from_frames(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    as_of: date,
    customers: Sequence[str],
    *,
    disputes: Mapping[str, int] | None = None,
    broken_promises: Mapping[str, int] | None = None,
) -> dict[str, CustomerFigures]:
    """:func:`customer_figures` from frames already made by :func:`ledger_frames`."""
    history = payment_history(invoices, payments)
    scores = payer_scores(history, as_of, customers=customers, disputes=disputes, broken_promises=broken_promises)
    figures: dict[str, CustomerFigures] = {}
    for customer_id, avg, score, profile, reason, flagged in zip(
        scores.index, scores["avg_delay"], scores["score"], scores["profile"], scores["reason"], scores["flagged"],
        strict=True,
    ):
        figures[str(customer_id)] = CustomerFigures(
            avg_delay=None if np.isnan(avg) else float(avg), score=int(score), profile=str(profile),
            reason=str(reason), enough_history=not bool(flagged),
        )
    return figures


def sync_figures(
    ledger: Ledger,
    as_of: date,
    *,
    disputes: Mapping[str, int] | None = None,
    broken_promises: Mapping[str, int] | None = None,
    default_terms: int = 30,
) -> tuple[dict[str, CustomerFigures], ReceivablesKpis]:
    """Everything a sync computes from the ledger, the frames made once: per-customer figures and the
    KPIs (``kpis.opening`` is ``SheetView.opening_receivables``, which the dashboard's CEI needs)."""
    invoices, payments = ledger_frames(ledger, default_terms=default_terms)
    figures = figures_from_frames(invoices, payments, as_of, [c.id for c in ledger.customers], disputes=disputes,
                                  broken_promises=broken_promises)
    return figures, receivables_kpis(invoices, payments, as_of)


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
    receivables: Decimal  # closing total receivables
    current: Decimal  # closing not-yet-due receivables
    overdue: Decimal
    opening: Decimal  # receivables at the start of the period
    credit_sales: Decimal
    monthly_sales: tuple[Decimal, ...]  # most recent 30-day month first
    dso: Decimal | None
    dso_countback: Decimal | None
    best_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None


def receivables_kpis(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    as_of: date,
    *,
    period_days: int = 90,
    month_days: int = 30,
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
    - "current" means not yet due (due date ≥ as-of date);
    - opening receivables = what is owed now on documents issued on or before the period start,
      plus what was collected on them after the start (allocations of EUR documents).
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
    d = from_cents
    return ReceivablesKpis(
        as_of=as_of,
        period_days=period_days,
        receivables=d(closing),
        current=d(current),
        overdue=d(closing - current),
        opening=d(opening),
        credit_sales=d(sales),
        monthly_sales=tuple(d(m) for m in monthly),
        dso=dso_simple(d(closing), d(sales), period_days),
        dso_countback=dso_countback(d(closing), [d(m) for m in monthly], month_days),
        best_dso=best_possible_dso(d(current), d(sales), period_days),
        add=average_days_delinquent(d(closing), d(current), d(sales), period_days),
        cei=collection_effectiveness(d(opening), d(sales), d(closing), d(current)),
    )


def ledger_kpis(ledger: Ledger, as_of: date, *, period_days: int = 90, default_terms: int = 30) -> ReceivablesKpis:
    """:func:`receivables_kpis` straight from a ledger (for the sync: ``opening`` feeds the dashboard's CEI)."""
    invoices, payments = ledger_frames(ledger, default_terms=default_terms)
    return receivables_kpis(invoices, payments, as_of, period_days=period_days)


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


def weekly_cash_forecast(
    invoices: pd.DataFrame,
    as_of: date,
    avg_delays: Mapping[str, float] | pd.Series,
    *,
    weeks: int = 13,
) -> CashForecast:
    """Weekly cash forecast: each open invoice expected at its due date shifted by the customer's
    average delay; what is expected before ``as_of`` lands in the current week.

    Amounts are the signed EUR remaining (credit notes reduce the week they fall in), exact cents.
    """
    amount = invoices["remaining_eur_cents"].fillna(0).to_numpy(dtype="int64")
    keep = (amount != 0) & ~invoices["status"].isin(_DEAD_STATUSES).to_numpy(dtype=bool)
    expected = expected_payment_days(invoices["due_date"], invoices["customer_id"], avg_delays, as_of)[keep]
    amount = amount[keep]
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
