"""New rows of a keyed tab written straight as text, a column at a time.

A first write of 100,000 invoices is almost only this: the very cells the cell-by-cell path
(:func:`encours.sheets_addin.xlsx_splice._place`) would write, rendered column by column over a
batch of rows (one type test and one string per cell, no per-cell call), then joined into rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from operator import itemgetter, methodcaller
from xml.sax.saxutils import escape

from encours.sheets_addin.layout import Tab, column_letter
from encours.sheets_addin.view import Row
from encours.sheets_addin.view_texts import TableTexts
from encours.sheets_addin.xlsx_cells import MISSING, column_cells
from encours.sheets_addin.xlsx_layout import Context
from encours.sheets_addin.xlsx_prints import ROW_END, SEPARATOR, column_texts, row_prints
from encours.sheets_addin.xlsx_rows import RowPlan, column_format

_ROW_END = ROW_END.encode()
#: Rows rendered together: big enough to amortise the per-column work, small enough to bound memory.
BATCH = 4096

#: One row to append: its sheet row number, its ID, its synced values, its run values (None: none).
NewRow = tuple[int, str, Row, Row | None]


class Appender:
    """Renders a tab's new rows; ``rows`` yields (row number, row text); ``last``: their rightmost column."""

    SYNCED, FORMULA, RUN = 0, 1, 2

    def __init__(self, tab: Tab, positions: Mapping[str, int], extra: Mapping[str, str], ctx: Context) -> None:
        plan = RowPlan(tab, positions, extra)
        #: The view table the tab's synced rows come from (its columns' texts shared with the view digest).
        self.table: TableTexts | None = ctx.texts.get(tab.name)
        formulas = dict(plan.formulas)
        kinds = {index: (self.SYNCED, key) for index, key in plan.synced}
        kinds.update({index: (self.RUN, key) for index, key in plan.run})
        by_index = {i: k for k, i in positions.items()}
        self.id_index = positions[tab.id_key]
        #: (column index, kind, letter, layout key, cell format, formula text cut at the row number)
        self.columns: list[tuple[int, int, str, str, int, list[str]]] = []
        for index in sorted(set(kinds) | set(formulas)):
            style = ctx.style(column_format(tab.column(by_index[index])))
            if index in formulas:
                pieces = escape(formulas[index][1:]).split(RowPlan.ROW)
                self.columns.append((index, self.FORMULA, column_letter(index), by_index[index], style, pieces))
            else:
                kind, key = kinds[index]
                self.columns.append((index, kind, column_letter(index), key, style, []))
        self.last = max((c[0] for c in self.columns), default=0)

    def rows(self, new: Sequence[NewRow]) -> Iterator[tuple[int, str]]:
        """Each row's text."""
        for start in range(0, len(new), BATCH):
            yield from self._batch(new[start: start + BATCH])

    def prints(self, new: Sequence[NewRow]) -> list[bytes]:
        """The print of each row (:mod:`~encours.sheets_addin.xlsx_prints`): what its text is rendered from."""
        runs = None if all(item[3] is None for item in new) else list(map(itemgetter(3), new))
        if self.table is not None:
            return self.prints_of(list(map(itemgetter(0), new)), list(map(itemgetter(1), new)), runs, {})
        synced_keys = self._keys(self.SYNCED)
        out: list[bytes] = []
        for start in range(0, len(new), BATCH):
            batch = new[start: start + BATCH]
            synced = list(map(itemgetter(2), batch))
            values = [list(map(itemgetter(1), batch)), *(list(map(methodcaller("get", key, MISSING), synced))
                                                         for key in synced_keys)]
            out.extend(_prints(list(map(itemgetter(0), batch)), values,
                               None if runs is None else self._run_values(runs[start: start + BATCH])))
        return out

    def prints_of(self, numbers: Sequence[int], keys: Sequence[str], runs: Sequence[Row | None] | None,
                  known: Mapping[str, Row]) -> list[bytes]:
        """The prints of the rows of these numbers and (distinct) IDs (synced values: ``known``, or the view table's
        row texts).

        ``runs``: each row's run values (None: no row has any)."""
        if self.table is None:
            return self.prints([(n, k, known[k], None if runs is None else runs[i])
                                for i, (n, k) in enumerate(zip(numbers, keys, strict=True))])
        _keys, tags, _text = self.table.text()  # every value of the row: those of the tab's columns among them
        texts = self.table.row_texts()
        if keys != self.table.ids():  # the tab's rows in another order than the view's, or not all of them
            texts = list(map(texts.__getitem__, map(self.table.index().__getitem__, keys)))
        if runs is None:
            return row_prints("row:" + tags + "no run,", numbers, texts)
        run_tags, run_texts = _texts(self._run_values(runs), len(runs))
        ended = map(bytes.__add__, texts, repeat(_ROW_END))
        return row_prints("row:" + tags + run_tags, numbers, list(map(bytes.__add__, ended, run_texts)))

    def _keys(self, kind: int) -> tuple[str, ...]:
        return tuple(key for index, k, _l, key, _s, _p in self.columns if k == kind and index != self.id_index)

    def _run_values(self, runs: Sequence[Row | None]) -> list[list[object]]:
        return [[MISSING if run is None else run.get(key) for run in runs] for key in self._keys(self.RUN)]

    def _batch(self, new: Sequence[NewRow]) -> list[tuple[int, str]]:
        numbers = [str(item[0]) for item in new]
        synced = [item[2] for item in new]
        columns: list[list[str]] = []
        for index, kind, letter, key, style, pieces in self.columns:
            if kind == self.FORMULA:
                s = f' s="{style}"' if style else ""
                head = f'<c r="{letter}'
                columns.append([f'{head}{n}"{s}><f>{n.join(pieces)}</f></c>' for n in numbers])
                continue
            if index == self.id_index:
                values: list[object] = [item[1] for item in new]
            elif kind == self.SYNCED:
                values = list(map(methodcaller("get", key, MISSING), synced))
            else:
                values = [MISSING if item[3] is None else item[3].get(key) for item in new]
            columns.append(column_cells(letter, numbers, values, style))
        return [(item[0], f'<row r="{n}">{"".join(cells)}</row>')
                for item, n, cells in zip(new, numbers, zip(*columns, strict=True), strict=True)]


def _texts(columns: Sequence[Sequence[object]], count: int) -> tuple[str, list[bytes]]:
    """The columns' tags, and each of ``count`` rows' values (given a column at a time) as one text: joined by
    ``SEPARATOR`` and ended by ``ROW_END``, as in a view table's text."""
    converted = list(map(column_texts, columns))
    tags = "".join(tag + "," for tag, _ in converted)
    if not converted:
        return tags, [_ROW_END] * count
    rows = zip(*(texts for _, texts in converted), strict=True)
    return tags, [(SEPARATOR.join(row) + ROW_END).encode("utf-8", "surrogatepass") for row in rows]


def _prints(numbers: Sequence[int], values: Sequence[Sequence[object]], run: Sequence[Sequence[object]] | None
            ) -> list[bytes]:
    """Rows' prints from their columns: row numbers, then IDs and synced values, then run values (None: none)."""
    tags, texts = _texts(values, len(numbers))
    if run is None:
        return row_prints(tags + "no run,", numbers, texts)
    run_tags, run_texts = _texts(run, len(numbers))
    return row_prints(tags + run_tags, numbers, list(map(bytes.__add__, texts, run_texts)))
