"""The fast paths of the workbook backend write and read exactly what the careful paths do.

A re-sync keeps a row unparsed when its cells read as encours would write them, so the column
renderer of a first write and the cell-by-cell writer of a re-sync must agree to the byte; and the
change digest must see any change a person would see in a cell.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.sheets_addin.view import build_view
from encours.sheets_addin.view_digest import view_digest
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sheets_addin.xlsx_cells import MISSING, cell_text, cell_xml, column_cells

TEXTS = ["INV-1", "Client & fils", "a<b>c", " lead", "trail ", "two  spaces", "line\nbreak", "tab\there",
         "bell\x07", "é à ü €", "", "=SUM(A1)", "x" * 300, "\u00a0nbsp"]
NUMBERS = [Decimal("12.30"), Decimal("-0.01"), Decimal("1E+3"), Decimal("NaN"), 0, 42, 1.5, float("inf"), True, False]
DATES = [date(2026, 11, 23), date(1900, 3, 1), datetime(2026, 1, 2, 12, 30), datetime(2026, 1, 2, 8, tzinfo=UTC)]


@pytest.mark.parametrize("values", [TEXTS, [t for t in TEXTS if t.isalnum()], NUMBERS,
                                    [Decimal("1.10"), Decimal("2")], DATES, [date(2026, 1, 1), date(2027, 2, 3)],
                                    [None, "a", Decimal("1"), date(2026, 1, 1), None], [None, None]])
@pytest.mark.parametrize("style", [0, 7])
def test_a_column_renders_as_its_cells_one_by_one(values: list[Any], style: int) -> None:
    numbers = [str(n) for n in range(2, 2 + len(values))]
    expected = [cell_xml(f"D{n}", v, style if v is not None else 0) for n, v in zip(numbers, values, strict=True)]
    assert column_cells("D", numbers, values, style) == expected


def test_a_value_the_row_does_not_give_writes_no_cell() -> None:
    assert column_cells("B", ["2", "3"], [MISSING, "x"], 0) == ["", '<c r="B3" t="inlineStr"><is><t>x</t></is></c>']


@pytest.mark.parametrize("text", TEXTS)
def test_text_reads_back_as_written(text: str) -> None:
    cell = cell_xml("A2", text, 0)
    expected = text.replace("\x07", "") or None
    assert cell_text(cell, []) == expected


def test_whitespace_excel_would_trim_is_kept(tmp_path: Path) -> None:
    assert 'xml:space="preserve"' in cell_xml("A1", " lead", 0)
    assert 'xml:space="preserve"' not in cell_xml("A1", "plain text", 0)


def test_the_change_digest_sees_what_a_person_would_see(ledger: Any, as_of: date) -> None:
    view = build_view(ledger, as_of)
    base = view_digest(view, (30, 60, 90))
    assert view_digest(build_view(ledger, as_of), (30, 60, 90)) == base
    first = view.invoices[0]
    changes: list[dict[str, Any]] = [
        {"remaining": first["remaining"] + Decimal("0.01")},
        {"remaining": Decimal(str(first["remaining"])).quantize(Decimal("0.001"))},  # 12.30 → 12.300 shows the same
        {"due_date": first["due_date"] + timedelta(days=1)},
        {"customer": first["customer"] + " "},
        {"status": None},
        {"status": "None"},
    ]
    seen = set()
    for change in changes:
        rows = [dict(first, **change), *view.invoices[1:]]
        digest = view_digest(dataclasses.replace(view, invoices=rows), (30, 60, 90))
        assert digest != base, change
        seen.add(digest)
    assert len(seen) == len(changes)  # None and "None" are told apart
    assert view_digest(view, (30, 60, 91)) != base


def test_the_change_digest_sees_a_row_of_other_keys(ledger: Any, as_of: date) -> None:
    view = build_view(ledger, as_of)
    second = dict(view.invoices[1])
    without = {k: v for k, v in second.items() if k != "salesperson"}
    rows = [second, without, {**second, "salesperson": None},
            {**without, "seller": "A"}, {**without, "seller": "B"}]  # as many keys as the others, one of them another
    digests = {view_digest(dataclasses.replace(view, invoices=[view.invoices[0], row, *view.invoices[2:]]),
                           (30, 60, 90)) for row in rows}
    assert len(digests) == len(rows)


def test_a_resync_with_nothing_new_reads_back_what_people_typed(tmp_path: Path, ledger: Any, as_of: date) -> None:
    path = tmp_path / "encours.xlsx"
    view = build_view(ledger, as_of)
    XlsxWorkbook(path).write(view)
    wb = load_workbook(path)
    ws = wb["Factures"]
    headings = {c.value: int(c.column or 0) for c in ws[1]}
    invoice_id = str(ws.cell(2, headings["ID"]).value)
    ws.cell(2, headings["Commentaire"]).value = "  rappel & litige <client>  "
    ws.cell(2, headings["Litige"]).value = "Oui"
    wb.save(path)
    book = XlsxWorkbook(path)
    marks = book.read_marks()
    book.write(view)
    assert marks.for_invoice(invoice_id).comment == "rappel & litige <client>"
    assert marks.for_invoice(invoice_id).dispute
    again = XlsxWorkbook(path).read_marks()
    assert again == marks


@pytest.mark.parametrize("tricky", [t for t in TEXTS if t] + ["a\u2003b", "x\u3000", "\u2028", "a \nb", "a\n b"])
def test_a_column_of_text_with_one_tricky_value_renders_it_with_care(tricky: str) -> None:
    for values in ([tricky, "plain"], ["plain", tricky], ["plain", tricky, "other"]):
        numbers = [str(n) for n in range(2, 2 + len(values))]
        expected = [cell_xml(f"C{n}", v, 3) for n, v in zip(numbers, values, strict=True)]
        assert column_cells("C", numbers, values, 3) == expected
