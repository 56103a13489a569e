"""One worksheet part as text: rows and cells spliced, everything else kept as written.

A worksheet part is cut in three: the head (up to ``<sheetData>``), its rows, and the tail
(filters, validations, conditional formats, drawings, tables, extensions…).  encours replaces the
cells it owns and a few tail elements; a person's cell, formula (a spilling one included) or
extension is carried over as the very text it was.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from encours.connectors.errors import SheetError
from encours.sheets_addin.layout import column_letter
from encours.sheets_addin.xlsx_cells import cell_text
from encours.sheets_addin.xlsx_deflate import Span
from encours.sheets_addin.xlsx_package import Piece, unescape

_ROW_RE = re.compile(r"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
SMALL = 1 << 20  # characters
_BATCH = 512  # rows encoded together when the part is written
_CELL_RE = re.compile(r"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_REF_RE = re.compile(r'\br="([A-Z]+)(\d+)"')
_ROW_NUMBER_RE = re.compile(r'\br="(\d+)"')
_SPANS_RE = re.compile(r'\s+spans="[^"]*"')
EMPTY_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheetData></sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
    'footer="0.3"/></worksheet>'
)

#: Worksheet children after ``sheetData``, in schema order (CT_Worksheet).
_TAIL_ORDER = ("sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
               "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
               "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
               "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
               "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
               "webPublishItems", "tableParts", "extLst")


def column_index(letters: str) -> int:
    """A → 0, AA → 26."""
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number - 1


@dataclass
class Row:
    number: int
    tag: str  # the start tag as written back ("": worked out from ``raw`` when needed)
    raw: str  # the whole row as read: kept when nothing in it changed
    cells: dict[int, str] = field(default_factory=dict)
    parsed: bool = False
    last: int = -1  # its rightmost column, when known without reading it (-1: not known)

    def cell_map(self) -> dict[int, str]:
        if not self.parsed:
            body = self.raw[self.raw.find(">") + 1:]
            last = -1
            for match in _CELL_RE.finditer(body):
                cell = match.group(0)
                ref = _REF_RE.search(cell[: cell.find(">") + 1] if ">" in cell else cell)
                last = column_index(ref.group(1)) if ref else last + 1
                self.cells[last] = cell
            self.parsed = True
        return self.cells

    def start_tag(self) -> str:
        """The row's start tag as encours writes it back: without spans (a hint that would go stale)."""
        if not self.tag:
            tag = self.raw[: self.raw.find(">") + 1]
            clean = _SPANS_RE.sub("", tag)
            if clean.endswith("/>"):
                clean = clean[:-2].rstrip() + ">"
            if _ROW_NUMBER_RE.search(tag) is None:
                clean = clean.replace("<row", f'<row r="{self.number}"', 1)
            self.tag = clean
        return self.tag

    def render(self) -> str:
        if not self.parsed:
            return self.raw
        cells = self.cells
        body = "".join(cells[i] for i in sorted(cells))
        tag = self.start_tag()
        if not body:
            return tag[:-1] + "/>"
        return f"{tag}{body}</row>"


class Sheet:
    """A worksheet part, cut into head, rows (by number) and tail."""

    def __init__(self, xml: str) -> None:
        start = re.search(r"<sheetData\b[^>]*?(/?)>", xml)
        if start is None:
            raise SheetError("a tab of encours's is written in a form encours cannot edit (prefixed XML): "
                             "open the workbook in Excel or LibreOffice and save it once, then sync again")
        if start.group(1):  # <sheetData/>
            self.head = xml[: start.start()] + "<sheetData>"
            body, self.tail = "", "</sheetData>" + xml[start.end():]
        else:
            end = xml.rindex("</sheetData>")
            self.head, body, self.tail = xml[: start.end()], xml[start.end(): end], xml[end:]
        #: the part as read, kept to compare only when small (a big tab's rows tell whether it changed)
        self.original = xml if len(xml) <= SMALL else ""
        self._head0, self._tail0 = self.head, self.tail
        self.dirty = False  # rows added or removed
        #: Where each row starts in the part as :meth:`chunks` last gave it: (row numbers, byte offsets and
        #: the offset of the rows' end), so that the next sync can find a row without cutting the part.
        self.written_rows: tuple[array[int], array[int]] | None = None
        self.rows: MutableMapping[int, Row] = {}
        rows = self.rows
        if self._split_rows(body):
            return
        rows.clear()
        last = 0
        for match in _ROW_RE.finditer(body):
            raw = match.group(0)
            number_match = _ROW_NUMBER_RE.search(raw[: raw.find(">") + 1])
            last = int(number_match.group(1)) if number_match else last + 1
            rows[last] = Row(last, "", raw)

    def _split_rows(self, body: str) -> bool:
        """Rows cut at their end tags (C speed): every row numbered first, none self-closing, as usual."""
        rows = self.rows
        pos, size = 0, len(body)
        while pos < size:
            end = body.find("</row>", pos)
            if end < 0:
                return not body[pos:].strip()
            start = body.find('<row r="', pos, end)
            if start < 0 or body.find("<row", start + 4, end) >= 0 or body[pos:start].strip():
                return False
            quote = body.find('"', start + 8, end)
            digits = body[start + 8: quote]
            if quote < 0 or not digits.isdigit():
                return False
            number = int(digits)
            rows[number] = Row(number, "", body[start: end + 6])
            pos = end + 6
        return True

    def row(self, number: int) -> Row:
        if number not in self.rows:
            self.dirty = True
            self.rows[number] = Row(number, f'<row r="{number}">', "", parsed=True)
        return self.rows[number]

    def add_row(self, number: int, text: str, *, last: int = -1) -> None:
        """A new row given as its text (a ``<row r="number">`` element; ``last``: its rightmost column)."""
        self.rows[number] = Row(number, f'<row r="{number}">', text, last=last)
        self.dirty = True

    def set_cells(self, number: int, cells: Mapping[int, str]) -> None:
        row = self.row(number)
        row.cell_map().update(cells)

    def clear_rows(self, first: int = 1) -> None:
        self.dirty = True
        for number in [n for n in self.rows if n >= first]:
            del self.rows[number]

    def last_row_with_values(self, shared: list[str]) -> int:
        for number in sorted(self.rows, reverse=True):
            if any(cell_text(c, shared) not in (None, "") or "<f" in c for c in self.rows[number].cell_map().values()):
                return number
        return 0

    def values(self, number: int, shared: list[str]) -> dict[int, Any]:
        row = self.rows.get(number)
        return {} if row is None else {i: cell_text(c, shared) for i, c in row.cell_map().items()}

    def column_values(self, index: int, shared: list[str], first: int = 2, *, letter: str = ""
                      ) -> Iterable[tuple[int, Any]]:
        """The cells of one column, by row number (``letter``: found by their reference, rows unparsed)."""
        if letter:
            pattern = re.compile(r'<c\b[^>]*?\br="' + letter + r'(\d+)"[^>]*?(?:/>|>.*?</c>)', re.S)
            for number in sorted(self.rows):
                row = self.rows[number]
                if number < first:
                    continue
                if row.parsed:
                    cell = row.cells.get(index)
                    if cell is not None:
                        yield number, cell_text(cell, shared)
                    continue
                raw = row.raw
                prefix = f'<row r="{number}"><c r="{letter}{number}" t="inlineStr"><is><t>'
                if raw.startswith(prefix):  # the first cell, one run of text, as encours writes it
                    end = raw.find("</t>", len(prefix))
                    if end > 0 and raw.startswith("</is></c>", end + 4):
                        text = raw[len(prefix): end]
                        yield number, (unescape(text) if "&" in text else text) or None
                        continue
                match = pattern.search(raw)
                if match is not None:
                    yield number, cell_text(match.group(0), shared)
            return
        for number in sorted(self.rows):
            if number >= first:
                cell = self.rows[number].cell_map().get(index)
                if cell is not None:
                    yield number, cell_text(cell, shared)

    # the tail and head -------------------------------------------------------------------------
    def tail_element(self, name: str) -> str | None:
        match = re.search(rf"<{name}\b[^>]*?(?:/>|>.*?</{name}>)", self.tail, re.S)
        return match.group(0) if match else None

    def set_tail_element(self, name: str, xml: str | None) -> None:
        """Replace (or add in schema order, or with None remove) one child element after sheetData."""
        pattern = re.compile(rf"<{name}\b[^>]*?(?:/>|>.*?</{name}>)", re.S)
        if pattern.search(self.tail):
            self.tail = pattern.sub(lambda _: xml or "", self.tail, count=1)
            return
        if xml is None:
            return
        later = _TAIL_ORDER[_TAIL_ORDER.index(name) + 1:]
        positions = [m.start() for n in later for m in [re.search(rf"<{n}\b", self.tail)] if m]
        at = min(positions) if positions else self.tail.rindex("</worksheet>")
        self.tail = self.tail[:at] + xml + self.tail[at:]

    def set_dimension(self) -> None:
        numbers = [n for n, r in self.rows.items() if r.raw or r.cells]
        if not numbers:
            return
        known = re.search(r'<dimension\b[^>]*\bref="[A-Z]+\d+:([A-Z]+)\d+"', self._head0)
        if known is not None and not self.dirty:  # rows neither added nor removed: only rewritten ones can widen
            width = max([column_index(known.group(1)), *(max(r.cells, default=0) for r in self.rows.values()
                                                         if r.parsed)])
        else:
            width = max((last_column(r) for r in self.rows.values()), default=0)
        ref = f"A1:{column_letter(width)}{max(numbers)}"
        self.head = re.sub(r'<dimension\b[^>]*?/>', f'<dimension ref="{ref}"/>', self.head, count=1)

    def set_head_element(self, name: str, xml: str, before: tuple[str, ...]) -> None:
        """Replace or add one child element before sheetData (``before``: the names that follow it)."""
        pattern = re.compile(rf"<{name}\b[^>]*?(?:/>|>.*?</{name}>)", re.S)
        if pattern.search(self.head):
            self.head = pattern.sub(lambda _: xml, self.head, count=1)
            return
        positions = [m.start() for n in before for m in [re.search(rf"<{n}\b", self.head)] if m]
        at = min(positions)
        self.head = self.head[:at] + xml + self.head[at:]

    def changed(self) -> bool:
        """Whether the part would differ from what was read (a big part: rows added or removed count)."""
        if self.head != self._head0 or self.tail != self._tail0:
            return True
        if self.dirty:
            return not self.original or self.to_xml() != self.original
        if not any(r.parsed and r.render() != r.raw for r in self.rows.values()):
            return False
        return not self.original or self.to_xml() != self.original

    def chunks(self) -> Iterator[Piece]:
        """The part in pieces (a big tab is never held as one string): rows encoded a batch at a time."""
        self.set_dimension()
        yield self.head
        rows = self.rows
        numbers = sorted(rows)
        lengths: array[int] = array("q")
        for start in range(0, len(numbers), _BATCH):
            batch = [rows[number].render().encode("utf-8") for number in numbers[start: start + _BATCH]]
            lengths.extend(map(len, batch))
            yield b"".join(batch)
        yield self.tail
        self.written_rows = (array("q", numbers), array("q", accumulate(lengths, initial=len(self.head.encode()))))

    def unparsed_numbers(self) -> set[int]:
        """The rows kept as their text (not cut into cells): those that still read as they were read."""
        return {number for number, row in self.rows.items() if not row.parsed}

    def set_last(self, numbers: Iterable[int], last: int) -> None:
        """Record that these rows' rightmost column is ``last`` (known without reading them)."""
        rows = self.rows
        for number in numbers:
            rows[number].last = last

    def to_xml(self) -> str:
        return "".join(c if isinstance(c, str) else str(c.data() if isinstance(c, Span) else c, "utf-8")
                       for c in self.chunks())


def last_column(row: Row) -> int:
    """The rightmost column of a row, without parsing an unchanged one."""
    if row.parsed:
        return max(row.cells, default=0)
    if row.last >= 0:
        return row.last
    at = max(row.raw.rfind("<c "), row.raw.rfind("<c>"))
    ref = _REF_RE.search(row.raw, at) if at >= 0 else None
    return column_index(ref.group(1)) if ref else 0


def validation_xml(sqref: str, kind: str, formula1: str, *, error: str, title: str,
                   operator: str | None = None) -> str:
    op = f' operator="{operator}"' if operator else ""
    return (f'<dataValidation type="{kind}"{op} allowBlank="1" showErrorMessage="1" '
            f'errorTitle={quoteattr(title)} error={quoteattr(error)} sqref="{sqref}">'
            f"<formula1>{escape(formula1)}</formula1></dataValidation>")
