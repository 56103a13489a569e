"""``Balance âgée`` in a workbook package: rebuilt from its rows, or left as it is when they are the same.

The tab is one row per customer with something open, all formulas over ``Factures``: a 1 % re-sync
of 100,000 invoices usually leaves it as it was.  What its rows are rendered from — the header, the
formulas of a customer's row with its number left out, the total row, the customers (ID and name, in
order) and the cell formats they take — is digested (the *mark*, kept with the rows' prints); while
the part is byte for byte what encours wrote from the same mark, rebuilding it would give the very
same text, so it is not rebuilt.

When customers come or go every later row is renumbered, so the tab is rebuilt whole.  A customer's
row is then rendered from one template: its formula cells are :func:`cell_xml` of the formulas with a
marker in place of the row number, cut at the marker and joined with each number; the name and ID
columns are rendered a column at a time.  Before it is used the template is checked against
:func:`cell_xml` cell by cell on the first and last customers' rows; should they ever differ, every
row is rendered cell by cell (:func:`rows_by_cell`, the reference).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from encours.sheets_addin.dashboard import AGING_ROW, aging_layout
from encours.sheets_addin.layout import AGING, column_letter
from encours.sheets_addin.xlsx_cells import cell_xml, column_cells
from encours.sheets_addin.xlsx_layout import Context, freeze_views, page_setup, set_widths
from encours.sheets_addin.xlsx_prints import TabPrints
from encours.sheets_addin.xlsx_rows import EUR_FORMAT
from encours.sheets_addin.xlsx_sheetxml import Sheet

Styles = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]  # header, a customer's row, total row


def _styles(ctx: Context, width: int, customers: int) -> Styles:
    """Each row kind's cell formats, asked for in the order a cell-by-cell rebuild first asks for them
    (a format not in the styles part yet is added to it: the order is the part's)."""
    header = tuple(ctx.style(None, True) for _ in range(width))
    plain = ctx.style(None, False) if customers else 0
    body = tuple(plain if index < 2 else ctx.style(EUR_FORMAT, False) for index in range(width)) if customers \
        else ()
    total = tuple(ctx.style(EUR_FORMAT if index >= 2 else None, True) for index in range(width))
    return header, body, total


def write_aging(sheet: Sheet, customers: Sequence[tuple[str, str]], letters: Mapping[str, str], ctx: Context, *,
                fresh: bool, kept: TabPrints | None) -> str:
    """Write the tab's rows (``customers``: ID and name; ``letters``: the columns of ``Factures``) unless
    ``kept`` (trusted: the part as encours wrote it) has their mark.

    Returns the mark of the rows."""
    header, formulas, total = aging_layout(letters, len(customers))
    width = len(header)
    styles = _styles(ctx, width, len(customers))
    mark = hashlib.sha256(repr((header, formulas, total, list(customers), styles)).encode(
        "utf-8", "surrogatepass")).hexdigest()[:32]
    if kept is not None and kept.layout == mark and not fresh:
        return mark  # rebuilding would write the very text the part holds
    sheet.clear_rows()
    for number, text in _rows(header, formulas, total, customers, styles):
        sheet.add_row(number, text, last=width - 1)
    if fresh:
        freeze_views(sheet, "C2")
        set_widths(sheet, [c.width for c in AGING.columns])
    last = f"{column_letter(width - 1)}{max(1, len(customers) + 1)}"
    sheet.set_tail_element("autoFilter", f'<autoFilter ref="A1:{last}"/>')
    page_setup(sheet)
    return mark


def _row(number: str, cells: Sequence[str]) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def _cells(number: int, values: Sequence[object], styles: Sequence[int], *, formulas: int) -> list[str]:
    """One row cell by cell: text from column ``formulas`` on starting with "=" is a formula."""
    suffix = str(number)
    return [cell_xml(column_letter(index) + suffix, value, styles[index], formula=index >= formulas)
            for index, value in enumerate(values)]


def _customer_row(number: int, customer: tuple[str, str], formulas: Sequence[str], styles: Sequence[int]) -> str:
    customer_id, name = customer
    suffix = str(number)
    return _row(suffix, _cells(number, [name, customer_id, *(f.replace(AGING_ROW, suffix) for f in formulas)], styles,
                               formulas=2))


def rows_by_cell(header: Sequence[object], formulas: Sequence[str], total: Sequence[object],
                 customers: Sequence[tuple[str, str]], styles: Styles) -> list[tuple[int, str]]:
    """Every row's text, each cell by :func:`cell_xml` (the reference the template must give to the byte)."""
    end = len(customers) + 2
    return [(1, _row("1", _cells(1, header, styles[0], formulas=0))),
            *((number, _customer_row(number, customer, formulas, styles[1]))
              for number, customer in enumerate(customers, start=2)),
            (end, _row(str(end), _cells(end, total, styles[2], formulas=2)))]


def _rows(header: Sequence[object], formulas: Sequence[str], total: Sequence[object],
          customers: Sequence[tuple[str, str]], styles: Styles) -> list[tuple[int, str]]:
    """Every row's text: the customers' rows from one template (see the module), the same as :func:`rows_by_cell`."""
    if not customers:
        return rows_by_cell(header, formulas, total, customers, styles)
    end = len(customers) + 2
    numbers = list(map(str, range(2, end)))
    body = styles[1]
    template = "".join(cell_xml(column_letter(index) + AGING_ROW, formula, body[index], formula=True)
                       for index, formula in enumerate(formulas, start=2)).split(AGING_ROW)
    names = _text_cells("A", numbers, [c[1] for c in customers], body[0])
    ids = _text_cells("B", numbers, [c[0] for c in customers], body[1])
    rows = [f'<row r="{n}">{a}{b}{n.join(template)}</row>' for n, a, b in zip(numbers, names, ids, strict=True)]
    if rows[0] != _customer_row(2, customers[0], formulas, body) \
            or rows[-1] != _customer_row(end - 1, customers[-1], formulas, body):
        return rows_by_cell(header, formulas, total, customers, styles)  # never seen: the reference, to the byte
    return [(1, _row("1", _cells(1, header, styles[0], formulas=0))), *zip(range(2, end), rows, strict=True),
            (end, _row(str(end), _cells(end, total, styles[2], formulas=2)))]


def _text_cells(letter: str, numbers: Sequence[str], values: Sequence[object], style: int) -> list[str]:
    """A column of text cells as :func:`cell_xml` writes them (``column_cells`` when every value is text)."""
    if set(map(type, values)) == {str}:
        return column_cells(letter, numbers, values, style)
    return [cell_xml(letter + n, value, style) for n, value in zip(numbers, values, strict=True)]
