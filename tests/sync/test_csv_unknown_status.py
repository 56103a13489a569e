"""A CSV invoice whose status word encours does not know is still owed: shown, counted, never reminded.

Found in acceptance testing: with an invoice of 900,00 € in status « contentieux » and a credit
note of 300,00 €, ``encours sync`` printed a total outstanding of −200,00 € (the file says
700,00 €), listed the customer « in credit, to check for a refund » (on a pass with unallocated
credits), and the invoice was not in ``Factures`` at all — where docs/formats.md says such an
invoice "is shown in the sheet as *Inconnu*".  A refund check for a customer who owes money is
wrong with a customer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from encours.sync.cli import main
from tests.conftest import write_config

INVOICES = (
    "N° facture;Code client;Client;Date facture;Échéance;Montant TTC;Reste dû;Type;Statut\r\n"
    "AV-108;K05;Litigieux SAS;15/08/2026;;-300,00;-300,00;Avoir;\r\n"
    "FA-109;K05;Litigieux SAS;15/08/2026;14/09/2026;900,00;900,00;Facture;contentieux\r\n"
    "FA-110;K06;Autre SARL;15/08/2026;14/09/2026;100,00;100,00;Facture;\r\n"
)


def test_an_invoice_in_an_unknown_status_is_shown_and_keeps_the_customer_out_of_credit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "factures.csv").write_text(INVOICES, encoding="cp1252", newline="")
    config = write_config(tmp_path, source='type = "csv"\npath = "factures.csv"')
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-10"]) == 0
    out = capsys.readouterr().out
    assert "Litigieux SAS (300.00 EUR)" not in out, "a customer owing 600 € is listed for a refund"
    assert "Total outstanding: 700,00 €" in out  # 900 − 300 + 100, as the file says
    rows = list(load_workbook(tmp_path / "encours.xlsx")["Factures"].iter_rows(values_only=True))
    shown = {r[1]: r for r in rows[1:] if r[0]}
    assert "FA-109" in shown, "the invoice in status « contentieux » is not in Factures"
    header = rows[0]
    row = dict(zip(header, shown["FA-109"], strict=False))
    assert (row["Statut"], row["Reste dû"]) == ("Inconnu", 900)

