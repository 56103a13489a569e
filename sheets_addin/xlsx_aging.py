"""``Balance âgée`` in a workbook package: rebuilt from its rows, or left as it is when they are the same.

The tab is one row per customer with something open, all formulas over ``Factures``: a 1 % re-sync
of 100,000 invoices usually leaves it as it was.  Its rows and the cell formats they take are
digested (the *mark*, kept with the rows' prints); while the part is byte for byte what encours
wrote from rows of the same mark, rebuilding it would give the very same text, so it is not rebuilt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from encours.sheets_addin.layout import AGING, column_letter
from encours.sheets_addin.xlsx_cells import cell_xml
from encours.sheets_addin.xlsx_layout import Context, freeze_views, page_setup, set_widths
from encours.sheets_addin.xlsx_prints import TabPrints
from encours.sheets_addin.xlsx_rows import EUR_FORMAT
from encours.sheets_addin.xlsx_sheetxml import Sheet


def _style(ctx: Context, number: int, index: int, rows: int) -> int:
    return ctx.style(EUR_FORMAT if number > 1 and index >= 2 else None, number in (1, rows))


def write_aging(sheet: Sheet, rows: Sequence[Sequence[object]], ctx: Context, *, fresh: bool,
                kept: TabPrints | None) -> str:
    """Write ``rows`` into the tab unless ``kept`` (trusted: the part as encours wrote it) has their mark.

    Returns the mark of ``rows``."""
    # the cell formats in the order a rebuild first asks for them (a new one is added to the styles part)
    formats = [_style(ctx, number, index, len(rows)) for number in sorted({1, 2, len(rows)}) if number <= len(rows)
               for index in range(len(rows[number - 1]))]
    mark = hashlib.sha256(repr((list(map(list, rows)), formats)).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    if kept is not None and kept.layout == mark and not fresh:
        return mark  # rebuilding would write the very text the part holds
    sheet.clear_rows()
    letters = [column_letter(index) for index in range(max(map(len, rows)))]
    for number, values in enumerate(rows, start=1):
        suffix = str(number)
        sheet.set_cells(number, {i: cell_xml(letters[i] + suffix, value, _style(ctx, number, i, len(rows)),
                                             formula=i >= 2 or number == 1) for i, value in enumerate(values)})
    if fresh:
        freeze_views(sheet, "C2")
        set_widths(sheet, [c.width for c in AGING.columns])
    last = f"{column_letter(len(rows[0]) - 1)}{max(1, len(rows) - 1)}"
    sheet.set_tail_element("autoFilter", f'<autoFilter ref="A1:{last}"/>')
    page_setup(sheet)
    return mark
