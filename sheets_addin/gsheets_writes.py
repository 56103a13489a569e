"""The writes of a Google Sheets sync: the cells to write on one tab, merged into rectangles, split
into requests under the size Google accepts, formula cells as runs of rows for ``repeatCell`` —
and where a text too long for one cell was cut, said in the sync's notes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from encours.sheets_addin.gsheets_values import MAX_CELL_CHARS, is_cut
from encours.sheets_addin.layout import column_letter


# -- cell writes -------------------------------------------------------------------------------
@dataclass
class CellWrites:
    """Cells to write on one tab, by (sheet row, 0-based column)."""

    raw: dict[tuple[int, int], Any] = field(default_factory=dict)  # values: text stays text
    entered: dict[tuple[int, int], Any] = field(default_factory=dict)  # formulas, typed as a person would
    formula_rows: dict[int, dict[int, str]] = field(default_factory=dict)  # column → {row: formula}

    def __bool__(self) -> bool:
        return bool(self.raw or self.entered or self.formula_rows)

    def cells(self) -> int:
        return len(self.raw) + len(self.entered) + sum(len(r) for r in self.formula_rows.values())


@dataclass(frozen=True)
class ValueBlock:
    """A rectangle of values: top-left sheet row and column, rows of values."""

    row: int
    column: int
    values: list[list[Any]]

    def a1(self, title: str) -> str:
        last_row = self.row + len(self.values) - 1
        last_col = self.column + max(len(r) for r in self.values) - 1
        return f"{quote_title(title)}!{column_letter(self.column)}{self.row}:{column_letter(last_col)}{last_row}"


def quote_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def blocks(cells: Mapping[tuple[int, int], Any]) -> list[ValueBlock]:
    """Merge cells into rectangles: contiguous columns of a row, then rows with the same span."""
    by_row: dict[int, dict[int, Any]] = {}
    for (row, column), value in cells.items():
        by_row.setdefault(row, {})[column] = value
    open_blocks: dict[tuple[int, int], tuple[int, list[list[Any]]]] = {}  # (c0, c1) → (first row, values)
    last_row_of: dict[tuple[int, int], int] = {}
    done: list[ValueBlock] = []
    for row in sorted(by_row):
        line = by_row[row]
        spans: list[tuple[int, int]] = []
        for column in sorted(line):
            if spans and spans[-1][1] == column:
                spans[-1] = (spans[-1][0], column + 1)
            else:
                spans.append((column, column + 1))
        for span in spans:
            values = [line[c] for c in range(*span)]
            if span in open_blocks and last_row_of[span] == row - 1:
                open_blocks[span][1].append(values)
            else:
                if span in open_blocks:
                    first, rows = open_blocks.pop(span)
                    done.append(ValueBlock(first, span[0], rows))
                open_blocks[span] = (row, [values])
            last_row_of[span] = row
    for span, (first, rows) in open_blocks.items():
        done.append(ValueBlock(first, span[0], rows))
    done.sort(key=lambda b: (b.row, b.column))
    return done


def _size(value: Any) -> int:
    """Bytes of a row in the request body, as requests encodes JSON (ASCII, ``\\u00e9`` escapes)."""
    return len(json.dumps(value)) + 2


def chunk_requests(titled_blocks: Iterable[tuple[str, ValueBlock]], max_bytes: int) -> list[list[dict[str, Any]]]:
    """ValueRange lists, each under ``max_bytes`` of JSON; a block too big is split by rows."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    budget = max(1024, max_bytes - 200)  # room for the envelope
    for title, block in titled_blocks:
        overhead = len(title) * 2 + 40
        rows = block.values
        start = 0
        while start < len(rows):
            end = start
            size = overhead
            while end < len(rows):
                row_size = _size(rows[end])
                if end > start and used + size + row_size > budget:
                    break
                size += row_size
                end += 1
            if current and used + size > budget:
                chunks.append(current)  # not even one row fits in this request: start the next one
                current, used = [], 0
                continue
            piece = ValueBlock(block.row + start, block.column, rows[start:end])
            current.append({"range": piece.a1(title), "values": piece.values})
            used += size
            start = end
            if start < len(rows):
                chunks.append(current)
                current, used = [], 0
    if current:
        chunks.append(current)
    return chunks


def formula_runs(rows: Mapping[int, str]) -> list[tuple[int, int, str]]:
    """(first row, last row, formula of the first row) for each run of consecutive rows."""
    runs: list[tuple[int, int, str]] = []
    for row in sorted(rows):
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row, runs[-1][2])
        else:
            runs.append((row, row, rows[row]))
    return runs


def cut_notes(titled: Sequence[tuple[str, ValueBlock]]) -> list[str]:
    """Say where a text too long for one Google cell was cut (people may want the rest elsewhere)."""
    notes = []
    for title, block in titled:
        for i, line in enumerate(block.values):
            for j, value in enumerate(line):
                if is_cut(value):
                    notes.append(f"tab {title!r}, cell {column_letter(block.column + j)}{block.row + i}: text longer "
                                 f"than {MAX_CELL_CHARS:,} characters (Google's limit per cell): cut")
    return notes
