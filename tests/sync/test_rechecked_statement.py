"""The statement attached to a reminder is the one re-checked at the source right before sending
(issue 12.6), not the pull's."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

from encours.connectors.model import Invoice, InvoiceStatus, Money
from tests.support.fake_source import FakeSource
from tests.support.smtp_server import SmtpServer
from tests.sync.test_run import dossier, one_pass


class PartlyPaidMeanwhile(FakeSource):
    """The pull is stale; re-read right before sending, I2 has 100.00 left."""

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        fresh = super().refetch_invoice(invoice_id)
        if fresh is not None and invoice_id == "I2":
            return fresh.with_changes(remaining=Money(Decimal("100.00")), status=InvoiceStatus.PARTIALLY_PAID)
        return fresh


def test_the_attached_statement_shows_what_the_source_says_right_before_sending(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    with SmtpServer() as server:
        one_pass(config, file, server.port, connector=PartlyPaidMeanwhile(file))
        message = next(r.message for r in server.handler.received if r.recipients[0] == "compta@c1.example")
    (statement,) = [part for part in message.iter_attachments() if part.get_filename().startswith("Relevé")]
    reader = PdfReader(io.BytesIO(statement.get_content()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).replace("\u202f", " ")
                    .replace("\u00a0", " ").split())
    assert "Solde dû 1 300,00 €" in text, text
    assert "Total : 1\u202f300,00\u00a0€" in message.get_body(("plain",)).get_content()
