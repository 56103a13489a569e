"""The weekly report: the week's receivables figures, computed once, then rendered as an HTML
e-mail and a PDF (:mod:`encours.sync.report_render`) and sent
(:func:`encours.sync.report_send.send_weekly_report`).

Every figure comes from :mod:`encours.sheets_addin.functions` (KPIs, cash forecast, aging, scores); this
module (with :mod:`.report_model`, the values, and :mod:`.report_inputs`, what it reads) only
picks the population (the whole ledger, or one salesperson's customers) and the
week.  Choices stated:

- amounts are in EUR with the KPIs' population (:func:`encours.sheets_addin.functions.receivables_kpis`):
  foreign documents converted when the source states the amount, credit notes deducted, drafts
  and deleted documents left out; the aging chart adds up to the total outstanding;
- "overdue" means past the due date on the as-of date;
- the trend compares with the same figures seven days earlier, rebuilt from the ledger
  (remaining now plus what was paid since), over the last eight weeks;
- the call outcomes are those recorded in ``À faire`` from seven days before the as-of date to
  the day before (as the reminders), by the day the pass recorded them;
- promises due "this week" are those dated from the as-of date to six days later; a promise
  dated in the last seven days on an invoice still open is listed as broken;
- reminders sent are those of the last seven days; what they brought in is what was paid on
  the reminded invoices within 14 days after a reminder, for the reminders of the last 28 days
  (each payment counted once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from encours.connectors.model import Customer, Invoice, Ledger
from encours.connectors.registries.signals import claim_declarations, risk_lines
from encours.sheets_addin import functions as fn
from encours.sheets_addin.layout import UNALLOCATED_LABEL
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from encours.sheets_addin.view import CustomerFigures
from encours.sync.report_inputs import DAYS, NOT_REMINDERS, load_inputs, report_due, report_settings, sent_reminders
from encours.sync.report_model import (
    REMINDER_WINDOW_DAYS,
    CallOutcome,
    InvoiceLine,
    LatePayer,
    ReminderStats,
    ReportError,
    RiskLine,
    SentReminder,
    WeeklyReport,
    WeekPoint,
)
from encours.sync.report_outcomes import week_outcomes
from encours.sync.risk import RiskRefresh, apply_risk, claim_next_action
from encours.sync.task_store import Task

#: The report's values and inputs live in their own modules; still importable from here.
__all__ = [
    "DAYS", "NOT_REMINDERS", "CallOutcome", "InvoiceLine", "LatePayer", "ReminderStats", "ReportError", "RiskLine",
    "SentReminder", "WeekPoint", "WeeklyReport", "build_report", "load_inputs", "receivables_at", "reminder_stats",
    "report_due", "report_settings", "salespeople", "salesperson_ledger", "sent_reminders",
]


FORECAST_WEEKS = 8
HISTORY_WEEKS = 8
TOP_LATE_PAYERS = 10
REMINDER_EFFECT_DAYS = 14
KPI_PERIOD_DAYS = 90
_NOT_COUNTED = ("draft", "deleted")


# -- populations --------------------------------------------------------------------------------
def salesperson_ledger(ledger: Ledger, salesperson: str) -> Ledger:
    """Only this salesperson's customers, with their invoices and payments."""
    ids = {c.id for c in ledger.customers if c.salesperson == salesperson}
    return Ledger(
        tuple(c for c in ledger.customers if c.id in ids),
        tuple(i for i in ledger.invoices if i.customer_id in ids),
        tuple(p for p in ledger.payments if p.customer_id in ids),
        tuple(c for c in ledger.unallocated_credits() if c.customer_id in ids),
    )


def salespeople(ledger: Ledger) -> dict[str, str]:
    """salesperson name → e-mail, for the customers that have one."""
    out: dict[str, str] = {}
    for customer in ledger.customers:
        if customer.salesperson and (customer.salesperson not in out or not out[customer.salesperson]):
            out[customer.salesperson] = customer.salesperson_email
    return dict(sorted(out.items()))


# -- figures ------------------------------------------------------------------------------------
def _live(invoices: pd.DataFrame) -> pd.DataFrame:
    """The KPIs' population (:func:`encours.sheets_addin.functions.receivables_kpis`): drafts and deleted
    documents left out; ``owed`` is the remaining amount in EUR (foreign documents converted when
    the source states it, else 0), signed (credit notes negative)."""
    live = invoices[~invoices["status"].isin(_NOT_COUNTED)].copy()
    live["owed"] = live["remaining_eur_cents"].fillna(0).astype("int64")
    return live


def receivables_at(
    invoices: pd.DataFrame, payments: pd.DataFrame, day: date, credits: pd.DataFrame | None = None
) -> WeekPoint:
    """Outstanding and overdue on ``day``, rebuilt as what is owed now plus what was collected
    after ``day`` (on EUR documents), for documents issued on or before ``day`` — the KPIs'
    population and rule for opening receivables.  Outstanding deducts the unallocated credits
    (``credits``: :func:`~encours.sheets_addin.functions.credit_frame`) dated on or before ``day``;
    overdue stays gross, as the sheet's ``Échu``."""
    live = _live(invoices)
    ts = pd.Timestamp(day)
    issued = live[live["issue_date"] <= ts]
    later = payments[payments["date"] > ts].groupby("invoice_id")["amount_cents"].sum()
    sign = np.where(issued["kind"].to_numpy() == "credit_note", -1, 1)
    is_eur = (issued["currency"] == "EUR").to_numpy()
    back = issued["id"].map(later).fillna(0).to_numpy(dtype="int64") * sign * is_eur
    amounts = issued["owed"].to_numpy(dtype="int64") + back
    overdue_mask = (issued["due_date"] < ts).to_numpy()
    unallocated = 0
    if credits is not None and len(credits):
        dated = credits[credits["date"] <= ts]
        unallocated = int(dated["eur_cents"].fillna(0).astype("int64").sum())
    return WeekPoint(day, fn.from_cents(int(amounts.sum()) + unallocated),
                     fn.from_cents(int(amounts[overdue_mask].sum())))


def _credit_cents(credits: pd.DataFrame, as_of: date) -> pd.Series:
    """customer id → the unallocated credits dated on or before ``as_of``, in EUR cents (≤ 0)."""
    dated = credits[credits["date"] <= pd.Timestamp(as_of)]
    return dated.groupby(dated["customer_id"].astype(str))["eur_cents"].sum().fillna(0).astype("int64")


def _aging(
    invoices: pd.DataFrame, as_of: date, bounds: Sequence[int], credits: pd.DataFrame
) -> tuple[tuple[str, Decimal], ...]:
    """The aged balance's buckets, then what no invoice absorbs (``Non affecté``, as on the sheet):
    the buckets and the credits add up to the outstanding total."""
    unallocated = (UNALLOCATED_LABEL, fn.from_cents(int(_credit_cents(credits, as_of).sum())))
    live = _live(invoices)
    live = live[(live["owed"] != 0) & (live["issue_date"] <= pd.Timestamp(as_of))]
    labels = fn.bucket_labels(bounds)
    if live.empty:
        return (*((label, Decimal("0.00")) for label in labels), unallocated)
    frame = pd.DataFrame(
        {
            "customer_id": live["customer_id"].to_numpy(),
            "due_date": live["due_date"].to_numpy(),
            "remaining_eur": [fn.from_cents(int(c)) for c in live["owed"]],
        }
    )
    table = fn.aging_by_customer(frame, as_of, bounds)
    return (*((label, sum(table[label], Decimal("0.00"))) for label in labels), unallocated)


def _late_payers(
    ledger: Ledger, invoices: pd.DataFrame, as_of: date, figures: Mapping[str, CustomerFigures],
    credits: pd.DataFrame,
) -> tuple[LatePayer, ...]:
    """The largest late payers by what they owe late net of their unallocated credits (what a
    reminder would claim): a customer whose payment on account covers the late invoices is not one."""
    ts = pd.Timestamp(as_of)
    live = _live(invoices)
    live = live[(live["owed"] != 0) & (live["issue_date"] <= ts)]
    late = live[live["due_date"] < ts]
    on_account = _credit_cents(credits, as_of)
    overdue = late.groupby(late["customer_id"].astype(str))["owed"].sum()
    overdue = overdue.add(on_account.reindex(overdue.index, fill_value=0), fill_value=0)
    outstanding = live.groupby(live["customer_id"].astype(str))["owed"].sum().add(on_account, fill_value=0)
    owing = late[late["owed"] > 0]
    oldest = owing.groupby(owing["customer_id"].astype(str))["due_date"].min()
    customers = ledger.customer_index()
    rows = []
    for customer_id, cents in overdue.items():
        if cents <= 0:
            continue
        cid = str(customer_id)
        customer = customers.get(cid)
        fig = figures.get(cid, CustomerFigures())
        first_due = oldest.get(customer_id)
        rows.append(
            LatePayer(
                customer_id=cid,
                name=customer.name if customer else cid,
                salesperson=customer.salesperson if customer else "",
                overdue=fn.from_cents(int(cents)),
                outstanding=fn.from_cents(int(outstanding.get(customer_id, 0))),
                oldest_days=(as_of - first_due.date()).days if first_due is not None else 0,
                score=fig.score,
                profile=fig.profile,
                alert=getattr(fig, "alert", ""),
            )
        )
    rows.sort(key=lambda r: (-r.overdue, r.name.casefold()))
    return tuple(rows[:TOP_LATE_PAYERS])


def _marked_lines(ledger: Ledger, marks: SheetMarks | None, as_of: date, terms: int) -> tuple[
        tuple[InvoiceLine, ...], tuple[InvoiceLine, ...], tuple[InvoiceLine, ...]]:
    if marks is None:
        return (), (), ()
    customers = ledger.customer_index()
    promises: list[InvoiceLine] = []
    broken: list[InvoiceLine] = []
    disputes: list[InvoiceLine] = []
    for invoice in ledger.invoices:
        if not invoice.is_open or invoice.is_credit_note:
            continue
        mark = marks.invoices.get(invoice.id)
        if mark is None:
            continue
        customer = customers.get(invoice.customer_id)

        def line(day: date | None, invoice_: Invoice = invoice, mark_: InvoiceMarks = mark,
                 customer_: Customer | None = customer) -> InvoiceLine:
            return InvoiceLine(
                invoice_id=invoice_.id,
                number=invoice_.number or invoice_.id,
                customer=customer_.name if customer_ else invoice_.customer_id,
                salesperson=invoice_.salesperson or (customer_.salesperson if customer_ else ""),
                remaining=invoice_.remaining.amount,
                currency=invoice_.currency,
                due_date=invoice_.effective_due_date(terms),
                day=day,
                comment=mark_.comment,
            )

        if mark.promise_date is not None:
            if as_of <= mark.promise_date <= as_of + timedelta(days=6):
                promises.append(line(mark.promise_date))
            elif as_of - timedelta(days=7) <= mark.promise_date < as_of:
                broken.append(line(mark.promise_date))
        if mark.dispute:
            disputes.append(line(None))
    promises.sort(key=lambda x: (x.day or as_of, x.customer.casefold()))
    broken.sort(key=lambda x: (x.day or as_of, x.customer.casefold()))
    disputes.sort(key=lambda x: (-x.remaining, x.customer.casefold()))
    return tuple(promises), tuple(broken), tuple(disputes)


def reminder_stats(
    ledger: Ledger, reminders: Sequence[SentReminder] | None, as_of: date
) -> ReminderStats:
    """Reminders of the last 7 days, and what the last 28 days' reminders brought in within 14 days."""
    if reminders is None:
        return ReminderStats(known=False)
    week = [r for r in reminders if as_of - timedelta(days=7) <= r.sent_on < as_of]
    channels: dict[str, int] = {}
    for reminder in week:
        channels[reminder.channel] = channels.get(reminder.channel, 0) + 1
    window = [r for r in reminders if as_of - timedelta(days=REMINDER_WINDOW_DAYS) <= r.sent_on < as_of]
    reminded: dict[str, list[date]] = {}
    for reminder in window:
        for invoice_id in reminder.invoice_ids:
            reminded.setdefault(invoice_id, []).append(reminder.sent_on)
    counted: set[tuple[str, str]] = set()
    total = Decimal(0)
    paid_invoices: set[str] = set()
    for payment in ledger.payments:
        if payment.method == "credit_note" or payment.date > as_of:
            continue
        for allocation in payment.allocations:
            days = reminded.get(allocation.invoice_id)
            if not days or allocation.amount.currency != "EUR":
                continue
            if any(sent < payment.date <= sent + timedelta(days=REMINDER_EFFECT_DAYS) for sent in days):
                key = (payment.id, allocation.invoice_id)
                if key not in counted:
                    counted.add(key)
                    total += allocation.amount.amount
                    paid_invoices.add(allocation.invoice_id)
    return ReminderStats(
        sent_this_week=len(week),
        by_channel=tuple(sorted(channels.items())),
        sent_in_window=len(window),
        brought_in=fn.from_cents(int((total * 100).to_integral_value())),
        invoices_paid=len(paid_invoices),
    )


def build_report(
    ledger: Ledger,
    as_of: date,
    *,
    company: str = "",
    salesperson: str = "",
    marks: SheetMarks | None = None,
    reminders: Sequence[SentReminder] | None = None,
    risk: RiskRefresh | None = None,
    figures: Mapping[str, CustomerFigures] | None = None,
    default_terms: int = 30,
    bounds: Sequence[int] = fn.DEFAULT_BOUNDS,
    notes: Iterable[str] = (),
    tasks: Sequence[Task] = (),
) -> WeeklyReport:
    """The week's figures for the whole ledger, or for one salesperson's customers; ``tasks``: the
    state store's ``À faire`` tasks, for the outcomes people recorded this week."""
    scope = salesperson_ledger(ledger, salesperson) if salesperson else ledger
    invoices, payments = fn.ledger_frames(scope, default_terms=default_terms)
    if figures is None:
        figures = fn.customer_figures(scope, as_of, default_terms=default_terms)
        if risk is not None:
            figures = apply_risk(figures, risk, as_of)
    credits = fn.credit_frame(scope)
    kpis = fn.receivables_kpis(invoices, payments, as_of, period_days=KPI_PERIOD_DAYS, credits=credits,
                               instalments=fn.instalment_frame(scope, default_terms=default_terms))
    history = tuple(
        receivables_at(invoices, payments, as_of - timedelta(days=7 * k), credits)
        for k in range(HISTORY_WEEKS, -1, -1)
    )
    avg_delays = {cid: f.avg_delay for cid, f in figures.items() if f.avg_delay is not None}
    forecast = fn.weekly_cash_forecast(invoices, as_of, avg_delays, weeks=FORECAST_WEEKS, credits=credits)
    promises, broken, disputes = _marked_lines(scope, marks, as_of, default_terms)
    risks: list[RiskLine] = []
    if risk is not None:
        ids = {c.id for c in scope.customers}
        signals = {cid: s for cid, s in risk.signals.items() if cid in ids}
        declarations = claim_declarations(signals)
        customers = scope.customer_index()
        live = _live(invoices)
        open_by_customer = live.groupby(live["customer_id"].astype(str))["owed"].sum().add(
            _credit_cents(credits, as_of), fill_value=0)
        for cid, signal in sorted(risk_lines(signals, as_of).items(), key=lambda kv: kv[1].date or as_of, reverse=True):
            declaration = declarations.get(cid)
            risks.append(
                RiskLine(
                    customer_id=cid,
                    name=customers[cid].name if cid in customers else cid,
                    what=signal.label if signal.label.casefold().startswith(signal.short.casefold())
                    else f"{signal.short} ({signal.label})",
                    day=signal.date,
                    link=signal.link,
                    action=claim_next_action(declaration) if declaration else "",
                    outstanding=fn.from_cents(int(open_by_customer.get(cid, 0))),
                )
            )
        notes = (*notes, *risk.notes())
    return WeeklyReport(
        company=company,
        as_of=as_of,
        salesperson=salesperson,
        customers=len(scope.customers),
        kpis=kpis,
        history=history,
        forecast=forecast,
        aging=_aging(invoices, as_of, bounds, credits),
        late_payers=_late_payers(scope, invoices, as_of, figures, credits),
        promises=promises,
        broken_promises=broken,
        disputes=disputes,
        reminders=reminder_stats(scope, reminders, as_of),
        risks=tuple(risks),
        notes=tuple(notes),
        outcomes=week_outcomes(tasks, scope, as_of),
    )


