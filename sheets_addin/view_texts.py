"""A view table's rows as unambiguous text, pulled out of the rows and converted once per sync.

The view's digest (:mod:`~encours.sheets_addin.xlsx_mark`) and the rows' prints
(:mod:`~encours.sheets_addin.xlsx_prints`) read the same values of ``view.invoices`` and
``view.customers``: at 100,000 invoices pulling and converting the values costs about as much as
hashing them, so each table is taken once.  Its values are pulled row after row (one pass over each
row's values, where a pass per column costs a dictionary lookup per value), converted a column at a
time (:func:`~encours.sheets_addin.xlsx_prints.column_texts`), and joined into one text: each row's
values joined by ``SEPARATOR`` and ended by ``ROW_END``, in UTF-8.  The digest hashes that text
whole; the prints take each row's piece of it.
A row's text holds all its values (not only those a tab shows): a print then never misses a value
its row is rendered from.  Neither mark can be found inside a value's text (``column_texts`` sends a
text column holding one to ``repr``, which writes them escaped), so the text cuts back into the same
rows and values.  Text columns are looked through for the marks at once, by counting them in the
joined text (a row holds one ``ROW_END`` and is followed by as many ``SEPARATOR`` as it has values):
one count too many and the columns are converted again, each text column looked through.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain, compress
from operator import and_, itemgetter, methodcaller, truth
from typing import Any

from encours.sheets_addin.view import Row, SheetView
from encours.sheets_addin.xlsx_cells import MISSING
from encours.sheets_addin.xlsx_prints import ROW_END, SEPARATOR, column_texts

_CUT = (ROW_END + SEPARATOR).encode()


class TableTexts:
    """The rows of one table as text: their keys, the tag of each column's types, each row's text."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self._text: tuple[tuple[str, ...], str, bytes] | None = None
        self._rows: list[bytes] | None = None
        self._ids: list[Any] | None = None
        #: Each column's values as pulled for the text (key → values), when every row has the same keys.
        self._pulled: dict[str, list[Any]] = {}
        self._shown: tuple[frozenset[str], bytes] | None = None
        self._index: dict[str, int] | None = None

    def text(self) -> tuple[tuple[str, ...], str, bytes]:
        """(keys, each column's tag followed by ",", every row's values as one UTF-8 text: see the module).

        Rows of other keys than the first row's: every key any row has, ``MISSING`` where a row lacks it."""
        if self._text is None:
            rows = self.rows
            keys = tuple(rows[0]) if rows else ()
            width = len(keys)
            flat: list[Any] | None = None
            if all(map(keys.__eq__, map(tuple, rows))):  # the usual case: every row of the same keys, in order
                try:
                    flat = list(chain.from_iterable(map(dict.values, rows)))
                except TypeError:  # rows that are mappings but not dicts
                    flat = list(chain.from_iterable(map(methodcaller("values"), rows)))
                columns = [flat[index::width] for index in range(width)]
                self._pulled = dict(zip(keys, columns, strict=True))
            else:
                keys = tuple(sorted(set().union(*rows)))
                width = len(keys)
                columns = [list(map(methodcaller("get", key, MISSING), rows)) for key in keys]
            # text columns are looked through for the marks once, in the joined text: a count of each
            tags, joined = _joined(columns, len(rows), flat=flat, checked=False)
            if joined.count(SEPARATOR) != len(rows) * max(width, 1) or joined.count(ROW_END) != len(rows):
                tags, joined = _joined(columns, len(rows), flat=None, checked=True)  # a text holds a mark
            self._text = (keys, tags, joined.encode("utf-8", "surrogatepass"))
        return self._text

    def row_texts(self) -> list[bytes]:
        """Each row's text (its values joined by ``SEPARATOR``), in the table's order."""
        if self._rows is None:
            _keys, _tags, text = self.text()
            pieces = text.split(_CUT)
            pieces.pop()  # after the last row's end
            if len(pieces) != len(self.rows):  # text() counted the marks: one end a row, none in a value
                raise AssertionError(f"{len(pieces)} rows cut out of the text of {len(self.rows)}")
            self._rows = pieces
        return self._rows

    def ids(self) -> list[Any]:
        """Each row's ID, in the table's order."""
        if self._ids is None:
            self._ids = self._pulled.get("id") or list(map(itemgetter("id"), self.rows))
        return self._ids

    def shown(self, shown: frozenset[str]) -> bytes:
        """Whether each row's ID is in ``shown`` (1 or 0 a row), in the table's order."""
        if self._shown is None or self._shown[0] is not shown:
            self._shown = (shown, bytes(map(shown.__contains__, self.ids())))
        return self._shown[1]

    def customers_with_open(self, shown: frozenset[str]) -> set[str] | None:
        """The customers of the invoices shown with something remaining, as :func:`aging_customers` finds them
        (None: not known from the values pulled for the text)."""
        pulled = self._pulled
        if not {"id", "customer_id", "remaining"} <= pulled.keys():
            return None
        return set(compress(pulled["customer_id"], map(and_, self.shown(shown), map(truth, pulled["remaining"]))))

    def index(self) -> Mapping[str, int]:
        """Row ID → its place in the table (an ID given twice: the last row, as a dict of the rows keeps)."""
        if self._index is None:
            self._index = dict(zip(self.ids(), range(len(self.rows)), strict=True))
        return self._index

    def release(self) -> None:
        """Forget the texts (once the prints are taken: a big write needs the memory)."""
        self._text = None
        self._rows = None
        self._ids = None
        self._pulled = {}
        self._shown = None
        self._index = None


def _joined(columns: Sequence[Sequence[Any]], count: int, *, flat: list[Any] | None, checked: bool) -> tuple[str, str]:
    """(the tag of each of ``columns`` followed by ",", the text of their ``count`` rows).

    ``flat``: the columns' values row after row, converted in place (None: into a new list);
    ``checked``: text columns looked through for the marks (else the caller counts them in the text)."""
    width = len(columns)
    if not width:
        return "", (ROW_END + SEPARATOR) * count
    fresh = flat is None
    into: list[Any] = [None] * (count * width) if flat is None else flat
    tags = []
    for index, values in enumerate(columns):
        tag, texts = column_texts(values, checked=checked)
        tags.append(tag + ",")
        if index == width - 1:
            into[index::width] = [text + ROW_END for text in texts]
        elif fresh or texts is not values:  # a text column kept as it is is in place already
            into[index::width] = texts
    return "".join(tags), SEPARATOR.join(into) + SEPARATOR


class ViewTexts:
    """The texts of ``view.invoices`` and ``view.customers``, taken once for one sync."""

    def __init__(self, view: SheetView) -> None:
        self.invoices = TableTexts(view.invoices)
        self.customers = TableTexts(view.customers)

    @classmethod
    def of(cls, view: SheetView) -> ViewTexts:
        """The texts of ``view`` taken in :func:`shared_texts` for it, else taken anew."""
        shared = _SHARED.get(id(view))
        if shared is not None and shared.invoices.rows is view.invoices and shared.customers.rows is view.customers:
            return shared
        return cls(view)

    def join(self) -> None:
        """Each row's text, cut out of the tables' text: a sync that writes needs them for the prints."""
        self.invoices.row_texts()
        self.customers.row_texts()

    def release(self) -> None:
        self.invoices.release()
        self.customers.release()


_SHARED: dict[int, ViewTexts] = {}


@contextmanager
def shared_texts(view: SheetView) -> Iterator[ViewTexts]:
    """The view's texts, taken once for what is done with ``view`` inside: a pass's digest of the view
    and the workbook's own digest and rows' prints (each 100,000 rows pulled and converted once)."""
    texts = ViewTexts(view)
    _SHARED[id(view)] = texts
    try:
        yield texts
    finally:
        _SHARED.pop(id(view), None)
        texts.release()
