"""A worksheet part as encours last wrote it, read by where its rows start instead of cut into rows.

After a sync encours keeps where each row of a keyed tab starts in the part's bytes
(:attr:`~encours.sheets_addin.xlsx_sheetxml.Sheet.written_rows`, stored with the rows' prints by
:mod:`~encours.sheets_addin.xlsx_prints`).  While the part is byte for byte what encours wrote (its
CRC-32 and size) the next sync does not cut its 100,000 rows into row objects: a row is taken out
of the part only when something reads or changes it, and the rows nobody touched are written back
as the very bytes they were, a stretch at a time.  What a sync writes is the same, byte for byte,
as when every row is cut (:class:`~encours.sheets_addin.xlsx_sheetxml.Sheet`).  Offsets that do not
fit the part are never guessed around: the part is cut as usual, or (a row found not where it was
said to be) :class:`KeptRowsError` makes the sync start again with nothing kept.
"""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, MutableMapping
from itertools import islice
from operator import lt

from encours.sheets_addin.layout import column_letter
from encours.sheets_addin.xlsx_cells import cell_text
from encours.sheets_addin.xlsx_deflate import Deflated, KeptRowsError, Span
from encours.sheets_addin.xlsx_package import Package, Piece
from encours.sheets_addin.xlsx_prints import TabPrints
from encours.sheets_addin.xlsx_sheetxml import SMALL, Row, Sheet, column_index, last_column

_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_DIMENSION = re.compile(r'<dimension\b[^>]*\bref="[A-Z]+\d+:([A-Z]+)\d+"')
_REF = re.compile(rb'\br="([A-Z]+)\d+"')


def open_sheet(pkg: Package, part: str, kept: TabPrints | None) -> Sheet:
    """The part as a :class:`TrustedSheet` when its rows' offsets are kept and fit, else cut as usual.

    ``kept``: what the last sync wrote in this part, trusted (the part's CRC-32 and size unchanged)."""
    if kept is None or kept.rows is None:
        return Sheet(pkg.text(part))
    deflated = pkg.deflated(part, kept.segments) if kept.packed == pkg.packed_size(part) else None
    if deflated is not None:  # inflated only where rows are read or changed
        sheet = TrustedSheet.of(deflated, *kept.rows)
        if sheet is not None:
            return sheet
    data = pkg.read(part)
    sheet = TrustedSheet.of(data, *kept.rows)
    if sheet is not None:
        return sheet
    text = data.decode("utf-8")
    del data  # a big part is not held twice while it is cut into rows
    return Sheet(text)


def _read(data: bytes | Deflated, start: int, end: int) -> bytes:
    """The part's bytes ``start:end`` (from a part kept deflated: only the segments holding them inflated)."""
    return data.read(start, end) if isinstance(data, Deflated) else data[start:end]


class _Rows(MutableMapping[int, Row]):
    """The rows of a part by number: each cut out of the part's bytes the first time it is asked for."""

    def __init__(self, data: bytes | Deflated, numbers: array[int], offsets: array[int]) -> None:
        self.data, self.numbers, self.offsets = data, numbers, offsets
        self.index = dict(zip(numbers, range(len(numbers)), strict=True))  # row number → its place in the part
        self.gone: set[int] = set()  # rows of the part cut out, replaced or removed
        self.taken: dict[int, Row] = {}  # rows cut out, replaced or added
        self.last: dict[int, int] = {}  # rightmost column of rows known without reading them

    def untouched(self) -> set[int]:
        return self.index.keys() - self.gone

    def __getitem__(self, number: int) -> Row:
        row = self.taken.get(number)
        if row is not None:
            return row
        at = self.index[number]
        if number in self.gone:
            raise KeyError(number)
        text = str(_read(self.data, self.offsets[at], self.offsets[at + 1]), "utf-8")
        if not text.startswith(f'<row r="{number}"') or text.find("<row", 4) >= 0 \
                or not (text.endswith("</row>") or text.endswith("/>")):
            raise KeptRowsError(f"row {number} is not where the rows kept for this workbook say: read again")
        row = self.taken[number] = Row(number, "", text, last=self.last.get(number, -1))
        self.gone.add(number)
        return row

    def __setitem__(self, number: int, row: Row) -> None:
        self.taken[number] = row
        if number in self.index:
            self.gone.add(number)

    def __delitem__(self, number: int) -> None:
        if number in self.taken:
            del self.taken[number]
        elif number in self.index and number not in self.gone:
            self.gone.add(number)
        else:
            raise KeyError(number)

    def __contains__(self, number: object) -> bool:
        return number in self.taken or (number in self.index and number not in self.gone)

    def __iter__(self) -> Iterator[int]:
        return iter([*self.taken, *self.untouched()])  # a list: rows may be cut out while it is walked

    def __len__(self) -> int:
        return len(self.taken) + len(self.index) - len(self.gone)


class TrustedSheet(Sheet):
    """A worksheet part whose rows' offsets are known: only the rows touched are cut out of it."""

    rows: _Rows

    def __init__(self, data: bytes | Deflated, numbers: array[int], offsets: array[int]) -> None:  # see :meth:`of`
        start, end = offsets[0], offsets[-1]
        self.head, self.tail = str(_read(data, 0, start), "utf-8"), str(_read(data, end, len(data)), "utf-8")
        whole = SMALL if isinstance(data, Deflated) else 4 * SMALL  # a part kept deflated: read whole only if small
        text = str(_read(data, 0, len(data)), "utf-8") if len(data) <= whole else ""
        self.original = text if len(text) <= SMALL else ""
        self._head0, self._tail0 = self.head, self.tail
        self.dirty = False
        self.written_rows = (numbers, offsets)  # the part left as it is: its rows are where they were
        self.rows = _Rows(data, numbers, offsets)

    @classmethod
    def of(cls, data: bytes | Deflated, numbers: array[int], offsets: array[int]) -> TrustedSheet | None:
        """The part read through its rows' offsets (None: they do not fit it, the part is cut as usual)."""
        count = len(numbers)
        if not count or len(offsets) != count + 1 or numbers[0] < 1 or offsets[-1] > len(data):
            return None
        if not all(map(lt, numbers, islice(numbers, 1, None))) or not all(map(lt, offsets, islice(offsets, 1, None))):
            return None
        head, tail = _read(data, 0, offsets[0]), _read(data, offsets[-1], len(data))
        start = _SHEET_DATA.search(head)
        if start is None or start.group(1) or start.end() != offsets[0] \
                or not tail.startswith(b"</sheetData>") or tail.find(b"</sheetData>", 1) >= 0:
            return None
        first, last = b'<row r="%d"' % numbers[0], b'<row r="%d"' % numbers[-1]
        if _read(data, offsets[0], offsets[0] + len(first)) != first \
                or _read(data, offsets[-2], offsets[-2] + len(last)) != last:
            return None
        return cls(data, numbers, offsets)

    def _descending(self) -> Iterator[int]:
        """Every row number, highest first, without sorting the untouched ones (they are in order)."""
        rows = self.rows
        gone = rows.gone
        untouched = (n for n in reversed(rows.numbers) if n not in gone)
        return heapq.merge(sorted(rows.taken, reverse=True), untouched, reverse=True)

    def last_row_with_values(self, shared: list[str]) -> int:
        for number in self._descending():
            row = self.rows[number]
            if any(cell_text(c, shared) not in (None, "") or "<f" in c for c in row.cell_map().values()):
                return number
        return 0

    def set_dimension(self) -> None:
        rows = self.rows
        taken = rows.taken
        highest = next((n for n in reversed(rows.numbers) if n not in rows.gone), 0)
        numbers = [n for n, r in taken.items() if r.raw or r.cells]
        if not numbers and not highest:
            return
        known = _DIMENSION.search(self._head0)
        if known is not None and not self.dirty:
            width = max([column_index(known.group(1)), *(max(r.cells, default=0) for r in taken.values()
                                                         if r.parsed)])
        else:
            width = max(max(map(last_column, taken.values()), default=0), self._untouched_width())
        ref = f"A1:{column_letter(width)}{max([highest, *numbers])}"
        self.head = re.sub(r'<dimension\b[^>]*?/>', f'<dimension ref="{ref}"/>', self.head, count=1)

    def _untouched_width(self) -> int:
        """The rightmost column of the untouched rows (read only for those whose width is not known)."""
        rows = self.rows
        untouched = rows.untouched()
        known = untouched & rows.last.keys()
        width = max(map(rows.last.__getitem__, known), default=0)
        data, offsets = rows.data, rows.offsets
        for number in untouched - known:
            at = rows.index[number]
            row = _read(data, offsets[at], offsets[at + 1])
            cell = max(row.rfind(b"<c "), row.rfind(b"<c>"))
            ref = _REF.search(row, cell) if cell >= 0 else None
            width = max(width, column_index(ref.group(1).decode()) if ref else 0)
        return width

    def changed(self) -> bool:
        if self.head != self._head0 or self.tail != self._tail0:
            return True
        if not self.dirty and not any(r.parsed and r.render() != r.raw for r in self.rows.taken.values()):
            return False
        return not self.original or self.to_xml() != self.original

    def unparsed_numbers(self) -> set[int]:
        rows = self.rows
        return rows.untouched() | {number for number, row in rows.taken.items() if not row.parsed}

    def set_last(self, numbers: Iterable[int], last: int) -> None:
        numbers = list(numbers)
        rows = self.rows
        rows.last.update(dict.fromkeys(numbers, last))
        for number in rows.taken.keys() & set(numbers):
            rows.taken[number].last = last

    def chunks(self) -> Iterator[Piece]:
        """The untouched rows as the bytes they were, a stretch at a time; the others rendered."""
        self.set_dimension()
        yield self.head
        rows = self.rows
        data, numbers, offsets, index = rows.data, rows.numbers, rows.offsets, rows.index
        holes = sorted(index[n] for n in rows.gone)
        out_numbers: array[int] = array("q")
        out_offsets: array[int] = array("q")
        position = len(self.head.encode("utf-8"))
        done = 0  # the part's rows before this one are written
        for number in [*sorted(rows.taken), None]:
            upto = len(numbers) if number is None else bisect_left(numbers, number)
            while done < upto:  # the untouched rows before this one, a stretch between two holes at a time
                at = bisect_left(holes, done)
                stop = holes[at] if at < len(holes) and holes[at] < upto else upto
                if stop > done:
                    start, end = offsets[done], offsets[stop]
                    out_numbers.extend(numbers[done:stop])
                    out_offsets.extend(map((position - start).__add__, offsets[done:stop]))
                    position += end - start
                    yield Span(data, start, end)
                done = stop + 1 if stop < upto else upto  # past the hole
            if number is not None:
                text = rows.taken[number].render().encode("utf-8")
                out_numbers.append(number)
                out_offsets.append(position)
                position += len(text)
                yield text
        out_offsets.append(position)
        yield self.tail
        self.written_rows = (out_numbers, out_offsets)
