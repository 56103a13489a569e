"""A small in-memory stand-in for the part of xlwings that sheets_addin/excel.py uses.

Book (sheets, app, fullname), Sheets (by name or index, add, len, iteration), Sheet (range,
used_range, clear_contents, charts), Range (value and formula read/write, options(ndim=2),
number_format, last_cell).  It behaves like Excel where it matters to the backend:

- assigning a 2-D list fills the rectangle from the top-left cell;
- text starting with "=" becomes a formula; a leading apostrophe keeps the rest as text;
- other text that looks like a number or a date is turned into one (as Excel does when a value is
  assigned: "1E5", "(123)", "2026-01" included), unless the cell has the Text format "@", so a
  backend that forgets to protect ledger text is caught;
- a Decimal is refused (COM has no exact decimal: callers must convert);
- formulas are not evaluated: a formula cell reads back as None.

Every assignment is logged in ``book.log`` so tests can check that writes happen by blocks.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_NUMBER = re.compile(r"^\s*-?\d+([.,]\d+)?\s*$")
_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


_SCIENTIFIC = re.compile(r"^\s*-?\d+(\.\d+)?[eE][+-]?\d+\s*$")
_NEGATIVE = re.compile(r"^\s*\((\d+([.,]\d+)?)\)\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")


def _as_excel_reads(item: str) -> Any:
    """Text assigned to a cell in the General format, as Excel reads it: numbers ("1,5", "1E5",
    "(123)" = -123), dates ("31/12/2026", "2026-01-15", "2026-01" = 1 January 2026), else text."""
    if _NUMBER.match(item):
        return float(item.replace(",", "."))
    if _SCIENTIFIC.match(item):
        return float(item)
    negative = _NEGATIVE.match(item)
    if negative:
        return -float(negative.group(1).replace(",", "."))
    match = _DATE.match(item)
    if match:
        return datetime(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    iso = _ISO.match(item)
    if iso and 1 <= int(iso.group(2)) <= 12:
        return datetime(int(iso.group(1)), int(iso.group(2)), int(iso.group(3) or 1))
    return item if item != "" else None


def _address(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return int(digits), col


class FakeCell:
    __slots__ = ("formula", "number_format", "value")

    def __init__(self) -> None:
        self.value: Any = None
        self.formula: str | None = None
        self.number_format = "General"


class FakeRange:
    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int, ndim: int | None = None) -> None:
        self.sheet, self.r1, self.c1, self.r2, self.c2, self.ndim = sheet, r1, c1, r2, c2, ndim

    # shape -----------------------------------------------------------------------------------
    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def last_cell(self) -> FakeRange:
        return FakeRange(self.sheet, self.r2, self.c2, self.r2, self.c2)

    def options(self, ndim: int | None = None, **_: Any) -> FakeRange:
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2, ndim)

    def _shape(self, grid: list[list[Any]]) -> Any:
        if self.ndim == 2:
            return grid
        if self.r1 == self.r2 and self.c1 == self.c2:
            return grid[0][0]
        if self.r1 == self.r2:
            return grid[0]
        if self.c1 == self.c2:
            return [row[0] for row in grid]
        return grid

    # values ----------------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        grid = [[self.sheet.get(r, c).value for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]
        return self._shape(grid)

    @value.setter
    def value(self, data: Any) -> None:
        if not isinstance(data, (list, tuple)):
            data = [[data]]
        elif data and not isinstance(data[0], (list, tuple)):
            data = [list(data)]
        width = max((len(r) for r in data), default=0)
        self.sheet.book.log.append((self.sheet.name, self.r1, self.c1, len(data), width))
        for i, row in enumerate(data):
            for j, item in enumerate(row):
                self.sheet.put(self.r1 + i, self.c1 + j, item)

    @property
    def formula(self) -> Any:
        def text(cell: FakeCell) -> str:
            if cell.formula is not None:
                return cell.formula
            if cell.value is None:
                return ""
            if isinstance(cell.value, datetime):
                return cell.value.strftime("%m/%d/%Y")
            if isinstance(cell.value, float) and cell.value.is_integer():
                return str(int(cell.value))
            return str(cell.value)

        grid = tuple(
            tuple(text(self.sheet.get(r, c)) for c in range(self.c1, self.c2 + 1)) for r in range(self.r1, self.r2 + 1)
        )
        if self.r1 == self.r2 and self.c1 == self.c2:
            return grid[0][0]
        return grid

    @property
    def column_width(self) -> float:
        return self.sheet.widths.get(self.c1, 8.43)  # Excel's default width

    @column_width.setter
    def column_width(self, width: float) -> None:
        for c in range(self.c1, self.c2 + 1):
            self.sheet.widths[c] = width

    @property
    def number_format(self) -> str:
        return self.sheet.get(self.r1, self.c1).number_format

    @number_format.setter
    def number_format(self, fmt: str) -> None:
        self.sheet.book.format_calls += 1
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                self.sheet.cell(r, c).number_format = fmt


class FakeChart:
    def __init__(self) -> None:
        self.source: FakeRange | None = None
        self.chart_type = ""

    def set_source_data(self, rng: FakeRange) -> None:
        self.source = rng


class FakeCharts(list[FakeChart]):
    def add(self, left: float = 0, top: float = 0, width: float = 355, height: float = 211) -> FakeChart:
        chart = FakeChart()
        self.append(chart)
        return chart


class FakeSheet:
    def __init__(self, book: FakeBook, name: str) -> None:
        self.book, self.name = book, name
        self.cells: dict[tuple[int, int], FakeCell] = {}
        self.widths: dict[int, float] = {}  # 1-based column → width in characters
        self.charts = FakeCharts()

    def get(self, row: int, col: int) -> FakeCell:
        return self.cells.get((row, col)) or FakeCell()

    def cell(self, row: int, col: int) -> FakeCell:
        return self.cells.setdefault((row, col), FakeCell())

    def put(self, row: int, col: int, item: Any) -> None:
        cell = self.cell(row, col)
        cell.formula = None
        if isinstance(item, Decimal):
            raise TypeError("Objects of type 'Decimal' can not be converted to a COM VARIANT")
        if isinstance(item, str):
            if item.startswith("'"):
                cell.value = item[1:]
                return
            if cell.number_format == "@":  # the Text format: whatever is typed stays text, "=" included
                cell.value = item if item != "" else None
                return
            if item.startswith("="):
                cell.formula, cell.value = item, None
                return
            cell.value = _as_excel_reads(item)
            return
        if isinstance(item, bool):
            cell.value = item
        elif isinstance(item, int):
            cell.value = float(item)
        elif isinstance(item, datetime):
            cell.value = item
        elif isinstance(item, date):
            cell.value = datetime(item.year, item.month, item.day)
        else:
            cell.value = item

    def set(self, ref: str, item: Any) -> None:
        """What a person typing in Excel does (not logged as a backend write)."""
        row, col = _address(ref)
        self.put(row, col, item)

    def range(self, first: Any, second: Any = None) -> FakeRange:
        if isinstance(first, str):
            parts = first.split(":")
            r1, c1 = _address(parts[0])
            r2, c2 = _address(parts[-1])
        else:
            r1, c1 = first
            r2, c2 = second if second is not None else first
        return FakeRange(self, r1, c1, r2, c2)

    @property
    def used_range(self) -> FakeRange:
        used = [k for k, c in self.cells.items() if c.value is not None or c.formula is not None]
        if not used:
            return FakeRange(self, 1, 1, 1, 1)
        return FakeRange(self, 1, 1, max(r for r, _ in used), max(c for _, c in used))

    def clear_contents(self) -> None:
        self.book.log.append((self.name, "clear"))
        for cell in self.cells.values():
            cell.value = None
            cell.formula = None

    def row_values(self, row: int) -> list[Any]:
        """Test helper: a row as Excel shows it (formulas as their text)."""
        width = self.used_range.c2
        return [self.get(row, c).formula or self.get(row, c).value for c in range(1, width + 1)]


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self.items: list[FakeSheet] = []

    def __getitem__(self, key: str | int) -> FakeSheet:
        if isinstance(key, int):
            return self.items[key]
        for sheet in self.items:
            if sheet.name == key:
                return sheet
        raise KeyError(key)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(list(self.items))

    def add(self, name: str, before: FakeSheet | None = None, after: FakeSheet | None = None) -> FakeSheet:
        if any(s.name == name for s in self.items):
            raise ValueError(f"Sheet named {name!r} already present in workbook")
        sheet = FakeSheet(self.book, name)
        if after is not None:
            self.items.insert(self.items.index(after) + 1, sheet)
        elif before is not None:
            self.items.insert(self.items.index(before), sheet)
        else:
            self.items.insert(0, sheet)
        return sheet

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.items]


class FakeApp:
    def __init__(self) -> None:
        self.screen_updating = True
        self.calculation = "automatic"
        self.alerts: list[str] = []
        self.status_bar: str | None = None

    def alert(self, prompt: str, title: str = "") -> None:
        self.alerts.append(prompt)


class FakeBook:
    def __init__(self, fullname: str = "C:/encours/encours.xlsx") -> None:
        self.fullname = fullname
        self.app = FakeApp()
        self.log: list[tuple[Any, ...]] = []
        self.format_calls = 0
        self.sheets = FakeSheets(self)
        self.sheets.add("Feuil1")
