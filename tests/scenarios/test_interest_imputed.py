"""A formal notice's interest stops, on what a payment on account settled, on the day it came
(French civil code art. 1342-10: a payment the debtor did not assign goes to the oldest debt due)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from encours.connectors.model import Ledger, Money, Payment
from encours.scenarios.actions import PlannedAction
from encours.scenarios.interest import compute_interest, imputed_payments
from encours.scenarios.message import Message
from encours.scenarios.render import render
from encours.scenarios.template_context import message_context
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from encours.sheets_addin.rates import late_interest
from tests.scenarios.test_render import _formal_notice_done, first_action, flat, pdf_text
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped

PAID_ON = AS_OF - timedelta(days=30)  # after both invoices fell due (50 and 46 days ago)


def _notice(paid_on: date, amount: str) -> tuple[PlannedAction, Ledger, Message]:
    led = ledger(invoice("I1", 50, "1200.00"), invoice("I2", 46, "800.00", remaining="500.00"),
                 payments=(Payment("P1", "C1", "test", paid_on, Money(Decimal(amount)), reference="VIR ACOMPTE"),),
                 customers=(customer("C1", siren="552100554"),))
    action = first_action(led, SheetMarks(invoices={"I1": InvoiceMarks(approve=True)}), done=_formal_notice_done())
    assert action.step.id == "formal_notice"
    return action, led, render(action, shipped()["standard"], led, company(), as_of=AS_OF)


def _statutory(amount: str, start: date, end: date) -> Decimal:
    return late_interest(Decimal(amount), start, end, "FR").interest


def test_a_payment_on_account_stops_interest_on_the_oldest_invoice_from_the_day_it_came() -> None:
    action, led, message = _notice(PAID_ON, "300.00")
    due1, due2 = AS_OF - timedelta(days=50), AS_OF - timedelta(days=46)
    context = message_context(action, shipped()["standard"], led, company(), AS_OF, "fr")
    lines = {line.number: line.interest.amount for line in context["interest_lines"]}
    # I1 (the oldest) bears interest on 1,200 € until the payment, then on 900 €; I2 on its 500 € throughout
    assert lines["F-I1"] == _statutory("1200.00", due1, PAID_ON) + _statutory("900.00", PAID_ON, AS_OF)
    assert lines["F-I2"] == _statutory("500.00", due2, AS_OF)
    gross_interest = _statutory("1200.00", due1, AS_OF) + _statutory("500.00", due2, AS_OF)
    assert context["interest_total"].amount < gross_interest, "no interest claimed on money already received"
    assert context["claim_total"] == Money(Decimal("1400.00") + sum(lines.values()) + Decimal("80.00"))
    text = flat(pdf_text(message.letter or b""))
    assert "les pénalités ont cessé de courir le jour de leur réception" in text
    assert f"{context['claim_total'].amount:.2f}".replace(".", ",") in text.replace("\u202f", "").replace(" ", "")


def test_a_payment_received_before_the_due_date_lowers_the_principal_from_the_start() -> None:
    action, led, _message = _notice(AS_OF - timedelta(days=80), "300.00")
    context = message_context(action, shipped()["standard"], led, company(), AS_OF, "fr")
    lines = {line.number: line.interest.amount for line in context["interest_lines"]}
    assert lines["F-I1"] == _statutory("900.00", AS_OF - timedelta(days=50), AS_OF)


def test_without_a_payment_on_account_nothing_changes_and_nothing_is_said() -> None:
    led = ledger(invoice("I1", 50, "1200.00"), invoice("I2", 46, "800.00", remaining="500.00"),
                 customers=(customer("C1", siren="552100554"),))
    action = first_action(led, SheetMarks(invoices={"I1": InvoiceMarks(approve=True)}), done=_formal_notice_done())
    context = message_context(action, shipped()["standard"], led, company(), AS_OF, "fr")
    lines = {line.number: line.interest.amount for line in context["interest_lines"]}
    assert lines["F-I1"] == _statutory("1200.00", AS_OF - timedelta(days=50), AS_OF)
    assert not context["imputed"]


def test_payments_go_to_the_oldest_due_invoices_first_and_spill_over() -> None:
    action, _led, _m = _notice(PAID_ON, "300.00")
    items = action.items
    first, second = sorted(items, key=lambda i: i.due_date)
    out = imputed_payments(items, [(PAID_ON + timedelta(days=5), Money(Decimal("100.00"))),
                                   (PAID_ON, Money(Decimal("1250.00")))])
    assert out[first.invoice_id] == [(PAID_ON, Decimal("1200.00"))]
    assert out[second.invoice_id] == [(PAID_ON, Decimal("50.00")), (PAID_ON + timedelta(days=5), Decimal("100.00"))]
    # an invoice wholly settled bears interest only until the payment; the indemnity stays (it was paid late)
    line = compute_interest(first, AS_OF, company(), out[first.invoice_id])
    assert line.interest.amount == _statutory(str(first.amount.amount), first.due_date, PAID_ON)
    assert line.indemnity.amount == Decimal("40.00")


def test_every_language_says_so_in_france_and_in_belgium() -> None:
    action, led, _m = _notice(PAID_ON, "300.00")
    words = {"fr": "cessé de courir le jour de leur réception", "nl": "niet verder dan de dag van ontvangst",
             "en": "stopped accruing on the day each was received"}
    for country in ("FR", "BE"):
        for language, said in words.items():
            localized = replace(action, language=language)
            message = render(localized, shipped()["standard"], led, company(country=country), as_of=AS_OF)
            assert said in flat(pdf_text(message.letter or b"")), (country, language)


def test_a_payment_plan_s_instalments_take_a_payment_oldest_first() -> None:
    from encours.scenarios.actions import ActionItem

    first, second = AS_OF - timedelta(days=60), AS_OF - timedelta(days=30)
    eur = Money(Decimal("600.00"))
    item = ActionItem("I9", "F-9", first - timedelta(days=30), first, eur, eur, eur,
                      instalments=((second, Money(Decimal("300.00"))), (first, Money(Decimal("300.00")))))
    paid_on = AS_OF - timedelta(days=10)
    line = compute_interest(item, AS_OF, company(), [(paid_on, Decimal("400.00"))])
    # the older instalment is settled on paid_on; the newer keeps 200 € unpaid from then on
    expected = (_statutory("300.00", first, paid_on) + _statutory("300.00", second, paid_on)
                + _statutory("200.00", paid_on, AS_OF))
    assert line.interest.amount == expected
    assert line.days == 60
    unpaid = compute_interest(item, AS_OF, company())
    assert unpaid.interest.amount == _statutory("300.00", first, AS_OF) + _statutory("300.00", second, AS_OF)
