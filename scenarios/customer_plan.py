"""One customer's plan: a pure function of what the planner reads about that customer, with the first
day on which it could change.

:func:`plan_customer` plans one :class:`CustomerBook` — the customer, its invoices and credit notes,
the credits it holds, the payment dates and credit notes of its invoices, what people typed for it in
the sheet, the journal's steps done for it, its approvals used, whether it is in recovery, its payer
profile — under the dossier's :class:`PlanRules` on one day.  Nothing else is read: two equal books
under the same rules give the same plan.

Its :class:`CustomerPlan` carries ``until``: the first day after the planned one on which any date the
planner compared with the day is crossed (a step falls due, a promise or a pause ends, an invoice
falls due or overdue, an instalment falls due, the thank-you window closes, a step deferred to
tomorrow, a step done today).  On every day from the planned one up to the day before ``until`` the
same book plans the same: that is what lets a pass keep the plans of the customers nothing happened
to (:mod:`encours.sync.plan_memory`), and what ``tests/scenarios/test_customer_plan.py`` checks day by
day on generated customers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from encours.connectors.ledger import balances_of
from encours.connectors.model import Customer, Invoice, InvoiceStatus, Money, UnallocatedCredit
from encours.scenarios.actions import NextAction, Plan, PlannedAction, Skip, StepKey
from encours.scenarios.company import CompanySettings
from encours.scenarios.credits import customer_credits
from encours.scenarios.grouping import Candidate, choose_actions, net_of_credits, step_label
from encours.scenarios.labels import REASONS_FR, plan_text
from encours.scenarios.loader import Scenario
from encours.scenarios.schedule import DoneSteps, DueItem, due_item, next_step
from encours.sheets_addin.marks import InvoiceMarks, PaymentPlanLine, SheetMarks

#: A thank-you goes within this many days of the payment.
THANKS_WINDOW_DAYS = 30


@dataclass(frozen=True)
class PlanRules:
    """What every customer's plan shares: the scenarios, the company's settings, how a customer's
    scenario is chosen when the sheet names none."""

    scenarios: Mapping[str, Scenario]
    company: CompanySettings
    default_scenario: str = "standard"
    profile_scenarios: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerBook:
    """Everything the planner reads about one customer (``customer`` None: invoices name a customer
    the ledger does not know).  ``marks`` holds only this customer's entries."""

    customer_id: str
    customer: Customer | None
    #: its invoices and credit notes, in the ledger's order
    invoices: tuple[Invoice, ...]
    #: the credits it holds (payments on account, unallocated parts), as the ledger lists them
    held: tuple[UnallocatedCredit, ...]
    #: its invoices' last payment date (invoice id, date)
    paid_on: tuple[tuple[str, date], ...]
    #: its invoices a credit note credits
    credited: frozenset[str]
    marks: SheetMarks
    #: the journal's steps done on its invoices or its account, with the day each was done
    done: tuple[tuple[StepKey, date], ...]
    used_approvals: frozenset[str]
    in_recovery: bool
    profile: str = ""


@dataclass(frozen=True)
class InvoiceNext:
    """An invoice's next action (the ``Factures`` run columns)."""

    invoice_id: str
    label: str
    date: date | None


@dataclass(frozen=True)
class CustomerPlan:
    """One customer's share of the plan on ``planned_on``; the same on every day before ``until``
    (None: no date it depends on lies ahead)."""

    customer_id: str
    planned_on: date
    until: date | None
    actions: tuple[PlannedAction, ...] = ()
    #: why its invoices get nothing, in the order the invoices were planned …
    skips: tuple[Skip, ...] = ()
    #: … then why its due steps got nothing when grouped (credits, minimum amounts, no address)
    late_skips: tuple[Skip, ...] = ()
    next_actions: tuple[InvoiceNext, ...] = ()
    #: its balances in credit, per currency (``À faire``: check for a refund), as positive amounts
    refunds: tuple[Money, ...] = ()

    def holds_on(self, day: date) -> bool:
        """This plan is the customer's plan on ``day`` too (same book, same rules)."""
        return self.planned_on <= day and (self.until is None or day < self.until)


def choose_scenario(
    invoice: Invoice,
    marks: SheetMarks,
    *,
    profiles: Mapping[str, str],
    profile_scenarios: Mapping[str, str],
    default_scenario: str,
) -> str:
    """``Scénario`` on Factures, else on Clients, else the profile's scenario, else the default."""
    chosen = marks.for_invoice(invoice.id).scenario or marks.for_customer(invoice.customer_id).scenario
    if chosen:
        return chosen.strip().casefold()
    profile = profiles.get(invoice.customer_id, "")
    if profile and profile in profile_scenarios:
        return profile_scenarios[profile]
    return default_scenario


def plan_customer(book: CustomerBook, rules: PlanRules, as_of: date) -> CustomerPlan:
    """The customer's plan on ``as_of`` (the rules are :mod:`encours.scenarios.planner`'s)."""
    result = Plan(as_of)
    crossings: list[date] = []  # every date compared with as_of: the plan may change when one is crossed
    customer = book.customer
    terms = rules.company.payment_terms_days
    invoices = sorted(book.invoices, key=lambda i: (i.effective_due_date(terms), i.id))
    if customer is None:
        for invoice in invoices:
            if invoice.is_open and not invoice.is_credit_note and invoice.status is not InvoiceStatus.DRAFT:
                result.skips.append(Skip(invoice.id, invoice.customer_id, "unknown_customer",
                                         plan_text("unknown_customer", customer_id=invoice.customer_id)))
                result.next_actions[invoice.id] = NextAction(plan_text("unknown_customer_next"), None)
        return _finished(book, result, (), as_of, {}, late=len(result.skips))
    index = DoneSteps(dict(book.done))
    paid_on = dict(book.paid_on)
    credits = customer_credits(book.invoices, book.held)
    profiles = {book.customer_id: book.profile} if book.profile else {}
    marks = book.marks
    in_recovery = (customer.id,) if book.in_recovery else ()
    candidates: list[Candidate] = []
    overdue: list[DueItem] = []  # remindable overdue items, for account-level steps
    falls_overdue: list[date] = []  # when each remindable item joins them
    plan_lines: dict[str, list[PaymentPlanLine]] = defaultdict(list)
    for line in marks.payment_plans:
        plan_lines[line.invoice_id].append(line)

    for invoice in invoices:
        if invoice.is_credit_note or invoice.status is InvoiceStatus.DRAFT:
            continue
        imarks = marks.for_invoice(invoice.id)
        name = choose_scenario(invoice, marks, profiles=profiles, profile_scenarios=rules.profile_scenarios,
                               default_scenario=rules.default_scenario)
        scenario = rules.scenarios.get(name)
        closed = _closed_reason(invoice, book.credited)
        if closed is not None:
            if closed == "paid" and invoice.status is InvoiceStatus.PAID and scenario is not None:
                if not book.in_recovery:
                    _thanks(invoice, customer, scenario, rules.scenarios, imarks, index, paid_on, as_of, candidates,
                            crossings)
            elif index.any_reminder(invoice.id):
                result.skips.append(Skip(invoice.id, customer.id, closed, REASONS_FR[closed]))
            if closed == "unknown_status":
                result.skips.append(Skip(invoice.id, customer.id, closed,
                                         plan_text("unknown_status", status=invoice.source_status)))
                result.next_actions[invoice.id] = NextAction(plan_text("unknown_status_next"), None)
            continue
        excluded = _exclusion(customer, imarks, as_of, in_recovery, crossings)
        if excluded is not None:
            reason, detail, resume = excluded
            result.skips.append(Skip(invoice.id, customer.id, reason, detail))
            result.next_actions[invoice.id] = NextAction(detail, resume)
            continue
        if scenario is None:
            detail = plan_text("unknown_scenario", name=name, known=", ".join(sorted(rules.scenarios)))
            result.skips.append(Skip(invoice.id, customer.id, "unknown_scenario", detail))
            result.next_actions[invoice.id] = NextAction(detail, None)
            continue
        item = due_item(invoice, plan_lines.get(invoice.id, ()), as_of, terms, crossings)
        attributed = tuple(credits.attributed.get(invoice.id, ()))
        if attributed:
            covered = sum((c.amount for c in attributed), Money.zero(invoice.currency))
            item = replace(item, amount=max(item.amount - covered, Money.zero(invoice.currency)), credits=attributed)
            if item.amount.amount <= 0:
                named = ", ".join(plan_text("credit_named", reference=c.reference, amount=c.amount) for c in attributed)
                detail = plan_text("covered_by", credits=named)
                result.skips.append(Skip(invoice.id, customer.id, "covered", detail))
                result.next_actions[invoice.id] = NextAction(detail, None)
                continue
        falls_overdue.append(item.due + timedelta(days=1))
        if item.due < as_of:
            overdue.append(item)
        found = next_step(item, customer, scenario, imarks, index, as_of, result.skips, crossings)
        if found is None:
            result.next_actions[invoice.id] = NextAction(plan_text("finished", scenario=scenario.label), None)
            continue
        step, planned, order = found
        result.next_actions[invoice.id] = NextAction(step_label(step), planned)
        if planned <= as_of:
            candidates.append(Candidate(item, customer, scenario, step, planned, order, imarks))

    done_today = [when for _, when in book.done if when >= as_of]
    crossings.extend(when + timedelta(days=1) for when in done_today)
    late = len(result.skips)
    balance = balances_of(book.invoices, book.held)
    if any(c.step.scope == "account" for c in candidates) or (candidates and (credits.attributed or
                                                                            credits.unattributed)):
        crossings.extend(falls_overdue)  # what is overdue is asked for (a statement) or netted (credits)
    if candidates:
        kept = net_of_credits(candidates, credits, balance, overdue, result)
        held = credits if credits.attributed or credits.unattributed else None
        choose_actions(kept, customer, marks, rules.company, as_of, book.used_approvals, bool(done_today), overdue,
                       held, result, crossings)
    return _finished(book, result, crossings, as_of, balance, late=late)


def _finished(book: CustomerBook, result: Plan, crossings: Collection[date], as_of: date,
              balance: Mapping[tuple[str, str], Money], *, late: int) -> CustomerPlan:
    """The customer's plan from ``result`` (its skips from index ``late`` on are those met when grouping)."""
    return CustomerPlan(
        customer_id=book.customer_id,
        planned_on=as_of,
        until=min((day for day in crossings if day > as_of), default=None),
        actions=tuple(result.actions),
        skips=tuple(result.skips[:late]),
        late_skips=tuple(result.skips[late:]),
        next_actions=tuple(InvoiceNext(iid, nxt.label, nxt.date) for iid, nxt in result.next_actions.items()),
        refunds=tuple(-owed for _, owed in sorted(balance.items()) if owed.amount < 0),
    )


def _exclusion(
    customer: Customer,
    marks: InvoiceMarks,
    as_of: date,
    in_recovery: Collection[str],
    crossings: list[date],
) -> tuple[str, str, date | None] | None:
    """(reason, detail, resume date) when the invoice must not be reminded, else None."""
    if marks.pause_until is not None:
        crossings.append(marks.pause_until + timedelta(days=1))
    if marks.promise_date is not None:
        crossings.append(marks.promise_date + timedelta(days=1))
    if marks.dispute:
        return "disputed", plan_text("disputed"), None
    if marks.pause_until is not None and marks.pause_until >= as_of:
        return "paused", plan_text("paused", until=marks.pause_until), marks.pause_until + timedelta(days=1)
    if marks.promise_date is not None and marks.promise_date >= as_of:
        return "promised", plan_text("promised", until=marks.promise_date), marks.promise_date + timedelta(days=1)
    if customer.direct_debit:
        return "direct_debit", plan_text("direct_debit"), None
    if customer.id in in_recovery:
        return "in_recovery", plan_text("in_recovery"), None
    return None


def _closed_reason(invoice: Invoice, credited_ids: Collection[str]) -> str | None:
    status = invoice.status
    if status is InvoiceStatus.DRAFT:
        return "draft"
    if status is InvoiceStatus.UNKNOWN:
        return "unknown_status"
    if status is InvoiceStatus.DELETED:
        return "deleted"
    if status is InvoiceStatus.CANCELLED:
        return "credited" if invoice.id in credited_ids else "cancelled"
    if status is InvoiceStatus.PAID or not status.is_open or invoice.remaining.amount <= 0:
        return "credited" if invoice.id in credited_ids and status is not InvoiceStatus.PAID else "paid"
    return None


def _thanks(
    invoice: Invoice,
    customer: Customer,
    scenario: Scenario,
    scenarios: Mapping[str, Scenario],
    imarks: InvoiceMarks,
    index: DoneSteps,
    paid_on: Mapping[str, date],
    as_of: date,
    candidates: list[Candidate],
    crossings: list[date],
) -> None:
    step = scenario.first("paid")
    when = paid_on.get(invoice.id) or (invoice.updated_at.date() if invoice.updated_at else None)
    if step is None or when is None:
        return
    crossings.append(when + timedelta(days=THANKS_WINDOW_DAYS + 1))
    if (as_of - when).days > THANKS_WINDOW_DAYS:
        return
    # Steps done under whichever scenario the invoice followed then: paying changes a payer's profile,
    # and a person may type another scenario, but the customer is thanked once.
    kinds = [_kind(key.scenario, key.step, scenarios) for key in index.per_invoice.get(invoice.id, ())]
    if "reminder" not in kinds or "thanks" in kinds:
        return
    planned = when + timedelta(days=step.offset)
    crossings.append(planned)
    if planned > as_of:
        return
    if customer.direct_debit:
        return
    item = DueItem(invoice, "", invoice.effective_due_date(), invoice.total)
    candidates.append(Candidate(item, customer, scenario, step, planned, -2, imarks))


def _kind(scenario_name: str, step_id: str, scenarios: Mapping[str, Scenario]) -> str:
    """What a step done was: "courtesy" (a notice before the due date), "thanks" (a step on payment) or
    "reminder" (anything else, or a step its scenario no longer has)."""
    followed = scenarios.get(scenario_name)
    try:
        step = followed.step(step_id) if followed is not None else None
    except KeyError:
        step = None
    if step is None:
        return "reminder"
    return "courtesy" if step.is_courtesy else "thanks" if step.when == "paid" else "reminder"


