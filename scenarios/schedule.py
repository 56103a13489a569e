"""When each step of a scenario falls due for one invoice: the invoice (or the current instalment
of its payment plan) as a :class:`DueItem`, the journal's ``done`` indexed as the planner asks
(:class:`DoneSteps`), and :func:`next_step`, the first step not yet done with its planned date —
a missed day is caught up, stale steps keep their usual gap and never go out together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from encours.connectors.model import Customer, Invoice, Money
from encours.scenarios.actions import Skip, StepKey
from encours.scenarios.credits import Credit
from encours.scenarios.labels import plan_text
from encours.scenarios.loader import Scenario, Step
from encours.sheets_addin.marks import InvoiceMarks, PaymentPlanLine


# -- internal ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DueItem:
    invoice: Invoice
    cycle: str
    due: date
    amount: Money
    credits: tuple[Credit, ...] = ()  # attributed to this invoice, already deducted from ``amount``
    instalments: tuple[tuple[date, Money], ...] = ()  # a payment plan's parts asked, with their dates


class DoneSteps:
    """``done`` indexed the ways the planner asks."""

    def __init__(self, done: Mapping[StepKey, date]) -> None:
        self.exact = dict(done)
        self.account: dict[tuple[str, str, str], list[date]] = defaultdict(list)
        self.per_invoice: dict[str, list[StepKey]] = defaultdict(list)
        self.account_by_customer: dict[str, list[tuple[str, str, date]]] = defaultdict(list)
        for key, when in done.items():
            if key.level == "account":
                self.account[(key.target, key.scenario, key.step)].append(when)
                self.account_by_customer[key.target].append((key.step, account_currency(key), when))
            else:
                self.per_invoice[key.target].append(key)

    def step_done(self, item: DueItem, customer_id: str, scenario: str, step: Step, planned: date) -> date | None:
        """When this step was done for the item: in this scenario, or under the same step id in
        another one (the scenario was changed in the sheet: a reminder already sent is not sent again)."""
        if step.scope == "account":
            currency = item.invoice.currency
            # a statement sent while this item was already overdue listed it: done for it too
            covering = [d for step_id, cur, d in self.account_by_customer.get(customer_id, ())
                        if step_id == step.id and cur in ("", currency) and d > item.due]
            if covering:
                return min(covering)
        return self.invoice_step_done(item.invoice.id, scenario, step.id, item.cycle)

    def invoice_step_done(self, invoice_id: str, scenario: str, step_id: str, cycle: str) -> date | None:
        """When an invoice's step of this cycle was done: in this scenario, or under the same step id in
        another one (the scenario changed — typed in the sheet, or the payer's profile moved)."""
        exact = self.exact.get(StepKey("invoice", invoice_id, scenario, step_id, cycle))
        if exact is not None:
            return exact
        same = [self.exact[k] for k in self.per_invoice.get(invoice_id, ()) if k.step == step_id and k.cycle == cycle]
        return min(same) if same else None

    def any_reminder(self, invoice_id: str) -> bool:
        return bool(self.per_invoice.get(invoice_id))


def account_cycle(currency: str, oldest_due: date) -> str:
    """The cycle of an account-level step: one round per currency (``EUR:2026-10-14``)."""
    return f"{currency}:{oldest_due.isoformat()}"


def account_currency(key: StepKey) -> str:
    """The currency an account-level key covers; "" for keys journaled before rounds had one (any)."""
    head, sep, _ = key.cycle.partition(":")
    return head if sep and len(head) == 3 and head.isalpha() else ""


def due_item(invoice: Invoice, plan_lines: Sequence[PaymentPlanLine], as_of: date, terms: int,
             crossings: list[date] | None = None) -> DueItem:
    """The invoice as one item, or its first unpaid instalment when it has a payment plan.
    ``crossings`` is given each instalment date (what is asked grows as each falls due)."""
    lines = sorted(((p.due_date, Money(p.amount, invoice.currency)) for p in plan_lines), key=lambda x: x[0])
    if not lines and invoice.installments:
        lines = sorted(((i.due_date, i.amount) for i in invoice.installments), key=lambda x: x[0])
    if not lines:
        return DueItem(invoice, "", invoice.effective_due_date(terms), invoice.remaining)
    paid = invoice.total - invoice.remaining
    cumulative = Money.zero(invoice.currency)
    overdue_total = Money.zero(invoice.currency)
    current: tuple[date, Money] | None = None
    if crossings is not None:
        crossings.extend(when for when, _ in lines)
    for when, amount in lines:
        cumulative = cumulative + amount
        if when <= as_of:
            overdue_total = cumulative
        if current is None and cumulative > paid:
            current = (when, cumulative)
    if current is None:  # the plan is covered, yet something remains: the rest is due at the last date
        return DueItem(invoice, lines[-1][0].isoformat(), lines[-1][0], invoice.remaining)
    through = max(current[1], overdue_total)
    asked = min(through - paid, invoice.remaining)
    parts: list[tuple[date, Money]] = []
    before = Money.zero(invoice.currency)
    for when, amount in lines:
        end = before + amount
        unpaid = min(end, through) - max(before, paid)
        if unpaid.amount > 0:
            parts.append((when, unpaid))
        before = end
    return DueItem(invoice, current[0].isoformat(), current[0], asked, instalments=tuple(parts))


def next_step(
    item: DueItem,
    customer: Customer,
    scenario: Scenario,
    marks: InvoiceMarks,
    done: DoneSteps,
    as_of: date,
    skips: list[Skip],
    crossings: list[date] | None = None,
) -> tuple[Step, date, int] | None:
    """The first step of the scenario not yet done for this item, with its planned date.
    ``crossings`` is given every date compared with ``as_of`` (the answer may change once one is
    crossed): a promise's end, the due date for a courtesy notice, each step's planned date."""
    seen: list[date] = [] if crossings is None else crossings
    invoice = item.invoice
    last_done: date | None = None
    broken = scenario.first("broken_promise")
    if marks.promise_date is not None:
        seen.append(marks.promise_date + timedelta(days=1))
    if marks.promise_date is not None and marks.promise_date < as_of and broken is not None:
        when = done.invoice_step_done(invoice.id, scenario.name, broken.id, marks.promise_date.isoformat())
        if when is None:
            seen.append(marks.promise_date + timedelta(days=broken.offset))
            return broken, marks.promise_date + timedelta(days=broken.offset), -1
        last_done = when
    previous_nominal: date | None = None
    previous_actual: date | None = None
    for order, step in enumerate(scenario.schedule):
        if step.base == "due":
            nominal = item.due + timedelta(days=step.offset)
        elif step.base == "invoice":
            nominal = invoice.issue_date + timedelta(days=step.offset)
        else:
            assert previous_nominal is not None  # validated: the first step is never "previous"
            nominal = previous_nominal + timedelta(days=step.offset)
        planned = nominal
        if previous_nominal is not None and last_done is not None:
            gap = max(1, (nominal - previous_nominal).days)
            planned = max(nominal, last_done + timedelta(days=gap))
        if step.base == "previous" and previous_actual is not None:
            planned = max(planned, previous_actual + timedelta(days=step.offset))
        when = done.step_done(item, customer.id, scenario.name, step, planned)
        previous_nominal = nominal
        if when is not None:
            last_done = when if last_done is None else max(last_done, when)
            previous_actual = when
            continue
        previous_actual = planned
        seen.append(planned)
        if step.is_courtesy:
            seen.append(item.due)
        if step.is_courtesy and as_of >= item.due:
            continue  # a notice before the due date makes no sense once it is due
        if step.scope == "invoice" and item.amount.amount < step.min_amount:
            if planned <= as_of:
                detail = plan_text("under_minimum", step=step.label, amount=item.amount, minimum=step.min_amount)
                skips.append(Skip(invoice.id, customer.id, "under_minimum", detail,
                                  StepKey("invoice", invoice.id, scenario.name, step.id, item.cycle)))
            continue
        return step, planned, order
    return None
