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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money, UnallocatedCredit
from encours.scenarios.actions import ActionItem, NextAction, Plan, PlannedAction, Recipients, Skip, StepKey
from encours.scenarios.company import CompanySettings
from encours.scenarios.customer_plan import (
    THANKS_WINDOW_DAYS,
    CustomerBook,
    CustomerPlan,
    PlanRules,
    choose_scenario,
    plan_customer,
)
from encours.scenarios.labels import CHANNEL_LABELS_FR, REASONS_FR
from encours.scenarios.loader import Scenario, ScenarioError
from encours.scenarios.recipients import split_addresses, valid_email
from encours.scenarios.schedule import account_currency, account_cycle
from encours.scenarios.todo import refund_row, todo_rows
from encours.sheets_addin.marks import NO_CUSTOMER_MARKS, NO_INVOICE_MARKS, InvoiceMarks, PaymentPlanLine, SheetMarks

#: The planner's public names (the action types and label tables live in their own modules).
__all__ = [
    "CHANNEL_LABELS_FR", "REASONS_FR", "THANKS_WINDOW_DAYS", "ActionItem", "CustomerBook", "CustomerPlan",
    "NextAction", "Plan", "PlanReuse", "PlanRules", "PlannedAction", "Recipients", "Skip", "StepKey",
    "account_currency", "account_cycle", "choose_scenario", "customer_books", "payment_dates", "plan", "recheck",
    "split_addresses", "valid_email",
]


class PlanReuse(Protocol):
    """Keeps customers' plans between passes (:mod:`encours.sync.plan_memory`): ``kept`` answers,
    among ``books``, the plans of those planned before from the very same book that still hold on
    ``as_of`` (the others are planned again); ``planned`` is given the plans made."""

    def kept(self, books: Sequence[CustomerBook], as_of: date) -> Mapping[str, CustomerPlan]: ...

    def planned(self, made: Sequence[tuple[CustomerBook, CustomerPlan]]) -> None: ...


def payment_dates(ledger: Ledger) -> dict[str, date]:
    """Invoice id → date of the last payment or credit allocated to it."""
    result: dict[str, date] = {}
    for payment in ledger.payments:
        for allocation in payment.allocations:
            known = result.get(allocation.invoice_id)
            if known is None or payment.date > known:
                result[allocation.invoice_id] = payment.date
    return result


def customer_books(
    ledger: Ledger,
    marks: SheetMarks,
    *,
    done: Mapping[StepKey, date],
    profiles: Mapping[str, str],
    in_recovery: Collection[str],
    used_approvals: Collection[str],
) -> list[CustomerBook]:
    """What the planner reads, cut per customer (every customer with an invoice, a credit note or a
    credit held), in customer id order."""
    customers = ledger.customer_index()
    invoices: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in ledger.invoices:
        invoices[invoice.customer_id].append(invoice)
    held: dict[str, list[UnallocatedCredit]] = defaultdict(list)
    for credit in ledger.unallocated_credits():
        held[credit.customer_id].append(credit)
    whose = {i.id: i.customer_id for i in ledger.invoices}
    paid_on = payment_dates(ledger)
    credited = {i.credited_invoice_id for i in ledger.invoices if i.is_credit_note and i.credited_invoice_id}
    steps: dict[str, list[tuple[StepKey, date]]] = defaultdict(list)
    for key, when in done.items():
        owner = key.target if key.level == "account" else whose.get(key.target)
        if owner is not None:
            steps[owner].append((key, when))
    invoice_marks: dict[str, dict[str, InvoiceMarks]] = defaultdict(dict)
    for invoice_id, mark in marks.invoices.items():
        if invoice_id in whose and mark != NO_INVOICE_MARKS:  # a row nobody typed in: as no row
            invoice_marks[whose[invoice_id]][invoice_id] = mark
    plan_lines: dict[str, list[PaymentPlanLine]] = defaultdict(list)
    for line in marks.payment_plans:
        if line.invoice_id in whose:
            plan_lines[whose[line.invoice_id]].append(line)
    approvals: dict[str, set[str]] = defaultdict(set)
    for invoice_id in used_approvals:
        if invoice_id in whose:
            approvals[whose[invoice_id]].add(invoice_id)
    recovery = set(in_recovery)
    books = []
    for customer_id in sorted({*invoices, *held}):
        mine = invoices.get(customer_id, [])
        customer_marks = marks.customers.get(customer_id)
        customer_marks = None if customer_marks == NO_CUSTOMER_MARKS else customer_marks
        books.append(CustomerBook(
            customer_id=customer_id,
            customer=customers.get(customer_id),
            invoices=tuple(mine),
            held=tuple(held.get(customer_id, ())),
            paid_on=tuple((i.id, paid_on[i.id]) for i in mine if i.id in paid_on),
            credited=frozenset(i.id for i in mine if i.id in credited),
            marks=SheetMarks(invoices=invoice_marks.get(customer_id, {}),
                             customers={} if customer_marks is None else {customer_id: customer_marks},
                             payment_plans=tuple(plan_lines.get(customer_id, ()))),
            done=tuple(sorted(steps.get(customer_id, ()))),
            used_approvals=frozenset(approvals.get(customer_id, ())),
            in_recovery=customer_id in recovery,
            profile=profiles.get(customer_id, ""),
        ))
    return books


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
    reuse: PlanReuse | None = None,
) -> Plan:
    """Plan the reminders due on ``as_of`` (see the module docstring for every rule), customer by
    customer (:func:`~encours.scenarios.customer_plan.plan_customer`); with ``reuse``, a customer
    whose book is the same as when it was last planned, and whose plan still holds on ``as_of``,
    keeps that plan."""
    if default_scenario not in scenarios:
        raise ScenarioError(
            f"the default scenario {default_scenario!r} does not exist (known: {', '.join(sorted(scenarios))})",
            field="[scenarios] default",
        )
    for profile, name in (profile_scenarios or {}).items():
        if name not in scenarios:
            raise ScenarioError(f"profile {profile!r} maps to unknown scenario {name!r}", field="[scenarios.profiles]")
    rules = PlanRules(scenarios, company, default_scenario, profile_scenarios or {})
    books = customer_books(ledger, marks, done=done, profiles=profiles or {}, in_recovery=in_recovery,
                           used_approvals=used_approvals)
    kept = {} if reuse is None else reuse.kept(books, as_of)
    parts = []
    made = []
    for book in books:
        part = kept.get(book.customer_id)
        if part is None:
            part = plan_customer(book, rules, as_of)
            made.append((book, part))
        parts.append(part)
    if reuse is not None:
        reuse.planned(made)
    return combined(as_of, parts, ledger.customer_index())


def combined(as_of: date, parts: Sequence[CustomerPlan], customers: Mapping[str, Customer]) -> Plan:
    """The dossier's plan from its customers' plans, in customer id order: each customer's skips,
    next actions and actions, then the skips met when grouping, then ``À faire`` (customers in credit
    first, then the actions people carry out)."""
    result = Plan(as_of)
    for part in parts:
        result.skips.extend(part.skips)
        result.next_actions.update((n.invoice_id, NextAction(n.label, n.date)) for n in part.next_actions)
        result.actions.extend(part.actions)
    for part in parts:
        result.skips.extend(part.late_skips)
    for part in parts:
        result.todo.extend(refund_row(customers[part.customer_id], owed, as_of) for owed in part.refunds)
    result.todo.extend(todo_rows(result.actions))
    return result


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
