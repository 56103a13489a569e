"""The plan a user would see for one as-of date: which step, which invoices, and why not the others."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from encours.connectors.model import Allocation, Invoice, InvoiceStatus, Money, Payment
from encours.scenarios.planner import Plan, PlannedAction, StepKey, plan, recheck
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, PaymentPlanLine, SheetMarks
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped


def run(led, marks: SheetMarks | None = None, *, done=None, as_of: date = AS_OF, **kwargs) -> Plan:
    return plan(led, marks or SheetMarks(), shipped(), as_of, done=done or {}, company=company(), **kwargs)


def steps(result: Plan) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(a.customer_id, a.step.id, a.invoice_ids) for a in result.actions]


def key(iid: str, step: str, scenario: str = "standard", cycle: str = "") -> StepKey:
    return StepKey("invoice", iid, scenario, step, cycle)


def days_ago(n: int) -> date:
    return AS_OF - timedelta(days=n)


# -- the course of the standard scenario ----------------------------------------------------------
def test_courtesy_notice_goes_five_days_before_the_due_date() -> None:
    result = run(ledger(invoice("I1", -5)))
    assert steps(result) == [("C1", "courtesy", ("I1",))]
    assert result.actions[0].sendable
    assert result.next_actions["I1"].label.startswith("Prévenance")


def test_nothing_due_yet_shows_the_next_action_and_its_date() -> None:
    result = run(ledger(invoice("I1", -6)))
    assert result.actions == []
    assert result.next_actions["I1"].date == AS_OF + timedelta(days=1)
    assert result.run_columns["I1"] == {"next_action": result.next_actions["I1"].label,
                                        "next_action_date": AS_OF + timedelta(days=1)}


def test_courtesy_notice_is_passed_over_once_the_invoice_is_due() -> None:
    result = run(ledger(invoice("I1", 3)))
    assert result.actions == []
    assert result.next_actions["I1"].label.startswith("Relance 1")
    assert result.next_actions["I1"].date == AS_OF + timedelta(days=2)


def test_missed_days_are_caught_up_one_step_at_a_time() -> None:
    # 60 days late and never reminded: the first reminder goes, not the formal notice.
    result = run(ledger(invoice("I1", 60)))
    assert steps(result) == [("C1", "reminder_1", ("I1",))]


@pytest.mark.parametrize(("reminded_days_ago", "due_now"), [(10, True), (11, True), (5, False)])
def test_after_a_late_step_the_next_keeps_its_usual_gap(reminded_days_ago: int, due_now: bool) -> None:
    result = run(ledger(invoice("I1", 60)), done={key("I1", "reminder_1"): days_ago(reminded_days_ago)})
    assert bool(result.actions) is due_now
    if due_now:
        assert result.actions[0].step.id == "reminder_2"
    else:
        assert result.next_actions["I1"].date == days_ago(reminded_days_ago) + timedelta(days=10)


def test_a_finished_scenario_plans_nothing() -> None:
    done = {key("I1", s): days_ago(100 - 10 * n) for n, s in
            enumerate(["reminder_1", "reminder_2", "call", "formal_notice"])}
    done[StepKey("account", "C1", "standard", "statement", "x")] = days_ago(60)
    result = run(ledger(invoice("I1", 120)), done=done)
    assert result.actions == []
    assert "terminé" in result.next_actions["I1"].label


# -- grouping and one step per customer --------------------------------------------------------------
def test_invoices_of_one_customer_step_and_currency_make_one_message() -> None:
    led = ledger(invoice("I1", 20, "100.00"), invoice("I2", 8, "250.50"), invoice("I3", 9, "80.00", currency="USD"))
    result = run(led)
    by_currency = {a.currency: a for a in result.actions}
    assert set(by_currency) == {"EUR", "USD"}
    assert by_currency["EUR"].invoice_ids == ("I1", "I2")
    assert by_currency["EUR"].amount == Money(Decimal("350.50"))
    assert by_currency["USD"].invoice_ids == ("I3",)
    assert {a.step.id for a in result.actions} == {"reminder_1"}
    assert len(by_currency["EUR"].step_keys) == 2


def test_at_most_one_step_per_customer_per_run() -> None:
    led = ledger(invoice("I1", 60), invoice("I2", 8))
    result = run(led, done={key("I1", "reminder_1"): days_ago(30)})
    sendable = [a for a in result.actions if a.sendable]
    assert len({(a.scenario, a.step.id) for a in sendable}) == 1
    deferred = [i for i in ("I1", "I2") if i not in sendable[0].invoice_ids]
    assert result.next_actions[deferred[0]].date == AS_OF + timedelta(days=1)


def test_a_customer_reminded_today_gets_nothing_more_today() -> None:
    led = ledger(invoice("I1", 60), invoice("I2", 8))
    result = run(led, done={key("I1", "reminder_1"): AS_OF})
    assert [a for a in result.actions if a.sendable] == []


def test_customers_are_planned_independently() -> None:
    led = ledger(invoice("I1", 8), invoice("I2", 8, customer_id="C2"))
    assert sorted(c for c, _, _ in steps(run(led))) == ["C1", "C2"]


# -- exclusions, each with its reason --------------------------------------------------------------
@pytest.mark.parametrize(
    ("marks", "reason"),
    [
        (InvoiceMarks(dispute=True), "disputed"),
        (InvoiceMarks(pause_until=AS_OF), "paused"),
        (InvoiceMarks(pause_until=AS_OF + timedelta(days=10)), "paused"),
        (InvoiceMarks(promise_date=AS_OF + timedelta(days=3)), "promised"),
        (InvoiceMarks(promise_date=AS_OF), "promised"),
    ],
)
def test_marks_in_the_sheet_stop_reminders_with_the_reason(marks: InvoiceMarks, reason: str) -> None:
    result = run(ledger(invoice("I1", 20)), SheetMarks(invoices={"I1": marks}))
    assert result.actions == []
    assert [(s.target, s.reason) for s in result.skips] == [("I1", reason)]
    assert result.next_actions["I1"].label == result.skips[0].detail


def test_a_pause_in_the_past_no_longer_stops_reminders() -> None:
    result = run(ledger(invoice("I1", 20)), SheetMarks(invoices={"I1": InvoiceMarks(pause_until=days_ago(1))}))
    assert steps(result) == [("C1", "reminder_1", ("I1",))]


def test_direct_debit_customers_and_customers_in_recovery_are_never_reminded() -> None:
    led = ledger(invoice("I1", 20), invoice("I2", 20, customer_id="C2"),
                 customers=(customer("C1", direct_debit=True), customer("C2")))
    result = run(led, in_recovery={"C2"})
    assert result.actions == []
    assert {(s.target, s.reason) for s in result.skips} == {("I1", "direct_debit"), ("I2", "in_recovery")}


@pytest.mark.parametrize(
    ("status", "remaining"),
    [(InvoiceStatus.PAID, "0"), (InvoiceStatus.CANCELLED, "0"), (InvoiceStatus.DELETED, "0"),
     (InvoiceStatus.UNKNOWN, "1000.00"), (InvoiceStatus.DRAFT, "1000.00"), (InvoiceStatus.OPEN, "0")],
)
def test_closed_or_unknown_invoices_are_never_reminded(status: InvoiceStatus, remaining: str) -> None:
    result = run(ledger(invoice("I1", 20, remaining=remaining, status=status)),
                 done={key("I1", "reminder_1"): days_ago(15)})
    assert [a for a in result.actions if a.step.when != "paid"] == []


def test_an_unknown_status_is_shown_with_its_reason() -> None:
    result = run(ledger(invoice("I1", 20, status=InvoiceStatus.UNKNOWN, source_status="weird")))
    assert [s.reason for s in result.skips] == ["unknown_status"]
    assert "weird" in result.skips[0].detail


def test_a_credit_note_is_never_reminded() -> None:
    from encours.connectors.model import DocumentKind

    result = run(ledger(invoice("A1", 20, kind=DocumentKind.CREDIT_NOTE)))
    assert result.actions == []


def test_a_step_under_its_minimum_amount_is_passed_over_with_the_reason() -> None:
    # The formal notice needs at least 50: a 30 euro invoice finishes its scenario without one.
    done = {key("I1", s): days_ago(70 - 10 * n) for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    done[StepKey("account", "C1", "standard", "statement", "x")] = days_ago(20)
    result = run(ledger(invoice("I1", 60, "30.00")), done=done)
    assert result.actions == []
    assert [(s.reason, s.step_key.step if s.step_key else "") for s in result.skips] == [
        ("under_minimum", "formal_notice")]


# -- scenario choice ---------------------------------------------------------------------------------
def test_scenario_column_on_factures_wins_then_clients_then_profile_then_default() -> None:
    led = ledger(invoice("I1", 2), invoice("I2", 2, customer_id="C2"), invoice("I3", 2, customer_id="C3"),
                 invoice("I4", 2, customer_id="C4"))
    marks = SheetMarks(invoices={"I1": InvoiceMarks(scenario="Firm")},
                       customers={"C1": CustomerMarks(scenario="gentle"), "C2": CustomerMarks(scenario="firm")})
    result = run(led, marks, profiles={"C3": "D", "C1": "A"}, profile_scenarios={"D": "firm", "A": "gentle"})
    chosen = {a.customer_id: a.scenario for a in result.actions}
    # firm reminds 1 day after the due date; standard waits 5 days.
    assert chosen == {"C1": "firm", "C2": "firm", "C3": "firm"}
    assert result.next_actions["I4"].date == AS_OF + timedelta(days=3)


def test_an_unknown_scenario_in_the_sheet_is_reported_not_guessed() -> None:
    result = run(ledger(invoice("I1", 20)), SheetMarks(invoices={"I1": InvoiceMarks(scenario="brutal")}))
    assert result.actions == []
    assert [s.reason for s in result.skips] == ["unknown_scenario"]
    assert "brutal" in result.skips[0].detail


# -- payment plans, promises, thanks ------------------------------------------------------------------
def test_a_payment_plan_replaces_the_due_date_with_its_instalments() -> None:
    lines = (PaymentPlanLine("I1", days_ago(10), Decimal("300")), PaymentPlanLine("I1", AS_OF + timedelta(days=20),
             Decimal("300")), PaymentPlanLine("I1", AS_OF + timedelta(days=50), Decimal("400")))
    result = run(ledger(invoice("I1", 90, "1000.00")), SheetMarks(payment_plans=lines))
    (action,) = result.actions
    assert action.step.id == "reminder_1"
    assert action.amount == Money(Decimal("300.00"))
    assert action.items[0].due_date == days_ago(10)
    assert action.step_keys == (key("I1", "reminder_1", cycle=days_ago(10).isoformat()),)


def test_a_paid_instalment_moves_the_plan_to_the_next_one() -> None:
    lines = (PaymentPlanLine("I1", days_ago(10), Decimal("300")),
             PaymentPlanLine("I1", AS_OF + timedelta(days=5), Decimal("700")))
    result = run(ledger(invoice("I1", 90, "1000.00", remaining="700.00")), SheetMarks(payment_plans=lines),
                 done={key("I1", "reminder_1", cycle=days_ago(10).isoformat()): days_ago(5)})
    (action,) = result.actions
    assert action.step.id == "courtesy"
    assert action.amount == Money(Decimal("700.00"))


def test_a_broken_promise_runs_its_dedicated_step_then_the_scenario_resumes() -> None:
    marks = SheetMarks(invoices={"I1": InvoiceMarks(promise_date=days_ago(2))})
    done = {key("I1", "reminder_1"): days_ago(20)}
    result = run(ledger(invoice("I1", 30)), marks, done=done)
    (action,) = result.actions
    assert action.step.id == "promise_broken"
    assert action.step_keys == (key("I1", "promise_broken", cycle=days_ago(2).isoformat()),)
    done[action.step_keys[0]] = days_ago(1)
    resumed = run(ledger(invoice("I1", 30)), marks, done=done, as_of=AS_OF + timedelta(days=10))
    assert [a.step.id for a in resumed.actions] == ["reminder_2"]


def test_a_broken_promise_reminded_under_another_scenario_is_not_reminded_again() -> None:
    """The promise's reminder went while the invoice followed "firm"; its payer's profile (or the sheet)
    now says "standard": the same broken promise gets no second reminder."""
    marks = SheetMarks(invoices={"I1": InvoiceMarks(promise_date=days_ago(2))})
    done = {key("I1", "reminder_1"): days_ago(20),
            key("I1", "promise_broken", "firm", cycle=days_ago(2).isoformat()): days_ago(1)}
    result = run(ledger(invoice("I1", 30)), marks, done=done)
    assert "promise_broken" not in [a.step.id for a in result.actions]


def _paid(days: int) -> tuple[Invoice, Payment]:
    paid = invoice("I1", 40, "500.00", remaining="0")
    payment = Payment("P1", "C1", "test", days_ago(days), Money(Decimal("500.00")),
                      (Allocation("I1", Money(Decimal("500.00"))),))
    return paid, payment


@pytest.mark.parametrize(("done_steps", "paid_days_ago", "thanked"), [
    (["reminder_1"], 3, True),
    ([], 3, False),
    (["courtesy"], 3, False),
    (["reminder_1", "thanks"], 3, False),
    (["reminder_1"], 60, False),
])
def test_a_thank_you_goes_once_when_a_reminded_invoice_is_paid(done_steps: list[str], paid_days_ago: int,
                                                               thanked: bool) -> None:
    paid, payment = _paid(paid_days_ago)
    done = {key("I1", s): days_ago(paid_days_ago + 5) for s in done_steps}
    result = run(ledger(paid, payments=(payment,)), done=done)
    assert [a.step.id for a in result.actions] == (["thanks"] if thanked else [])


@pytest.mark.parametrize(("done_steps", "thanked"), [
    ([("firm", "reminder_1"), ("firm", "thanks")], False),  # thanked under the scenario it followed then
    ([("firm", "reminder_1")], True),  # reminded under another scenario: thanked, once, under today's
    ([("firm", "courtesy")], False),  # only a courtesy notice, under whichever scenario: nothing to thank for
])
def test_a_customer_whose_scenario_changed_after_paying_is_thanked_once(done_steps: list[tuple[str, str]],
                                                                        thanked: bool) -> None:
    """Paying changes a payer's profile, and with it the scenario its invoices follow (or a person types
    another one): the thank-you already sent under the old scenario is not sent again under the new."""
    paid, payment = _paid(3)
    done = {key("I1", step, scenario): days_ago(8) for scenario, step in done_steps}
    result = run(ledger(paid, payments=(payment,)), done=done)  # the invoice follows "standard" today
    assert [(a.scenario, a.step.id) for a in result.actions] == ([("standard", "thanks")] if thanked else [])


# -- channels, recipients, approval ------------------------------------------------------------------
def test_recipients_cc_the_salesperson_bcc_the_archive_and_reply_to() -> None:
    (action,) = run(ledger(invoice("I1", 8))).actions
    assert action.recipients.to == ("compta@c1.example",)
    assert action.recipients.cc == ("julie@dupont.example",)
    assert action.recipients.bcc == ("archive@dupont.example",)
    assert action.recipients.reply_to == "compta@dupont.example"


def test_email_relance_column_replaces_the_source_address_and_bad_ones_are_dropped() -> None:
    marks = SheetMarks(customers={"C1": CustomerMarks(reminder_email="pay@c1.example; bad address\r\nBcc: x@y.z")})
    (action,) = run(ledger(invoice("I1", 8)), marks).actions
    assert action.recipients.to == ("pay@c1.example", "x@y.z")
    assert "invalide" in action.reason


@pytest.mark.parametrize(("phone", "channel"), [("+33 6 00 00 00 00", "call"), ("", "letter")])
def test_a_customer_without_email_gets_a_call_or_a_letter_with_the_reason(phone: str, channel: str) -> None:
    led = ledger(invoice("I1", 8), customers=(customer("C1", emails=(), phone=phone),))
    (action,) = run(led).actions
    assert action.channel == channel
    assert "aucune adresse e-mail" in action.reason
    assert result_todo_actions(run(led)) == ["Appeler" if channel == "call" else "Envoyer le courrier"]


def result_todo_actions(result: Plan) -> list[str]:
    return [row["action"] for row in result.todo]


def _at_formal_notice() -> dict[StepKey, date]:
    done = {key("I1", s): days_ago(70 - 10 * n) for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    done[StepKey("account", "C1", "standard", "statement", "x")] = days_ago(20)
    return done


def test_the_formal_notice_waits_for_approval_and_shows_in_a_faire() -> None:
    result = run(ledger(invoice("I1", 60)), done=_at_formal_notice())
    (action,) = result.actions
    assert action.step.id == "formal_notice" and action.needs_approval and not action.sendable
    (row,) = result.todo
    assert row["action"].startswith("Approuver") and row["salesperson"] == "Julie Martin"
    assert row["amount"] == Decimal("1000.00") and row["invoices"] == "F-I1"


def test_a_tick_in_a_envoyer_approves_it_once() -> None:
    marks = SheetMarks(invoices={"I1": InvoiceMarks(approve=True)})
    (action,) = run(ledger(invoice("I1", 60)), marks, done=_at_formal_notice()).actions
    assert action.sendable
    (used,) = run(ledger(invoice("I1", 60)), marks, done=_at_formal_notice(), used_approvals={"I1"}).actions
    assert not used.sendable


def test_above_the_ceiling_a_step_is_never_automatic() -> None:
    marks = SheetMarks(customers={"C1": CustomerMarks(scenario="gentle")})
    done = {key("I1", "reminder_1", "gentle"): days_ago(30), key("I1", "call", "gentle"): days_ago(20)}
    (action,) = run(ledger(invoice("I1", 40, "60000.00")), marks, done=done).actions
    assert action.step.id == "reminder_2"
    assert action.needs_approval and not action.sendable and "plafond" in action.reason


def test_an_account_level_step_is_one_key_for_the_customer() -> None:
    done = {}
    for iid in ("I1", "I2"):
        done.update({key(iid, s): days_ago(40 - 5 * n) for n, s in enumerate(["reminder_1", "reminder_2", "call"])})
    result = run(ledger(invoice("I1", 40), invoice("I2", 38)), done=done)
    (action,) = result.actions
    assert action.step.id == "statement"
    assert action.step_keys == (StepKey("account", "C1", "standard", "statement", "EUR:" + days_ago(40).isoformat()),)
    done[action.step_keys[0]] = days_ago(0)
    later = run(ledger(invoice("I1", 40), invoice("I2", 38)), done=done, as_of=AS_OF + timedelta(days=3))
    assert all(a.step.id != "statement" for a in later.actions)


def test_language_is_the_customers_else_the_companys() -> None:
    led = ledger(invoice("I1", 8), invoice("I2", 8, customer_id="C2"), invoice("I3", 8, customer_id="C3"),
                 customers=(customer("C1", language="nl"), customer("C2", language="de"), customer("C3")))
    assert {a.customer_id: a.language for a in run(led).actions} == {"C1": "nl", "C2": "fr", "C3": "fr"}


# -- re-check right before sending, keys -------------------------------------------------------------
def test_recheck_drops_invoices_paid_since_the_sync() -> None:
    led = ledger(invoice("I1", 8, "100.00"), invoice("I2", 9, "200.00"))
    (action,) = run(led).actions
    fresh = {"I1": invoice("I1", 8, "100.00", remaining="0"), "I2": invoice("I2", 9, "200.00", remaining="50.00")}
    again = recheck(action, fresh)
    assert isinstance(again, PlannedAction)
    assert again.invoice_ids == ("I2",) and again.amount == Money(Decimal("50.00"))
    assert again.step_keys == (key("I2", "reminder_1"),)
    assert recheck(action, {"I1": fresh["I1"], "I2": None}) is None


def test_step_keys_round_trip_through_their_text_form() -> None:
    weird = StepKey("invoice", "F/2026 001%", "my scen", "step_1", "2026-01-01")
    assert StepKey.parse(weird.id) == weird
    assert "\n" not in weird.id and weird.id.count("/") == 4
    with pytest.raises(ValueError):
        StepKey.parse("nonsense")


def test_changing_the_scenario_never_resends_a_step_already_sent() -> None:
    # reminder_1 went under "standard"; the sheet now says "firm": firm's reminder_1 is not sent again.
    marks = SheetMarks(invoices={"I1": InvoiceMarks(scenario="firm")})
    result = run(ledger(invoice("I1", 20)), marks, done={key("I1", "reminder_1"): days_ago(8)})
    assert [(a.scenario, a.step.id) for a in result.actions] == [("firm", "reminder_2")]


def test_a_whole_account_step_lists_every_overdue_invoice_of_the_currency() -> None:
    done = {key("I1", s): days_ago(40 - 5 * n) for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    led = ledger(invoice("I1", 40, "500.00"), invoice("I2", 12, "200.00"), invoice("I3", 3, "50.00"),
                 invoice("I4", -10, "999.00"), invoice("I5", 30, "70.00", currency="USD"))
    marks = SheetMarks(invoices={"I3": InvoiceMarks(dispute=True)})
    done.update({key("I2", "reminder_1"): days_ago(2), key("I5", "reminder_1"): days_ago(2)})
    result = run(led, marks, done=done)
    statement = [a for a in result.actions if a.step.id == "statement"]
    assert len(statement) == 1
    # I1 reached the step; I2 is overdue too; I3 disputed, I4 not due, I5 another currency: left out
    assert statement[0].invoice_ids == ("I1", "I2")
    assert statement[0].amount == Money(Decimal("700.00"))
    assert statement[0].step_keys == (
        StepKey("account", "C1", "standard", "statement", "EUR:" + days_ago(40).isoformat()),)


def test_without_an_address_of_its_own_the_billing_contact_is_used() -> None:
    from encours.connectors.model import Contact

    contacts = (Contact("Marc", "marc@c1.example", role="Directeur"),
                Contact("Lise", "lise@c1.example", role="Comptabilité fournisseurs"))
    led = ledger(invoice("I1", 8), customers=(customer("C1", emails=(), contacts=contacts),))
    (action,) = run(led).actions
    assert action.recipients.to == ("lise@c1.example",) and action.channel == "email"


def test_a_letter_without_postal_address_says_so() -> None:
    led = ledger(invoice("I1", 8), customers=(customer("C1", emails=(), phone="", address=""),))
    (action,) = run(led).actions
    assert action.channel == "letter" and "adresse postale inconnue" in action.reason
    assert "adresse postale inconnue" in run(led).todo[0]["reason"]
