"""A view table's rows as unambiguous text, pulled out of the rows and converted once per sync.

The view's digest (:mod:`~encours.sheets_addin.xlsx_mark`) and the rows' prints
(:mod:`~encours.sheets_addin.xlsx_prints`) read the same values of ``view.invoices`` and
``view.customers``: at 100,000 invoices pulling and converting the values costs about as much as
hashing them, so each table is taken once, a column at a time: the digest hashes the columns, the
prints take each row's text joined from them.
A row's text holds all its values (not only those a tab shows): a print then never misses a value
its row is rendered from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter, methodcaller
from typing import Any

from encours.sheets_addin.view import Row, SheetView
from encours.sheets_addin.xlsx_cells import MISSING
from encours.sheets_addin.xlsx_prints import SEPARATOR, column_texts


class TableTexts:
    """The rows of one table as texts: their keys, the tag of each column's types, each row's text."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self._columns: tuple[tuple[str, ...], list[tuple[str, Sequence[str]]]] | None = None
        self._texts: tuple[tuple[str, ...], str, list[str]] | None = None
        self._index: dict[str, int] | None = None

    def columns(self) -> tuple[tuple[str, ...], list[tuple[str, Sequence[str]]]]:
        """(keys, each column's tag and texts: see ``column_texts``), in the table's order.

        Rows of other keys than the first row's: every key any row has, ``MISSING`` where a row lacks it."""
        if self._columns is None:
            rows = self.rows
            keys = tuple(rows[0]) if rows else ()
            values = _columns(rows, keys) if set(map(len, rows)) <= {len(keys)} else None
            if values is None:
                keys = tuple(sorted(set().union(*rows)))
                values = [list(map(methodcaller("get", key, MISSING), rows)) for key in keys]
            columns = []
            for index, column in enumerate(values):
                tag, text = column_texts(column)
                values[index] = []  # converted: the values are not needed any more
                columns.append((tag, text or ()))
            self._columns = (keys, columns)
        return self._columns

    def texts(self) -> tuple[tuple[str, ...], str, list[str]]:
        """(keys, the columns' tags, each row's values as one text), the columns then dropped (memory)."""
        if self._texts is None:
            keys, columns = self.columns()
            tags = "".join(tag + "," for tag, _ in columns)
            joined = list(map(SEPARATOR.join, zip(*(t for _, t in columns), strict=True))) if keys \
                else [""] * len(self.rows)
            self._texts = (keys, tags, joined)
            self._columns = None
        return self._texts

    def index(self) -> Mapping[str, int]:
        """Row ID → its place in the table (an ID given twice: the last row, as a dict of the rows keeps)."""
        if self._index is None:
            self._index = dict(zip(map(itemgetter("id"), self.rows), range(len(self.rows)), strict=True))
        return self._index

    def release(self) -> None:
        """Forget the texts (once the prints are taken: a big write needs the memory)."""
        self._columns = None
        self._texts = None
        self._index = None


def _columns(rows: Sequence[Row], keys: tuple[str, ...]) -> list[list[Any]] | None:
    """Every column's values (None: a row lacks one of the keys)."""
    try:
        return [list(map(itemgetter(key), rows)) for key in keys]
    except KeyError:
        return None


class ViewTexts:
    """The texts of ``view.invoices`` and ``view.customers``, taken once for one sync."""

    def __init__(self, view: SheetView) -> None:
        self.invoices = TableTexts(view.invoices)
        self.customers = TableTexts(view.customers)

    def join(self) -> None:
        """Each row's values as one text, the columns dropped: a sync that writes only needs those."""
        self.invoices.texts()
        self.customers.texts()

    def release(self) -> None:
        self.invoices.release()
        self.customers.release()
