"""Invoices in another currency in a CSV export: their amount in euros read from the file, never guessed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from encours.connectors.csvfile import read_invoices
from encours.connectors.errors import InputError
from encours.connectors.model import Money
from encours.sync.cli import main
from tests.conftest import write_config

HEAD = "N° facture;Code client;Client;Date facture;Échéance;Montant TTC;Reste dû;Devise;Reste dû (EUR)\r\n"
ROWS = (
    "FA-201;K10;London Ltd;15/08/2026;14/09/2026;5000,00;5000,00;GBP;5 867,45\r\n"
    "FA-202;K10;London Ltd;15/09/2026;15/10/2026;1234,56;1000,00;£;1 173,40\r\n"
    "AV-203;K10;London Ltd;20/09/2026;;-200,00;-200,00;GBP;-234,70\r\n"  # a credit note, signed
    "FA-204;K11;Boston Inc;15/09/2026;15/10/2026;700,00;700,00;USD;\r\n"  # no amount in euros given
    "FA-205;K12;Lyon SARL;15/09/2026;15/10/2026;100,00;100,00;EUR;100,00\r\n"
)


def test_the_amount_in_euros_of_a_foreign_invoice_is_read(tmp_path: Path) -> None:
    path = tmp_path / "factures.csv"
    path.write_text(HEAD + ROWS, encoding="utf-8", newline="")
    invoices, _ = read_invoices(path, {}, 30)
    by_number = {i.number: i for i in invoices}
    assert by_number["FA-201"].remaining_company == Money(Decimal("5867.45"))
    assert by_number["FA-202"].remaining == Money(Decimal("1000.00"), "GBP")
    assert by_number["FA-202"].remaining_company == Money(Decimal("1173.40"))
    assert by_number["AV-203"].remaining_company == Money(Decimal("234.70"))  # as positive as its remaining
    assert by_number["FA-204"].remaining_company is None
    assert by_number["FA-205"].remaining_company is None  # in euros already


@pytest.mark.parametrize(("row", "says"), [
    ("FA-9;K1;A;15/08/2026;;100,00;100,00;EUR;90,00", "is not the remaining 100,00 of an invoice in EUR"),
    ("FA-9;K1;A;15/08/2026;;100,00;0,00;GBP;12,00", "in EUR for 0,00 GBP still due"),
    ("FA-9;K1;A;15/08/2026;;100,00;100,00;GBP;douze", "is not an amount"),
])
def test_an_amount_in_euros_that_cannot_be_right_names_the_line(tmp_path: Path, row: str, says: str) -> None:
    path = tmp_path / "factures.csv"
    path.write_text(HEAD + row + "\r\n", encoding="utf-8", newline="")
    with pytest.raises(InputError) as caught:
        read_invoices(path, {}, 30)
    message = str(caught.value)
    assert "factures.csv" in message and "line 2" in message and "Reste dû (EUR)" in message and says in message


def _synced(tmp_path: Path, capsys: pytest.CaptureFixture[str], invoices: str) -> str:
    """What ``encours sync`` prints for this invoices file."""
    (tmp_path / "factures.csv").write_text(invoices, encoding="utf-8", newline="")
    config = write_config(tmp_path, source='type = "csv"\npath = "factures.csv"')
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-10"]) == 0
    return capsys.readouterr().out


def test_amounts_without_an_eur_value_are_named_not_counted_as_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No column of amounts in euros: the EUR totals cannot hold the GBP and USD invoices, and say so."""
    out = _synced(tmp_path, capsys, HEAD.replace(";Reste dû (EUR)", "") + "".join(
        line.rsplit(";", 1)[0] + "\r\n" for line in ROWS.splitlines()))
    assert "Total outstanding: 100,00 €" in out
    assert ("Not in the EUR totals (the source gives no EUR value or exchange rate): "
            "5\u202f800,00 GBP (3 rows), 700,00 USD (1 row)") in out  # 5 000 + 1 000 − 200 (the credit note)


def test_the_sheet_and_the_totals_count_foreign_invoices_in_euros(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = _synced(tmp_path, capsys, HEAD + ROWS)
    assert "Total outstanding: 6\u202f906,15 €" in out  # 5 867,45 + 1 173,40 − 234,70 + 100,00
    assert "Not in the EUR totals (the source gives no EUR value or exchange rate): 700,00 USD (1 row)" in out
    rows = list(load_workbook(tmp_path / "encours.xlsx")["Factures"].iter_rows(values_only=True))
    header = rows[0]
    shown = {r[1]: dict(zip(header, r, strict=False)) for r in rows[1:] if r[0]}
    assert shown["FA-201"]["Reste dû (EUR)"] == pytest.approx(5867.45)
    assert shown["FA-202"]["Reste dû"] == 1000 and shown["FA-202"]["Reste dû (EUR)"] == pytest.approx(1173.40)
