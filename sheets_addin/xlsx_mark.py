"""Knowing, without reading a row, that a sync has nothing to do.

The last sync leaves a hidden workbook name holding the digest of what it wrote and the CRC-32 of
encours's parts as written.  The same view again, with those parts untouched since (their CRCs are
in the zip's directory, read for free): nothing to read, nothing to write.

The digest takes the view's tables as the one text the rows' prints are cut from (every value of
every row, converted by type, tagged by kind, with marks no value's text holds between values and
rows: :mod:`~encours.sheets_addin.view_texts`), which rows are shown (a flag per invoice row, and
the IDs shown that no invoice row has), the run's columns and every other part of the view: any
change to what a sync writes changes one of them.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from encours.sheets_addin.view import SheetView
from encours.sheets_addin.view_texts import TableTexts, ViewTexts
from encours.sheets_addin.xlsx_package import Package
from encours.sheets_addin.xlsx_rows import _TAB_ORDER

#: A hidden workbook name holding what the last sync wrote: the view's digest and its parts' CRCs.
SYNC_MARK = "_encours_sync"


def view_digest(view: SheetView, bounds: Sequence[int], texts: ViewTexts | None = None) -> str:
    """A digest of everything a sync writes (the same view and bounds write the same cells).

    ``texts``: the view's tables as texts, shared with the rows' prints (taken here when not given)."""
    digest = hashlib.sha256()
    texts = texts or ViewTexts(view)
    _feed_table(digest, texts.invoices)
    _feed_table(digest, texts.customers)
    _feed_shown(digest, texts.invoices, view.shown_invoice_ids)
    run = view.run
    if run is not None and all(type(row) is dict for row in run.values()):
        _feed_column(digest, list(run))
        _feed_rows(digest, list(run.values()))
    else:
        digest.update(repr(run).encode("utf-8", "surrogatepass"))
    for part in (view.journal, view.todo, view.scenario_names, view.company, view.opening_receivables,
                 tuple(bounds)):
        digest.update(b"\x00" + repr(part).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _feed_table(digest: Any, table: TableTexts) -> None:
    """A table from the text the rows' prints are cut from: its size, keys, columns' tags, then the text."""
    keys, tags, text = table.text()
    digest.update(f"\x00table {len(table.rows)}\x00{keys!r}\x00{tags}\x00{len(text)}\x00".encode(
        "utf-8", "surrogatepass"))
    digest.update(text)


def _feed_shown(digest: Any, invoices: TableTexts, shown: frozenset[str]) -> None:
    """Which invoices have a row: a flag per invoice row, in order, then any ID shown that is no invoice's."""
    digest.update(f"\x00shown {len(shown)}\x00".encode())
    digest.update(invoices.shown(shown))
    _feed_column(digest, sorted(shown.difference(invoices.ids())))


def _feed_rows(digest: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of the same keys, a column at a time (a fraction of the cost of their ``repr``)."""
    digest.update(f"\x00rows {len(rows)}".encode())
    shapes = set(map(tuple, rows))
    if len(shapes) != 1:
        digest.update(repr(rows).encode("utf-8", "surrogatepass"))
        return
    keys = next(iter(shapes))
    digest.update(repr(keys).encode("utf-8", "surrogatepass"))
    for key in keys:
        _feed_column(digest, list(map(itemgetter(key), rows)))


def _feed_column(digest: Any, column: Sequence[Any]) -> None:
    kinds = set(map(type, column))
    digest.update(f"\x00{len(column)} {sorted(k.__name__ for k in kinds)}\x00".encode())
    if kinds == {str}:
        joined = "\x00".join(column)
        if joined.count("\x00") == len(column) - 1:
            digest.update(joined.encode("utf-8", "surrogatepass"))
            return
    elif kinds == {Decimal}:
        digest.update("\x00".join(map(str, column)).encode())
        return
    elif kinds == {date}:
        digest.update(array("q", map(date.toordinal, column)).tobytes())
        return
    elif kinds == {type(None)}:
        return
    digest.update(repr(column).encode("utf-8", "surrogatepass"))


def sync_mark(pkg: Package, digest: str) -> str:
    """The view's digest and the CRC-32 of encours's worksheet parts and styles, as the package holds them."""
    sheets = pkg.sheets()
    parts = [sheets.get(name, "") for name in _TAB_ORDER] + [pkg.styles_part() or ""]
    return digest + "-" + "".join(f"{pkg.crc(part):08x}" for part in parts)


def stored_mark(pkg: Package) -> str | None:
    found = re.search(rf'<definedName\b[^>]*name="{SYNC_MARK}"[^>]*>"([0-9a-f-]+)"</definedName>',
                      pkg.text(pkg.workbook_part()))
    return found.group(1) if found else None


def store_mark(pkg: Package, mark: str) -> None:
    book = pkg.workbook_part()
    text = pkg.text(book)
    entry = f'<definedName name="{SYNC_MARK}" hidden="1">"{mark}"</definedName>'
    pattern = re.compile(rf'<definedName\b[^>]*name="{SYNC_MARK}"[^>]*>.*?</definedName>', re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: entry, text, count=1)
    elif "</definedNames>" in text:
        text = text.replace("</definedNames>", entry + "</definedNames>", 1)
    else:
        at = min(m.start() for m in [re.search(r"<calcPr\b", text), re.search(r"</workbook>", text)] if m)
        text = text[:at] + f"<definedNames>{entry}</definedNames>" + text[at:]
    pkg.set(book, text)


