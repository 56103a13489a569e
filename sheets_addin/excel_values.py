"""Cells of a live Excel workbook as values: what is assigned to a cell (text Excel would retype
kept as text, dates Excel has no serial for as text, Decimal as a double), what a cell holds read
back (dates at midnight as dates), and a tab's rows as read — by column key, or as the ID and
restore key the merge plan matches."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from encours.sheets_addin.layout import Tab
from encours.sheets_addin.marks import parse_text
from encours.sheets_addin.merge import FoundRow, restore_columns, restore_key
from encours.sheets_addin.xlsx import find_columns

#: Text Excel would turn into something else when assigned (a formula, a number, a date).
_LOOKS_TYPED = re.compile(r"^\s*([=+\-@]|[\d.,/:\s%€$]+$|(true|false|vrai|faux)$)", re.IGNORECASE)


#: Excel's 1900 date system counts a 29 February 1900 that never was: earlier dates get no (or a wrong) serial.
_FIRST_SERIAL = datetime(1900, 3, 1)


#: Excel's "Text" number format: what is assigned afterwards stays text ("2026-01", "1E5", "(123)").
TEXT_FORMAT = "@"


def excel_value(value: Any) -> Any:
    """A view value as assigned to an Excel cell: Decimal → float (Excel holds doubles), tz dropped,
    dates before 1 March 1900 as text, and text that Excel would read as a formula, number or date
    kept as text (leading apostrophe; text columns are also given the text format before values)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date) and (value if isinstance(value, datetime) else datetime(value.year, value.month,
                                                                                        value.day)) < _FIRST_SERIAL:
        return "'" + value.strftime("%d/%m/%Y")  # Excel has no serial for it (or a wrong one): kept as text
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, str) and _LOOKS_TYPED.match(value):
        return "'" + value
    return value


def formula_or_value(value: Any) -> Any:
    """A formula as Excel takes it (text starting with "="), anything else made safe as a value."""
    if isinstance(value, str) and value.startswith("="):
        return value
    return excel_value(value)


def existing_cell(values: list[list[Any]], formulas: list[list[Any]], row: int, index: int) -> Any:
    """What a cell holds now, to be written back unchanged: its formula if it has one, else its value."""
    if row - 1 >= len(values) or index >= len(values[row - 1]):
        return None
    value = values[row - 1][index]
    formula = formulas[row - 1][index] if row - 1 < len(formulas) and index < len(formulas[row - 1]) else None
    if isinstance(formula, str) and formula.startswith("=") and formula != value:
        return formula
    return excel_value(value)


def found_rows(tab: Tab, positions: Mapping[str, int], values: list[list[Any]]) -> list[FoundRow]:
    """The ID cell and restore key of every row below the header."""
    id_index = positions[tab.id_key]
    columns = restore_columns(tab, positions)
    found = []
    for number, line in enumerate(values[1:], start=2):
        key = parse_text(line[id_index] if id_index < len(line) else None)
        restore = () if key else restore_key([line[c] if c < len(line) else None for c in columns])
        if key or restore:
            found.append(FoundRow(number, key, restore))
    return found


def rows_of(tab: Tab, values: list[list[Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows of a tab as {column key: value}, with their sheet row numbers (blank rows skipped)."""
    if not values:
        return
    positions, _ = find_columns(tab, values[0])
    for number, line in enumerate(values[1:], start=2):
        if not any(v not in (None, "") for v in line):
            continue
        yield number, {key: read_value(line[i]) if i < len(line) else None for key, i in positions.items()}


def read_value(value: Any) -> Any:
    """Excel hands dates over as datetimes at midnight: keep them as dates."""
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value
