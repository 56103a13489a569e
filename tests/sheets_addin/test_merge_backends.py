"""The merge rules of a keyed tab, one table, run against every backend as a person sees the result.

xlsx: a real file; live Excel: the fake xlwings (which types text like Excel does); Google Sheets:
the local Sheets v4 server over real HTTP.  A person sorts, erases an ID, copies an ID, and the
ledger gains or loses an invoice; each rule says what the ``Factures`` tab must show afterwards.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_sheets_server import FakeSheetsServer, col_letters
from fake_xlwings import FakeBook

from encours.connectors.errors import SheetError
from encours.connectors.model import Ledger
from encours.sheets_addin.excel import ExcelWorkbook
from encours.sheets_addin.gsheets import GoogleSheet
from encours.sheets_addin.gsheets_http import Clock
from encours.sheets_addin.view import SheetView, build_view
from encours.sheets_addin.xlsx import XlsxWorkbook

TAB = "Factures"
NOTE = "appelé le 12, rappeler lundi"


class Side(Protocol):
    """One backend, and what a person does in its sheet."""

    def write(self, view: SheetView) -> None: ...
    def table(self) -> list[list[Any]]: ...
    def type(self, row: int, column: int, value: Any) -> None: ...  # 1-based row, 0-based column
    def sort(self, column: int) -> None: ...  # rows below the header, descending


class XlsxSide:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "encours.xlsx"

    def write(self, view: SheetView) -> None:
        XlsxWorkbook(self.path).write(view)

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
    def __init__(self) -> None:
        self.book = FakeBook()

    def write(self, view: SheetView) -> None:
        ExcelWorkbook(self.book).write(view)

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
    def __init__(self, server: FakeSheetsServer) -> None:
        self.server = server

    def write(self, view: SheetView) -> None:
        clock = [0.0]
        GoogleSheet("sheet-1", api_base_url=self.server.base_url,
                    clock=Clock(lambda: clock[0], lambda s: clock.__setitem__(0, clock[0] + s)),
                    rng=random.Random(3)).write(view)

    def table(self) -> list[list[Any]]:
        return self.server.grid(TAB)

    def type(self, row: int, column: int, value: Any) -> None:
        self.server.person_set(TAB, f"{col_letters(column)}{row}", "" if value is None else value)

    def sort(self, column: int) -> None:
        self.server.person_sort(TAB, column, descending=True)


@pytest.fixture(params=["xlsx", "excel", "google"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Side]:
    if request.param == "xlsx":
        yield XlsxSide(tmp_path)
    elif request.param == "excel":
        yield ExcelSide()
    else:
        with FakeSheetsServer() as server:
            yield GoogleSide(server)


# -- reading the tab as a person would ----------------------------------------------------------
def col(table: list[list[Any]], heading: str) -> int:
    return table[0].index(heading)


def cell(table: list[list[Any]], row: int, heading: str) -> Any:
    line = table[row - 1]
    index = col(table, heading)
    return line[index] if index < len(line) else None


def rows_with(table: list[list[Any]], invoice_id: str) -> list[int]:
    index = col(table, "ID")
    return [n for n, line in enumerate(table[1:], start=2) if index < len(line) and line[index] == invoice_id]


def id_rows(table: list[list[Any]]) -> int:
    index = col(table, "ID")
    return sum(1 for line in table[1:] if index < len(line) and line[index] not in (None, ""))


# -- the rules ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    full: SheetView
    target: str  # an open invoice shown on the sheet
    other: str  # another one


def _world(ledger: Ledger, as_of: date) -> World:
    view = build_view(ledger, as_of, company="Atelier Dupont SARL")
    shown = sorted(r["id"] for r in view.invoices if r["id"] in view.shown_invoice_ids and r.get("remaining"))
    return World(view, shown[3], shown[7])


def without(view: SheetView, invoice_id: str) -> SheetView:
    return replace(view, invoices=[r for r in view.invoices if r["id"] != invoice_id],
                   shown_invoice_ids=view.shown_invoice_ids - {invoice_id})


def rule_sorted_rows_keep_what_people_typed(side: Side, w: World) -> None:
    side.write(w.full)
    side.sort(col(side.table(), "Client"))
    row = rows_with(side.table(), w.target)[0]
    side.type(row, col(side.table(), "Commentaire"), NOTE)
    side.write(w.full)
    table = side.table()
    assert rows_with(table, w.target) == [row]  # matched by ID, not moved back by position
    assert cell(table, row, "Commentaire") == NOTE
    assert id_rows(table) == len(w.full.shown_invoice_ids)


def rule_an_erased_id_comes_back_with_its_comment(side: Side, w: World) -> None:
    side.write(w.full)
    row = rows_with(side.table(), w.target)[0]
    side.type(row, col(side.table(), "Commentaire"), NOTE)
    side.type(row, col(side.table(), "ID"), None)
    side.write(w.full)
    table = side.table()
    assert rows_with(table, w.target) == [row]  # restored in place, not appended a second time
    assert cell(table, row, "Commentaire") == NOTE
    assert id_rows(table) == len(w.full.shown_invoice_ids)
    assert len(table) - 1 == len(w.full.shown_invoice_ids)


def rule_a_duplicated_id_refuses_the_write(side: Side, w: World) -> None:
    side.write(w.full)
    first = rows_with(side.table(), w.target)[0]
    second = rows_with(side.table(), w.other)[0]
    side.type(second, col(side.table(), "ID"), w.target)
    before = side.table()
    with pytest.raises(SheetError) as error:
        side.write(without(w.full, w.other))  # a write that would otherwise change that tab
    message = str(error.value)
    low, high = sorted((first, second))
    assert TAB in message and w.target in message and f"rows {low} and {high}" in message
    assert side.table() == before  # nothing written


def rule_a_new_invoice_is_appended(side: Side, w: World) -> None:
    side.write(without(w.full, w.target))
    table = side.table()
    assert rows_with(table, w.target) == []
    last = len(table)
    side.type(2, col(table, "Commentaire"), NOTE)
    side.write(w.full)
    table = side.table()
    assert rows_with(table, w.target) == [last + 1]
    assert cell(table, 2, "Commentaire") == NOTE
    assert id_rows(table) == len(w.full.shown_invoice_ids)


def rule_an_invoice_the_ledger_forgot_is_marked_deleted(side: Side, w: World) -> None:
    side.write(w.full)
    row = rows_with(side.table(), w.target)[0]
    side.type(row, col(side.table(), "Commentaire"), NOTE)
    side.write(without(w.full, w.target))
    table = side.table()
    assert rows_with(table, w.target) == [row]
    assert cell(table, row, "Statut") == "Supprimée"
    assert float(cell(table, row, "Reste dû") or 0) == 0
    assert cell(table, row, "Commentaire") == NOTE


RULES: list[Callable[[Side, World], None]] = [
    rule_sorted_rows_keep_what_people_typed,
    rule_an_erased_id_comes_back_with_its_comment,
    rule_a_duplicated_id_refuses_the_write,
    rule_a_new_invoice_is_appended,
    rule_an_invoice_the_ledger_forgot_is_marked_deleted,
]


@pytest.mark.parametrize("rule", RULES, ids=[r.__name__.removeprefix("rule_") for r in RULES])
def test_merge_rule(rule: Callable[[Side, World], None], side: Side, ledger: Ledger, as_of: date) -> None:
    rule(side, _world(ledger, as_of))
