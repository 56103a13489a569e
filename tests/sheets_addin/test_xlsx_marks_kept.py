"""People's marks kept between syncs: never older than the cells, always what reading the cells gives."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.sheets_addin import xlsx
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sheets_addin.xlsx_read import read_tables

AS_OF = date(2026, 11, 23)


def _ledger(count: int) -> Ledger:
    people = tuple(Customer(f"C{i:03d}", f"Client {i}", "test", emails=(f"c{i}@example.fr",)) for i in range(5))
    invoices = tuple(
        Invoice(f"INV{i:04d}", f"F-{i:04d}", people[i % 5].id, "test", AS_OF - timedelta(days=40 + i),
                AS_OF - timedelta(days=10 + i), Money(Decimal("100.00") + i), Money(Decimal("100.00") + i))
        for i in range(count)
    )
    return Ledger(people, invoices, ())


class Reads:
    """Counts the reads that went to the cells (a kept read does not)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = read_tables

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(xlsx, "read_tables", counted)


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    return Reads(monkeypatch)


@pytest.fixture()
def cold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Reads the marks from the cells, with nothing kept (an empty cache folder)."""
    counter = iter(range(1000))

    def read(path: Path) -> SheetMarks:
        with monkeypatch.context() as m:
            m.setenv("XDG_CACHE_HOME", str(tmp_path / f"cold-{next(counter)}"))
            return XlsxWorkbook(path).read_marks()

    yield read


def _type(path: Path, invoice_id: str, heading: str, value: str | None) -> None:
    wb = load_workbook(path)
    ws = wb["Factures"]
    columns = {c.value: int(c.column or 0) for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, columns["ID"]).value == invoice_id)
    ws.cell(row, columns[heading]).value = value
    wb.save(path)


def test_after_a_first_write_the_marks_are_known_without_reading(tmp_path: Path, reads: Reads, cold: Any) -> None:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(30), AS_OF))
    kept = XlsxWorkbook(path).read_marks()
    assert reads.count == 0
    assert kept == cold(path)
    assert len(kept.invoices) == 30 and len(kept.customers) == 5


def test_a_person_s_save_is_always_read_from_the_cells(tmp_path: Path, reads: Reads, cold: Any) -> None:
    path = tmp_path / "encours.xlsx"
    view = build_view(_ledger(30), AS_OF)
    XlsxWorkbook(path).write(view)
    XlsxWorkbook(path).read_marks()
    _type(path, "INV0007", "Litige", "Oui")
    book = XlsxWorkbook(path)
    marks = book.read_marks()
    assert reads.count == 1
    assert marks.for_invoice("INV0007").dispute, "a dispute typed after the last sync must stop reminders"
    # the sync after it, with new invoices appended, carries the dispute over without reading again
    more = _ledger(33)
    book.write(build_view(more, AS_OF))
    again = XlsxWorkbook(path).read_marks()
    assert reads.count == 1
    assert again == cold(path)
    assert again.for_invoice("INV0007").dispute and "INV0032" in again.invoices


def test_a_sync_that_restores_an_id_leaves_the_next_read_to_the_cells(tmp_path: Path, reads: Reads,
                                                                       cold: Any) -> None:
    path = tmp_path / "encours.xlsx"
    ledger = _ledger(30)
    XlsxWorkbook(path).write(build_view(ledger, AS_OF))
    _type(path, "INV0004", "Commentaire", "appelé")
    _type(path, "INV0004", "ID", None)  # a person empties the ID cell: encours puts it back from N° facture
    book = XlsxWorkbook(path)
    book.read_marks()
    paid = dataclasses.replace(ledger, invoices=tuple(
        dataclasses.replace(i, remaining=Money(Decimal(0)), status=InvoiceStatus.PAID) if i.id == "INV0001" else i
        for i in ledger.invoices))
    book.write(build_view(paid, AS_OF))
    count = reads.count
    marks = XlsxWorkbook(path).read_marks()
    assert reads.count == count + 1
    assert marks == cold(path)
    assert marks.for_invoice("INV0004").comment == "appelé"


def test_a_damaged_or_foreign_kept_file_is_only_a_miss(tmp_path: Path, reads: Reads, cold: Any) -> None:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(10), AS_OF))
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "encours" / "workbooks"
    for kept in folder.glob("*.marks"):
        data = kept.read_bytes()
        kept.write_bytes(data[: data.index(b"\n", data.index(b"\n") + 1) + 1] + b"not JSON")
    marks = XlsxWorkbook(path).read_marks()
    assert reads.count == 1
    assert marks == cold(path)


def test_kept_marks_are_data_every_kind_round_trips_and_a_pickle_is_never_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept file is JSON: what people typed (dates, amounts, tasks, problems) comes back equal,
    and a file someone else wrote (a pickle that would run code) is only a miss."""
    import pickle

    from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, MarkProblem, PaymentPlanLine, TaskMarks
    from encours.sheets_addin.xlsx_people import decode, encode, load

    marks = SheetMarks(
        invoices={"I1": InvoiceMarks("firm", True, date(2026, 12, 15), None, "appelé « lundi »", True),
                  "I2": InvoiceMarks()},
        customers={"C1": CustomerMarks("gentle", "compta@x.fr", True, "=1+1", True, "1 rue de la Paix\n75002 Paris"),
                   "C2": CustomerMarks()},
        payment_plans=(PaymentPlanLine("I1", date(2027, 1, 31), Decimal("1234.56"), "accord", 4),),
        problems=(MarkProblem("Factures", 7, "Pause jusqu'au", "demain?", "date attendue"),),
        tasks={"T-0001": TaskMarks(True, "promesse 15/12/2026", 3)},
    )
    assert decode(encode(marks)) == marks
    assert list(decode(encode(marks)).invoices) == ["I1", "I2"]

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(3), AS_OF))
    (kept,) = (tmp_path / "cache" / "encours" / "workbooks").glob("*.marks")
    data = kept.read_bytes()
    head = data[: data.index(b"\n", data.index(b"\n") + 1) + 1]
    ran = tmp_path / "ran"
    kept.write_bytes(head + pickle.dumps(_Evil(str(ran))))
    key = head.split(b"\n")[1].decode()
    assert load(path, key) is None and not ran.exists()


class _Evil:
    def __init__(self, where: str) -> None:
        self.where = where

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.where, "w"))


def test_a_sync_that_only_changes_values_keeps_the_marks_under_the_new_stamp(
    tmp_path: Path, reads: Reads, cold: Any
) -> None:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(30), AS_OF))
    _type(path, "INV0007", "Litige", "Oui")
    book = XlsxWorkbook(path)
    assert book.read_marks().for_invoice("INV0007").dispute
    assert reads.count == 1
    paid = _ledger(30)
    paid = dataclasses.replace(paid, invoices=tuple(
        dataclasses.replace(inv, remaining=Money(Decimal("1.00")), status=InvoiceStatus.PARTIALLY_PAID)
        if inv.id == "INV0003" else inv for inv in paid.invoices))
    book.write(build_view(paid, AS_OF))  # nothing appended: the marks kept are stamped again, not re-encoded
    again = XlsxWorkbook(path).read_marks()
    assert reads.count == 1
    assert again == cold(path)
    assert again.for_invoice("INV0007").dispute
