"""``encours demo`` keeps one ledger, and ``--days N`` lives it (issue 12.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from encours.sync.cli import main


def ledger_ids(out: Path) -> tuple[str, str, set[str]]:
    data = json.loads((out / "demo-ledger.json").read_text(encoding="utf-8"))
    return data["anchor"], data["lived_until"], {i["id"] for i in data["ledger"]["invoices"]}


def test_the_demo_ledger_is_written_once_and_lives_day_by_day(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--out", str(out), "--as-of", "2026-10-05"]) == 0
    anchor, lived, created = ledger_ids(out)
    assert (anchor, lived) == ("2026-10-05", "2026-10-05")
    assert main(["-q", "demo", "--out", str(out), "--as-of", "2026-10-09"]) == 0  # another day: same ledger
    assert ledger_ids(out)[2] == created
    capsys.readouterr()
    assert main(["-q", "demo", "--out", str(out), "--days", "14"]) == 0
    printed = capsys.readouterr().out
    anchor, lived, after = ledger_ids(out)
    assert (anchor, lived) == ("2026-10-05", "2026-10-19")
    assert created < after, "invoices keep their numbers; new ones are issued as life goes on"
    assert "Lived 06/10/2026 → 19/10/2026 (14 days)" in printed
    for step in ("Prévenance:", "Relance 1:", "Relance 2:", "Appel:", "Remerciement:"):
        assert step in printed, printed
    assert "within 14 days of a reminder" in printed and "DSO (90 days)" in printed
    assert "dispute typed" in printed and "call outcome typed — promise" in printed
    assert list((out / "outbox").glob("*.eml"))
    assert "payment plan typed" in printed
    assert main(["-q", "demo", "--out", str(out), "--days", "2"]) == 0  # lives on; what was typed stays typed once
    again = capsys.readouterr().out
    assert "payment plan typed" not in again and "Lived 20/10/2026 → 21/10/2026 (2 days)" in again
    plans = load_workbook(out / "encours-demo.xlsx", read_only=True)["Échéanciers"]
    assert len([r for r in plans.iter_rows(min_row=2, values_only=True) if r[0]]) == 3
