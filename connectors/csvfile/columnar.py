"""The fast CSV read: a regular file cut into columns at once, each distinct value parsed once.

Most exports are regular: one record a line, every line with the same number of fields, the same
few dates, amounts and currencies over and over.  Such a file is split in one call, each column
sliced out of it, and each *distinct* text parsed once (:func:`parsed`).  A file that is not
regular — a quoted field spanning lines, a line of another width, a carriage return inside a line,
a field longer than the csv module reads — gives ``None``; so does, in :mod:`.bulk`, any value the
exact reader would refuse.  The caller then reads the file with the exact row reader
(:attr:`~encours.connectors.csvfile.table.Table.rows`), which names the bad line: both readers give
the same records, or the same error.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import TypeVar

from encours.connectors.csvfile.table import Table, with_ends

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Columns:
    """The data rows of a table, a column at a time: the stripped texts of each mapped key."""

    cells: dict[str, list[str]]
    lines: Sequence[int]  # the line number of each data row

    @property
    def count(self) -> int:
        return len(self.lines)

    def get(self, key: str) -> list[str]:
        """The texts of *key*'s column; all empty when the file has no such column."""
        cells = self.cells.get(key)
        return cells if cells is not None else [""] * len(self.lines)


def columns_of(table: Table, *, anchor: str) -> Columns | None:
    """The table's data rows as columns, or ``None`` when the file is not regular.

    *anchor* is a column whose every data row has a value: a row whose anchor is empty is looked
    at whole (a blank row, skipped as the exact reader skips it, or one it would refuse).
    """
    body = table.lines[table.body :]
    first = table.body + 1
    if not body:
        return Columns({key: [] for key in table.headers}, [])
    if max(map(len, body)) >= csv.field_size_limit():
        return None
    separator = table.delimiter
    joined = "\n".join(body)
    if "\r" in joined:  # the csv module ends a record there, or refuses the line
        return None
    quoted = '"' in joined
    del joined
    if quoted:
        return _quoted(table, body, first, anchor)
    counts = list(map(str.count, body, repeat(separator)))
    distinct = set(counts)
    lines: Sequence[int] = range(first, first + len(body))
    if len(distinct) > 3:
        return None
    if len(distinct) > 1:
        usual = max(distinct, key=counts.count)
        kept = [n for n, count in enumerate(counts) if count == usual or _has_text(body[n], separator)]
        if any(counts[n] != usual for n in kept):
            return None
        body = [body[n] for n in kept]
        lines = [lines[n] for n in kept]
        distinct = {usual}
    stride = distinct.pop() + 1
    if stride < table.width:
        return None
    joined = separator.join(body)
    strip = _padded(joined, separator)
    fields = joined.split(separator)
    del body, joined
    for extra in range(table.width, stride):
        if any(value.strip() for value in set(fields[extra::stride])):
            return None
    if strip:
        cells = {key: list(map(str.strip, fields[index::stride])) for key, (index, _) in table.headers.items()}
    else:
        cells = {key: fields[index::stride] for key, (index, _) in table.headers.items()}
    blanks = _empty_rows(cells, anchor)
    if blanks:
        blanks = [n for n in blanks if not any(value.strip() for value in fields[n * stride : (n + 1) * stride])]
    return _without(cells, lines, blanks)


#: What ``str.strip()`` strips (``str.isspace``) among ASCII characters, but the space.
_ASCII_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"


def _padded(joined: str, separator: str) -> bool:
    """Whether a field of *joined* (the lines joined by the separator) may start or end with white
    space: then every field is stripped, as the row reader strips it.  Only plain ASCII text with
    neither a space next to a separator nor any other white space is known not to need it."""
    if not joined.isascii() or separator.isspace():
        return True
    if f"{separator} " in joined or f" {separator}" in joined or joined[:1] == " " or joined[-1:] == " ":
        return True
    return any(space in joined for space in _ASCII_SPACES)


def _has_text(line: str, separator: str) -> bool:
    """Whether an unquoted line holds a field that is not blank (a blank line is skipped)."""
    return bool(line.replace(separator, "").strip())


def _empty_rows(cells: dict[str, list[str]], anchor: str) -> list[int]:
    column = cells.get(anchor)
    if column is None or "" not in column:
        return []
    return [n for n, value in enumerate(column) if not value]


def _without(cells: dict[str, list[str]], lines: Sequence[int], rows: list[int]) -> Columns:
    """The columns less the blank *rows*."""
    if not rows:
        return Columns(cells, lines)
    skipped = set(rows)
    kept = [n for n in range(len(lines)) if n not in skipped]
    return Columns({key: [column[n] for n in kept] for key, column in cells.items()}, [lines[n] for n in kept])


def _quoted(table: Table, body: list[str], first: int, anchor: str) -> Columns | None:
    """Columns of a file with quoted fields, split by the csv module as the exact reader splits them."""
    reader = csv.reader(with_ends(body, 0), delimiter=table.delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    if len(rows) != len(body):  # a record spans lines
        return None
    blank = [n for n, text in enumerate(map(str.strip, map("".join, rows))) if not text]
    skipped = set(blank)
    lines = [first + n for n in range(len(rows)) if n not in skipped]
    if skipped:
        rows = [row for n, row in enumerate(rows) if n not in skipped]
    widths = set(map(len, rows))
    if len(widths) > 1:
        return None
    stride = widths.pop() if widths else table.width
    if stride < table.width:
        return None
    for extra in range(table.width, stride):
        if any(row[extra].strip() for row in rows):
            return None
    cells = {key: list(map(str.strip, map(itemgetter(index), rows))) for key, (index, _) in table.headers.items()}
    if anchor in cells and "" in cells[anchor]:
        return None  # a row without its anchor: the exact reader refuses it
    return Columns(cells, lines)


def parsed(texts: Iterable[str], parse: Callable[[str], T]) -> dict[str, T] | None:
    """Each distinct text parsed once; ``None`` when one is refused (``ValueError``)."""
    values: dict[str, T] = {}
    for text in set(texts):
        try:
            values[text] = parse(text)
        except ValueError:
            return None
    return values


def built(cls: type[R], count: int, fields: dict[str, Iterable[object]], *, checked: bool = False) -> list[R]:
    """*count* records of the frozen, slotted dataclass *cls*, each field set from its column in
    *fields* (a field not given: its default) — what ``cls(**row)`` makes of each row.

    The dataclass's ``__init__`` sets each field by its own call (20 for an invoice); here each field
    is set for all the records by one ``map``: about a third of the time for 100,000 invoices.
    ``__post_init__`` is not run: a class that has one is refused unless *checked* says that the
    caller has made sure of what it checks.
    """
    if hasattr(cls, "__post_init__") and not checked:
        raise TypeError(f"{cls.__name__} checks its fields in __post_init__: build it with its constructor")
    records = list(map(object.__new__, repeat(cls, count)))
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        values = fields.get(field.name)
        if values is None:
            if field.default is dataclasses.MISSING:
                raise TypeError(f"{cls.__name__}: no values for field {field.name!r}")
            values = repeat(field.default)
        deque(map(getattr(cls, field.name).__set__, records, values), maxlen=0)
    return records
