"""Writing the sheet in a pass: skipped when it already shows the view, the view's tables read once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from encours.connectors.demo import demo_ledger
from encours.connectors.model import Delta, Money
from encours.sheets_addin import view_texts
from encours.sheets_addin.view import SheetView, build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sync.run_report import RunReport
from encours.sync.sheet_step import write_sheet
from encours.sync.state import StateStore

AS_OF = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _write(tmp_path: Path, view: SheetView) -> RunReport:
    report = RunReport("test", view.as_of)
    store = StateStore(tmp_path / "state.sqlite")
    try:
        write_sheet(store, XlsxWorkbook(tmp_path / "encours.xlsx"), view, Delta(full=False), "demo", NOW, report)
    finally:
        store.close()
    return report


def test_the_view_s_tables_are_turned_into_text_once_per_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """The pass's digest of the view, the workbook's digest and the rows' prints share one text of each table."""
    calls: list[int] = []
    real = view_texts._joined

    def counted(columns: Any, count: int, **kw: Any) -> Any:
        calls.append(count)
        return real(columns, count, **kw)

    monkeypatch.setattr(view_texts, "_joined", counted)
    ledger = demo_ledger(AS_OF)
    report = _write(tmp_path, build_view(ledger, AS_OF))
    assert report.sheet_written
    assert sorted(calls) == sorted([len(ledger.customers), len(build_view(ledger, AS_OF).invoices)])


def test_the_sheet_is_written_again_only_when_what_it_shows_changes(tmp_path: Path) -> None:
    ledger = demo_ledger(AS_OF)
    assert _write(tmp_path, build_view(ledger, AS_OF)).sheet_written
    assert not _write(tmp_path, build_view(ledger, AS_OF)).sheet_written  # the same view: left as it is
    first = ledger.invoices[0]
    paid = dataclasses.replace(ledger, invoices=(dataclasses.replace(first, remaining=Money(
        first.remaining.amount - Decimal("0.01"), first.currency)), *ledger.invoices[1:]))
    assert _write(tmp_path, build_view(paid, AS_OF)).sheet_written  # one cent less on one invoice
    assert not _write(tmp_path, build_view(paid, AS_OF)).sheet_written
    later = AS_OF + timedelta(days=1)
    assert _write(tmp_path, build_view(paid, later)).sheet_written  # another day
