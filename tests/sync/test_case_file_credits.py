"""A case file for a collection agency or a court claims what the customer owes net.

Found in acceptance testing: a FEC customer with 1 560 € of invoices and 1 500 € paid on account
(transfers not lettered: the sheet shows them as « Paiement non affecté » and an ``Encours`` of
60 €) got a case file whose statement and LISEZMOI said « Solde dû : 1560.00 EUR », and
``encours export-case`` printed « Balance: 1560.00 » — a claim of money already received.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from encours.sync.cli import main
from tests.connectors.test_fec_balances import receipt, sale
from tests.sync.test_run_claims_net import _dossier


def test_the_case_file_statement_deducts_payments_on_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _dossier(tmp_path, sale("1", "20260905", "C1", "FA-0201", "1200,00"),
                      sale("2", "20260910", "C1", "FA-0202", "360,00"),
                      receipt("3", "20261105", "C1", "VIR-1105", "1500,00"))
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-30"]) == 0
    capsys.readouterr()
    assert main(["-q", "export-case", "-c", str(config), "--as-of", "2026-11-30", "C1"]) == 0
    assert "Balance: 60.00" in capsys.readouterr().out
    (case,) = (tmp_path / "dossiers-recouvrement").glob("*.zip")
    with zipfile.ZipFile(case) as archive:
        files = {Path(n).name: archive.read(n) for n in archive.namelist()}
    assert "Solde dû : 60.00 EUR" in files["LISEZMOI.txt"].decode("utf-8")
    rows = list(csv.reader(io.StringIO(files["releve-de-compte.csv"].decode("utf-8-sig")), delimiter=";"))
    credit = [r for r in rows[1:] if r[1] == "VIR-1105"]
    assert credit and credit[0][5] == "-1500.00", rows
    assert sum(float(r[5]) for r in rows[1:]) == 60.00
