"""What a Google Sheets re-sync must read: a fingerprint of what encours last wrote, kept in the sheet.

Reading a 100,000-row sheet downloads about 50 MB.  After each write encours stores, as developer
metadata on ``Factures``, a small record: a digest of the view it wrote (every value, formula
template and bound that decides encours's cells) and, per keyed tab, where its header is, the
letters of its ID and user columns, and a digest of its header row and ID column as written.

The next sync reads only the header rows and ID columns (and, for people's marks, the user
columns).  If the view is the same and the header and IDs read match the record, encours's cells
are as it left them (people sorting, inserting or deleting rows change the ID column; people's
columns are theirs), so nothing is written and nothing more is read.  Anything else — a change at
the source, a moved row, a missing tab, a different encours version — falls back to the full read.

What the fingerprint cannot see: a person typing over a cell encours owns (a synced amount, a
formula).  That cell is put back at the next full read: the next change at the source, or the
next day at the latest (the as-of date is part of the view's digest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from encours.sheets_addin.layout import Kind, Tab, column_letter
from encours.sheets_addin.view import SheetView

PRINT_KEY = "encours.print"
#: Bump when what encours writes for the same view changes (formulas, layout, formats).
PRINT_VERSION = 1


def _digest(payload: Any) -> str:
    text = json.dumps(payload, default=str, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _rows_digest(rows: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """A digest of view rows (``repr`` of each: exact for Decimal, date and text, and fast)."""
    if rows is None:
        return None
    h = hashlib.sha256()
    items = rows.items() if isinstance(rows, Mapping) else enumerate(rows)
    for key, row in items:
        h.update(repr((key, row)).encode("utf-8"))  # rows are built in one key order
    return h.hexdigest()[:32]


#: View parts a write may leave as they are (None in the view): their digest is kept from the last write.
OPTIONAL_PARTS = ("run", "journal", "todo")


def view_digest(view: SheetView, bounds: Sequence[int]) -> dict[str, str | None]:
    """Digests of everything in the view that decides encours's cells, and of the day (a full read a day);
    None for a part this write leaves as it is."""
    scalars = {f.name: getattr(view, f.name) for f in fields(view)
               if f.name not in ("notes", "invoices", "customers", "shown_invoice_ids", *OPTIONAL_PARTS)}
    base = [PRINT_VERSION, list(bounds), _digest(scalars), _rows_digest(view.invoices),
            _rows_digest(view.customers), _digest(sorted(view.shown_invoice_ids))]
    return {"base": _digest(base), "run": _rows_digest(view.run), "journal": _rows_digest(view.journal),
            "todo": _rows_digest(view.todo)}


def same_view(stored: Mapping[str, str], current: Mapping[str, str | None]) -> bool:
    return all((value is None and key in stored) or stored.get(key) == value for key, value in current.items())


def merged_view(stored: Mapping[str, str] | None, current: Mapping[str, str | None]) -> dict[str, str]:
    """The digests once written: a part left as it is keeps its last digest ("" if unknown)."""
    return {key: value if value is not None else (stored or {}).get(key, "") for key, value in current.items()}


def column_digest(values: Sequence[Sequence[Any]]) -> str:
    """A header row or an ID column as read (rows of cells; trailing empties ignored)."""
    cells = [str(row[0]) if row and row[0] not in (None, "") else "" for row in values]
    while cells and not cells[-1]:
        cells.pop()
    return _digest(cells)


@dataclass(frozen=True)
class TabPrint:
    header_row: int
    positions: dict[str, int]  # layout key → 0-based column, every encours column, as written
    ids: str  # column_digest of the ID column below the header, as written

    def columns(self, tab: Tab, *, with_user_columns: bool) -> list[int]:
        """The ID column first, then the user columns (if asked): 0-based."""
        keys = [tab.id_key] + ([c.key for c in tab.columns if c.kind is Kind.USER and c.key in self.positions]
                               if with_user_columns else [])
        return [self.positions[k] for k in keys]


@dataclass(frozen=True)
class SheetPrint:
    view: dict[str, str]
    tabs: dict[str, TabPrint] = field(default_factory=dict)

    def to_text(self) -> str:
        return json.dumps({"v": PRINT_VERSION, "view": self.view,
                           "tabs": {name: asdict(t) for name, t in self.tabs.items()}}, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str | None) -> SheetPrint | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            if data.get("v") != PRINT_VERSION:
                return None
            tabs = {name: TabPrint(int(t["header_row"]), {str(k): int(v) for k, v in t["positions"].items()},
                                   str(t["ids"]))
                    for name, t in data["tabs"].items()}
            return cls({str(k): str(v) for k, v in data["view"].items()}, tabs)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # someone edited it: read in full


def tab_print(header_row: int, positions: Mapping[str, int], ids: Sequence[str]) -> TabPrint:
    """The record of a keyed tab as written: ``ids`` the ID of every row below the header ("" for others)."""
    return TabPrint(header_row, dict(positions), column_digest([[i] for i in ids]))


def light_ranges(title: str, record: TabPrint, tab: Tab, *, with_user_columns: bool) -> list[str]:
    """The ranges a light read asks for: the header row, the ID column (and the user columns)."""
    quoted = "'" + title.replace("'", "''") + "'"
    h = record.header_row
    letters = [column_letter(c) for c in record.columns(tab, with_user_columns=with_user_columns)]
    return [f"{quoted}!{h}:{h}", *(f"{quoted}!{letter}{h + 1}:{letter}" for letter in letters)]
