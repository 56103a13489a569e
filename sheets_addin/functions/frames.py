"""The ledger as columns (cents as int64, dates as day numbers) for vectorised maths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from encours.connectors.model import Ledger, invoice_items, is_split, to_cents

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


#: The invoice frame's columns, as :func:`invoice_frame` takes them (before its day numbers).
INVOICE_COLUMNS = ("id", "customer_id", "kind", "status", "currency", "issue_date", "due_date", "total_cents",
                   "remaining_cents", "remaining_eur_cents")
#: The payment frame's columns, as :func:`payment_frame` takes them (one row per allocation).
PAYMENT_COLUMNS = ("payment_id", "customer_id", "invoice_id", "date", "amount_cents", "currency", "method")


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
    customer_ids = {c.id for c in ledger.customers}
    invoices = invoice_frame(pd.DataFrame(inv_rows, columns=INVOICE_COLUMNS), customer_ids)
    owner = {inv.id: inv.customer_id for inv in ledger.invoices}
    pay_rows = [
        (p.id, owner.get(a.invoice_id, p.customer_id), a.invoice_id, p.date, _cents(a.amount.amount),
         a.amount.currency, p.method)
        for p in ledger.payments
        for a in p.allocations
    ]
    return invoices, payment_frame(pd.DataFrame(pay_rows, columns=PAYMENT_COLUMNS), invoices)


def invoice_frame(raw: pd.DataFrame, customer_ids: Iterable[str] = ()) -> pd.DataFrame:
    """The invoice frame from its columns (:data:`INVOICE_COLUMNS`, however they were read): typed
    (dates, int64 cents, nullable company-currency cents, categories; ``customer_ids`` and the
    invoices' own customers as the customer categories) with its day numbers. ``raw`` is changed."""
    invoices = raw
    invoices["issue_date"] = pd.to_datetime(invoices["issue_date"])
    invoices["due_date"] = pd.to_datetime(invoices["due_date"])
    invoices["total_cents"] = invoices["total_cents"].astype("int64")
    invoices["remaining_cents"] = invoices["remaining_cents"].astype("int64")
    invoices["remaining_eur_cents"] = invoices["remaining_eur_cents"].astype("Int64")
    categories = sorted(set(customer_ids) | set(invoices["customer_id"]))
    invoices["customer_id"] = pd.Categorical(invoices["customer_id"], categories=categories)
    for column in ("kind", "status", "currency"):
        invoices[column] = invoices[column].astype("category")
    return with_day_columns(invoices)


def payment_frame(raw: pd.DataFrame, invoices: pd.DataFrame) -> pd.DataFrame:
    """The payment frame from its columns (:data:`PAYMENT_COLUMNS`: ``customer_id`` the invoice's when
    it is known), typed, with each row's invoice position in ``invoices`` and its day numbers."""
    payments = raw
    payments["date"] = pd.to_datetime(payments["date"])
    payments["amount_cents"] = payments["amount_cents"].astype("int64")
    payments["method"] = payments["method"].astype("category")
    payments["invoice_row"] = invoice_rows(invoices, payments)
    return with_day_columns(payments)


def credit_frame(ledger: Ledger) -> pd.DataFrame:
    """The ledger's unallocated credits: id, customer_id, date, eur_cents (signed: negative; <NA>
    when a foreign credit states no amount in the company currency), one row per credit."""
    rows = []
    for credit in ledger.unallocated_credits():
        if credit.currency == "EUR":
            eur: int | None = -_cents(credit.amount.amount)
        elif credit.amount_company is not None:
            eur = -_cents(credit.amount_company.amount)
        else:
            eur = None
        rows.append((credit.id, credit.customer_id, credit.date, eur))
    frame = pd.DataFrame(rows, columns=["id", "customer_id", "date", "eur_cents"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["eur_cents"] = frame["eur_cents"].astype("Int64")
    return with_day_columns(frame)


def instalment_frame(ledger: Ledger, *, default_terms: int = 30) -> pd.DataFrame:
    """The open instalments of split invoices, each aged on its own as the sheet's rows are:
    invoice_id, due_date, eur_cents (signed; <NA> when a foreign invoice states no converted amount)."""
    rows = []
    for invoice in ledger.outstanding_invoices():
        if not is_split(invoice):
            continue
        whole = invoice.remaining.amount
        for item in invoice_items(invoice, default_terms):
            if item.remaining.amount == 0:
                continue
            if invoice.currency == "EUR":
                eur: int | None = _cents(item.remaining.amount)
            elif invoice.remaining_company is not None and whole:
                share = abs(item.remaining.amount) / whole
                eur = invoice.sign * _cents(to_cents(invoice.remaining_company.amount * share))
            else:
                eur = None
            rows.append((item.invoice_id, item.due_date, eur))
    frame = pd.DataFrame(rows, columns=["invoice_id", "due_date", "eur_cents"])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["eur_cents"] = frame["eur_cents"].astype("Int64")
    return with_day_columns(frame)


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
