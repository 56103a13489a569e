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

Approval: an action needing approval is approved when ``À envoyer`` is ticked on any of its
invoices, unless that tick already approved an earlier step (``used_approvals``: invoice ids the
sync job records when it sends on approval, and forgets when it sees the tick cleared).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.scenarios.actions import ActionItem, NextAction, Plan, PlannedAction, Recipients, Skip, StepKey
from encours.scenarios.company import CompanySettings
from encours.scenarios.credits import Credit, CustomerCredits, open_credits
from encours.scenarios.labels import CHANNEL_LABELS_FR, REASONS_FR
from encours.scenarios.loader import LANGUAGES, Scenario, ScenarioError, Step
from encours.sheets_addin.marks import InvoiceMarks, PaymentPlanLine, SheetMarks

#: The planner's public names (the action types and label tables live in their own modules).
__all__ = [
    "CHANNEL_LABELS_FR", "REASONS_FR", "ActionItem", "NextAction", "Plan", "PlannedAction", "Recipients", "Skip",
    "StepKey", "account_currency", "account_cycle", "choose_scenario", "payment_dates", "plan", "recheck",
    "split_addresses", "valid_email",
]

THANKS_WINDOW_DAYS = 30

# -- internal ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    invoice: Invoice
    cycle: str
    due: date
    amount: Money
    credits: tuple[Credit, ...] = ()  # attributed to this invoice, already deducted from ``amount``
    instalments: tuple[tuple[date, Money], ...] = ()  # a payment plan's parts asked, with their dates


@dataclass(frozen=True)
class _Candidate:
    item: _Item
    customer: Customer
    scenario: Scenario
    step: Step
    planned: date
    order: int  # position of the step in its scenario
    marks: InvoiceMarks


class _Done:
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

    def step_done(self, item: _Item, customer_id: str, scenario: str, step: Step, planned: date) -> date | None:
        """When this step was done for the item: in this scenario, or under the same step id in
        another one (the scenario was changed in the sheet: a reminder already sent is not sent again)."""
        if step.scope == "account":
            currency = item.invoice.currency
            # a statement sent while this item was already overdue listed it: done for it too
            covering = [d for step_id, cur, d in self.account_by_customer.get(customer_id, ())
                        if step_id == step.id and cur in ("", currency) and d > item.due]
            if covering:
                return min(covering)
        exact = self.exact.get(StepKey("invoice", item.invoice.id, scenario, step.id, item.cycle))
        if exact is not None:
            return exact
        same = [self.exact[k] for k in self.per_invoice.get(item.invoice.id, ())
                if k.step == step.id and k.cycle == item.cycle]
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


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def valid_email(address: str) -> bool:
    """A plain ``local@domain`` address: no display name, no spaces, no CR/LF (header-safe)."""
    return len(address) <= 254 and bool(_EMAIL.match(address))


def split_addresses(text: str) -> list[str]:
    return [a.strip() for a in re.split(r"[;,\s]+", text or "") if a.strip()]


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


def _items(invoice: Invoice, plan_lines: Sequence[PaymentPlanLine], as_of: date, terms: int) -> _Item:
    """The invoice as one item, or its first unpaid instalment when it has a payment plan."""
    lines = sorted(((p.due_date, Money(p.amount, invoice.currency)) for p in plan_lines), key=lambda x: x[0])
    if not lines and invoice.installments:
        lines = sorted(((i.due_date, i.amount) for i in invoice.installments), key=lambda x: x[0])
    if not lines:
        return _Item(invoice, "", invoice.effective_due_date(terms), invoice.remaining)
    paid = invoice.total - invoice.remaining
    cumulative = Money.zero(invoice.currency)
    overdue_total = Money.zero(invoice.currency)
    current: tuple[date, Money] | None = None
    for when, amount in lines:
        cumulative = cumulative + amount
        if when <= as_of:
            overdue_total = cumulative
        if current is None and cumulative > paid:
            current = (when, cumulative)
    if current is None:  # the plan is covered, yet something remains: the rest is due at the last date
        return _Item(invoice, lines[-1][0].isoformat(), lines[-1][0], invoice.remaining)
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
    return _Item(invoice, current[0].isoformat(), current[0], asked, instalments=tuple(parts))


def _exclusion(
    invoice: Invoice,
    customer: Customer,
    marks: InvoiceMarks,
    as_of: date,
    in_recovery: Collection[str],
) -> tuple[str, str, date | None] | None:
    """(reason, detail, resume date) when the invoice must not be reminded, else None."""
    if marks.dispute:
        return "disputed", "Litige : relances suspendues", None
    if marks.pause_until is not None and marks.pause_until >= as_of:
        return "paused", f"En pause jusqu'au {marks.pause_until:%d/%m/%Y}", marks.pause_until + timedelta(days=1)
    if marks.promise_date is not None and marks.promise_date >= as_of:
        return ("promised", f"Promesse de paiement au {marks.promise_date:%d/%m/%Y}",
                marks.promise_date + timedelta(days=1))
    if customer.direct_debit:
        return "direct_debit", "Client en prélèvement : jamais relancé", None
    if customer.id in in_recovery:
        return "in_recovery", "Client en recouvrement : relances amiables arrêtées", None
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


def _next_step(
    item: _Item,
    customer: Customer,
    scenario: Scenario,
    marks: InvoiceMarks,
    done: _Done,
    as_of: date,
    skips: list[Skip],
) -> tuple[Step, date, int] | None:
    """The first step of the scenario not yet done for this item, with its planned date."""
    invoice = item.invoice
    last_done: date | None = None
    broken = scenario.first("broken_promise")
    if marks.promise_date is not None and marks.promise_date < as_of and broken is not None:
        key = StepKey("invoice", invoice.id, scenario.name, broken.id, marks.promise_date.isoformat())
        when = done.exact.get(key)
        if when is None:
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
        if step.is_courtesy and as_of >= item.due:
            continue  # a notice before the due date makes no sense once it is due
        if step.scope == "invoice" and item.amount.amount < step.min_amount:
            if planned <= as_of:
                skips.append(Skip(invoice.id, customer.id, "under_minimum",
                                  f"{step.label} : {item.amount} sous le minimum de {step.min_amount}",
                                  StepKey("invoice", invoice.id, scenario.name, step.id, item.cycle)))
            continue
        return step, planned, order
    return None


_BILLING_ROLE = re.compile(r"compta|account|billing|factur|boekhoud|financ|payable|tr[ée]sor", re.IGNORECASE)


def _contact_emails(customer: Customer) -> list[str]:
    """When the customer has no address of its own: its billing contacts, else its first contact."""
    with_email = [c for c in customer.contacts if c.email]
    billing = [c.email for c in with_email if _BILLING_ROLE.search(c.role or "")]
    return billing or [c.email for c in with_email[:1]]


def _recipients(customer: Customer, cmarks_email: str, company: CompanySettings) -> tuple[Recipients, list[str]]:
    """E-mail recipients: ``Email relance`` first, else the customer's addresses; invalid ones dropped."""
    raw = split_addresses(cmarks_email) if cmarks_email.strip() else list(customer.emails) or _contact_emails(customer)
    to: list[str] = []
    rejected: list[str] = []
    for address in raw:
        (to if valid_email(address) else rejected).append(address)
    cc: tuple[str, ...] = ()
    if company.cc_salesperson and customer.salesperson_email and valid_email(customer.salesperson_email):
        cc = (customer.salesperson_email,)
    bcc = tuple(a for a in split_addresses(company.bcc) if valid_email(a))
    reply_to = company.reply_to if valid_email(company.reply_to) else ""
    return Recipients(tuple(dict.fromkeys(to)), cc, bcc, reply_to, customer.phone, customer.address), rejected


def _language(customer: Customer, company: CompanySettings) -> str:
    language = (customer.language or "").strip().lower()[:2]
    return language if language in LANGUAGES else (company.language if company.language in LANGUAGES else "fr")


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
    index = _Done(done)
    customers = ledger.customer_index()
    credited = {i.credited_invoice_id for i in ledger.invoices if i.is_credit_note and i.credited_invoice_id}
    paid_on = payment_dates(ledger)
    credits = open_credits(ledger)
    terms = company.payment_terms_days
    candidates: dict[str, list[_Candidate]] = defaultdict(list)
    overdue: dict[str, list[_Item]] = defaultdict(list)  # remindable overdue items, for account-level steps
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
                                         f"Client {invoice.customer_id} inconnu de la source"))
                result.next_actions[invoice.id] = NextAction("Client inconnu : aucune relance", None)
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
                                         f"Statut {invoice.source_status!r} inconnu : jamais relancée"))
                result.next_actions[invoice.id] = NextAction("Statut inconnu : aucune relance", None)
            continue
        excluded = _exclusion(invoice, customer, imarks, as_of, in_recovery)
        if excluded is not None:
            reason, detail, resume = excluded
            result.skips.append(Skip(invoice.id, customer.id, reason, detail))
            result.next_actions[invoice.id] = NextAction(detail, resume)
            continue
        if scenario is None:
            detail = f"Scénario {name!r} inconnu (connus : {', '.join(sorted(scenarios))})"
            result.skips.append(Skip(invoice.id, customer.id, "unknown_scenario", detail))
            result.next_actions[invoice.id] = NextAction(detail, None)
            continue
        item = _items(invoice, plan_lines.get(invoice.id, ()), as_of, terms)
        attributed = tuple(credits[customer.id].attributed.get(invoice.id, ())) if customer.id in credits else ()
        if attributed:
            covered = sum((c.amount for c in attributed), Money.zero(invoice.currency))
            item = replace(item, amount=max(item.amount - covered, Money.zero(invoice.currency)), credits=attributed)
            if item.amount.amount <= 0:
                detail = "Couverte par " + ", ".join(f"{c.reference} ({c.amount})" for c in attributed)
                result.skips.append(Skip(invoice.id, customer.id, "covered", detail))
                result.next_actions[invoice.id] = NextAction(detail, None)
                continue
        if item.due < as_of:
            overdue[customer.id].append(item)
        found = _next_step(item, customer, scenario, imarks, index, as_of, result.skips)
        if found is None:
            result.next_actions[invoice.id] = NextAction(f"{scenario.label} : scénario terminé", None)
            continue
        step, planned, order = found
        result.next_actions[invoice.id] = NextAction(_label(step), planned)
        if planned <= as_of:
            candidates[customer.id].append(_Candidate(item, customer, scenario, step, planned, order, imarks))

    invoice_customer = {i.id: i.customer_id for i in ledger.invoices}
    contacted_today = {
        key.target if key.level == "account" else invoice_customer.get(key.target, "")
        for key, when in done.items()
        if when >= as_of
    }
    balance = ledger.balances()
    for (customer_id, _currency), owed in sorted(balance.items()):
        if owed.amount < 0 and customer_id in customers:
            result.todo.append(_refund_row(customers[customer_id], -owed, as_of))
    for customer_id in sorted(candidates):
        kept = _net(candidates[customer_id], credits.get(customer_id, CustomerCredits()), balance,
                    overdue.get(customer_id, []), result)
        _choose(kept, customers[customer_id], marks, company, as_of, used_approvals,
                customer_id in contacted_today, overdue.get(customer_id, []), credits.get(customer_id), result)
    result.todo.extend(_todo_rows(result.actions))
    return result


def _net(
    found: list[_Candidate],
    held: CustomerCredits,
    balance: Mapping[tuple[str, str], Money],
    overdue: list[_Item],
    result: Plan,
) -> list[_Candidate]:
    """Drop the steps a customer's credits make wrong: nothing when in credit in that currency, no
    reminder when the credits cover the net overdue balance (a thank-you still goes)."""
    kept = []
    for cand in found:
        invoice = cand.item.invoice
        currency = invoice.currency
        if cand.step.when == "paid":
            kept.append(cand)
            continue
        owed = balance.get((invoice.customer_id, currency), Money.zero(currency))
        if owed.amount < 0:
            result.skips.append(Skip(invoice.id, invoice.customer_id, "in_credit",
                                     f"Client créditeur de {-owed} : remboursement à vérifier"))
            result.next_actions[invoice.id] = NextAction("Client créditeur : aucune relance", None)
            continue
        if owed.amount == 0:  # settled by what the customer already paid or was credited: nothing owed
            result.skips.append(Skip(invoice.id, invoice.customer_id, "covered", REASONS_FR["covered"]))
            result.next_actions[invoice.id] = NextAction("Soldé par un paiement ou un avoir : aucune relance", None)
            continue
        overdue_total = sum((i.amount for i in overdue if i.invoice.currency == currency), Money.zero(currency))
        free = held.free_total(currency)
        if not cand.step.is_courtesy and free.amount > 0 and free >= overdue_total:
            result.skips.append(Skip(invoice.id, invoice.customer_id, "covered",
                                     f"Échu couvert par {free} non affecté(s) : aucune relance"))
            result.next_actions[invoice.id] = NextAction("Couverte par un paiement non affecté", None)
            continue
        kept.append(cand)
    return kept


def _refund_row(customer: Customer, credit: Money, as_of: date) -> dict[str, Any]:
    """``À faire``: a customer in credit is checked for a refund, never reminded."""
    return {
        "salesperson": customer.salesperson,
        "date": as_of,
        "action": "Vérifier le remboursement",
        "customer": customer.name,
        "phone": customer.phone,
        "invoices": "",
        "amount": credit.amount,
        "reason": f"Client créditeur de {credit} : rembourser ou imputer, jamais relancer",
    }


def _label(step: Step, channel: str | None = None) -> str:
    shown = CHANNEL_LABELS_FR.get(channel or step.channel, channel or step.channel)
    return step.label if shown.casefold() == step.label.casefold() else f"{step.label} ({shown})"


def _thanks(
    invoice: Invoice,
    customer: Customer,
    scenario: Scenario,
    imarks: InvoiceMarks,
    index: _Done,
    paid_on: Mapping[str, date],
    as_of: date,
    candidates: dict[str, list[_Candidate]],
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
    item = _Item(invoice, "", invoice.effective_due_date(), invoice.total)
    candidates[customer.id].append(_Candidate(item, customer, scenario, step, planned, -2, imarks))


def _is_courtesy(step_id: str, scenario: Scenario) -> bool:
    try:
        return scenario.step(step_id).is_courtesy
    except KeyError:
        return False


def _choose(
    found: list[_Candidate],
    customer: Customer,
    marks: SheetMarks,
    company: CompanySettings,
    as_of: date,
    used_approvals: Collection[str],
    contacted_today: bool,
    overdue: list[_Item],
    held: CustomerCredits | None,
    result: Plan,
) -> None:
    """Group one customer's due steps into actions; at most one step is sendable per day."""
    groups: dict[tuple[str, str, str], list[_Candidate]] = defaultdict(list)
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
                for invoice_id in action.invoice_ids:
                    result.next_actions[invoice_id] = NextAction(
                        f"{_label(action.step, action.channel)} — demain (une seule relance par jour)",
                        as_of + timedelta(days=1)
                    )
                continue
        result.actions.append(action)


def _action(
    members: list[_Candidate],
    customer: Customer,
    currency: str,
    marks: SheetMarks,
    company: CompanySettings,
    as_of: date,
    used_approvals: Collection[str],
    overdue: list[_Item],
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
            result.skips.append(Skip(customer.id, customer.id, "under_minimum",
                                     f"{step.label} : {amount} sous le minimum de {step.min_amount}", level="account"))
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
    recipients, rejected = _recipients(customer, cmarks.reminder_email, company)
    channel = step.channel
    reasons: list[str] = []
    if rejected:
        reasons.append(f"adresse(s) invalide(s) ignorée(s) : {', '.join(rejected)}")
    if channel in ("email", "thanks") and not recipients.to:
        if channel == "thanks":
            result.skips.extend(Skip(k.target, customer.id, "no_contact",
                                     "Remerciement non envoyé : aucune adresse e-mail", k) for k in keys)
            return None
        channel = "call" if customer.phone else "letter"
        instead = "appel à la place" if channel == "call" else "courrier à la place"
        reasons.append(f"aucune adresse e-mail : {instead}")
    if channel in ("letter", "formal_notice") and not customer.address.strip():
        reasons.append("adresse postale inconnue : à compléter sur le courrier")
    needs_approval = step.needs_approval
    if step.ceiling is not None and amount.amount > step.ceiling:
        needs_approval = True
        reasons.append(f"{amount} au-dessus du plafond de {step.ceiling} : à approuver")
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
        language=_language(customer, company),
        salesperson=customer.salesperson or salesperson,
        needs_approval=needs_approval,
        approved=approved,
        reason="; ".join(reasons),
    )


def _deduct(action: PlannedAction, held: CustomerCredits, overdue: list[_Item]) -> PlannedAction:
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


_TODO_ACTION = {
    "call": "Appeler",
    "letter": "Envoyer le courrier",
    "formal_notice": "Envoyer la mise en demeure (recommandé)",
}


def _todo_rows(actions: Iterable[PlannedAction]) -> list[dict[str, Any]]:
    """``À faire`` rows: calls, letters and formal notices to post, approvals waiting."""
    rows: list[dict[str, Any]] = []
    for action in actions:
        if not action.sendable:
            what = f"Approuver : {_label(action.step, action.channel)}"
            detail = "Cocher « À envoyer » sur la facture pour l'envoyer"
        elif action.channel in _TODO_ACTION:
            what = _TODO_ACTION[action.channel]
            detail = action.step.label
        else:
            continue
        if action.reason:
            detail = f"{detail} — {action.reason}"
        rows.append({
            "salesperson": action.salesperson,
            "date": action.planned_date,
            "action": what,
            "customer": action.customer_name,
            "phone": action.recipients.phone,
            "invoices": ", ".join(i.number or i.invoice_id for i in action.items),
            "amount": action.amount.amount,
            "reason": detail,
        })
    rows.sort(key=lambda r: (r["salesperson"].casefold(), r["date"], r["customer"].casefold()))
    return rows


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
