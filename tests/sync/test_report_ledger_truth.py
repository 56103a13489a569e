"""The weekly report's total outstanding is the ledger's balance, payments on account included.

Found in acceptance testing: on a FEC whose 411 lines sum to 6 747,08 €, the workbook and the sync
summary said 6 747,08 € but ``encours report`` printed « Encours total : 7 807,95 € » and listed a
customer who owes 60 € net (1 560 € of invoices, 1 500 € paid on account) among the largest late
payers with « 1 560,00 € échu ».
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from encours.sync.cli import main
from tests.connectors.test_fec_balances import receipt, sale, sum_of_411
from tests.sync.test_run_claims_net import _dossier


def test_the_report_total_is_the_sum_of_the_411_lines(tmp_path: Path) -> None:
    config = _dossier(tmp_path, sale("1", "20260905", "C1", "FA-0201", "1200,00"),
                      sale("2", "20260910", "C1", "FA-0202", "360,00"),
                      receipt("3", "20261105", "C1", "VIR-1105", "1500,00"),
                      sale("4", "20260905", "C2", "FA-0301", "400,00"))
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-12"]) == 0
    assert main(["-q", "report", "-c", str(config), "--out", str(tmp_path / "rep")]) == 0
    (text,) = [p.read_text(encoding="utf-8") for p in (tmp_path / "rep").glob("*.txt")]
    found = re.search(r"Encours total : ([\d\s\u202f\u00a0,]+)\u00a0?€", text)
    assert found is not None, text
    shown = Decimal(re.sub(r"[^\d,]", "", found.group(1)).replace(",", "."))
    assert shown == sum(sum_of_411(tmp_path / "FEC.txt").values())  # 60 + 400


def test_a_customer_whose_payment_on_account_covers_most_is_listed_late_for_the_net(tmp_path: Path) -> None:
    config = _dossier(tmp_path, sale("1", "20260905", "C1", "FA-0201", "1200,00"),
                      sale("2", "20260910", "C1", "FA-0202", "360,00"),
                      receipt("3", "20261105", "C1", "VIR-1105", "1500,00"),
                      sale("4", "20260905", "C2", "FA-0301", "400,00"))
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-12"]) == 0
    assert main(["-q", "report", "-c", str(config), "--out", str(tmp_path / "rep")]) == 0
    (text,) = [p.read_text(encoding="utf-8") for p in (tmp_path / "rep").glob("*.txt")]
    assert "1\u202f560,00" not in text and "1 560,00" not in text, text  # never the gross of C1
    assert "Non affecté" in text, "the aged balance shows what no invoice absorbs, as the sheet does"
    week = re.search(r"Semaine du [\d/]+ : ([\d\s\u202f\u00a0,]+)\u00a0?€", text)
    assert week is not None and re.sub(r"[^\d,]", "", week.group(1)) == "460,00", "60 € from C1, 400 € from C2"
