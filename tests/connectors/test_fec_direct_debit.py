"""Direct debit from a FEC, through ``encours run`` and ``encours sync``: a customer whose SEPA debit is
expected is never reminded; one whose debit was rejected (``Rejet PRLV … impayé``) is, at once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from encours.connectors.fec import read_fec
from encours.sync.cli import main
from tests.conftest import write_config
from tests.connectors.test_fec_balances import book, line, sale


def prlv(entry: str, day: str, aux: str, piece: str, amount: str, letter: str = "") -> list[str]:
    return [line("BQ", entry, day, "411000", aux, piece, "0", amount, letter, label=f"PRLV SEPA {aux}"),
            line("BQ", entry, day, "512000", "", piece, amount, "0", label=f"PRLV SEPA {aux}")]  # fmt: skip


def rejected(entry: str, day: str, aux: str, piece: str, amount: str, letter: str = "") -> list[str]:
    label = f"Rejet PRLV {aux} impayé"
    return [line("BQ", entry, day, "411000", aux, piece, amount, "0", letter, label=label),
            line("BQ", entry, day, "512000", "", piece, "0", amount, label=label)]  # fmt: skip


def ledger_file(tmp_path: Path) -> Path:
    """Three customers paying by direct debit, each invoice due 30 days after it is issued.

    C1 (Alpha): January's invoice debited; March's (due 4 April) awaits its debit.
    C2 (Bravo): March's debit was rejected on 10 April; the accountant lettered the rejection with
    the debit, so the invoice F-21 is open again.
    C3 (Charlie): March's debit was rejected on 10 April; the invoice stays lettered with the debit,
    the rejection is a new line debiting the customer (R-31).
    """
    return book(
        tmp_path,
        sale("1", "20260105", "C1", "F-10", "100,00", "A"), prlv("2", "20260204", "C1", "P-10", "100,00", "A"),
        sale("3", "20260305", "C1", "F-11", "100,00"),
        sale("4", "20260105", "C2", "F-20", "80,00", "A"), prlv("5", "20260204", "C2", "P-20", "80,00", "A"),
        sale("6", "20260305", "C2", "F-21", "80,00"), prlv("7", "20260404", "C2", "P-21", "80,00", "B"),
        rejected("8", "20260410", "C2", "R-21", "80,00", "B"),
        sale("9", "20260105", "C3", "F-30", "50,00", "A"), prlv("10", "20260204", "C3", "P-30", "50,00", "A"),
        sale("11", "20260305", "C3", "F-31", "50,00", "B"), prlv("12", "20260404", "C3", "P-31", "50,00", "B"),
        rejected("13", "20260410", "C3", "R-31", "50,00"),
    )  # fmt: skip


def test_a_rejected_debit_is_reminded_and_an_expected_one_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = ledger_file(tmp_path)
    config = write_config(
        tmp_path, source=f'type = "fec"\npath = "{path.name}"',
        extra='from = "factures@dupont.example"\nwindow = "00:00-23:59"\n',
    )  # fmt: skip
    # Tuesday 21 April: F-11 (Alpha) is 17 days past due but its debit is expected; the rejected debits
    # (10 April) are due now.
    assert main(["-q", "run", "-c", str(config), "--dry-run", "--as-of", "2026-04-21"]) == 0
    out = capsys.readouterr().out
    reminded = [row for row in out.splitlines() if "Relance" in row]
    assert any("Bravo SAS" in row for row in reminded), out
    assert any("Charlie" in row for row in reminded), out
    assert not any("Alpha SARL" in row for row in reminded), out

    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-04-21"]) == 0
    rows = list(load_workbook(tmp_path / "encours.xlsx")["Factures"].iter_rows(values_only=True))
    factures = {r[0]: dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r[0]}
    assert (factures["F-21"]["Statut"], factures["F-21"]["Reste dû"]) == ("À payer", 80)  # open again
    rejection = factures["R-31"]
    assert (rejection["Statut"], rejection["Reste dû"]) == ("À payer", 50)
    assert rejection["Échéance"] == datetime(2026, 4, 10)  # due when the debit bounced, not 30 days later


def test_a_new_debit_after_a_rejection_makes_the_customer_debited_again(tmp_path: Path) -> None:
    rows = [ledger_file(tmp_path).read_text(encoding="utf-8").rstrip("\n")]
    rows += prlv("14", "20260504", "C3", "P-32", "50,00")
    path = tmp_path / "FEC-may.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = {c.id: c.direct_debit for c in read_fec(tmp_path / "FEC.txt").ledger.customers}
    after = {c.id: c.direct_debit for c in read_fec(path).ledger.customers}
    assert before == {"C1": True, "C2": False, "C3": False}
    assert after == {"C1": True, "C2": False, "C3": True}
