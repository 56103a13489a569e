"""One customer's due steps made into actions: grouped by scenario, step and currency into one
message; netted against the customer's credits (nothing when in credit or covered, else only the
net asked); recipients and channel fallbacks chosen; at most one sendable step a day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from encours.connectors.model import Customer, Money
from encours.scenarios.actions import ActionItem, NextAction, Plan, PlannedAction, Skip, StepKey
from encours.scenarios.company import CompanySettings
from encours.scenarios.credits import CustomerCredits
from encours.scenarios.labels import CHANNEL_LABELS_FR, REASONS_FR, plan_text
from encours.scenarios.loader import Scenario, Step
from encours.scenarios.recipients import reminder_language, reminder_recipients
from encours.scenarios.schedule import DueItem, account_cycle
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks


@dataclass(frozen=True)
class Candidate:
    item: DueItem
    customer: Customer
    scenario: Scenario
    step: Step
    planned: date
    order: int  # position of the step in its scenario
    marks: InvoiceMarks


def net_of_credits(
    found: list[Candidate],
    held: CustomerCredits,
    balance: Mapping[tuple[str, str], Money],
    overdue: list[DueItem],
    result: Plan,
) -> list[Candidate]:
    """Drop the steps a customer's credits make wrong: nothing when in credit in that currency, no
    reminder when the credits cover the net overdue balance (a thank-you still goes)."""
    kept = []
    totals: dict[str, tuple[Money, Money]] = {}  # currency → (overdue total, free credits), summed once
    for cand in found:
        invoice = cand.item.invoice
        currency = invoice.currency
        if cand.step.when == "paid":
            kept.append(cand)
            continue
        owed = balance.get((invoice.customer_id, currency), Money.zero(currency))
        if owed.amount < 0:
            result.skips.append(Skip(invoice.id, invoice.customer_id, "in_credit",
                                     plan_text("in_credit", credit=-owed)))
            result.next_actions[invoice.id] = NextAction(plan_text("in_credit_next"), None)
            continue
        if owed.amount == 0:  # settled by what the customer already paid or was credited: nothing owed
            result.skips.append(Skip(invoice.id, invoice.customer_id, "covered", REASONS_FR["covered"]))
            result.next_actions[invoice.id] = NextAction(plan_text("settled_next"), None)
            continue
        if currency not in totals:
            late = sum((i.amount for i in overdue if i.invoice.currency == currency), Money.zero(currency))
            totals[currency] = (late, held.free_total(currency))
        overdue_total, free = totals[currency]
        if not cand.step.is_courtesy and free.amount > 0 and free >= overdue_total:
            result.skips.append(Skip(invoice.id, invoice.customer_id, "covered",
                                     plan_text("covered_by_free", free=free)))
            result.next_actions[invoice.id] = NextAction(plan_text("covered_by_free_next"), None)
            continue
        kept.append(cand)
    return kept


def step_label(step: Step, channel: str | None = None) -> str:
    shown = CHANNEL_LABELS_FR.get(channel or step.channel, channel or step.channel)
    return step.label if shown.casefold() == step.label.casefold() else f"{step.label} ({shown})"


def choose_actions(
    found: list[Candidate],
    customer: Customer,
    marks: SheetMarks,
    company: CompanySettings,
    as_of: date,
    used_approvals: Collection[str],
    contacted_today: bool,
    overdue: list[DueItem],
    held: CustomerCredits | None,
    result: Plan,
    crossings: list[date] | None = None,
) -> None:
    """Group one customer's due steps into actions; at most one step is sendable per day (the others
    wait for tomorrow: ``crossings`` is given that day)."""
    groups: dict[tuple[str, str, str], list[Candidate]] = defaultdict(list)
    for cand in found:
        groups[(cand.scenario.name, cand.step.id, cand.item.invoice.currency)].append(cand)
    actions = []
    for (_, _, currency), members in groups.items():
        action = _action(members, customer, currency, marks, company, as_of, used_approvals, overdue, result)
        if action is not None and held is not None:
            action = _deduct(action, held, overdue)
        if action is not None:
            actions.append(action)
    actions.sort(key=lambda a: (a.planned_date, 0 if a.step.when != "schedule" else 1, a.scenario, a.step.id,
                                a.currency))
    chosen: tuple[str, str] | None = ("", "") if contacted_today else None
    for action in actions:
        if action.sendable:
            if chosen is None:
                chosen = (action.scenario, action.step.id)
            elif (action.scenario, action.step.id) != chosen:
                if crossings is not None:
                    crossings.append(as_of + timedelta(days=1))
                for invoice_id in action.invoice_ids:
                    result.next_actions[invoice_id] = NextAction(
                        plan_text("tomorrow", step=step_label(action.step, action.channel)),
                        as_of + timedelta(days=1)
                    )
                continue
        result.actions.append(action)


def _action(
    members: list[Candidate],
    customer: Customer,
    currency: str,
    marks: SheetMarks,
    company: CompanySettings,
    as_of: date,
    used_approvals: Collection[str],
    overdue: list[DueItem],
    result: Plan,
) -> PlannedAction | None:
    first = members[0]
    step, scenario = first.step, first.scenario
    included = [c.item for c in members]
    if step.scope == "account":  # the whole account: every remindable overdue invoice in this currency
        known = {i.invoice.id for i in included}
        included += [i for i in overdue if i.invoice.currency == currency and i.invoice.id not in known]
    items = [
        ActionItem(
            i.invoice.id, i.invoice.number, i.invoice.issue_date, i.due, i.invoice.total, i.invoice.remaining,
            i.amount, i.cycle, i.invoice.pdf_url, i.instalments,
        )
        for i in sorted(included, key=lambda i: (i.due, i.invoice.number, i.invoice.id))
    ]
    amount = sum((i.amount for i in items), Money.zero(currency))
    if step.scope == "account":
        if amount.amount < step.min_amount:
            detail = plan_text("under_minimum", step=step.label, amount=amount, minimum=step.min_amount)
            result.skips.append(Skip(customer.id, customer.id, "under_minimum", detail, level="account"))
            return None
        cycle = account_cycle(currency, min(c.item.due for c in members))  # the invoices that reached the step
        keys: tuple[StepKey, ...] = (StepKey("account", customer.id, scenario.name, step.id, cycle),)
    elif step.when == "broken_promise":
        keys = tuple(
            StepKey("invoice", c.item.invoice.id, scenario.name, step.id,
                    c.marks.promise_date.isoformat() if c.marks.promise_date else "")
            for c in members
        )
    else:
        keys = tuple(StepKey("invoice", c.item.invoice.id, scenario.name, step.id, c.item.cycle) for c in members)
    cmarks = marks.for_customer(customer.id)
    recipients, rejected = reminder_recipients(customer, cmarks.reminder_email, company)
    channel = step.channel
    reasons: list[str] = []
    if rejected:
        reasons.append(plan_text("invalid_addresses", addresses=", ".join(rejected)))
    if channel in ("email", "thanks") and not recipients.to:
        if channel == "thanks":
            result.skips.extend(Skip(k.target, customer.id, "no_contact",
                                     plan_text("thanks_without_email"), k) for k in keys)
            return None
        channel = "call" if customer.phone else "letter"
        reasons.append(plan_text("no_email_call" if channel == "call" else "no_email_letter"))
    if channel in ("letter", "formal_notice") and not customer.address.strip():
        reasons.append(plan_text("no_postal_address"))
    needs_approval = step.needs_approval
    if step.ceiling is not None and amount.amount > step.ceiling:
        needs_approval = True
        reasons.append(plan_text("over_ceiling", amount=amount, ceiling=step.ceiling))
    approved = needs_approval and any(
        marks.for_invoice(i.invoice_id).approve and i.invoice_id not in used_approvals for i in items
    )
    salesperson = next((c.item.invoice.salesperson for c in members if c.item.invoice.salesperson), "")
    return PlannedAction(
        customer_id=customer.id,
        customer_name=customer.name,
        scenario=scenario.name,
        step=step,
        channel=channel,
        planned_date=min(c.planned for c in members),
        currency=currency,
        amount=amount,
        items=tuple(items),
        step_keys=keys,
        recipients=recipients,
        language=reminder_language(customer, company),
        salesperson=customer.salesperson or salesperson,
        needs_approval=needs_approval,
        approved=approved,
        reason="; ".join(reasons),
    )


def _deduct(action: PlannedAction, held: CustomerCredits, overdue: list[DueItem]) -> PlannedAction:
    """Ask only the net: the credits not attributed to an invoice come off the overdue balance."""
    attributed = tuple(c for item in overdue if item.invoice.id in action.invoice_ids for c in item.credits)
    if action.step.when == "paid" or action.step.is_courtesy:
        return action
    currency = action.currency
    free = tuple(held.unattributed.get(currency, ()))
    if not free and not attributed:
        return action
    gross = sum((i.amount for i in action.items), Money.zero(currency)) + sum(
        (c.amount for c in attributed), Money.zero(currency))
    if not free:
        return replace(action, credits=attributed, gross=gross)
    overdue_total = sum((i.amount for i in overdue if i.invoice.currency == currency), Money.zero(currency))
    net = min(action.amount, overdue_total - held.free_total(currency))
    return replace(action, amount=net, credits=attributed + free, gross=gross)


def keep_net(planned: PlannedAction, checked: PlannedAction | None) -> PlannedAction | None:
    """``checked`` (the action re-read at the source) still asking only the net ``planned`` asked.

    The re-check sums the invoices it re-read; the credits the plan deducted from them (payments
    on account, open credit notes) still stand, so they come off again: an invoice paid in between
    lowers both the gross and the net by what was paid.  ``None`` when nothing is owed any more.
    Idempotent: a ``checked`` that already asks the net is returned as it is.
    """
    if checked is None or planned.step.when == "paid" or planned.step.is_courtesy:
        return checked
    zero = Money.zero(planned.currency)
    deducted = sum((i.amount for i in planned.items), zero) - planned.amount
    if deducted.amount <= 0:
        return checked
    net = min(checked.amount, sum((i.amount for i in checked.items), zero) - deducted)
    if net.amount <= 0:
        return None
    return replace(checked, amount=net)

