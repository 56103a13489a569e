"""Every backend computes what the Python reference computes: one shared check, three backends.

The workbook a sync leaves (xlsx file; live Excel's cells; the Google Sheets server's stored cells)
is recalculated by LibreOffice and compared with :mod:`encours.sheets_addin.functions`.
"""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_sheets_server import FakeSheetsServer
from fake_xlwings import FakeBook
from gsheets_ledgers import change_some

from encours.connectors.model import Ledger
from encours.sheets_addin.excel import ExcelWorkbook
from encours.sheets_addin.functions import ledger_kpis
from encours.sheets_addin.gsheets import GoogleSheet
from encours.sheets_addin.gsheets_http import Clock
from encours.sheets_addin.view import SheetView, build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from tests.support.computed import (
    check_computed,
    fake_excel_workbook,
    recalculated,
    rows_of,
    sheets_server_workbook,
)

pytestmark = pytest.mark.libreoffice


def _written(backend: str, views: list[SheetView], folder: Path) -> Path:
    """The workbook the backend left after writing each view in turn, as an .xlsx file."""
    path = folder / "written.xlsx"
    if backend == "xlsx":
        for view in views:
            XlsxWorkbook(path).write(view)
    elif backend == "excel":
        book = FakeBook()
        for view in views:
            ExcelWorkbook(book).write(view)
        fake_excel_workbook(book, path)
    else:
        with FakeSheetsServer() as server:
            clock = [0.0]
            for view in views:
                GoogleSheet("sheet-1", api_base_url=server.base_url,
                            clock=Clock(lambda: clock[0], lambda s: clock.__setitem__(0, clock[0] + s)),
                            rng=random.Random(3)).write(view)
            sheets_server_workbook(server, path)
    return path


@pytest.mark.parametrize("resynced", [False, True], ids=["first-sync", "re-sync-20%-changed"])
@pytest.mark.parametrize("backend", ["xlsx", "excel", "google"])
def test_days_buckets_aging_customers_and_dashboard_equal_python(
    backend: str, resynced: bool, ledger: Ledger, as_of: date, tmp_path: Path
) -> None:
    views = [build_view(ledger, as_of, company="Atelier Dupont SARL")]
    if resynced:
        ledger = change_some(ledger, 0.2)
        views.append(build_view(ledger, as_of, company="Atelier Dupont SARL"))
    view = views[-1]
    wb = recalculated(_written(backend, views, tmp_path), as_of, ledger_kpis(ledger, as_of).opening, tmp_path)
    checked = check_computed(wb, view, ledger, as_of)
    buckets = {row["Tranche"] for row in rows_of(wb["Factures"])}
    assert checked > 50 and {"31-60", "61-90", "> 90"} <= buckets  # every bucket is reached


def test_a_google_sheet_written_before_the_fix_gets_its_bucket_bounds_as_formulas(
    ledger: Ledger, as_of: date, tmp_path: Path
) -> None:
    view = build_view(ledger, as_of, company="Atelier Dupont SARL")
    with FakeSheetsServer() as server:
        clock = [0.0]

        def sync() -> None:
            GoogleSheet("sheet-1", api_base_url=server.base_url,
                        clock=Clock(lambda: clock[0], lambda s: clock.__setitem__(0, clock[0] + s)),
                        rng=random.Random(3)).write(view)

        sync()
        params = server.sheet("Paramètres")
        for row in (8, 9, 10):  # C9:C11 as earlier syncs left them: text, not formulas
            params.set(row, 2, params.cell(row, 2).text)
        params.developer_metadata = [m for m in params.developer_metadata if m["metadataKey"] != "encours.params"]
        invoices = server.sheet("Factures")  # nor had they the fingerprint of what they wrote
        invoices.developer_metadata = [m for m in invoices.developer_metadata if m["metadataKey"] != "encours.print"]
        sync()
        assert all(hasattr(params.cell(row, 2), "text") for row in (8, 9, 10))
        server.requests.clear()
        sync()  # the repair is done once: nothing more to write on Paramètres
        assert not [r for r in server.requests if r.method == "POST" and "Param" in str(r.body)]
        wb = recalculated(sheets_server_workbook(server, tmp_path / "written.xlsx"), as_of,
                          ledger_kpis(ledger, as_of).opening, tmp_path)
    check_computed(wb, view, ledger, as_of, kpis=False)
