"""``Balance âgée`` rebuilt from a row template gives, to the byte, what the cell-by-cell rebuild gave."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from encours.sheets_addin import xlsx_aging
from encours.sheets_addin.dashboard import AGING_ROW, aging_rows
from encours.sheets_addin.layout import INVOICES, column_letter
from encours.sheets_addin.view import SheetView, aging_customers
from encours.sheets_addin.view_texts import TableTexts
from encours.sheets_addin.xlsx_aging import write_aging
from encours.sheets_addin.xlsx_cells import cell_xml
from encours.sheets_addin.xlsx_layout import Context, page_setup
from encours.sheets_addin.xlsx_rows import EUR_FORMAT
from encours.sheets_addin.xlsx_sheetxml import EMPTY_SHEET, Sheet
from encours.sheets_addin.xlsx_styles import StyleBook

LETTERS = {c.key: column_letter(i) for i, c in enumerate(INVOICES.columns)}
ODD_NAMES = [
    "Dupont & Fils", "L'Atelier \"Chez Paul\"", "<b>Gras</b> > tout", "=HYPERLINK(\"http://x\")", "+33 SARL",
    "-5", "@SUM(A1)", "Société Générale — Îles", "北京 客户", "🙂 Emoji SAS", " espace devant", "espace derrière ",
    "deux  espaces", "ligne\nsuivante", "tab\there", "contrôle\x01\x1f", "", "{row}", "a]]>b", "\u00a0insécable",
]


def _reference(customers: Sequence[tuple[str, str]], letters: Mapping[str, str]) -> tuple[str, bytes]:
    """The part and styles as the cell-by-cell rebuild wrote them (every cell through ``cell_xml``)."""
    ctx = Context(StyleBook(None), [])
    rows = aging_rows(customers, letters)

    def style(number: int, index: int) -> int:
        return ctx.style(EUR_FORMAT if number > 1 and index >= 2 else None, number in (1, len(rows)))

    for number in sorted({1, 2, len(rows)}):  # the formats in the order the rebuild first asked for them
        for index in range(len(rows[number - 1])):
            style(number, index)
    sheet = Sheet(EMPTY_SHEET)
    for number, values in enumerate(rows, start=1):
        sheet.set_cells(number, {i: cell_xml(column_letter(i) + str(number), value, style(number, i),
                                             formula=i >= 2 or number == 1) for i, value in enumerate(values)})
    return _finish(sheet, len(rows)), ctx.styles.to_bytes()


def _finish(sheet: Sheet, rows: int) -> str:
    sheet.set_tail_element("autoFilter", f'<autoFilter ref="A1:I{max(1, rows - 1)}"/>')
    page_setup(sheet)
    return sheet.to_xml()


def _templated(customers: Sequence[tuple[str, str]], letters: Mapping[str, str]) -> tuple[str, bytes]:
    ctx = Context(StyleBook(None), [])
    sheet = Sheet(EMPTY_SHEET)
    write_aging(sheet, customers, letters, ctx, fresh=False, kept=None)
    return sheet.to_xml(), ctx.styles.to_bytes()


CASES = {
    "no customer": [],
    "one customer": [("C1", "Seul & unique")],
    "odd names": [(f"C{i:03d}", name) for i, name in enumerate(ODD_NAMES)],
    "odd ids": [(cid, f"Client {i}") for i, cid in enumerate(["=1", "A&B", "<x>", " C4", "C 5", "Ç6", "", "7\n"])],
    "many": [(f"C{i:05d}", f"Client {i}") for i in range(1500)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_template_writes_the_very_bytes_of_the_cell_by_cell_rebuild(case: str) -> None:
    customers = CASES[case]
    assert _templated(customers, LETTERS) == _reference(customers, LETTERS)


def test_factures_columns_elsewhere_move_every_formula_alike() -> None:
    moved = {key: column_letter(index + 27) for index, key in enumerate(reversed(list(LETTERS)))}
    customers = CASES["odd names"]
    part, _styles = _templated(customers, moved)
    assert (part, _styles) == _reference(customers, moved)
    assert f"SUMIFS({moved['remaining_eur']}" not in part  # a whole-column reference, sheet-qualified
    assert f"!${moved['remaining_eur']}:${moved['remaining_eur']}" in part


def test_a_template_that_disagrees_with_cell_xml_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a cell's text ever depend on its row number otherwise than where the number is written, every
    row is rendered cell by cell."""
    real = cell_xml

    def templated_apart(ref: str, value: Any, style: int, *, formula: bool = False) -> str:
        text = real(ref, value, style, formula=formula)
        return text.replace("<f>", "<f> ") if ref.endswith(AGING_ROW) else text

    customers = CASES["odd names"]
    expected = _reference(customers, LETTERS)
    monkeypatch.setattr(xlsx_aging, "cell_xml", templated_apart)
    assert _templated(customers, LETTERS) == expected


def test_the_customers_with_something_open_are_those_of_the_view() -> None:
    """Taken from the values pulled for the rows' prints: the same customers as from the rows themselves."""
    rows: list[dict[str, Any]] = [
        {"id": f"I{i}", "customer_id": f"C{i % 7}", "remaining": remaining}
        for i, remaining in enumerate([Decimal("10"), Decimal("0"), None, Decimal("-5"), Decimal("0.00"), 3, 0,
                                       Decimal("1"), Decimal("2"), None, Decimal("0"), Decimal("4")])
    ]
    shown = frozenset(f"I{i}" for i in (0, 1, 2, 3, 4, 5, 6, 8, 10, 11))
    view = SheetView(date(2026, 11, 23), rows, shown, [{"id": f"C{i}", "name": f"N{6 - i}"} for i in range(7)])
    table = TableTexts(rows)
    assert table.customers_with_open(shown) is None  # nothing pulled yet
    table.text()
    with_open = table.customers_with_open(shown)
    assert with_open == {"C0", "C3", "C5", "C1", "C4"}
    assert aging_customers(view, with_open) == aging_customers(view)
    other_keys = TableTexts([*rows, {"id": "I99", "customer_id": "C6"}])  # a row without "remaining"
    other_keys.text()
    assert other_keys.customers_with_open(shown) is None
