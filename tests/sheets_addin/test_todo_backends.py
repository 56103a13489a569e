"""``À faire`` matched by task ID on every backend, as a person sees it: they sort, tick ``Fait``,
type a ``Résultat``, delete a done row — and the next write keeps what they typed with its task.

xlsx: a real file; live Excel: the fake xlwings; Google Sheets: the local Sheets v4 server over
real HTTP (the same three sides as test_merge_backends)."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_sheets_server import FakeSheetsServer, col_letters
from fake_xlwings import FakeBook

from encours.connectors.model import Ledger
from encours.sheets_addin.excel import ExcelWorkbook
from encours.sheets_addin.gsheets import GoogleSheet
from encours.sheets_addin.gsheets_http import Clock
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import SheetView, build_view
from encours.sheets_addin.xlsx import XlsxWorkbook

TAB = "À faire"
OLD_HEADINGS = ["Commercial", "Date", "Action", "Client", "Téléphone", "Factures", "Montant", "Détail"]


class Side(Protocol):
    def write(self, view: SheetView) -> None: ...
    def read_marks(self) -> SheetMarks: ...
    def table(self) -> list[list[Any]]: ...
    def type(self, row: int, column: int, value: Any) -> None: ...  # 1-based row, 0-based column
    def sort(self, column: int) -> None: ...


class XlsxSide:
    tick: Any = "Oui"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "encours.xlsx"

    def write(self, view: SheetView) -> None:
        XlsxWorkbook(self.path).write(view)

    def read_marks(self) -> SheetMarks:
        return XlsxWorkbook(self.path).read_marks()

    def table(self) -> list[list[Any]]:
        ws = load_workbook(self.path)[TAB]
        return [list(r) for r in ws.iter_rows(values_only=True)]

    def type(self, row: int, column: int, value: Any) -> None:
        wb = load_workbook(self.path)
        wb[TAB].cell(row=row, column=column + 1).value = value
        wb.save(self.path)

    def sort(self, column: int) -> None:
        wb = load_workbook(self.path)
        ws = wb[TAB]
        rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
        rows.sort(key=lambda r: str(r[column] or ""), reverse=True)
        for number, values in enumerate(rows, start=2):
            for index, value in enumerate(values):
                ws.cell(row=number, column=index + 1).value = value
        wb.save(self.path)


class ExcelSide:
    tick: Any = True

    def __init__(self) -> None:
        self.book = FakeBook()

    def write(self, view: SheetView) -> None:
        ExcelWorkbook(self.book).write(view)

    def read_marks(self) -> SheetMarks:
        return ExcelWorkbook(self.book).read_marks()

    def table(self) -> list[list[Any]]:
        sheet = self.book.sheets[TAB]
        return [sheet.row_values(r) for r in range(1, sheet.used_range.r2 + 1)]

    def type(self, row: int, column: int, value: Any) -> None:
        self.book.sheets[TAB].set(f"{col_letters(column)}{row}", "" if value is None else value)

    def sort(self, column: int) -> None:
        sheet = self.book.sheets[TAB]
        width = sheet.used_range.c2
        rows = [[(sheet.get(r, c).formula, sheet.get(r, c).value) for c in range(1, width + 1)]
                for r in range(2, sheet.used_range.r2 + 1)]
        rows.sort(key=lambda r: str(r[column][1] or ""), reverse=True)
        for number, line in enumerate(rows, start=2):
            for index, (formula, value) in enumerate(line, start=1):
                cell = sheet.cell(number, index)
                cell.formula, cell.value = formula, value


class GoogleSide:
    tick: Any = True  # a check box

    def __init__(self, server: FakeSheetsServer) -> None:
        self.server = server

    def _sheet(self) -> GoogleSheet:
        clock = [0.0]
        return GoogleSheet("sheet-1", api_base_url=self.server.base_url,
                           clock=Clock(lambda: clock[0], lambda s: clock.__setitem__(0, clock[0] + s)),
                           rng=random.Random(3))

    def write(self, view: SheetView) -> None:
        self._sheet().write(view)

    def read_marks(self) -> SheetMarks:
        return self._sheet().read_marks()

    def table(self) -> list[list[Any]]:
        return self.server.grid(TAB)

    def type(self, row: int, column: int, value: Any) -> None:
        self.server.person_set(TAB, f"{col_letters(column)}{row}", "" if value is None else value)

    def sort(self, column: int) -> None:
        self.server.person_sort(TAB, column, descending=True)


@pytest.fixture(params=["xlsx", "excel", "google"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "xlsx":
        yield XlsxSide(tmp_path)
    elif request.param == "excel":
        yield ExcelSide()
    else:
        with FakeSheetsServer() as server:
            yield GoogleSide(server)


def task(number: int, customer: str, *, is_open: bool = True, follow_up: str = "") -> dict[str, Any]:
    return {"id": f"T-{number:04d}", "salesperson": "Claire Martin", "date": date(2026, 11, 23), "action": "Appeler",
            "customer": customer, "phone": "+33 1 23 45 67 89", "invoices": f"F-{number}",
            "amount": Decimal("100.00") * number, "reason": "Relance 2 — à dire : …", "follow_up": follow_up,
            "is_open": is_open}


def view(ledger: Ledger, as_of: date, todo: list[dict[str, Any]]) -> SheetView:
    return build_view(ledger, as_of, company="Atelier Dupont SARL", run={}, journal=[], todo=todo)


def column(table: list[list[Any]], heading: str) -> int:
    return table[0].index(heading)


def rows_by_id(table: list[list[Any]]) -> dict[str, dict[str, Any]]:
    header = [str(h) for h in table[0]]
    out = {}
    for number, line in enumerate(table[1:], start=2):
        values = dict(zip(header, [*line, *[None] * (len(header) - len(line))], strict=True))
        if values.get("ID"):
            out[str(values["ID"])] = {**values, "row": number}
    return out


def test_fait_and_resultat_stay_with_their_task_through_sorts_and_every_write(
        side: Any, ledger: Ledger, as_of: date) -> None:
    first = [task(1, "Atelier Bleu"), task(2, "Zinc & Fils"), task(3, "Menuiserie Roux")]
    side.write(view(ledger, as_of, first))
    table = side.table()
    assert [r for r in rows_by_id(table)] == ["T-0001", "T-0002", "T-0003"]
    side.sort(column(table, "Client"))  # Zinc, Menuiserie, Atelier
    row = rows_by_id(side.table())["T-0002"]["row"]
    side.type(row, column(table, "Fait"), side.tick)
    side.type(row, column(table, "Résultat"), "promesse 15/12/2026")
    marks = side.read_marks().tasks
    assert (marks["T-0002"].done, marks["T-0002"].result, marks["T-0002"].row) == (True, "promesse 15/12/2026", row)
    assert not marks["T-0001"].done and marks["T-0001"].result == ""

    recorded = "Enregistré le 24/11/2026 : promesse de paiement au 15/12/2026"
    second = [first[0], task(2, "Zinc & Fils", is_open=False, follow_up=recorded), first[2], task(4, "Bois Dur")]
    side.write(view(ledger, as_of, second))
    rows = rows_by_id(side.table())
    assert rows["T-0002"]["row"] == row, "matched by ID, not put back in place"
    assert (rows["T-0002"]["Résultat"], rows["T-0002"]["Suivi"]) == ("promesse 15/12/2026", recorded)
    assert rows["T-0002"]["Fait"] in (True, "Oui")
    assert rows["T-0004"]["row"] == 5 and rows["T-0004"]["Client"] == "Bois Dur", "a new task goes at the end"
    assert [rows[t]["Client"] for t in ("T-0001", "T-0003")] == ["Atelier Bleu", "Menuiserie Roux"]


def test_a_tab_of_the_layout_before_task_ids_is_laid_out_anew(side: Any, ledger: Ledger, as_of: date) -> None:
    side.write(view(ledger, as_of, [task(1, "Atelier Bleu")]))
    width = len(side.table()[0])
    for index in range(width):  # an older encours wrote this tab: no ID, rewritten whole at each pass
        side.type(1, index, OLD_HEADINGS[index] if index < len(OLD_HEADINGS) else None)
        side.type(2, index, ["Claire Martin", "23/11/2026", "Appeler", "Ancien client", "", "F-0", 5, "old"][index]
                  if index < len(OLD_HEADINGS) else None)
    assert side.read_marks().tasks == {}, "read without error: nothing typed there yet"
    side.write(view(ledger, as_of, [task(1, "Atelier Bleu")]))
    table = side.table()
    assert table[0][:3] == ["ID", "Commercial", "Date"] and "Fait" in table[0] and "Résultat" in table[0]
    assert list(rows_by_id(table)) == ["T-0001"]
    assert "Ancien client" not in [v for line in table for v in line]
