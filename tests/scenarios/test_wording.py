"""Right in law and language (issue 12.6): what a debtor reads in a notice or a reminder."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from encours.connectors.model import Money
from encours.scenarios.planner import StepKey, plan
from encours.scenarios.render import compute_interest, render
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, PaymentPlanLine, SheetMarks
from tests.scenarios.test_render import _formal_notice_done, first_action, flat, pdf_text
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped


def key(iid: str, step: str, scenario: str = "standard") -> StepKey:
    return StepKey("invoice", iid, scenario, step)


APPROVED = SheetMarks(invoices={"I1": InvoiceMarks(approve=True)})


def notice_text(led, co=None, as_of=AS_OF, done=None) -> str:
    co = co or company()
    action = first_action(led, APPROVED, done=done or _formal_notice_done(), co=co, as_of=as_of)
    assert action.step.id == "formal_notice"
    message = render(action, shipped()["standard"], led, co, as_of=as_of)
    return flat(pdf_text(message.letter or b""))


def test_a_notice_over_two_half_years_lists_the_rate_of_each() -> None:
    as_of = AS_OF + timedelta(days=60)  # 22 January 2027: the interest runs over H2 2026 and H1 2027
    done = {k: v + timedelta(days=60) for k, v in _formal_notice_done().items()}  # type: ignore[operator]
    led = ledger(invoice("I1", 110, "1200.00", as_of=as_of))
    text = notice_text(led, as_of=as_of, done=done)
    assert "(2e semestre 2026)" in text and "(1er semestre 2027)" in text


def test_the_name_is_elided_and_the_deadline_counted_as_said() -> None:
    led = ledger(invoice("I1", 50, "1200.00"), customers=(customer("C1", name="Ancien Monde SARL"),))
    text = notice_text(led)
    assert "à l'attention d'Ancien Monde SARL" in text
    assert "8 jours à compter de la date de ce courrier, soit au plus tard le 1er décembre 2026" in text


def test_a_belgian_notice_in_french_speaks_of_interest_not_penalties() -> None:
    be = company(country="BE", iban="BE68539007547034")
    text = notice_text(ledger(invoice("I1", 50, "1200.00")), co=be)
    assert "Intérêts de retard" in text and "Pénalités" not in text and "pénalités" not in text


def test_a_belgian_notice_in_dutch_speaks_of_verwijlintresten() -> None:
    be = company(country="BE", iban="BE68539007547034")
    text = notice_text(ledger(invoice("I1", 50, "1200.00"), customers=(customer("C1", language="nl"),)), co=be)
    assert "verwijlintresten" in text.lower() and "verwijlinteresten" not in text.lower()


def test_a_notice_in_pounds_says_the_40_euros_are_on_top_of_its_total() -> None:
    text = notice_text(ledger(invoice("I1", 50, "1200.00", currency="GBP")))
    assert "40,00 €, est due en sus : elle n'est pas comprise dans ce total en GBP" in text
    assert "(dues en sus, hors total)" in text
    assert "Cette somme comprend les pénalités de retard" in text and "et l'indemnité forfaitaire" not in text


def test_a_first_reminder_long_overdue_does_not_suggest_a_simple_oversight() -> None:
    for days, oversight in ((10, True), (96, False)):
        led = ledger(invoice("I1", days, "500.00"))
        done = {key("I1", "courtesy"): AS_OF - timedelta(days=days + 5)}
        action = first_action(led, done=done)
        assert action.step.id == "reminder_1"
        message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
        assert ("simple oubli" in message.text) is oversight
        assert ("simple oubli" in message.html) is oversight
        if not oversight:
            assert "Ce retard dépasse désormais 96 jours" in message.text


def test_gentle_standard_and_firm_second_reminders_read_differently() -> None:
    texts = {}
    for name in ("gentle", "standard", "firm"):
        led = ledger(invoice("I1", 40, "900.00"))
        marks = SheetMarks(customers={"C1": CustomerMarks(scenario=name)})
        done = {key("I1", step, name): AS_OF - timedelta(days=days)
                for step, days in (("courtesy", 45), ("reminder_1", 25), ("call", 15))}
        if name != "gentle":  # gentle calls before its second reminder
            del done[key("I1", "call", name)]
        result = plan(led, marks, shipped(), AS_OF, done=done, company=company())
        (action,) = [a for a in result.actions if a.step.id == "reminder_2"]
        texts[name] = render(action, shipped()[name], led, company(), as_of=AS_OF).text
    assert "Pourriez-vous nous indiquer quand ce règlement pourra intervenir" in texts["gentle"]
    assert "Nous vous remercions de régulariser cette situation sous 8 jours" in texts["standard"]
    assert "à défaut, nous engagerons la suite de la procédure de recouvrement" in texts["firm"]


def test_payment_plan_interest_runs_per_instalment_from_its_own_date() -> None:
    led = ledger(invoice("I1", 90, "3000.00"))
    plan_lines = tuple(PaymentPlanLine("I1", AS_OF + timedelta(days=d), Decimal("1000.00")) for d in (-60, -30, 10))
    result = plan(led, SheetMarks(payment_plans=plan_lines), shipped(), AS_OF, done={}, company=company())
    (action,) = result.actions
    (item,) = action.items
    assert item.amount == Money(Decimal("2000.00"))  # the two instalments due
    line = compute_interest(item, AS_OF, company())
    # 1,000 × 12.15 % × 60 / 365 + 1,000 × 12.15 % × 30 / 365, each rounded: not 2,000 from the first date
    assert line.interest == Money(Decimal("19.97")) + Money(Decimal("9.99"))
