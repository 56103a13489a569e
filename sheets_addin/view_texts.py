"""A view table's columns as unambiguous text, pulled out of its rows and converted once.

The view's digest (:mod:`~encours.sheets_addin.xlsx_mark`) and the rows' prints
(:mod:`~encours.sheets_addin.xlsx_prints`) read the same columns of ``view.invoices`` and
``view.customers``: at 100,000 invoices pulling and converting a column costs about as much as
hashing it, so each column is taken once per sync and both use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter, methodcaller
from typing import Any

from encours.sheets_addin.view import Row, SheetView
from encours.sheets_addin.xlsx_cells import MISSING
from encours.sheets_addin.xlsx_prints import SEPARATOR, column_texts


class TableTexts:
    """The columns of one table of rows (a row without a key gives ``MISSING`` for it)."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self._columns: dict[str, tuple[str, Sequence[str] | None]] = {}
        self._joined: dict[tuple[str, ...], tuple[str, list[str]]] = {}
        self._index: dict[str, int] | None = None
        #: Keys some row lacks (their columns hold ``MISSING`` there).
        self.lacking: set[str] = set()

    def values(self, key: str) -> list[Any]:
        try:
            return list(map(itemgetter(key), self.rows))
        except KeyError:
            self.lacking.add(key)
            return list(map(methodcaller("get", key, MISSING), self.rows))

    def column(self, key: str) -> tuple[str, Sequence[str] | None]:
        """The column's tag (its values' types) and each row's value as text (see ``column_texts``)."""
        found = self._columns.get(key)
        if found is None:
            found = self._columns[key] = column_texts(self.values(key))
        return found

    def joined(self, keys: tuple[str, ...]) -> tuple[str, list[str]]:
        """The tags of these columns, and each row's texts of them joined (in the table's order)."""
        found = self._joined.get(keys)
        if found is None:
            columns = [self.column(key) for key in keys]
            tags = "".join(tag + "," for tag, _ in columns)
            texts = [texts for _, texts in columns if texts is not None]
            rows = list(map(SEPARATOR.join, zip(*texts, strict=True))) if texts else [""] * len(self.rows)
            found = self._joined[keys] = (tags, rows)
            self._columns.clear()  # the view digest is taken: only the rows' prints are left to take (memory)
        return found

    def release(self) -> None:
        """Forget every text taken (once the prints are taken: a big write needs the memory)."""
        self._columns.clear()
        self._joined.clear()
        self._index = None

    def index(self) -> Mapping[str, int]:
        """Row ID → its place in the table (an ID given twice: the last row, as a dict of the rows keeps)."""
        if self._index is None:
            self._index = dict(zip(map(itemgetter("id"), self.rows), range(len(self.rows)), strict=True))
        return self._index


class ViewTexts:
    """The texts of ``view.invoices`` and ``view.customers``, taken once for one sync."""

    def __init__(self, view: SheetView) -> None:
        self.invoices = TableTexts(view.invoices)
        self.customers = TableTexts(view.customers)

    def release(self) -> None:
        self.invoices.release()
        self.customers.release()
