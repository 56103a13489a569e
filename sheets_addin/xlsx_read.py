"""What people typed, read straight from the package: the ID and people's columns, nothing else.

A re-sync must not pay for reading every cell of a 100,000-row tab: the cells of the columns that
matter are picked out of the worksheet part in one scan, by their references; the rest of each
row is never looked at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from encours.sheets_addin.layout import Kind, Tab, column_letter
from encours.sheets_addin.xlsx_cells import cell_text, shared_strings
from encours.sheets_addin.xlsx_package import Package
from encours.sheets_addin.xlsx_rows import find_columns
from encours.sheets_addin.xlsx_sheetxml import Row

_FIRST_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)

Table = list[tuple[int, dict[str, Any]]]


def shared_part(pkg: Package) -> list[str]:
    """The workbook's shared strings (cells Excel saved refer to them by position)."""
    name = next((r["Target"] for r in pkg.relationships(pkg.workbook_part())
                 if r.get("Type", "").endswith("/sharedStrings")), None)
    return shared_strings(pkg.text(name) if name and name in pkg else None)


def read_tables(pkg: Package, tabs: Sequence[Tab], keys: dict[str, tuple[str, ...]]) -> dict[str, Table | None]:
    """Per tab key: (row number, {column key: value}) for each row with something in ``keys[tab.key]``
    (all the tab's columns when absent; a row's dict holds only the keys it has a value for), read
    without parsing the rest of the rows.  None: the tab's cells do not carry their references (some
    writers omit them): read it another way."""
    sheets = pkg.sheets()
    shared = shared_part(pkg)
    out: dict[str, Table | None] = {}
    for tab in tabs:
        part = sheets.get(tab.name)
        out[tab.key] = [] if part is None else _read(pkg.read(part), tab, keys.get(tab.key), shared)
    return out


def people_columns(tab: Tab) -> tuple[str, ...]:
    """The ID and the columns people type in: what a sync needs from a keyed tab."""
    return (tab.id_key, *(c.key for c in tab.columns if c.kind is Kind.USER))


def _read(xml: bytes, tab: Tab, wanted: tuple[str, ...] | None, shared: list[str]) -> Table | None:
    """The wanted columns' cells, found by their references in the part's bytes (never decoded whole)."""
    first = _FIRST_ROW.search(xml)
    if first is None:
        return []
    text = first.group(0).decode("utf-8")
    tag = text[: text.find(">")]
    if ' r="' not in tag or text.count("<c") != len(re.findall(r'<c\b[^>]*?\br="[A-Z]+\d+"', text)):
        return None
    if 'r="1"' not in tag:
        return []  # the heading row is empty: nothing typed under headings that are not there
    cells = Row(1, "", text).cell_map()
    header = [cell_text(cells[i], shared) if i in cells else None for i in range(max(cells, default=-1) + 1)]
    positions, _ = find_columns(tab, header)
    keys = [k for k in (wanted or [c.key for c in tab.columns]) if k in positions]
    if not keys:
        return []
    by_letter = {column_letter(positions[k]).encode(): k for k in keys}
    letters = b"|".join(by_letter)
    if xml.count(b"<c ") == xml.count(b'<c r="'):  # every cell's reference first, as Excel, LibreOffice, encours
        pattern = re.compile(rb'<c r="(' + letters + rb')(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
    else:
        pattern = re.compile(rb'<c\b([^>]*?)\br="(' + letters + rb')(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
    rows: dict[int, dict[str, Any]] = {}
    for found in pattern.findall(xml, first.end()):
        letter, number, attrs, body = found if len(found) == 4 else (found[1], found[2], found[0] + found[3],
                                                                    found[4])
        if not body:
            continue
        if body.startswith(b"<is><t>") and body.endswith(b"</t></is>") and attrs.endswith(b' t="inlineStr"'):
            value: Any = body[7:-9].decode("utf-8")  # as encours writes text: one plain run
            if "&" in value or "<" in value:
                value = cell_text('<c t="inlineStr">' + body.decode("utf-8") + "</c>", shared)
        else:
            value = cell_text(f'<c{attrs.decode("utf-8")}>{body.decode("utf-8")}</c>', shared)
        if value is None or value == "":
            continue
        row = rows.get(int(number))
        if row is None:
            rows[int(number)] = {by_letter[letter]: value}
        else:
            row[by_letter[letter]] = value
    return [(number, values) for number, values in sorted(rows.items()) if number > 1]
