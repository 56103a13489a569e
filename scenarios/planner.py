"""The plan: which reminder each customer gets today, and why the others get none.

Public API (stable; the sync job builds on it)::

    plan(ledger, marks, scenarios, as_of, *, done, company, profiles={}, profile_scenarios={},
         default_scenario="standard", in_recovery=(), used_approvals=()) -> Plan
    recheck(action, fresh_invoices) -> PlannedAction | None

- :class:`StepKey` identifies what the journal records as done: ``(level, target, scenario, step,
  cycle)`` — level ``invoice`` (target = invoice id) or ``account`` (target = customer id).
  ``cycle`` is empty, except: one instalment of a payment plan (its ISO date), a broken promise
  (the promise's ISO date), an account-level round (its currency and the ISO due date of its
  oldest invoice, ``EUR:2026-10-14``: one round per currency), so that a step can happen again in
  a new round without ever happening twice in the same one.
  ``key.id`` is a one-line text form; ``StepKey.parse(key.id) == key``.
- ``done`` maps each key the journal holds as sent (or otherwise completed, e.g. a call task
  published) to the date it was done.  Keys in other states must not be passed as done; a key
  the journal holds as *uncertain* must be passed too (never planned again until a person decides).
- :class:`Plan` holds ``actions`` (one :class:`PlannedAction` per message or task: the customer,
  its invoices of one currency at one step), ``skips`` (why an invoice or customer gets nothing),
  ``next_actions`` per invoice, ``run_columns`` (invoice id → {"next_action", "next_action_date"},
  the ``Factures`` run columns) and ``todo`` (rows of the ``À faire`` tab, layout TODO keys).

Rules (issue 6): the scenario comes from the ``Scénario`` column of ``Factures``, else of
``Clients``, else the customer's payer profile mapped by ``profile_scenarios``, else the default.
For each invoice (or instalment of its payment plan) the next step not yet done is due when its
planned date is on or before ``as_of``: a missed day is caught up, never lost.  When steps were
missed, the next one keeps its usual gap after the last one actually done, so stale steps never
go out together.  A courtesy notice (before the due date) is passed over once the invoice is
due; a step whose ``min_amount`` is not reached is passed over.  Invoices of one customer at the
same step and currency make one message; at most one step is *sent* per customer per run and per
day (``action.sendable``; a customer with a step done on ``as_of`` gets nothing more that day, so a
daemon passing every 15 minutes does not send the deferred steps one pass after the other); steps
waiting for approval are listed too (for ``À faire``), unsent.
Excluded, with the reason in ``skips``: paid, cancelled, credited, deleted, draft, unknown status,
disputed (``Litige``), paused (``Pause jusqu'au`` on or after ``as_of``), promised (``Promesse``
on or after ``as_of``), direct debit customers, customers ``en recouvrement``, unknown scenario.
A promise whose date has passed with the invoice still open runs the scenario's
``broken_promise`` step, then the scenario resumes.  A thank-you goes once when an invoice that
received reminders is paid at the source (within :data:`THANKS_WINDOW_DAYS` of its payment).  A
customer without a valid e-mail gets the call (when a phone number is known) or the letter
instead.  A step done under one scenario counts as done under another with the same step id (a
scenario changed in the sheet never resends a reminder).  An account-level step (``scope =
"account"``) is one message, keyed by customer, listing every remindable overdue invoice of the
currency; it is due when an invoice reaches it, and done for the invoices it covered (every
invoice of that currency already overdue when it was sent).

Credits (issue 11, item 3; :mod:`encours.scenarios.credits`): payments on account and open credit
notes.  One whose reference names an invoice number covers that invoice (an invoice fully covered
gets nothing, reason ``covered``); the others come off the customer's net overdue balance in their
currency: no reminder, statement or notice when it is ≤ 0, else the action asks only the net and
names the credits (``credits``, ``gross``).  A customer whose balance in a currency is negative is
never reminded in it and gets an ``À faire`` row "Vérifier le remboursement".

Where each part lives: :mod:`~encours.scenarios.schedule` (when a step falls due for one invoice),
:mod:`~encours.scenarios.grouping` (one customer's due steps made into actions, netted against
credits), :mod:`~encours.scenarios.recipients` (addresses and language), :mod:`~encours.scenarios.todo`
(``À faire`` rows); this module decides which invoices are remindable and puts the plan together.

Approval: an action needing approval is approved when ``À envoyer`` is ticked on any of its
invoices, unless that tick already approved an earlier step (``used_approvals``: invoice ids the
sync job records when it sends on approval, and forgets when it sees the tick cleared).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.scenarios.actions import ActionItem, NextAction, Plan, PlannedAction, Recipients, Skip, StepKey
from encours.scenarios.company import CompanySettings
from encours.scenarios.credits import CustomerCredits, open_credits
from encours.scenarios.grouping import Candidate, choose_actions, net_of_credits, step_label
from encours.scenarios.labels import CHANNEL_LABELS_FR, REASONS_FR, plan_text
from encours.scenarios.loader import Scenario, ScenarioError
from encours.scenarios.recipients import split_addresses, valid_email
from encours.scenarios.schedule import DoneSteps, DueItem, account_currency, account_cycle, due_item, next_step
from encours.scenarios.todo import refund_row, todo_rows
from encours.sheets_addin.marks import InvoiceMarks, PaymentPlanLine, SheetMarks

#: The planner's public names (the action types and label tables live in their own modules).
__all__ = [
    "CHANNEL_LABELS_FR", "REASONS_FR", "ActionItem", "NextAction", "Plan", "PlannedAction", "Recipients", "Skip",
    "StepKey", "account_currency", "account_cycle", "choose_scenario", "payment_dates", "plan", "recheck",
    "split_addresses", "valid_email",
]

THANKS_WINDOW_DAYS = 30


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


def payment_dates(ledger: Ledger) -> dict[str, date]:
    """Invoice id → date of the last payment or credit allocated to it."""
    result: dict[str, date] = {}
    for payment in ledger.payments:
        for allocation in payment.allocations:
            known = result.get(allocation.invoice_id)
            if known is None or payment.date > known:
                result[allocation.invoice_id] = payment.date
    return result


def _exclusion(
    invoice: Invoice,
    customer: Customer,
    marks: InvoiceMarks,
    as_of: date,
    in_recovery: Collection[str],
) -> tuple[str, str, date | None] | None:
    """(reason, detail, resume date) when the invoice must not be reminded, else None."""
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


def plan(
    ledger: Ledger,
    marks: SheetMarks,
    scenarios: Mapping[str, Scenario],
    as_of: date,
    *,
    done: Mapping[StepKey, date],
    company: CompanySettings,
    profiles: Mapping[str, str] | None = None,
    profile_scenarios: Mapping[str, str] | None = None,
    default_scenario: str = "standard",
    in_recovery: Collection[str] = (),
    used_approvals: Collection[str] = (),
) -> Plan:
    """Plan the reminders due on ``as_of`` (see the module docstring for every rule)."""
    if default_scenario not in scenarios:
        raise ScenarioError(
            f"the default scenario {default_scenario!r} does not exist (known: {', '.join(sorted(scenarios))})",
            field="[scenarios] default",
        )
    for profile, name in (profile_scenarios or {}).items():
        if name not in scenarios:
            raise ScenarioError(f"profile {profile!r} maps to unknown scenario {name!r}", field="[scenarios.profiles]")
    result = Plan(as_of)
    index = DoneSteps(done)
    customers = ledger.customer_index()
    credited = {i.credited_invoice_id for i in ledger.invoices if i.is_credit_note and i.credited_invoice_id}
    paid_on = payment_dates(ledger)
    credits = open_credits(ledger)
    terms = company.payment_terms_days
    candidates: dict[str, list[Candidate]] = defaultdict(list)
    overdue: dict[str, list[DueItem]] = defaultdict(list)  # remindable overdue items, for account-level steps
    plan_lines: dict[str, list[PaymentPlanLine]] = defaultdict(list)
    for line in marks.payment_plans:
        plan_lines[line.invoice_id].append(line)

    for invoice in sorted(ledger.invoices, key=lambda i: (i.customer_id, i.effective_due_date(terms), i.id)):
        if invoice.is_credit_note or invoice.status is InvoiceStatus.DRAFT:
            continue
        customer = customers.get(invoice.customer_id)
        if customer is None:
            if invoice.is_open:
                result.skips.append(Skip(invoice.id, invoice.customer_id, "unknown_customer",
                                         plan_text("unknown_customer", customer_id=invoice.customer_id)))
                result.next_actions[invoice.id] = NextAction(plan_text("unknown_customer_next"), None)
            continue
        imarks = marks.for_invoice(invoice.id)
        name = choose_scenario(invoice, marks, profiles=profiles or {}, profile_scenarios=profile_scenarios or {},
                               default_scenario=default_scenario)
        scenario = scenarios.get(name)
        closed = _closed_reason(invoice, credited)
        if closed is not None:
            if closed == "paid" and invoice.status is InvoiceStatus.PAID and scenario is not None:
                if customer.id not in in_recovery:
                    _thanks(invoice, customer, scenario, imarks, index, paid_on, as_of, candidates, result)
            elif index.any_reminder(invoice.id):
                result.skips.append(Skip(invoice.id, customer.id, closed, REASONS_FR[closed]))
            if closed == "unknown_status":
                result.skips.append(Skip(invoice.id, customer.id, closed,
                                         plan_text("unknown_status", status=invoice.source_status)))
                result.next_actions[invoice.id] = NextAction(plan_text("unknown_status_next"), None)
            continue
        excluded = _exclusion(invoice, customer, imarks, as_of, in_recovery)
        if excluded is not None:
            reason, detail, resume = excluded
            result.skips.append(Skip(invoice.id, customer.id, reason, detail))
            result.next_actions[invoice.id] = NextAction(detail, resume)
            continue
        if scenario is None:
            detail = plan_text("unknown_scenario", name=name, known=", ".join(sorted(scenarios)))
            result.skips.append(Skip(invoice.id, customer.id, "unknown_scenario", detail))
            result.next_actions[invoice.id] = NextAction(detail, None)
            continue
        item = due_item(invoice, plan_lines.get(invoice.id, ()), as_of, terms)
        attributed = tuple(credits[customer.id].attributed.get(invoice.id, ())) if customer.id in credits else ()
        if attributed:
            covered = sum((c.amount for c in attributed), Money.zero(invoice.currency))
            item = replace(item, amount=max(item.amount - covered, Money.zero(invoice.currency)), credits=attributed)
            if item.amount.amount <= 0:
                named = ", ".join(plan_text("credit_named", reference=c.reference, amount=c.amount) for c in attributed)
                detail = plan_text("covered_by", credits=named)
                result.skips.append(Skip(invoice.id, customer.id, "covered", detail))
                result.next_actions[invoice.id] = NextAction(detail, None)
                continue
        if item.due < as_of:
            overdue[customer.id].append(item)
        found = next_step(item, customer, scenario, imarks, index, as_of, result.skips)
        if found is None:
            result.next_actions[invoice.id] = NextAction(plan_text("finished", scenario=scenario.label), None)
            continue
        step, planned, order = found
        result.next_actions[invoice.id] = NextAction(step_label(step), planned)
        if planned <= as_of:
            candidates[customer.id].append(Candidate(item, customer, scenario, step, planned, order, imarks))

    invoice_customer = {i.id: i.customer_id for i in ledger.invoices}
    contacted_today = {
        key.target if key.level == "account" else invoice_customer.get(key.target, "")
        for key, when in done.items()
        if when >= as_of
    }
    balance = ledger.balances()
    for (customer_id, _currency), owed in sorted(balance.items()):
        if owed.amount < 0 and customer_id in customers:
            result.todo.append(refund_row(customers[customer_id], -owed, as_of))
    for customer_id in sorted(candidates):
        kept = net_of_credits(candidates[customer_id], credits.get(customer_id, CustomerCredits()), balance,
                    overdue.get(customer_id, []), result)
        choose_actions(kept, customers[customer_id], marks, company, as_of, used_approvals,
                customer_id in contacted_today, overdue.get(customer_id, []), credits.get(customer_id), result)
    result.todo.extend(todo_rows(result.actions))
    return result


def _thanks(
    invoice: Invoice,
    customer: Customer,
    scenario: Scenario,
    imarks: InvoiceMarks,
    index: DoneSteps,
    paid_on: Mapping[str, date],
    as_of: date,
    candidates: dict[str, list[Candidate]],
    result: Plan,
) -> None:
    step = scenario.first("paid")
    when = paid_on.get(invoice.id) or (invoice.updated_at.date() if invoice.updated_at else None)
    if step is None or when is None or (as_of - when).days > THANKS_WINDOW_DAYS:
        return
    reminded = any(
        not (key.scenario == scenario.name and _is_courtesy(key.step, scenario))
        for key in index.per_invoice.get(invoice.id, ())
    )
    if not reminded or StepKey("invoice", invoice.id, scenario.name, step.id) in index.exact:
        return
    planned = when + timedelta(days=step.offset)
    if planned > as_of:
        return
    if customer.direct_debit:
        return
    item = DueItem(invoice, "", invoice.effective_due_date(), invoice.total)
    candidates[customer.id].append(Candidate(item, customer, scenario, step, planned, -2, imarks))


def _is_courtesy(step_id: str, scenario: Scenario) -> bool:
    try:
        return scenario.step(step_id).is_courtesy
    except KeyError:
        return False


def recheck(action: PlannedAction, fresh: Mapping[str, Invoice | None]) -> PlannedAction | None:
    """The action again after re-reading its invoices at the source right before sending.

    Invoices now paid, cancelled or gone are dropped (a thank-you keeps only invoices still paid);
    amounts shrink to what is still owed.  ``None`` when nothing is left to send.  Invoices
    missing from ``fresh`` are kept as they were (the caller could not re-read them).
    """
    kept: list[ActionItem] = []
    keys: list[StepKey] = []
    by_invoice = {k.target: k for k in action.step_keys if k.level == "invoice"}
    for item in action.items:
        if item.invoice_id not in fresh:
            kept.append(item)
            continue
        invoice = fresh[item.invoice_id]
        if action.step.when == "paid":
            if invoice is not None and invoice.status is InvoiceStatus.PAID:
                kept.append(item)
            continue
        if invoice is None or not invoice.is_open or invoice.remaining.amount <= 0:
            continue
        amount = min(item.amount, invoice.remaining) if invoice.currency == item.amount.currency else item.amount
        kept.append(replace(item, remaining=invoice.remaining, amount=amount))
    if not kept:
        return None
    for item in kept:
        if item.invoice_id in by_invoice:
            keys.append(by_invoice[item.invoice_id])
    if any(k.level == "account" for k in action.step_keys):
        keys = [k for k in action.step_keys if k.level == "account"]
    total = sum((i.amount for i in kept), Money.zero(action.currency))
    if action.step.when != "paid" and total.amount < action.step.min_amount:
        return None
    if total.amount <= Decimal(0) and action.step.when != "paid":
        return None
    return replace(action, items=tuple(kept), step_keys=tuple(keys), amount=total)
