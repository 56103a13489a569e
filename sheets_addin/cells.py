"""The custom functions as a spreadsheet calls them: one cell or whole ranges, bad cells included.

Every ``ENCOURS.*`` function of Excel (:mod:`encours.sheets_addin.udfs`) and ``ENCOURS_*`` of Google
Sheets (``apps_script/Code.gs``) is one of :data:`FUNCTIONS` here, fed with cell values as the
spreadsheet hands them over: ``date``/``datetime``, numbers (a number where a date belongs is an
Excel date serial), text, ``None`` for an empty cell, and error values as their text (``"#N/A"``).
A range is a list of rows.  The answer has the shape of the first range given (one array that
spills), or is a single value.

A bad cell gives ``"#ENCOURS: <what is wrong>"`` in its own answer cell and the rest of the range
still computes.  The maths itself is in :mod:`encours.sheets_addin.functions` and :mod:`encours.sheets_addin.rates`.

Reading the cells (dates, amounts, ranges, error values) is :mod:`.cell_values`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

import pandas as pd

from encours.connectors.model import to_cents
from encours.sheets_addin import functions as fn
from encours.sheets_addin import rates
from encours.sheets_addin.cell_values import (
    Cell,
    CellError,
    Grid,
    cell_map,
    check_not_blank_or_error,
    flat,
    is_blank,
    is_error_value,
    is_range,
    one_cell,
    to_amount,
    to_country,
    to_date,
    to_whole,
)

# -- aging ---------------------------------------------------------------------------------------


def _bounds(bounds: Cell) -> tuple[int, ...]:
    if bounds is None or (not is_range(bounds) and is_blank(bounds)):
        return fn.DEFAULT_BOUNDS
    values = tuple(to_whole(b, "bound") for b in flat(bounds) if not is_blank(b))
    try:
        fn.bucket_labels(values)
    except ValueError:
        raise CellError("bounds must be whole numbers rising from 1") from None
    return values


def days_late_cell(due: Cell, as_of: Cell) -> int:
    return fn.days_past_due(to_date(due, "due date"), to_date(as_of, "as-of date"))


def bucket_cell(due: Cell, as_of: Cell, bounds: tuple[int, ...] = fn.DEFAULT_BOUNDS) -> str:
    return fn.aging_bucket(days_late_cell(due, as_of), bounds)


def jours_retard(due: Cell, as_of: Cell) -> Cell:
    """ENCOURS.JOURS_RETARD(due; as_of): days past due = as-of date − due date (negative: not yet due)."""
    return cell_map(days_late_cell, due, as_of)


def tranche(due: Cell, as_of: Cell, bounds: Cell = None) -> Cell:
    """ENCOURS.TRANCHE(due; as_of; [bounds]): the aging bucket ("Non échu", "1-30" … "> 90")."""
    try:
        chosen = _bounds(bounds)
    except CellError as exc:
        message = str(exc)
        return cell_map(lambda *_: message, due)
    return cell_map(lambda d, a: bucket_cell(d, a, chosen), due, as_of)


# -- interest ------------------------------------------------------------------------------------


def _interest(amount: Cell, due: Cell, paid_on: Cell, country: Cell, as_of: Cell) -> tuple[Decimal, date, date, str]:
    value = to_amount(amount)
    due_day = to_date(due, "due date")
    end = to_date(as_of, "as-of date") if is_blank(paid_on) else to_date(paid_on, "payment date")
    return value, due_day, end, to_country(country)


def interest_cell(amount: Cell, due: Cell, paid_on: Cell, country: Cell, as_of: Cell) -> float:
    value, due_day, end, code = _interest(amount, due, paid_on, country, as_of)
    try:
        result = rates.late_interest(value, due_day, end, code)
    except rates.RateTableError:
        raise CellError(f"no late-payment rate for {due_day.isoformat()}") from None
    return float(result.interest)


def indemnity_cell(amount: Cell, due: Cell, paid_on: Cell, as_of: Cell) -> float:
    value, due_day, end, _ = _interest(amount, due, paid_on, None, as_of)
    return float(rates.recovery_indemnity(value, due_day, end))


def interets(amount: Cell, due: Cell, paid_on: Cell, country: Cell = None, as_of: Cell = None) -> Cell:
    """ENCOURS.INTERETS(amount; due; paid_on; [country]; [as_of]): late-payment interest, to the cent."""
    return cell_map(interest_cell, amount, due, paid_on, country, as_of)


def indemnite(amount: Cell, due: Cell, paid_on: Cell, as_of: Cell = None) -> Cell:
    """ENCOURS.INDEMNITE(amount; due; paid_on; [as_of]): the €40 indemnity when paid (or unpaid) late."""
    return cell_map(indemnity_cell, amount, due, paid_on, as_of)


# -- scores --------------------------------------------------------------------------------------


def history_frame(customers: Cell, dues: Cell, amounts: Cell, paid_on: Cell) -> pd.DataFrame:
    """The payment lines of four parallel ranges; lines with a blank, bad or error cell are skipped."""
    rows = []
    columns = [flat(customers), flat(dues), flat(amounts), flat(paid_on)]
    length = max(len(c) for c in columns)
    padded = [c + [None] * (length - len(c)) for c in columns]
    for customer, due, amount, paid in zip(*padded, strict=True):
        if is_blank(customer) or is_error_value(customer):
            continue
        try:
            due_day = to_date(due, "due date")
            cents = int(to_cents(to_amount(amount)) * 100)
            paid_day = None if is_blank(paid) else to_date(paid, "payment date")
        except CellError:
            continue
        rows.append((_customer_key(customer), due_day, cents, paid_day))
    frame = pd.DataFrame(rows, columns=["customer_id", "due_date", "amount_cents", "paid_on"])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["paid_on"] = pd.to_datetime(frame["paid_on"])
    frame["amount_cents"] = frame["amount_cents"].astype("int64")
    return frame


def _customer_key(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _counts(values: Cell, keys: Sequence[Cell]) -> dict[str, int]:
    if values is None:
        return {}
    if not is_range(values):
        return {_customer_key(k): 0 if is_blank(values) else to_whole(values, "count") for k in keys}
    counts: dict[str, int] = {}
    for key, value in zip(keys, flat(values), strict=False):
        if not is_blank(key) and not is_blank(value) and not is_error_value(value):
            try:
                counts[_customer_key(key)] = to_whole(value, "count")
            except CellError:
                continue
    return counts


def _score_call(field: str, customer: Cell, customers: Cell, dues: Cell, amounts: Cell, paid_on: Cell,
                as_of: Cell, disputes: Cell, broken: Cell) -> Cell:
    try:
        day = to_date(as_of, "as-of date")
    except CellError as exc:
        message = str(exc)
        return cell_map(lambda _c: message, customer)
    history = history_frame(customers, dues, amounts, paid_on)
    keys = flat(customer)
    wanted = [_customer_key(k) for k in keys if not is_blank(k) and not is_error_value(k)]
    try:
        counts = (_counts(disputes, keys), _counts(broken, keys))
    except CellError as exc:
        message = str(exc)
        return cell_map(lambda _c: message, customer)
    table = fn.payer_scores(history, day, customers=list(dict.fromkeys(wanted)), disputes=counts[0],
                            broken_promises=counts[1])

    def one(key: Cell) -> Cell:
        if is_blank(key):
            return ""
        check_not_blank_or_error(key, "customer")
        row = table.loc[_customer_key(key)]
        assert isinstance(row, pd.Series)
        if field == "avg_delay":
            return "" if pd.isna(row["avg_delay"]) else float(row["avg_delay"])
        if field == "score":
            return int(row["score"])
        return str(row[field])

    return cell_map(one, customer)


def score(customer: Cell, customers: Cell, dues: Cell, amounts: Cell, paid_on: Cell, as_of: Cell,
          disputes: Cell = None, broken_promises: Cell = None) -> Cell:
    """ENCOURS.SCORE: payer score 0–100 of each customer from the payment lines (see functions.payer_scores)."""
    return _score_call("score", customer, customers, dues, amounts, paid_on, as_of, disputes, broken_promises)


def profil(customer: Cell, customers: Cell, dues: Cell, amounts: Cell, paid_on: Cell, as_of: Cell,
           disputes: Cell = None, broken_promises: Cell = None) -> Cell:
    """ENCOURS.PROFIL: payer profile A (good payer) … D (high risk)."""
    return _score_call("profile", customer, customers, dues, amounts, paid_on, as_of, disputes, broken_promises)


def score_explication(customer: Cell, customers: Cell, dues: Cell, amounts: Cell, paid_on: Cell, as_of: Cell,
                      disputes: Cell = None, broken_promises: Cell = None) -> Cell:
    """ENCOURS.SCORE_EXPLICATION: one line saying what drove the score."""
    return _score_call("reason", customer, customers, dues, amounts, paid_on, as_of, disputes, broken_promises)


def retard_moyen(customer: Cell, customers: Cell, dues: Cell, amounts: Cell, paid_on: Cell, as_of: Cell) -> Cell:
    """ENCOURS.RETARD_MOYEN: amount-weighted mean of (payment date − due date) over paid lines ("" if none)."""
    return _score_call("avg_delay", customer, customers, dues, amounts, paid_on, as_of, None, None)


# -- KPIs ----------------------------------------------------------------------------------------


def _days(value: Decimal | None, what: str) -> float:
    if value is None:
        raise CellError(f"{what} must be positive")
    return float(value)


def dso(receivables: Cell, credit_sales: Cell, days: Cell) -> Cell:
    """ENCOURS.DSO(receivables; credit_sales; days): receivables ÷ credit sales × days, to 0.1 day."""
    return one_cell(lambda r, s, d: _days(fn.dso_simple(to_amount(r, "receivables"), to_amount(s, "credit sales"),
                                                    to_whole(d, "days")), "credit sales"),
                (receivables, credit_sales, days))


def dso_countback(receivables: Cell, monthly_sales: Cell, month_days: Cell = None) -> Cell:
    """ENCOURS.DSO_COUNTBACK(receivables; monthly_sales; [month_days]): most recent month first."""
    def compute(r: Cell) -> float:
        sales = [to_amount(s, "monthly sales") for s in flat(monthly_sales) if not is_blank(s)]
        if not sales:
            raise CellError("monthly sales are empty")
        length = 30 if is_blank(month_days) else to_whole(month_days, "month days")
        return _days(fn.dso_countback(to_amount(r, "receivables"), sales, length), "monthly sales")
    return one_cell(compute, (receivables,))


def dso_optimal(current: Cell, credit_sales: Cell, days: Cell) -> Cell:
    """ENCOURS.DSO_OPTIMAL(current; credit_sales; days): best possible DSO, not-yet-due ÷ sales × days."""
    return one_cell(lambda c, s, d: _days(fn.best_possible_dso(to_amount(c, "current receivables"),
                                                           to_amount(s, "credit sales"), to_whole(d, "days")),
                                      "credit sales"),
                (current, credit_sales, days))


def add(receivables: Cell, current: Cell, credit_sales: Cell, days: Cell) -> Cell:
    """ENCOURS.ADD(receivables; current; credit_sales; days): DSO − best possible DSO."""
    return one_cell(lambda r, c, s, d: _days(fn.average_days_delinquent(
        to_amount(r, "receivables"), to_amount(c, "current receivables"), to_amount(s, "credit sales"),
        to_whole(d, "days")), "credit sales"), (receivables, current, credit_sales, days))


def cei(opening: Cell, credit_sales: Cell, closing: Cell, current: Cell) -> Cell:
    """ENCOURS.CEI(opening; credit_sales; closing; current): collection effectiveness index, %."""
    return one_cell(lambda o, s, c, k: _days(fn.collection_effectiveness(
        to_amount(o, "opening receivables"), to_amount(s, "credit sales"), to_amount(c, "closing receivables"),
        to_amount(k, "current receivables")), "opening + sales − current"), (opening, credit_sales, closing, current))


# -- weekly cash forecast ------------------------------------------------------------------------


def prevision(dues: Cell, amounts: Cell, delays: Cell, as_of: Cell, weeks: Cell = None) -> Cell:
    """ENCOURS.PREVISION(dues; amounts; [delays]; as_of; [weeks]): rows of (week start, expected amount).

    Each line is expected at its due date + its delay (the customer's average delay, blank = 0);
    the last row ("later", week start blank) holds what is expected after the last week.
    """
    try:
        day = to_date(as_of, "as-of date")
        count = 13 if is_blank(weeks) else to_whole(weeks, "weeks")
        if not 1 <= count <= 520:
            raise CellError("weeks must be between 1 and 520")
    except CellError as exc:
        return str(exc)
    due_cells, amount_cells = flat(dues), flat(amounts)
    delay_cells = flat(delays) if is_range(delays) else [delays] * len(due_cells)
    rows = []
    for i, (due, amount) in enumerate(zip(due_cells, amount_cells, strict=False)):
        if is_blank(due) and is_blank(amount):
            continue
        try:
            due_day = to_date(due, "due date")
            cents = int(to_cents(to_amount(amount)) * 100)
            delay_cell = delay_cells[i] if i < len(delay_cells) else None
            delay = 0.0 if is_blank(delay_cell) or is_error_value(delay_cell) else float(to_amount(delay_cell, "delay"))
        except CellError:
            continue
        rows.append((f"L{i}", due_day, cents, delay))
    frame = pd.DataFrame(rows, columns=["customer_id", "due_date", "remaining_eur_cents", "delay"])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["status"] = "open"
    frame["remaining_eur_cents"] = frame["remaining_eur_cents"].astype("Int64")
    forecast = fn.weekly_cash_forecast(frame, day, dict(zip(frame["customer_id"], frame["delay"], strict=True)),
                                       weeks=count)
    out: Grid = [[week, float(amount)] for week, amount in zip(forecast.weeks, forecast.amounts, strict=True)]
    out.append(["", float(forecast.later)])
    return out


#: The functions by their Google Sheets name (Excel: the same with a dot after ENCOURS).
FUNCTIONS: dict[str, Callable[..., Cell]] = {
    "ENCOURS_JOURS_RETARD": jours_retard,
    "ENCOURS_TRANCHE": tranche,
    "ENCOURS_INTERETS": interets,
    "ENCOURS_INDEMNITE": indemnite,
    "ENCOURS_SCORE": score,
    "ENCOURS_PROFIL": profil,
    "ENCOURS_SCORE_EXPLICATION": score_explication,
    "ENCOURS_RETARD_MOYEN": retard_moyen,
    "ENCOURS_DSO": dso,
    "ENCOURS_DSO_COUNTBACK": dso_countback,
    "ENCOURS_DSO_OPTIMAL": dso_optimal,
    "ENCOURS_ADD": add,
    "ENCOURS_CEI": cei,
    "ENCOURS_PREVISION": prevision,
}
