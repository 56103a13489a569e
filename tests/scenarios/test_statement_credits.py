"""The statement of account attached to a reminder deducts the payments on account it knows.

Found in acceptance testing: a reminder for a FEC customer owing 60 € net (1 560 € of invoices,
1 500 € paid on account) said « solde échu de 60,00 € … le relevé complet de vos factures ouvertes
(solde 1 560,00 €) est joint », and the attached statement listed the invoices only, « Solde dû
1 560,00 € ».
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

from pypdf import PdfReader

from encours.connectors.model import Money, Payment
from encours.scenarios.planner import plan
from encours.scenarios.render import render
from encours.sheets_addin.marks import SheetMarks
from tests.support.reminders import AS_OF, company, invoice, ledger, shipped


def _flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_the_attached_statement_lists_and_deducts_a_payment_on_account() -> None:
    on_account = Payment("P1", "C1", "test", AS_OF - timedelta(days=10), Money(Decimal("400.00")),
                         reference="VIR-ACOMPTE")
    led = ledger(invoice("I1", 20, "1000.00"), invoice("I2", -5, "100.00"), payments=(on_account,))
    (action,) = plan(led, SheetMarks(), shipped(), AS_OF, done={}, company=company()).actions
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    (statement,) = [a for a in message.attachments if a.filename.startswith("Relevé de compte")]
    text = _flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(statement.content)).pages))
    assert "VIR-ACOMPTE" in text and re.search(r"[-−] ?400,00 €", text), text
    assert "Solde dû 700,00 €" in text  # 1 000 + 100 − 400: what the customer owes
