"""One amount parser and one date parser for every input, and bad input refused with file and line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from encours.connectors.csvfile import CsvConnector
from encours.connectors.errors import InputError
from encours.connectors.fec import FEC_COLUMNS, read_fec
from encours.connectors.fields import Fields
from encours.connectors.model import CreditKind, Money
from encours.connectors.parsing import MAX_AMOUNT, parse_amount, parse_currency, parse_date, read_bounded
from encours.sheets_addin.marks import marks_from_rows
from encours.sync.cli import main
from tests.conftest import write_config

HEADER = "\t".join(FEC_COLUMNS)
CSV_HEADER = "N° facture;Code client;Client;Date;Montant TTC;Reste dû"


def fec_line(amount: str = "120,00", day: str = "20260105", currency: str = "", fx: str = "") -> list[str]:
    first = ["VE", "Ventes", "1", day, "411000", "Clients", "C1", "Alpha", "F-1", day, "Vente", amount, "0",
             "", "", day, fx, currency]
    second = ["VE", "Ventes", "1", day, "706000", "Ventes", "", "", "F-1", day, "Vente", "0", amount,
              "", "", day, "", ""]
    return ["\t".join(first), "\t".join(second)]


def write_fec_file(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.56", "1234.56"), ("1.234,56", "1234.56"), ("1 234,56", "1234.56"), ("1234,56", "1234.56"),
     ("(15,00)", "-15.00"), ("15,00-", "-15.00"), ("12 €", "12"), ("-0,01", "-0.01")],
)
def test_every_input_reads_an_amount_the_same_way(tmp_path: Path, text: str, value: str) -> None:
    expected = Decimal(value)
    assert parse_amount(text) == expected
    # the sheet: a payment-plan amount typed by a person
    marks = marks_from_rows([], [], [(2, {"invoice_id": "F-1", "date": "31/12/2026", "amount": text})])
    assert marks.payment_plans[0].amount == expected
    # a platform field
    assert Fields({"id": 1, "amount": text}, platform="odoo", endpoint="account.move").amount("amount") == expected
    # a CSV cell
    csv = tmp_path / "factures.csv"
    csv.write_text(f'{CSV_HEADER}\nF-1;C1;Alpha;05/01/2026;"{text}";"{text}"\n',
                   encoding="utf-8")
    if expected > 0:
        (invoice,) = CsvConnector(csv).pull(None).invoices
        assert invoice.total.amount == expected


@pytest.mark.parametrize("text", ["12345678901234567", "99999999999999999999,99", "1e400", "NaN", "1,2,3", ""])
def test_absurd_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_amount(text)
    assert Decimal("10000000000000") == MAX_AMOUNT


def test_a_17_digit_amount_in_a_fec_names_file_and_line_and_exits_2(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = write_fec_file(tmp_path / "FEC.txt", fec_line("12345678901234567,00"))
    with pytest.raises(InputError) as caught:
        read_fec(path)
    assert caught.value.line == 2 and "beyond the largest amount" in str(caught.value)
    config = write_config(tmp_path, source='type = "fec"\npath = "FEC.txt"')
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-23"]) == 2
    err = capsys.readouterr().err
    assert "FEC.txt, line 2" in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("day", ["00010101", "99991231", "21991232"])
def test_placeholder_dates_are_refused_naming_the_line(tmp_path: Path, day: str) -> None:
    path = write_fec_file(tmp_path / "FEC.txt", fec_line(day=day))
    with pytest.raises(InputError, match="is not a date") as caught:
        read_fec(path)
    assert caught.value.line == 2 and caught.value.file == str(path)


def test_dates_accept_the_usual_spellings_within_bounds() -> None:
    assert {parse_date(t) for t in ("20260131", "2026-01-31", "31/01/2026", "31.01.2026", "31/01/26",
                                    "2026-01-31 10:00:00")} == {date(2026, 1, 31)}


@pytest.mark.parametrize("code", ["ＵＳＤ", "US", "EURO", "€€€", "U$D"])
def test_non_iso_currencies_are_refused_everywhere(tmp_path: Path, code: str) -> None:
    with pytest.raises(ValueError):
        parse_currency(code)
    with pytest.raises(ValueError):
        Money(Decimal(1), code)
    path = write_fec_file(tmp_path / "FEC.txt", fec_line(currency=code, fx="100,00"))
    with pytest.raises(InputError, match="Idevise") as caught:
        read_fec(path)
    assert caught.value.line == 2
    csv = tmp_path / "factures.csv"
    csv.write_text(f"{CSV_HEADER};Devise\nF-1;C1;Alpha;05/01/2026;10,00;10,00;{code}\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match="Devise") as in_csv:
        CsvConnector(csv).pull(None)
    assert in_csv.value.line == 2


def test_a_device_or_an_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a device"):
        read_bounded(Path("/dev/zero"))
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(InputError, match="more than the 1,024"):
        read_bounded(big, limit=1024)
    assert read_bounded(big, limit=4096) == b"x" * 2048
    with pytest.raises(InputError, match="/dev/zero"):
        read_fec(Path("/dev/zero"))
    with pytest.raises(InputError, match="/dev/zero"):
        CsvConnector(Path("/dev/zero")).pull(None)


def test_a_csv_payment_without_invoice_is_an_unallocated_credit(tmp_path: Path) -> None:
    invoices = tmp_path / "factures.csv"
    invoices.write_text(f"{CSV_HEADER}\nF-1;C1;Alpha;05/01/2026;100,00;100,00\n",
                        encoding="utf-8")
    payments = tmp_path / "reglements.csv"
    payments.write_text("N° règlement;Code client;Date règlement;Montant;N° facture\n"
                        "R-1;C1;10/02/2026;30,00;\nR-2;C1;11/02/2026;100,00;F-0\n", encoding="utf-8")
    ledger, _ = CsvConnector(invoices, payments_path=payments).read()
    (credit,) = ledger.unallocated_credits()
    assert (credit.id, credit.amount, credit.kind) == ("R-1", Money(Decimal("30.00")), CreditKind.PAYMENT_ON_ACCOUNT)
    assert ledger.balances() == {("C1", "EUR"): Money(Decimal("70.00"))}


def test_csv_customers_give_postal_address_and_direct_debit(tmp_path: Path) -> None:
    invoices = tmp_path / "factures.csv"
    invoices.write_text(f"{CSV_HEADER}\nF-1;C1;Alpha;05/01/2026;100,00;100,00\nF-2;C2;Bravo;05/01/2026;10,00;10,00\n",
                        encoding="utf-8")
    customers = tmp_path / "clients.csv"
    customers.write_text("Code client;Client;Adresse postale;Mode de règlement\n"
                         "C1;Alpha;3 rue des Lilas, 69003 Lyon;Prélèvement\nC2;Bravo;;virement\n", encoding="utf-8")
    ledger, _ = CsvConnector(invoices, customers_path=customers).read()
    by_id = {c.id: c for c in ledger.customers}
    assert by_id["C1"].address == "3 rue des Lilas, 69003 Lyon" and by_id["C1"].direct_debit
    assert by_id["C2"].address == "" and not by_id["C2"].direct_debit
