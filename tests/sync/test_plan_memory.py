"""Kept plans (issue 17: "the plan updated for the customers that changed or whose planned date
arrived"): a pass plans again only the customers whose book changed or whose first crossing came.

Lived, not assumed: two months of a generated dossier (payments arriving, people typing promises,
disputes, pauses and approvals, a pass killed mid-send) where every pass's plan made with the kept
plans is checked equal to the plan made from scratch — and most customers were not planned again.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from encours.connectors.codec import TextMemo
from encours.connectors.model import Ledger, Money, UnallocatedCredit
from encours.scenarios import planner
from encours.scenarios.customer_plan import CustomerBook, CustomerPlan, PlanRules, plan_customer
from encours.scenarios.planner import PlanReuse, StepKey, customer_books
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, PaymentPlanLine, SheetMarks
from encours.sync import pipeline, plan_memory
from encours.sync.plan_memory import DISABLE_ENV, book_digest, plan_from_text, plan_text, rules_digest
from encours.sync.unchanged import DISABLE_ENV as NO_UNCHANGED
from tests.scenarios.test_customer_plan import _customer
from tests.scenarios.test_planner_properties import situations
from tests.support.months import Life
from tests.support.reminders import company, shipped
from tests.sync.test_unchanged_pass import START, dossier, journal, live, one_pass, sheet, write_sources


@dataclass
class Counts:
    books: int = 0
    kept: int = 0
    passes: int = 0


class _Counting:
    """The pass's reuse store, counted."""

    def __init__(self, inner: PlanReuse, counts: Counts) -> None:
        self.inner, self.counts = inner, counts

    def kept(self, books: Sequence[CustomerBook], as_of: date) -> Mapping[str, CustomerPlan]:
        found = self.inner.kept(books, as_of)
        self.counts.books += len(books)
        self.counts.kept += len(found)
        return found

    def planned(self, made: Sequence[tuple[CustomerBook, CustomerPlan]]) -> None:
        self.inner.planned(made)


def checked(monkeypatch: pytest.MonkeyPatch, counts: Counts) -> None:
    """Every plan a pass makes with kept plans is compared with the plan made from scratch."""
    original = planner.plan

    def plan(*args: Any, reuse: PlanReuse | None = None, **kwargs: Any) -> planner.Plan:
        fresh = original(*args, **kwargs)
        if reuse is None:
            return fresh
        counts.passes += 1
        reused = original(*args, reuse=_Counting(reuse, counts), **kwargs)
        assert reused == fresh, f"the plan with kept plans differs on {reused.as_of}"
        return reused

    monkeypatch.setattr(pipeline, "plan", plan)


def test_two_months_of_passes_with_kept_plans_plan_what_planning_from_scratch_plans(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    counts = Counts()
    checked(monkeypatch, counts)
    start = date(2026, 9, 1)
    life = Life(tmp_path, start, customers=120)
    for n in range(60):
        day = start + timedelta(days=n)
        if n == 20:
            life.channel.die_at = life.channel.count + 2  # a pass dies at its second message
        crash = next(iter(life.crashed), None)
        if crash is not None and day == crash + timedelta(days=3):
            with sqlite3.connect(life.config.state_path) as db:
                (reference,) = {r for (r,) in db.execute("SELECT reference FROM journal WHERE state = 'uncertain'")}
            life.settle(day, reference)
        life.live(day)
    sent = [k for k in life.sent_keys() if k[3] == "sent"]
    assert life.crashed and len(sent) > 100 and life.typed, "a life where things happen"
    assert counts.passes >= 60  # each pass plans (twice when it sent something)
    share = counts.kept / counts.books
    print(f"kept {counts.kept} of {counts.books} customer plans over {counts.passes} plans")
    assert 0.5 < share < 1, f"{counts.kept} of {counts.books} customer plans kept"  # most, not all: days pass


def test_everything_the_planner_reads_is_in_a_book_digest() -> None:
    ledger, marks = _customer(date(2026, 11, 1))
    (book,) = customer_books(ledger, marks, done={}, profiles={}, in_recovery=(), used_approvals=())
    rules = rules_digest(PlanRules(shipped(), company()))
    base = book_digest(book, TextMemo(), rules)
    assert book_digest(book, TextMemo(), rules) == base  # the same book, the same digest
    invoice = book.invoices[0]
    assert book.customer is not None
    key = StepKey("invoice", invoice.id, "standard", "reminder_1")
    changed = {
        "customer": replace(book, customer=replace(book.customer, direct_debit=True)),
        "invoice": replace(book, invoices=(replace(invoice, remaining=Money(Decimal("1.00"), "EUR")),)),
        "credit held": replace(book, held=(UnallocatedCredit("P1", "C1", "t", date(2026, 11, 2),
                                                             Money(Decimal("5.00"), "EUR")),)),
        "payment date": replace(book, paid_on=((invoice.id, date(2026, 11, 3)),)),
        "credited": replace(book, credited=frozenset({invoice.id})),
        "invoice marks": replace(book, marks=SheetMarks(invoices={invoice.id: InvoiceMarks(dispute=True)})),
        "customer marks": replace(book, marks=SheetMarks(customers={"C1": CustomerMarks(scenario="firm")})),
        "payment plan": replace(book, marks=SheetMarks(payment_plans=(PaymentPlanLine(invoice.id, date(2026, 12, 1),
                                                                                     Decimal(100)),))),
        "step done": replace(book, done=((key, date(2026, 11, 6)),)),
        "approval used": replace(book, used_approvals=frozenset({invoice.id})),
        "recovery": replace(book, in_recovery=True),
        "profile": replace(book, profile="D"),
    }
    for what, other in changed.items():
        assert book_digest(other, TextMemo(), rules) != base, what
    scenarios = dict(shipped())
    standard = scenarios["standard"]
    later = tuple(replace(s, offset=s.offset + 1) if s.id == "reminder_1" else s for s in standard.steps)
    for what, other_rules in {
        "a step's offset": PlanRules({**scenarios, "standard": replace(standard, steps=later)}, company()),
        "the company": PlanRules(shipped(), replace(company(), payment_terms_days=45)),
        "the default scenario": PlanRules(shipped(), company(), "firm"),
        "a profile's scenario": PlanRules(shipped(), company(), "standard", {"D": "firm"}),
    }.items():
        assert rules_digest(other_rules) != rules, what


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_a_kept_plan_reads_back_as_it_was_planned(situation: tuple[Ledger, SheetMarks, dict[StepKey, date],
                                                                    date]) -> None:
    """Items name their invoice and steps their id: read back against the same book, the same plan."""
    ledger, marks, done, as_of = situation
    rules = PlanRules(shipped(), company(), "standard", {"D": "firm"})
    for book in customer_books(ledger, marks, done=done, profiles={"C1": "D"}, in_recovery=(),
                               used_approvals=frozenset(i.id for i in ledger.invoices[::3])):
        part = plan_customer(book, rules, as_of)
        assert plan_from_text(plan_text(part), book, rules.scenarios) == part


def test_a_kept_plan_is_read_back_by_the_next_pass_and_a_damaged_one_is_planned_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    monkeypatch.setenv(NO_UNCHANGED, "1")  # each pass plans (no unchanged-pass record)
    counts = Counts()
    checked(monkeypatch, counts)
    config = dossier(tmp_path)
    one_pass(config, START, 9)  # sends what is due; its customers planned again after
    with sqlite3.connect(config.state_path) as db:
        kept = db.execute("SELECT count(*) FROM customer_plans").fetchone()[0]
    assert kept == 6  # every customer's plan is in the state file
    counts.books = counts.kept = 0
    one_pass(config, START, 11)  # a new process would read the same rows
    assert counts.kept == counts.books == 6
    with sqlite3.connect(config.state_path) as db:
        db.execute("UPDATE customer_plans SET plan = '{\"broken' WHERE customer_id = 'C1'")
        db.execute("UPDATE customer_plans SET plan = '{}' WHERE customer_id = 'C2'")
    counts.books = counts.kept = 0
    one_pass(config, START, 12)
    assert (counts.books, counts.kept) == (6, 4)  # the two damaged plans made again, checked equal
    write_sources(tmp_path, paid={"F0003"})  # C3 paid an invoice
    counts.books = counts.kept = 0
    one_pass(config, START, 14)
    assert (counts.books, counts.kept) == (6, 5)
    gc.collect()
    assert len(plan_memory._MEMORIES) == 0  # gone with each pass's store: a daemon holds no dossier's plans


def test_with_and_without_kept_plans_a_week_of_passes_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the customer and the team see: reports, journal, outbox, sheet — with and without."""
    monkeypatch.setenv(DISABLE_ENV, "1")
    fresh, _, without = live(tmp_path / "fresh", monkeypatch, records=False)
    monkeypatch.delenv(DISABLE_ENV)
    kept, _, with_plans = live(tmp_path / "kept", monkeypatch, records=False)
    assert kept == fresh
    assert journal(with_plans) == journal(without)
    for tab in ("Factures", "Relances", "À faire"):
        assert sheet(with_plans, tab) == sheet(without, tab), tab
