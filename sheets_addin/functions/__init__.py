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

from encours.sheets_addin.functions.aging import (
    DEFAULT_BOUNDS,
    NOT_DUE,
    aging_bucket,
    aging_bucket_series,
    aging_by_customer,
    aging_frame,
    aging_totals,
    bucket_labels,
    days_past_due,
    days_past_due_series,
)
from encours.sheets_addin.functions.forecast import (
    CashForecast,
    expected_payment_days,
    weekly_cash_forecast,
)
from encours.sheets_addin.functions.frames import (
    DAY_COLUMNS,
    credit_frame,
    from_cents,
    instalment_frame,
    invoice_rows,
    ledger_frames,
    payment_history,
    with_day_columns,
)
from encours.sheets_addin.functions.kpis import (
    TENTH,
    ReceivablesKpis,
    average_days_delinquent,
    best_possible_dso,
    collection_effectiveness,
    dso_countback,
    dso_simple,
    ledger_kpis,
    receivables_kpis,
)
from encours.sheets_addin.functions.scores import (
    DRIVERS,
    EXPLAIN_MIN_POINTS,
    PROFILE_THRESHOLDS,
    SCORE_LOOKBACK_DAYS,
    SCORE_MIN_HISTORY,
    SCORE_NEUTRAL_PENALTY,
    SCORE_RECENT_DAYS,
    CustomerFigures,
    average_payment_delay,
    customer_figures,
    figures_from_frames,
    payer_score,
    payer_scores,
    profile_for,
    sync_figures,
)

__all__ = [
    "DAY_COLUMNS",
    "DEFAULT_BOUNDS",
    "DRIVERS",
    "EXPLAIN_MIN_POINTS",
    "NOT_DUE",
    "PROFILE_THRESHOLDS",
    "SCORE_LOOKBACK_DAYS",
    "SCORE_MIN_HISTORY",
    "SCORE_NEUTRAL_PENALTY",
    "SCORE_RECENT_DAYS",
    "TENTH",
    "CashForecast",
    "CustomerFigures",
    "ReceivablesKpis",
    "aging_bucket",
    "aging_bucket_series",
    "aging_by_customer",
    "aging_frame",
    "aging_totals",
    "average_days_delinquent",
    "average_payment_delay",
    "best_possible_dso",
    "bucket_labels",
    "collection_effectiveness",
    "credit_frame",
    "customer_figures",
    "days_past_due",
    "days_past_due_series",
    "dso_countback",
    "dso_simple",
    "expected_payment_days",
    "figures_from_frames",
    "from_cents",
    "instalment_frame",
    "invoice_rows",
    "ledger_frames",
    "ledger_kpis",
    "payer_score",
    "payer_scores",
    "payment_history",
    "profile_for",
    "receivables_kpis",
    "sync_figures",
    "weekly_cash_forecast",
    "with_day_columns",
]
