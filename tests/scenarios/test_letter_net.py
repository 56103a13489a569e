"""Letters and statements net of credits (issue 11 item 3), read back from the PDF as the customer
reads it: each invoice, each credit deducted on its own line, and the net the message asks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from encours.connectors.model import DocumentKind, Money, Payment
from encours.scenarios.planner import StepKey
from encours.scenarios.render import render
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, SheetMarks
from tests.scenarios.test_render import _formal_notice_done, first_action, flat, pdf_text
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped


def on_account(amount: str, reference: str) -> Payment:
    return Payment("P1", "C1", "test", AS_OF - timedelta(days=3), Money(Decimal(amount)), reference=reference)


def test_a_letter_by_post_lists_each_credit_deducted_and_asks_the_net_the_text_asks() -> None:
    note = invoice("A1", 20, "150.00", kind=DocumentKind.CREDIT_NOTE, number="AV-7")
    led = ledger(invoice("I1", 20, "1000.00"), invoice("I2", 20, "500.00"), note,
                 payments=(on_account("400.00", "Règlement F-I2 partiel"),))
    marks = SheetMarks(customers={"C1": CustomerMarks(scenario="firm")})
    done = {StepKey("invoice", i, "firm", s): AS_OF - timedelta(days=20 - 4 * n)
            for i in ("I1", "I2") for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    action = first_action(led, marks, done=done)
    assert (action.step.id, action.channel, action.amount) == ("letter", "letter", Money(Decimal("950.00")))
    message = render(action, shipped()["firm"], led, company(), as_of=AS_OF)
    text = flat(pdf_text(message.letter or b""))
    assert "F-I1 04/10/2026 03/11/2026 1 000,00 €" in text
    assert "F-I2 04/10/2026 03/11/2026 500,00 €" in text, "the invoice at what it owes, the credit below"
    assert "Paiement reçu Règlement F-I2 partiel (imputé sur F-I2) 20/11/2026 − 400,00 €" in text
    assert "Avoir AV-7 04/10/2026 − 150,00 €" in text
    assert "Total des factures 1 500,00 € Paiements et avoirs déduits − 550,00 € Total à payer 950,00 €" in text
    assert "950,00 €" in flat(message.text), "the message asks the same net"


def test_a_formal_notice_claims_the_net_principal_with_its_credits_listed() -> None:
    led = ledger(invoice("I1", 50, "1200.00"), invoice("I2", 46, "800.00", remaining="500.00"),
                 payments=(on_account("300.00", "VIR ACOMPTE"),), customers=(customer("C1", siren="552100554"),))
    marks = SheetMarks(invoices={"I1": InvoiceMarks(approve=True)})
    action = first_action(led, marks, done=_formal_notice_done())
    assert action.step.id == "formal_notice" and action.amount == Money(Decimal("1400.00"))
    text = flat(pdf_text(render(action, shipped()["standard"], led, company(), as_of=AS_OF).letter or b""))
    assert "Paiement reçu VIR ACOMPTE 20/11/2026 − 300,00 €" in text
    assert "Total des factures 1 700,00 €" in text and "Principal restant dû 1 400,00 €" in text


def test_the_statement_lists_payments_on_account_and_its_balance_is_net_in_every_language() -> None:
    led = ledger(invoice("I1", 20, "1200.00"), invoice("I2", 8, "300.50"),
                 payments=(on_account("200.00", "VIR 2026-11 ACOMPTE"),))
    action = first_action(led)
    for language, paid, balance in (("fr", "Paiement reçu VIR 2026-11 ACOMPTE", "Solde dû 1 300,50 €"),
                                    ("nl", "Ontvangen betaling VIR 2026-11 ACOMPTE", "Openstaand saldo € 1.300,50"),
                                    ("en", "Payment received VIR 2026-11 ACOMPTE", "Balance due €1,300.50")):
        message = render(action.__class__(**{**action.__dict__, "language": language}), shipped()["standard"], led,
                         company(), as_of=AS_OF)
        statement = flat(pdf_text(message.attachments[0].content))
        assert paid in statement and "− " in statement, (language, statement)
        assert balance in statement, (language, statement)
