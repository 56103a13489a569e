"""Customers' plans kept between passes: a pass plans again only the customers something happened to
(issue 17, "the plan updated for the invoices and customers that changed or whose planned date arrived").

A customer's plan is a pure function of its book and the dossier's rules on a day, and holds from the
day it was planned until its first crossing (:mod:`encours.scenarios.customer_plan`).  So each pass
that plans keeps, per customer, the digest of the book it planned from (its records' stored texts,
its marks in the sheet, the steps the journal holds as done for it, its approvals used, recovery,
payer profile) together with the rules' digest (scenarios, company settings, encours's own code),
the day planned, the first crossing and the plan (table ``customer_plans``).  The next pass takes a
customer's kept plan when its book has that digest and the day lies before the crossing; every
other customer — a payment arrived, a person typed a promise, a reminder was sent, a step fell
due — is planned again.

A kept plan is never trusted beyond its digest: any difference in what the planner would read, or in
encours's code, plans the customer again; a row that cannot be read is planned again too.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from encours.connectors import codec
from encours.connectors.codec import TextMemo
from encours.connectors.model import Invoice, Money
from encours.scenarios.actions import ActionItem, PlannedAction, Recipients, Skip, StepKey
from encours.scenarios.credits import Credit
from encours.scenarios.customer_plan import CustomerBook, CustomerPlan, InvoiceNext, PlanRules
from encours.scenarios.loader import Scenario
from encours.sync.state import StateStore
from encours.sync.unchanged import code_stamp

#: Bump when what a kept plan holds, or what its digest covers, changes.
FORMAT = "4"
#: An environment variable that turns kept plans off: every customer planned on every pass.
DISABLE_ENV = "ENCOURS_NO_PLAN_MEMORY"


def rules_digest(rules: PlanRules) -> str:
    """What every customer's plan shares: the scenarios (their steps, not their templates: a plan
    names steps, it renders nothing), the company's settings, the default and profile scenarios, and
    encours's code."""
    parts = (FORMAT, code_stamp(), sorted(rules.scenarios.items()), rules.company, rules.default_scenario,
             sorted(rules.profile_scenarios.items()))
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


def book_digest(book: CustomerBook, texts: TextMemo, rules: str) -> str:
    """The digest of everything the planner reads about the customer: its records by their JSON text
    (the state file's own, for records read from it), the rest by its ``repr``, in a fixed order."""
    text = texts.text
    marks = book.marks
    rest = (book.customer_id, book.paid_on, sorted(book.credited), sorted(marks.invoices.items()),
            sorted(marks.customers.items()), marks.payment_plans, book.done, sorted(book.used_approvals),
            book.in_recovery, book.profile)
    parts = [rules, f"C{len(book.invoices)}:{len(book.held)}", "-" if book.customer is None else text(book.customer),
             *map(text, book.invoices), *map(text, book.held), repr(rest)]
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=20).hexdigest()  # JSON text has no NUL


@dataclass
class _Row:
    book: str
    planned_on: date
    until: date | None
    text: str | None = None
    plan: CustomerPlan | None = None


class PlanMemory:
    """The kept plans of one dossier (:class:`~encours.scenarios.planner.PlanReuse` over its state
    file).  ``kept`` reads them once per store; plans made are kept in memory at once (the pass's
    second plan, after sending, reuses them) and written by :meth:`save`."""

    def __init__(self, store: StateStore, rules: PlanRules, digest: str) -> None:
        """``digest``: :func:`rules_digest` of the ``rules`` the plans are made under.  The store is held
        weakly: a memory lives as long as its store (a daemon's passes each open their own)."""
        self._store: StateStore = weakref.proxy(store)
        self._scenarios = rules.scenarios
        self._rules = digest
        self._rows: dict[str, _Row] | None = None
        self._digests: dict[str, str] = {}  # customer id → digest of the book last asked about
        self._unsaved: set[str] = set()
        self._seen: set[str] = set()
        self.reused = 0
        self.replanned = 0

    def _known(self) -> dict[str, _Row]:
        if self._rows is None:
            self._rows = {cid: _Row(book, date.fromisoformat(on), None if until is None else date.fromisoformat(until),
                                    text)
                          for cid, book, on, until, text in self._store.db.execute(
                              "SELECT customer_id, book, planned_on, until, plan FROM customer_plans")}
        return self._rows

    def kept(self, books: Sequence[CustomerBook], as_of: date) -> Mapping[str, CustomerPlan]:
        rows = self._known()
        texts = self._store.texts
        found: dict[str, CustomerPlan] = {}
        to_decode: list[tuple[CustomerBook, _Row]] = []
        for book in books:
            digest = book_digest(book, texts, self._rules)
            self._digests[book.customer_id] = digest
            self._seen.add(book.customer_id)
            row = rows.get(book.customer_id)
            if row is None or row.book != digest or row.planned_on > as_of or (row.until is not None
                                                                               and as_of >= row.until):
                continue
            if row.plan is not None:
                found[book.customer_id] = row.plan
            else:
                to_decode.append((book, row))
        for book, row in to_decode:
            try:
                part = plan_from_text(row.text or "", book, self._scenarios)
            except (ValueError, KeyError, TypeError, IndexError):  # a damaged row: planned again
                continue
            row.plan, row.text = part, None
            found[book.customer_id] = part
        self.reused += len(found)
        return found

    def planned(self, made: Sequence[tuple[CustomerBook, CustomerPlan]]) -> None:
        rows = self._known()
        texts = self._store.texts
        for book, part in made:
            digest = self._digests.get(book.customer_id) or book_digest(book, texts, self._rules)
            rows[book.customer_id] = _Row(digest, part.planned_on, part.until, None, part)
            self._unsaved.add(book.customer_id)
        self.replanned += len(made)

    def save(self) -> None:
        """Write the plans made since the last save (and forget the customers no pass sees any more)."""
        rows = self._known()
        gone = [cid for cid in rows if cid not in self._seen] if self._seen else []
        if not self._unsaved and not gone:
            return
        written = []
        for cid in sorted(self._unsaved):
            row = rows[cid]
            assert row.plan is not None
            written.append((cid, row.book, row.planned_on.isoformat(),
                            None if row.until is None else row.until.isoformat(), plan_text(row.plan)))
        with self._store.transaction() as db:
            db.executemany("INSERT INTO customer_plans (customer_id, book, planned_on, until, plan) "
                           "VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET book = excluded.book, "
                           "planned_on = excluded.planned_on, until = excluded.until, plan = excluded.plan", written)
            db.executemany("DELETE FROM customer_plans WHERE customer_id = ?", ((cid,) for cid in gone))
        for cid in gone:
            del rows[cid]
        self._unsaved.clear()


# -- a kept plan as text ----------------------------------------------------------------------------
# Read back on every pass for most customers, so written compactly: an action's items name their
# invoice (its number, dates, total and remaining are the book's own, which the digest says are the
# same), its step is named by id in its scenario (the rules' digest says the scenarios are the same).

def plan_text(part: CustomerPlan) -> str:
    """The kept plan of a customer as JSON text (:func:`plan_from_text` reads it back)."""
    return json.dumps([
        part.customer_id, part.planned_on.isoformat(), None if part.until is None else part.until.isoformat(),
        [[n.invoice_id, n.label, None if n.date is None else n.date.isoformat()] for n in part.next_actions],
        [_action_data(a) for a in part.actions],
        codec.to_jsonable(part.skips), codec.to_jsonable(part.late_skips),
        [[str(m.amount), m.currency] for m in part.refunds],
    ], ensure_ascii=False, separators=(",", ":"))


def _action_data(action: PlannedAction) -> list[Any]:
    items = [[i.invoice_id, i.due_date.isoformat(), str(i.amount.amount), i.cycle,
              [[d.isoformat(), str(m.amount)] for d, m in i.instalments]] for i in action.items]
    keys = [[k.level, k.target, k.scenario, k.step, k.cycle] for k in action.step_keys]
    return [action.scenario, action.step.id, action.channel, action.planned_date.isoformat(), action.currency,
            str(action.amount.amount), items, keys, codec.to_jsonable(action.recipients), action.language,
            action.salesperson, action.needs_approval, action.approved, action.reason,
            codec.to_jsonable(action.credits), None if action.gross is None else str(action.gross.amount),
            action.customer_name]


def plan_from_text(text: str, book: CustomerBook, scenarios: Mapping[str, Scenario]) -> CustomerPlan:
    """The kept plan :func:`plan_text` wrote, its items' invoices taken from ``book``; raises
    ValueError (or KeyError, TypeError) when the text does not read as one."""
    cid, on, until, nexts, actions, skips, late, refunds = json.loads(text)
    if cid != book.customer_id:
        raise ValueError(f"a kept plan of {cid!r} filed under {book.customer_id!r}")
    invoices = {i.id: i for i in book.invoices}
    return CustomerPlan(
        customer_id=cid, planned_on=date.fromisoformat(on), until=None if until is None else date.fromisoformat(until),
        actions=tuple(_action(a, invoices, scenarios, cid) for a in actions),
        skips=tuple(codec.from_jsonable(Skip, s) for s in skips),
        late_skips=tuple(codec.from_jsonable(Skip, s) for s in late),
        next_actions=tuple(InvoiceNext(i, label, None if d is None else date.fromisoformat(d))
                           for i, label, d in nexts),
        refunds=tuple(Money(Decimal(a), c) for a, c in refunds),
    )


def _money(text: str, currency: str, known: Money) -> Money:
    return known if known.currency == currency and str(known.amount) == text else Money(Decimal(text), currency)


def _action(data: list[Any], invoices: Mapping[str, Invoice], scenarios: Mapping[str, Scenario],
            customer_id: str) -> PlannedAction:
    (scenario, step, channel, planned, currency, amount, items, keys, recipients, language, salesperson,
     needs_approval, approved, reason, credits, gross, name) = data
    built = []
    for invoice_id, due, asked, cycle, parts in items:
        invoice = invoices[invoice_id]
        built.append(ActionItem(
            invoice_id, invoice.number, invoice.issue_date, date.fromisoformat(due), invoice.total, invoice.remaining,
            _money(asked, invoice.currency, invoice.remaining), cycle, invoice.pdf_url,
            tuple((date.fromisoformat(d), Money(Decimal(m), invoice.currency)) for d, m in parts)))
    return PlannedAction(
        customer_id=customer_id, customer_name=name, scenario=scenario, step=scenarios[scenario].step(step),
        channel=channel, planned_date=date.fromisoformat(planned), currency=currency,
        amount=Money(Decimal(amount), currency), items=tuple(built),
        step_keys=tuple(StepKey("account" if level == "account" else "invoice", *parts) for level, *parts in keys),
        recipients=codec.from_jsonable(Recipients, recipients), language=language, salesperson=salesperson,
        needs_approval=needs_approval, approved=approved, reason=reason,
        credits=tuple(codec.from_jsonable(Credit, c) for c in credits),
        gross=None if gross is None else Money(Decimal(gross), currency),
    )


_MEMORIES: weakref.WeakKeyDictionary[StateStore, dict[str, PlanMemory]] = weakref.WeakKeyDictionary()


def memory_for(store: StateStore, rules: PlanRules) -> PlanMemory:
    """The dossier's kept plans for these rules, one per open store (the pass plans twice when it
    sent something: the second plan reuses what the first made), gone with the store."""
    memories = _MEMORIES.setdefault(store, {})
    digest = rules_digest(rules)
    if digest not in memories:
        memories[digest] = PlanMemory(store, rules, digest)
    return memories[digest]


def enabled() -> bool:
    """Kept plans are used unless ``ENCOURS_NO_PLAN_MEMORY`` is set (tests comparing with and without)."""
    return not os.environ.get(DISABLE_ENV)
