"""The outbox folder: e-mails as .eml a mail client opens, letters as PDF, calls as tasks only."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from encours.scenarios.message import ChannelError, Message
from encours.scenarios.planner import StepKey, plan
from encours.scenarios.render import render
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from encours.sync.channels.outbox import OutboxChannel
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped


def message_for(led, marks=None, done=None) -> Message:
    result = plan(led, marks or SheetMarks(), shipped(), AS_OF, done=done or {}, company=company())
    action = result.actions[0]
    return render(action, shipped()[action.scenario], led, company(), as_of=AS_OF)


def test_an_email_becomes_one_eml_file_with_the_archive_bcc(tmp_path: Path) -> None:
    outbox = OutboxChannel(tmp_path / "outbox")
    message = message_for(ledger(invoice("I1", 20)))
    result = outbox.send(message)
    again = outbox.send(message)  # the same message written twice: one file
    assert result.detail == again.detail
    files = list((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml"]
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == message.message_id
    assert parsed["Bcc"] == "archive@dupont.example"
    assert parsed["Subject"].startswith("Relance : facture F-I1")
    assert set(result.recipients) == {"compta@c1.example", "julie@dupont.example", "archive@dupont.example"}


def test_a_formal_notice_becomes_a_pdf_and_its_text(tmp_path: Path) -> None:
    done = {StepKey("invoice", "I1", "standard", s): AS_OF - timedelta(days=70 - 10 * n)
            for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    done[StepKey("account", "C1", "standard", "statement", "x")] = AS_OF - timedelta(days=10)
    message = message_for(ledger(invoice("I1", 60)), SheetMarks(invoices={"I1": InvoiceMarks(approve=True)}), done)
    result = OutboxChannel(tmp_path).send(message)
    pdf = Path(result.detail)
    assert pdf.suffix == ".pdf" and pdf.with_suffix(".txt").exists()
    text = PdfReader(str(pdf)).pages[0].extract_text()
    assert "MISE EN DEMEURE" in text and "F-I1" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_a_call_writes_nothing_and_is_a_task(tmp_path: Path) -> None:
    done = {StepKey("invoice", "I1", "standard", "reminder_1"): AS_OF - timedelta(days=20),
            StepKey("invoice", "I1", "standard", "reminder_2"): AS_OF - timedelta(days=10)}
    message = message_for(ledger(invoice("I1", 30)), done=done)
    assert message.channel == "call"
    result = OutboxChannel(tmp_path / "outbox").send(message)
    assert result.channel == "task" and not (tmp_path / "outbox").exists()


def test_an_unwritable_outbox_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(ChannelError, match="outbox"):
        OutboxChannel(blocker).send(message_for(ledger(invoice("I1", 20))))


def test_a_customer_without_any_address_gets_a_letter_in_the_outbox(tmp_path: Path) -> None:
    led = ledger(invoice("I1", 20), customers=(customer("C1", emails=(), phone=""),))
    result = OutboxChannel(tmp_path).send(message_for(led))
    assert result.detail.endswith(".pdf")
