"""``encours sync`` on a FEC with payments on account: the workbook and the summary add up to the ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from encours.sync.cli import main
from tests.conftest import write_config
from tests.connectors.test_fec_balances import book, receipt, sale, sum_of_411


def test_sync_of_a_fec_names_credits_customers_in_credit_and_missing_lettering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = book(
        tmp_path,
        sale("1", "20260105", "C1", "F-1", "1200,00", "A"),
        receipt("2", "20260205", "C1", "VIR-1", "1200,00", "A"),
        sale("3", "20260110", "C1", "F-2", "300,00"),
        receipt("4", "20260210", "C1", "VIR-2", "450,00"),
        sale("5", "20260110", "C2", "F-3", "80,00"),
        sale("6", "20260110", "C3", "F-4", "40,00"),
        receipt("7", "20260111", "C3", "VIR-3", "40,00"),
    )
    config = write_config(tmp_path, source=f'type = "fec"\npath = "{path.name}"')
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Unallocated credits" in out and "2, total 490.00 EUR" in out
    assert "Customers in credit" in out and "Alpha SARL (150.00 EUR)" in out
    assert "1 customer(s) without lettering" in out and ": Charlie" in out
    assert "Total outstanding: -70,00 €" in out  # 300 + 80 − 450: the ledger's balance
    rows = list(load_workbook(tmp_path / "encours.xlsx")["Factures"].iter_rows(values_only=True))
    header = rows[0]
    factures = [dict(zip(header, r, strict=False)) for r in rows[1:] if r[0]]
    credit = next(r for r in factures if r["Statut"] == "Paiement non affecté" and r["ID client"] == "C1")
    assert (credit["N° facture"], credit["Reste dû"]) == ("VIR-2", -450)
    sums: dict[str, Decimal] = {}
    for r in factures:
        if r["Statut"] not in ("Payée", "Annulée"):
            sums[r["ID client"]] = sums.get(r["ID client"], Decimal(0)) + Decimal(str(r["Reste dû (EUR)"]))
    assert {k: v for k, v in sums.items() if v} == sum_of_411(path)


def test_the_demo_runs_from_any_folder_not_only_the_source_tree(tmp_path: Path) -> None:
    # The shipped interest rates are package data of encours.sheets_addin: found from anywhere.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "encours.sync.cli", "-q", "demo", "--out", str(tmp_path / "demo"),
         "--as-of", "2026-11-23"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "demo" / "encours-demo.xlsx").exists()
