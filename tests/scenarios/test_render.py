"""Rendered messages as a customer receives them: language, amounts, attachments, the letters' text."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pypdf import PdfReader

from encours.connectors.model import Allocation, Money, Payment
from encours.scenarios.planner import PlannedAction, StepKey, plan
from encours.scenarios.qr import is_belgian_structured
from encours.scenarios.render import compute_interest, render
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, SheetMarks
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """PDF text with line breaks and the spaces used as thousands separators normalised."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def first_action(led, marks=None, *, done=None, co=None, as_of=AS_OF) -> PlannedAction:
    result = plan(led, marks or SheetMarks(), shipped(), as_of, done=done or {}, company=co or company())
    assert result.actions, result.skips
    return result.actions[0]


def key(iid: str, step: str) -> StepKey:
    return StepKey("invoice", iid, "standard", step)


def test_first_reminder_in_french_lists_invoices_amounts_and_payment_details() -> None:
    led = ledger(invoice("I1", 20, "1200.00"), invoice("I2", 8, "300.50"))
    action = first_action(led)
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    assert message.language == "fr"
    assert message.subject == "Relance : 2 factures impayées — Atelier Dupont SARL"
    assert "F-I1" in message.text and "F-I2" in message.text
    assert "1\u202f200,00\u00a0€" in message.text and "Total : 1\u202f500,50\u00a0€" in message.text
    assert "20 jours de retard" in message.text
    assert "FR76 3000 6000 0112 3456 7890 189" in message.text
    assert "<table" in message.html and "cid:qr@encours" in message.html
    names = [a.filename for a in message.attachments]
    assert names[0].startswith("Relevé de compte Client C1")
    assert any(a.inline_id == "qr@encours" and a.mime_type == "image/png" for a in message.attachments)
    statement = flat(pdf_text(message.attachments[0].content))
    assert "F-I1" in statement and "F-I2" in statement and "Solde dû 1 500,50 €" in statement
    assert message.to == ("compta@c1.example",) and message.cc == ("julie@dupont.example",)
    assert message.bcc == ("archive@dupont.example",) and message.reply_to == "compta@dupont.example"


@pytest.mark.parametrize(("language", "subject", "amount"), [
    ("nl", "Herinnering: factuur F-I1 onbetaald", "€ 1.200,00"),
    ("en", "Reminder: invoice F-I1 is unpaid", "€1,200.00"),
])
def test_the_customers_language_is_used(language: str, subject: str, amount: str) -> None:
    led = ledger(invoice("I1", 20, "1200.00"), customers=(customer("C1", language=language),))
    message = render(first_action(led), shipped()["standard"], led, company(), as_of=AS_OF)
    assert message.language == language
    assert message.subject.startswith(subject)
    assert amount in message.text and amount in message.html


def test_the_invoice_pdf_is_attached_when_the_source_offers_one() -> None:
    led = ledger(invoice("I1", 20, pdf_url="https://example.invalid/F-I1.pdf"), invoice("I2", 20))
    asked: list[str] = []

    def fetch(item):  # the caller fetches; here a fixed document
        asked.append(item.invoice_id)
        return b"%PDF-1.4 invoice " + item.number.encode()

    message = render(first_action(led), shipped()["standard"], led, company(), as_of=AS_OF, fetch_pdf=fetch)
    assert asked == ["I1"]
    invoice_pdf = [a for a in message.attachments if a.filename == "facture F-I1.pdf"]
    assert invoice_pdf and invoice_pdf[0].content.endswith(b"F-I1")


def test_message_id_is_deterministic_per_dossier_and_step() -> None:
    led = ledger(invoice("I1", 20))
    action = first_action(led)
    one = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    again = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    other = render(action, shipped()["standard"], led, company(dossier="another"), as_of=AS_OF)
    assert one.message_id == again.message_id != other.message_id
    assert one.message_id.startswith("<encours.") and one.message_id.endswith("@dupont.example>")


def test_without_iban_there_is_no_qr_code_nor_reference() -> None:
    led = ledger(invoice("I1", 20))
    message = render(first_action(led, co=company(iban="")), shipped()["standard"], led, company(iban=""),
                     as_of=AS_OF)
    assert all(a.mime_type != "image/png" for a in message.attachments)
    assert "IBAN" not in message.text and "cid:qr" not in message.html


def _formal_notice_done() -> dict[StepKey, object]:
    done: dict[StepKey, object] = {key("I1", s): AS_OF - timedelta(days=70 - 10 * n)
                                   for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    done.update({key("I2", s): AS_OF - timedelta(days=70 - 10 * n)
                 for n, s in enumerate(["reminder_1", "reminder_2", "call"])})
    # the statement went 10 days ago: after both invoices reached it (35 days late), 10 days before the notice
    done[StepKey("account", "C1", "standard", "statement", "x")] = AS_OF - timedelta(days=10)
    return done


def test_the_formal_notice_letter_holds_the_legal_wording_and_the_computed_claim() -> None:
    led = ledger(invoice("I1", 50, "1200.00"), invoice("I2", 46, "800.00", remaining="500.00"),
                 customers=(customer("C1", siren="552100554"),))
    marks = SheetMarks(invoices={"I1": InvoiceMarks(approve=True)})
    action = first_action(led, marks, done=_formal_notice_done())
    assert action.step.id == "formal_notice" and action.sendable
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    assert message.channel == "formal_notice" and message.letter is not None
    text = flat(pdf_text(message.letter))
    assert "MISE EN DEMEURE" in text and "mise en demeure au sens de l'article 1344 du Code civil" in text
    assert "23 novembre 2026" in text
    assert "Atelier Dupont SARL" in text and "SIREN 123456789" in text  # the creditor
    assert "Client C1" in text and "3 rue des Lilas" in text and "SIREN 552100554" in text  # the debtor
    # each invoice: number, date, due date, amount due
    for number, issued, due, amount in (("F-I1", "04/09/2026", "04/10/2026", "1 200,00 €"),
                                        ("F-I2", "08/09/2026", "08/10/2026", "500,00 €")):
        assert number in text and issued in text and due in text and amount in text
    # interest: amount × 12.15 % × days ÷ 365, each rounded half-up; 40 € per late invoice
    expected_interest = sum(
        (Decimal(a) * Decimal("12.15") / 100 * d / 365).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for a, d in (("1200.00", 50), ("500.00", 46))
    )
    total = Decimal("1700.00") + expected_interest + Decimal("80.00")
    assert f"{expected_interest:.2f}".replace(".", ",") in text
    assert "Indemnités forfaitaires pour frais de recouvrement 80,00 €" in text
    assert f"Total réclamé {total:,.2f} €".replace(",", " ").replace(".", ",") in text
    assert "12,15 %" in text and "L441-10" in text and "D441-5" in text
    assert "au plus tard le 1er décembre 2026" in text  # 8 days
    assert "injonction de payer" in text
    assert "Lettre recommandée avec accusé de réception" in text
    assert "Payer par virement" in text  # the QR code's caption, asking for the whole claim
    assert f"Total à payer : {total:,.2f} €".replace(",", " ").replace(".", ",") in text


def test_interest_is_computed_once_per_invoice_with_the_rate_table() -> None:
    led = ledger(invoice("I1", 50, "1200.00"))
    action = first_action(led)
    line = compute_interest(action.items[0], AS_OF, company())
    assert line.days == 50 and line.rate == Decimal("12.15")
    assert line.interest == Money(Decimal("19.97")) and line.indemnity == Money(Decimal("40.00"))


def test_a_belgian_formal_notice_cites_the_belgian_law_and_a_structured_communication() -> None:
    be = company(country="BE", iban="BE68539007547034", formal_notice_days=15)
    led = ledger(invoice("I1", 50, "1200.00"), customers=(customer("C1", language="nl"),))
    action = first_action(led, SheetMarks(invoices={"I1": InvoiceMarks(approve=True)}), done=_formal_notice_done(),
                          co=be)
    message = render(action, shipped()["standard"], led, be, as_of=AS_OF)
    text = flat(pdf_text(message.letter or b""))
    assert "INGEBREKESTELLING" in text and "wet van 2 augustus 2002" in text and "1394/20" in text
    assert "8 december 2026" in text  # 15 days
    reference = next(part for part in text.split() if part.startswith("+++"))
    assert is_belgian_structured(reference)


def test_an_email_step_for_a_customer_without_email_becomes_a_printed_letter() -> None:
    led = ledger(invoice("I1", 20), customers=(customer("C1", emails=(), phone=""),))
    action = first_action(led)
    assert action.channel == "letter"
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    assert message.letter is not None and message.to == ()
    text = flat(pdf_text(message.letter))
    assert "F-I1" in text and "reste impayée" in text and "Client C1" in text


def test_a_call_renders_talking_points_with_the_phone_number() -> None:
    done = {key("I1", "reminder_1"): AS_OF - timedelta(days=20), key("I1", "reminder_2"): AS_OF - timedelta(days=10)}
    led = ledger(invoice("I1", 30))
    action = first_action(led, done=done)
    assert action.channel == "call"
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    assert "+33 1 23 45 67 89" in message.text and "Promesse (date)" in message.text
    assert message.letter is None and message.attachments == ()


def test_a_thank_you_is_short_and_carries_no_attachment() -> None:
    paid = invoice("I1", 30, "500.00", remaining="0")
    payment = Payment("P1", "C1", "test", AS_OF - timedelta(days=1), Money(Decimal("500.00")),
                      (Allocation("I1", Money(Decimal("500.00"))),))
    led = ledger(paid, payments=(payment,))
    action = first_action(led, done={key("I1", "reminder_1"): AS_OF - timedelta(days=20)})
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    assert message.subject.startswith("Merci pour votre règlement")
    assert "F-I1" in message.text and message.attachments == ()


def test_a_broken_promise_recalls_the_promised_date() -> None:
    led = ledger(invoice("I1", 30))
    marks = SheetMarks(invoices={"I1": InvoiceMarks(promise_date=AS_OF - timedelta(days=3))})
    action = first_action(led, marks)
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    assert "20/11/2026" in message.text


def test_every_shipped_step_renders_in_every_language() -> None:
    led = ledger(invoice("I1", 30, "100.00"))
    base = first_action(led)
    for scenario in shipped().values():
        for step in scenario.steps:
            for language in ("fr", "nl", "en"):
                channel = step.channel
                action = PlannedAction(**{**base.__dict__, "scenario": scenario.name, "step": step,
                                          "channel": channel, "language": language})
                message = render(action, scenario, led, company(), as_of=AS_OF)
                assert message.subject and (message.text or message.letter), (scenario.name, step.id, language)


def test_source_text_is_escaped_in_the_html_part() -> None:
    led = ledger(invoice("I1", 20, number="<script>alert(1)</script>"))
    message = render(first_action(led), shipped()["standard"], led, company(signature="Dupont & Fils"), as_of=AS_OF)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "Dupont &amp; Fils" in message.html
    assert "<script>alert(1)</script>" in message.text  # the text part is plain text, shown as typed


def test_the_firm_scenarios_letter_by_post_lists_the_invoices() -> None:
    marks = SheetMarks(customers={"C1": CustomerMarks(scenario="firm")})
    done = {StepKey("invoice", "I1", "firm", s): AS_OF - timedelta(days=20 - 4 * n)
            for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    led = ledger(invoice("I1", 20, "640.00"))
    action = first_action(led, marks, done=done)
    assert (action.scenario, action.step.id, action.channel) == ("firm", "letter", "letter")
    message = render(action, shipped()["firm"], led, company(), as_of=AS_OF)
    text = flat(pdf_text(message.letter or b""))
    assert "Relance de paiement" in text and "F-I1" in text and "Total à payer 640,00 €" in text
    assert "MISE EN DEMEURE" not in text
