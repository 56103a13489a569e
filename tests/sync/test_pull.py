"""A sync that fails anywhere leaves the sheet and the cursor as they were."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell

from encours.connectors.errors import SheetError
from encours.connectors.model import Customer, Delta, Invoice, InvoiceStatus, Money, SourceInfo
from encours.sync.config import load_config
from encours.sync.pull import sync
from encours.sync.state import StateStore
from tests.conftest import write_config

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeSource:
    """An incremental source: the cursor counts the pulls; each pull after the first pays one invoice."""

    source = "fake"

    def __init__(self) -> None:
        self.customers = (Customer("C1", "Ateliers Réunis", "fake", emails=("compta@ar.fr",)),)
        self.invoices = {
            f"I{n}": Invoice(f"I{n}", f"F-{n}", "C1", "fake", date(2026, 9, 1), date(2026, 10, n),
                             Money(Decimal("100.00")), Money(Decimal("100.00")))
            for n in range(1, 6)
        }
        self.pulls: list[str | None] = []

    def check(self) -> SourceInfo:
        return SourceInfo("fake", "Fake", len(self.invoices))

    def pull(self, cursor: str | None) -> Delta:
        self.pulls.append(cursor)
        if cursor is None:
            return Delta(self.customers, tuple(self.invoices.values()), cursor="1")
        paid = dataclasses.replace(self.invoices[f"I{int(cursor)}"], remaining=Money(Decimal(0)),
                                   status=InvoiceStatus.PAID)
        return Delta(invoices=(paid,), full=False, cursor=str(int(cursor) + 1))

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, FakeSource]:
    source = FakeSource()
    monkeypatch.setattr("encours.sync.pull.open_connector", lambda config, cache, as_of: source)
    return write_config(tmp_path), source


def _cursor(config_path: Path) -> str:
    with StateStore(config_path.parent / "state.sqlite") as store:
        mark = store.sync_mark("fake")
        assert mark is not None
        return mark.cursor


def test_cursor_moves_only_with_the_sheet(setup: tuple[Path, FakeSource]) -> None:
    config_path, source = setup
    config = load_config(config_path)
    first = sync(config, as_of=date(2026, 11, 23), now=NOW)
    assert first.open_invoices == 5 and _cursor(config_path) == "1"

    # someone duplicates a row: the next sync must stop, write nothing, keep the cursor
    workbook = config_path.parent / "encours.xlsx"
    wb = load_workbook(workbook)
    wb["Factures"].cell(row=3, column=1, value=wb["Factures"].cell(row=2, column=1).value)
    wb.save(workbook)
    before = workbook.read_bytes()
    with pytest.raises(SheetError, match="appears twice"):
        sync(config, as_of=date(2026, 11, 23), now=NOW)
    assert workbook.read_bytes() == before
    assert _cursor(config_path) == "1"
    with StateStore(config_path.parent / "state.sqlite") as store:
        assert store.invoice("I1").remaining.amount == Decimal("100.00")  # type: ignore[union-attr]

    # repaired: the same change is pulled again from the same cursor, nothing lost
    wb = load_workbook(workbook)
    wb["Factures"].delete_rows(3)
    wb.save(workbook)
    second = sync(config, as_of=date(2026, 11, 23), now=NOW)
    assert source.pulls == [None, "1", "1"]
    assert second.open_invoices == 4 and _cursor(config_path) == "2"
    assert not second.full


def test_full_flag_pulls_everything_again(setup: tuple[Path, FakeSource]) -> None:
    config_path, source = setup
    config = load_config(config_path)
    sync(config, as_of=date(2026, 11, 23), now=NOW)
    sync(config, as_of=date(2026, 11, 23), now=NOW, full=True)
    assert source.pulls == [None, None]


def test_what_people_mark_reaches_the_payer_score(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    sync(config, as_of=date(2026, 11, 23), now=NOW)
    workbook = tmp_path / "encours.xlsx"

    def client_row(customer_id: str) -> dict[str, object]:
        ws = load_workbook(workbook)["Clients"]
        headers = [str(c.value) for c in ws[1]]
        for row in ws.iter_rows(min_row=2, values_only=True):
            if row[0] == customer_id:
                return dict(zip(headers, row, strict=False))
        raise AssertionError(customer_id)

    wb = load_workbook(workbook)
    ws = wb["Factures"]
    headers = {c.value: c.column for c in ws[1] if isinstance(c, Cell)}
    open_rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, headers["Statut"]).value == "À payer"]
    good = next(r for r in open_rows
                if client_row(str(ws.cell(r, headers["ID client"]).value))["Profil"] == "A")
    customer = ws.cell(good, headers["ID client"]).value
    before = client_row(str(customer))
    for row in open_rows:
        if ws.cell(row, headers["ID client"]).value == customer:
            ws.cell(row, headers["Litige"], value="Oui")
    target_row = good
    wb.save(workbook)

    sync(config, as_of=date(2026, 11, 23), now=NOW)
    after = client_row(str(customer))
    assert int(after["Score"]) < int(before["Score"])  # type: ignore[call-overload]
    assert "litige" in str(after["Explication du score"]).lower()
    assert load_workbook(workbook)["Factures"].cell(target_row, headers["Litige"]).value == "Oui"


def test_a_sync_waits_for_no_one_and_refuses_while_a_pass_holds_the_dossier(tmp_path: Path) -> None:
    from encours.sync.lock import DossierLock, LockedError

    config = load_config(write_config(tmp_path))
    with DossierLock(config.state_path, config.dossier), pytest.raises(LockedError, match="already being processed"):
        sync(config, as_of=date(2026, 11, 23), now=NOW)
    assert not (tmp_path / "encours.xlsx").exists()
    assert sync(config, as_of=date(2026, 11, 23), now=NOW).open_invoices > 0
