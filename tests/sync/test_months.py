"""Four months of real life (issue 12.3): one pass a day over a generated ledger of 240 customers
(EUR, GBP, USD; every payer behaviour; payments arriving; people typing promises, disputes,
pauses and approvals; one pass killed between sending and recording) — escalation is never stuck."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, timedelta

import pytest

from encours.scenarios.loader import load_scenarios
from encours.sync.window import is_business_day
from tests.support.months import Life

START = date(2026, 9, 1)
DAYS = 120
END = START + timedelta(days=DAYS - 1)
CRASH_DAY = START + timedelta(days=22)  # a Wednesday


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Life:
    lived = Life(tmp_path_factory.mktemp("months"), START)
    for n in range(DAYS):
        day = START + timedelta(days=n)
        if day == CRASH_DAY:
            lived.channel.die_at = lived.channel.count + 2  # dies at the day's second message
        crash = next(iter(lived.crashed), None)
        if crash is not None and day == crash + timedelta(days=5):  # a person checks the outbox, confirms
            with sqlite3.connect(lived.config.state_path) as db:
                (reference,) = {r for (r,) in db.execute("SELECT reference FROM journal WHERE state = 'uncertain'")}
            lived.settle(day, reference)
        lived.live(day)
    return lived


def rows(life: Life) -> list[tuple[str, str, str, str, date, str]]:
    return list(life.sent_keys())


def events(life: Life) -> list[tuple[str, str, str]]:
    with sqlite3.connect(life.config.state_path) as db:
        return list(db.execute("SELECT at, keys, state FROM journal_events ORDER BY seq"))


def test_every_pass_ran_and_every_kind_of_message_went(life: Life) -> None:
    assert len(life.crashed) == 1 and CRASH_DAY <= next(iter(life.crashed)) < CRASH_DAY + timedelta(days=7)
    assert len(life.reports) == DAYS - 1
    steps: defaultdict[str, int] = defaultdict(int)
    for _, _, step, state, _, _ in rows(life):
        if state == "sent":
            steps[step] += 1
    for step in ("courtesy", "reminder_1", "reminder_2", "call", "statement", "letter", "formal_notice",
                 "promise_broken", "thanks"):
        assert steps[step] > 0, f"no {step} in four months: {dict(steps)}"


def first_open(day: date) -> date:
    while not is_business_day(day, "FR"):
        day += timedelta(days=1)
    return day


def test_a_customer_who_never_pays_reaches_each_step_on_its_planned_day(life: Life) -> None:
    """Each step goes on its planned day: its offset, or its usual gap after the step before it was
    actually sent (a weekend moves a step to Monday, and the next keeps its gap), on a business day;
    a step waiting for approval goes once approved."""
    scenarios = load_scenarios()
    sent = {(level, target, key): day for level, target, key, state, day, _ in rows(life) if state == "sent"}
    account: defaultdict[tuple[str, str], list[date]] = defaultdict(list)
    for (level, target, key), day in sent.items():
        if level == "account":
            account[(target, key)].append(day)
    checked = exact = 0
    for invoice in life.ledger().invoices:
        if life.behaviour[invoice.customer_id] != "never" or invoice.due_date is None:
            continue
        if invoice.due_date < START + timedelta(days=8):
            continue  # steps missed before the first pass are caught up with their gaps: not "on the day"
        scenario = scenarios[life.scenario[invoice.customer_id]]
        previous: tuple[date, date] | None = None  # (nominal, day sent) of the step before
        for step in scenario.schedule:
            if step.base == "due":
                nominal = invoice.due_date + timedelta(days=step.offset)
                gap = (nominal - previous[0]) if previous else timedelta(0)
            else:
                assert previous is not None
                nominal, gap = previous[0] + timedelta(days=step.offset), timedelta(days=step.offset)
            planned = max(nominal, previous[1] + gap) if previous else nominal
            if planned + timedelta(days=6) > END:
                break
            if step.scope == "account":
                days = [d for d in account[(invoice.customer_id, step.id)] if d > invoice.due_date]
                assert days, f"{invoice.id} ({scenario.name}) never got {step.id} planned {planned}"
                day = min(days)
            else:
                found = sent.get(("invoice", invoice.id, step.id))
                assert found is not None, f"{invoice.id} ({scenario.name}) stuck before {step.id} planned {planned}"
                day = found
            assert is_business_day(day, "FR"), f"{step.id} of {invoice.id} sent on a closed day {day}"
            if not step.needs_approval and step.scope == "invoice":  # approval waits for the person
                assert first_open(planned) <= day <= first_open(planned) + timedelta(days=3), (
                    f"{step.id} of {invoice.id} planned {planned}, sent {day}")
                exact += day == first_open(planned)
                checked += 1
            previous = (nominal, day)
    assert checked > 60
    assert exact >= checked * 9 // 10, f"only {exact} of {checked} steps went on their planned day"


def test_no_key_is_sent_twice_nor_planned_once_sent(life: Life) -> None:
    sent_at: dict[str, str] = {}
    for at, keys, state in events(life):
        for key in keys.split():
            if state == "planned":
                assert key not in sent_at, f"{key} planned again on {at}, sent on {sent_at[key]}"
            if state == "sent":
                assert key not in sent_at, f"{key} sent twice"
                sent_at[key] = at
    for report in life.reports.values():
        assert not any("again" in o.detail for o in report.failed + report.skipped), report.lines()


def test_never_a_reminder_after_payment_dispute_pause_promise_or_for_direct_debit(life: Life) -> None:
    typed = defaultdict(list)
    for day, invoice_id, mark, value in life.typed:
        typed[invoice_id].append((day, mark, value))
    customers = {c.id: c for c in life.ledger().customers}
    checked = 0
    for level, target, step, state, day, customer_id in rows(life):
        if state != "sent" or level != "invoice" or step == "thanks":
            continue
        checked += 1
        assert not customers[customer_id].direct_debit, f"{step} to direct-debit {customer_id}"
        paid = life.paid.get(target)
        assert paid is None or day < paid, f"{step} for {target} on {day}, paid {paid}"
        for when, mark, value in typed[target]:
            if mark == "dispute":
                assert day < when, f"{step} for disputed {target} on {day}"
            if mark == "pause_until":
                assert not when <= day <= value, f"{step} for {target} paused until {value}, on {day}"
            if mark == "promise_date":
                assert not when <= day <= value, f"{step} for {target} promised for {value}, on {day}"
            if mark == "promise_date" and step == "promise_broken":
                assert day > value, f"promise broken for {target} on {day}, promised {value}"
    assert checked > 500


def test_thanks_only_after_a_real_reminder(life: Life) -> None:
    scenarios = load_scenarios()
    reminded = defaultdict(list)
    thanked = {}
    for level, target, step, state, day, customer_id in rows(life):
        if state == "sent" and level == "invoice":
            if step == "thanks":
                thanked[target] = day
            elif not scenarios[life.scenario[customer_id]].step(step).is_courtesy:
                reminded[target].append(day)
    assert len(thanked) > 20
    for target, day in thanked.items():
        assert reminded[target] and min(reminded[target]) < day, f"thanks to {target} never reminded"
        assert target in life.paid and life.paid[target] <= day


def test_account_level_steps_reach_each_currency(life: Life) -> None:
    both = [cid for cid, b in life.behaviour.items() if b == "never" and int(cid[1:]) % 11 == 5]
    assert both
    with sqlite3.connect(life.config.state_path) as db:
        for cid in both:
            currencies = {c for (c,) in db.execute(
                "SELECT currency FROM journal WHERE level = 'account' AND target = ? AND state = 'sent'", (cid,))}
            assert currencies == {"EUR", "GBP"}, (cid, currencies)


def test_approvals_wait_for_the_person(life: Life) -> None:
    approved = {iid: day for day, iid, mark, value in life.typed if mark == "approve"}
    notices = [(target, day) for level, target, step, state, day, _ in rows(life)
               if state == "sent" and step == "formal_notice"]
    assert len(notices) > 5
    for target, day in notices:
        assert target in approved and approved[target] <= day, f"formal notice for {target} went unapproved"


def test_an_uncertain_send_blocks_until_a_person_confirms(life: Life) -> None:
    (reference,) = life.confirmed.values()
    history = [(at[:10], state) for at, keys, state in events(life) if state != "planned"
               and any(k for k in keys.split())]
    with sqlite3.connect(life.config.state_path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM journal WHERE reference = ?", (reference,))]
        states = [s for (s,) in db.execute("SELECT state FROM journal WHERE reference = ?", (reference,))]
        sends = db.execute("SELECT COUNT(*) FROM journal_events WHERE reference = ? AND state = 'sending'",
                           (reference,)).fetchone()[0]
    assert keys and set(states) == {"sent"}
    assert sends == 1, "the uncertain message was sent again"
    assert history
    outbox = list((life.folder / "outbox").glob("*"))
    assert len(outbox) > 500
