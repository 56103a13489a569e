"""A digest of everything a sheet shows, taken a column at a time from the view's tables as text.

A sync writes nothing when the view it would write has the digest of the one it wrote last: the
workbook backend keeps it in the workbook (:mod:`~encours.sheets_addin.xlsx_mark`), a pass keeps it
for any backend (``sync.sheet_step``).  The digest takes the view's tables as the one text the rows'
prints are cut from (every value of every row, converted by type, tagged by kind, with marks no
value's text holds between values and rows: :mod:`~encours.sheets_addin.view_texts`), which rows are
shown (a flag per invoice row, and the IDs shown that no invoice row has), the run's columns and every
other part of the view: any change to what a sync writes changes one of them.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from encours.sheets_addin.view import SheetView
from encours.sheets_addin.view_texts import TableTexts, ViewTexts


def view_digest(view: SheetView, extra: Sequence[object] = (), texts: ViewTexts | None = None) -> str:
    """A digest of everything a sync writes (the same view and ``extra`` write the same cells: the
    workbook's aging bounds, a pass's day).

    ``texts``: the view's tables as texts, shared with the rows' prints (taken here when not given)."""
    digest = hashlib.sha256()
    texts = texts or ViewTexts.of(view)
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
                 tuple(extra)):
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
