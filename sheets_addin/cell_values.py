"""Cells as a spreadsheet hands them to a custom function, read safely: dates (or Excel serials),
amounts, whole numbers, countries, blanks and error values; ranges as rows; a function applied
cell by cell over ranges of one shape, where a bad cell becomes ``"#ENCOURS: <what is wrong>"``
in its own answer cell and the rest of the range still computes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from encours.sheets_addin import rates

Cell = Any


Grid = list[list[Any]]


ERROR_PREFIX = "#ENCOURS: "


EXCEL_EPOCH = date(1899, 12, 30)


#: Error values as spreadsheets show them (Excel, LibreOffice and Google Sheets).
ERROR_VALUES = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!", "#ERROR!",
     "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "Err:502", "Err:504"}
)


class CellError(ValueError):
    """One cell's answer is an error; ``str(error)`` is the text shown in the cell."""

    def __init__(self, message: str) -> None:
        super().__init__(ERROR_PREFIX + message)


def is_error_value(value: Cell) -> bool:
    return isinstance(value, str) and (value in ERROR_VALUES or value.startswith(ERROR_PREFIX))


def check_not_blank_or_error(value: Cell, what: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError(f"{what} is empty")
    if is_error_value(value):
        raise CellError(f"{what} is an error value ({value.removeprefix(ERROR_PREFIX)})")


def to_date(value: Cell, what: str) -> date:
    """A date cell: a date, a datetime (its day) or an Excel serial number."""
    check_not_blank_or_error(value, what)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1 <= value < 2958466:  # 1900-01-01 … 9999-12-31
            raise CellError(f"{what} is not a date")
        return EXCEL_EPOCH + timedelta(days=int(value // 1))
    raise CellError(f"{what} is not a date")


def to_amount(value: Cell, what: str = "amount") -> Decimal:
    """A money cell: a number (text is refused, as Excel's own arithmetic would)."""
    check_not_blank_or_error(value, what)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError(f"{what} is not a number")
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    raise CellError(f"{what} is not a number")


def to_whole(value: Cell, what: str) -> int:
    number = to_amount(value, what)
    if number != number.to_integral_value():
        raise CellError(f"{what} is not a whole number")
    return int(number)


def to_country(value: Cell) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "FR"
    if is_error_value(value):
        raise CellError(f"country is an error value ({value})")
    country = str(value).strip().upper()
    if country not in rates.COUNTRIES:
        raise CellError("country must be FR or BE")
    return country


def is_blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_range(value: Cell) -> bool:
    return isinstance(value, (list, tuple))


def as_grid(value: Cell) -> Grid:
    """A range as rows: a flat list is one column."""
    rows = list(value)
    if rows and not all(is_range(r) for r in rows):
        return [[v] for v in rows]
    return [list(r) for r in rows]


def flat(value: Cell) -> list[Cell]:
    """All the cells of a range (row by row), or the one value."""
    if not is_range(value):
        return [value]
    return [cell for row in as_grid(value) for cell in row]


def cell_map(func: Callable[..., Cell], *args: Cell) -> Cell:
    """Apply ``func`` cell by cell over ranges of one shape (single values are repeated).

    A :class:`CellError` in one cell becomes that cell's answer.  Ranges of different shapes give
    one error for the whole call.
    """
    grids = [as_grid(a) if is_range(a) else None for a in args]
    shapes = {(len(g), max((len(r) for r in g), default=0)) for g in grids if g is not None}
    if not shapes:
        return one_cell(func, args)
    if len(shapes) > 1:
        return ERROR_PREFIX + "ranges must have the same size"
    height, width = shapes.pop()
    out: Grid = []
    for i in range(height):
        row = []
        for j in range(width):
            values = [a if g is None else (g[i][j] if j < len(g[i]) else None)
                      for a, g in zip(args, grids, strict=True)]
            row.append(one_cell(func, values))
        out.append(row)
    return out


def one_cell(func: Callable[..., Cell], values: Sequence[Cell]) -> Cell:
    try:
        return func(*values)
    except CellError as exc:
        return str(exc)
