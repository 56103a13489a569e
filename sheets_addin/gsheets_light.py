"""The light read of a Google Sheet: when the sheet print says where the last write left encours's
tabs, only their header rows and ID columns (and, for marks, the user columns) are read, as a
sparse grid from row 1 — one small request instead of every cell; ``None`` when a tab moved (the
caller then reads in full)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from encours.sheets_addin import gsheets_format as fmt
from encours.sheets_addin.gsheets_plan import find_header, quote_title
from encours.sheets_addin.gsheets_print import PRINT_KEY, SheetPrint, column_digest, light_ranges
from encours.sheets_addin.gsheets_tabs import PARAMS_KEY, PARAMS_VERSION, Located
from encours.sheets_addin.layout import CUSTOMERS, INVOICES, JOURNAL, PARAMS_TAB, TODO, Tab

#: Reads value ranges: (A1 ranges, value render option) → one grid per range.
BatchGet = Callable[[Sequence[str], str], list[list[list[Any]]]]


def stored_print(located: Mapping[str, Located]) -> SheetPrint | None:
    """What the last write left, if this version of encours wrote it (else: read in full)."""
    info, params = located[INVOICES.name].info, located[PARAMS_TAB].info
    if info is None or params is None or fmt.metadata_value(params.metadata, PARAMS_KEY) != PARAMS_VERSION:
        return None
    return SheetPrint.from_text(fmt.metadata_value(info.metadata, PRINT_KEY))


def light_read(batch_get: BatchGet, located: Mapping[str, Located], stored: SheetPrint, tabs: Sequence[Tab],
               *, with_user_columns: bool, render: str = "FORMULA",
               whole: Sequence[Located] = ()) -> dict[str, list[list[Any]]] | None:
    """Each tab's header row and ID column (and user columns) as a sparse grid from row 1, and the
    ``whole`` tabs in full, in one request; None when a tab is not where the last write left it
    (then the caller reads in full)."""
    ranges: list[str] = []
    for tab in tabs:
        loc = located[tab.name]
        if loc.info is None or tab.name not in stored.tabs:
            return None
        ranges += light_ranges(loc.read_title, stored.tabs[tab.name], tab, with_user_columns=with_user_columns)
    ranges += [quote_title(loc.read_title) for loc in whole]
    got = iter(batch_get(ranges, render))
    grids: dict[str, list[list[Any]]] = {}
    for tab in tabs:
        record = stored.tabs[tab.name]
        header = next(got)
        header_row = list(header[0]) if header else []
        if find_header(tab, [header_row])[1] != record.positions:
            return None
        columns = record.columns(tab, with_user_columns=with_user_columns)
        read = [next(got) for _ in columns]
        if column_digest(read[0]) != record.ids:
            return None
        height = max((len(r) for r in read), default=0)
        width = max([len(header_row), *(p + 1 for p in record.positions.values())])
        rows = [[] for _ in range(record.header_row - 1)] + [header_row + [None] * (width - len(header_row))]
        rows += [[None] * width for _ in range(height)]
        for index, values in zip(columns, read, strict=True):
            for offset, line in enumerate(values):
                rows[record.header_row + offset][index] = line[0] if line else None
        grids[tab.name] = rows
    for loc in whole:
        grids[loc.name] = next(got)
    return grids


def as_left(batch_get: BatchGet, located: Mapping[str, Located], stored: SheetPrint) -> bool:
    """Are encours's keyed tabs where the last write left them (headings and ID columns unchanged)?"""
    return light_read(batch_get, located, stored, (INVOICES, CUSTOMERS, JOURNAL, TODO),
                      with_user_columns=False) is not None
