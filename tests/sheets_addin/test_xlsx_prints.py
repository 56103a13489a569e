"""A row's print and the view's digest tell apart every pair of rows that could be written differently."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from encours.connectors.model import Customer, Invoice, Ledger, Money
from encours.sheets_addin.view import build_view
from encours.sheets_addin.view_digest import view_digest
from encours.sheets_addin.view_texts import TableTexts
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sheets_addin.xlsx_prints import row_prints
from tests.support.workbook_parts import invoice_cell, workbook_parts

AS_OF = date(2026, 11, 23)


class Marked:
    """A value whose repr holds the marks that end a row's values."""

    def __repr__(self) -> str:
        return "Marked(\x1e\x1f)"


#: Values of column "x" of one row: no two may share a print (each could be written differently).
VARIANTS: list[Any] = [
    "a\x1fb", "a", "b\x1fc", "a\x1eb", "a\x1e\x1fb", "\x1e", "\x1f", "", None, "None", Decimal("1.0"), Decimal("1.00"),
    "1.00", 1, True, date(2026, 1, 1), date(2026, 1, 1).toordinal(), str(date(2026, 1, 1).toordinal()),
    "2026-01-01", Marked(), "Marked(\x1e\x1f)",
]


def _table(x: Any, y: Any = "c") -> list[dict[str, Any]]:
    return [{"id": "A0", "x": "z", "y": "z"}, {"id": "A1", "x": x, "y": y}, {"id": "A2", "x": "z", "y": "z"}]


def _prints(rows: list[dict[str, Any]], numbers: list[int] | None = None) -> list[bytes]:
    table = TableTexts(rows)
    _keys, tags, _text = table.text()
    return row_prints(tags, numbers or list(range(2, 2 + len(rows))), table.row_texts())


def test_each_row_is_cut_back_out_of_the_table_s_text() -> None:
    for x in VARIANTS:
        table = TableTexts(_table(x))
        assert len(table.row_texts()) == 3
        assert table.row_texts()[0][2:] == table.row_texts()[2][2:]  # the same values but the ID


def test_no_two_values_share_a_print() -> None:
    prints = {_prints(_table(x))[1] for x in VARIANTS}
    assert len(prints) == len(VARIANTS)


def test_a_value_moved_across_the_columns_changes_the_print() -> None:
    pairs = [("a\x1fb", "c"), ("a", "b\x1fc"), ("a\x1e", "c"), ("a", "\x1ec"), ("ab", "c"), ("a", "bc")]
    assert len({_prints(_table(x, y))[1] for x, y in pairs}) == len(pairs)


def test_a_row_missing_a_key_or_with_keys_in_another_order_is_told_apart() -> None:
    rows = _table("a")
    missing = [rows[0], {"id": "A1", "y": "c"}, rows[2]]
    reordered = [rows[0], {"id": "A1", "y": "c", "x": "a"}, rows[2]]
    none = [rows[0], {"id": "A1", "x": None, "y": "c"}, rows[2]]
    prints = [_prints(t)[1] for t in (rows, missing, none)]
    assert len(set(prints)) == 3
    assert _prints(reordered)[1] != prints[1]  # the same values: only rendered again, never missed


def test_the_row_number_is_in_the_print() -> None:
    rows = _table("a")
    assert _prints(rows, [2, 3, 4])[1] != _prints(rows, [2, 7, 4])[1]
    assert _prints(rows, [2, 3, 4]) == _prints([dict(r) for r in rows], [2, 3, 4])  # the same in any process


def _ledger(count: int) -> Ledger:
    people = tuple(Customer(f"C{i:03d}", f"Client {i}", "test") for i in range(3))
    invoices = tuple(Invoice(f"INV{i:04d}", f"F-{i:04d}", people[i % 3].id, "test", AS_OF - timedelta(days=40 + i),
                             AS_OF - timedelta(days=10 + i), Money(Decimal("100.00") + i), Money(Decimal("100.00") + i))
                     for i in range(count))
    return Ledger(people, invoices, ())


def test_the_view_digest_sees_which_rows_are_shown() -> None:
    view = build_view(_ledger(12), AS_OF)
    shown = sorted(view.shown_invoice_ids)
    variants = [view.shown_invoice_ids, frozenset(shown[1:]), frozenset(shown[:-1]),
                view.shown_invoice_ids | {"not an invoice"}, view.shown_invoice_ids | {"another"}]
    digests = {view_digest(dataclasses.replace(view, shown_invoice_ids=s), (30, 60, 90)) for s in variants}
    assert len(digests) == len(variants)


@pytest.mark.parametrize(("before", "after"), [("a\x1fb", "a"), (Decimal("1.0"), Decimal("1.00")), ("x", None)])
def test_a_resync_after_a_tricky_change_writes_what_a_full_comparison_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: Any, after: Any
) -> None:
    view = build_view(_ledger(12), AS_OF)
    first = view.invoices[3]

    def with_x(value: Any) -> Any:
        rows = [dict(first, customer=value), *view.invoices[4:]]
        return dataclasses.replace(view, invoices=[*view.invoices[:3], *rows])

    hot, cold = tmp_path / "hot.xlsx", tmp_path / "cold.xlsx"
    XlsxWorkbook(hot).write(with_x(before))
    XlsxWorkbook(hot).write(with_x(after))
    XlsxWorkbook(cold).write(with_x(before))
    with monkeypatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
        XlsxWorkbook(cold).write(with_x(after))
    assert workbook_parts(hot) == workbook_parts(cold)
    assert invoice_cell(hot, first["id"], "Client") == invoice_cell(cold, first["id"], "Client")
