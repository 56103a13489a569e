"""A customer's plan is a pure function of its book, and holds until its first crossing.

``plan_customer`` says on which day its answer may change (``until``); a pass keeps a customer's plan
on the days before (:mod:`encours.sync.plan_memory`).  Checked day by day on generated customers —
promises, pauses, instalments, courtesy notices, thank-yous, steps done, credits, several currencies:
on every day before ``until`` the customer's plan is the one planned; and a plan kept by a reuse
store over weeks of generated days is the plan made from scratch.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encours.connectors.model import Customer, Invoice, Ledger, Money
from encours.scenarios.customer_plan import CustomerBook, CustomerPlan, PlanRules, plan_customer
from encours.scenarios.planner import StepKey, customer_books, plan
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from tests.scenarios.test_planner_properties import situations
from tests.support.reminders import AS_OF, company, shipped

PROFILES = {"C1": "D"}
PROFILE_SCENARIOS = {"D": "firm"}


def _rules() -> PlanRules:
    return PlanRules(shipped(), company(), "standard", PROFILE_SCENARIOS)


def _content(part: CustomerPlan) -> CustomerPlan:
    """What the customer is told and shown: the plan without the days it holds on."""
    return replace(part, planned_on=date.min, until=None)


def _books(ledger: Ledger, marks: SheetMarks, done: dict[StepKey, date]) -> list[CustomerBook]:
    return customer_books(ledger, marks, done=done, profiles=PROFILES, in_recovery=(), used_approvals=())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_a_customer_plan_is_the_same_every_day_until_its_first_crossing(
        situation: tuple[Ledger, SheetMarks, dict[StepKey, date], date]) -> None:
    ledger, marks, done, as_of = situation
    rules = _rules()
    for book in _books(ledger, marks, done):
        first = plan_customer(book, rules, as_of)
        assert first.until is None or first.until > as_of
        last = as_of + timedelta(days=120) if first.until is None else min(first.until, as_of + timedelta(days=120))
        day = as_of + timedelta(days=1)
        while day < last:
            again = plan_customer(book, rules, day)
            assert _content(again) == _content(first), (
                f"{book.customer_id}: planned on {as_of}, said to hold until {first.until}, differs on {day}")
            assert again.until == first.until  # nothing crossed in between: the same first crossing
            day += timedelta(days=1)


def _customer(due: date, *, promise: date | None = None, pause: date | None = None) -> tuple[Ledger, SheetMarks]:
    customer = Customer(id="C1", name="Client 1", source="t", emails=("c1@ex.example",))
    invoice = Invoice(id="I1", number="F1", customer_id="C1", source="t", issue_date=due - timedelta(days=30),
                      due_date=due, total=Money(Decimal("1200.00"), "EUR"), remaining=Money(Decimal("1200.00"), "EUR"))
    marks = SheetMarks(invoices={"I1": InvoiceMarks(promise_date=promise, pause_until=pause)})
    return Ledger((customer,), (invoice,), ()), marks


def test_the_first_crossing_is_the_day_the_customer_would_notice() -> None:
    """Not a day earlier than needed, where the day is plain: the courtesy notice's day, the due date,
    the end of a promise or a pause."""
    rules = _rules()
    due = AS_OF + timedelta(days=20)
    (book,) = _books(*_customer(due), {})
    before_due = plan_customer(book, rules, AS_OF)
    (nxt,) = before_due.next_actions
    assert nxt.label.startswith("Prévenance") and before_due.until == nxt.date  # the courtesy notice falls due
    assert before_due.until is not None
    on_courtesy = plan_customer(book, rules, before_due.until)
    assert [a.step.id for a in on_courtesy.actions] == ["courtesy"]

    promised_until = AS_OF + timedelta(days=9)
    (book,) = _books(*_customer(AS_OF - timedelta(days=40), promise=promised_until), {})
    promised = plan_customer(book, rules, AS_OF)
    assert [s.reason for s in promised.skips] == ["promised"]
    assert promised.until == promised_until + timedelta(days=1)  # the day after the promised date
    broken = plan_customer(book, rules, promised.until)
    assert [a.step.when for a in broken.actions] == ["broken_promise"]

    paused_until = AS_OF + timedelta(days=4)
    (book,) = _books(*_customer(AS_OF - timedelta(days=40), pause=paused_until), {})
    assert plan_customer(book, rules, AS_OF).until == paused_until + timedelta(days=1)


class _Kept:
    """A reuse store in memory: a customer's last book and plan (the dossier's keeps a digest of the
    book in its state file instead)."""

    def __init__(self) -> None:
        self.books: dict[str, tuple[CustomerBook, CustomerPlan]] = {}
        self.reused = 0

    def kept(self, books: list[CustomerBook], as_of: date) -> dict[str, CustomerPlan]:
        found = {}
        for book in books:
            known = self.books.get(book.customer_id)
            if known is not None and known[0] == book and known[1].holds_on(as_of):
                found[book.customer_id] = known[1]
        self.reused += len(found)
        return found

    def planned(self, made: list[tuple[CustomerBook, CustomerPlan]]) -> None:
        self.books.update((book.customer_id, (book, part)) for book, part in made)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations(), st.lists(st.integers(0, 6), min_size=5, max_size=40))
def test_plans_kept_over_weeks_are_the_plans_made_from_scratch(
        situation: tuple[Ledger, SheetMarks, dict[StepKey, date], date], gaps: list[int]) -> None:
    """Passes on generated days (several a day, days missed), the steps of each pass journaled as done:
    the plan with kept customer plans is the plan made from scratch, every pass."""
    ledger, marks, done, as_of = situation
    kept = _Kept()
    day = as_of
    journal = dict(done)
    for gap in gaps:
        day += timedelta(days=gap)
        args = dict(done=journal, company=company(), profiles=PROFILES, profile_scenarios=PROFILE_SCENARIOS)
        fresh = plan(ledger, marks, shipped(), day, **args)  # type: ignore[arg-type]
        reused = plan(ledger, marks, shipped(), day, reuse=kept, **args)  # type: ignore[arg-type]
        assert reused == fresh
        for action in fresh.sendable:
            journal.update((key, day) for key in action.step_keys)
