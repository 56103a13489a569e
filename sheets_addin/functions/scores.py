"""Average payment delay and the payer score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from encours.connectors.model import Ledger
from encours.sheets_addin.functions.frames import (
    _as_of_day,
    _cents,
    _codes,
    _frame_days,
    ledger_frames,
    payment_history,
)
from encours.sheets_addin.functions.kpis import ReceivablesKpis, receivables_kpis


@dataclass(frozen=True)
class CustomerFigures:
    """Per-customer figures computed here (scores, delays); ``alert`` is set by the registry check."""

    avg_delay: float | None = None
    score: int | None = None
    profile: str = ""
    reason: str = ""
    alert: str = ""  # registry signal for ``Alerte`` (sync.risk.apply_risk): what, date, link
    #: At least ``SCORE_MIN_HISTORY`` paid lines: the profile may choose the scenario (else the default does).
    enough_history: bool = True


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
