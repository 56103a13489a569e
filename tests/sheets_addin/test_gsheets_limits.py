"""Google's limits and habits, against the local Sheets server: case-blind tab titles, 50,000-character
cells, a layout update whose answer is lost, formulas handed back re-rendered."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fake_sheets_server import FakeSheetsServer, Formula, col_letters
from gsheets_ledgers import change_some, sized_ledger

from encours.connectors.model import Ledger
from encours.sheets_addin.gsheets import GoogleSheet
from encours.sheets_addin.gsheets_http import Clock
from encours.sheets_addin.gsheets_plan import MAX_CELL_CHARS
from encours.sheets_addin.view import build_view


@pytest.fixture()
def server() -> Any:
    with FakeSheetsServer() as s:
        yield s


def make_sheet(server: FakeSheetsServer) -> GoogleSheet:
    clock = [0.0]
    return GoogleSheet("sheet-1", api_base_url=server.base_url,
                       clock=Clock(lambda: clock[0], lambda s: clock.__setitem__(0, clock[0] + s)),
                       rng=random.Random(3))


def comment_cell(server: FakeSheetsServer, tab: str, id_heading: str) -> tuple[str, Any]:
    header = server.grid(tab)[0]
    return f"{col_letters(header.index('Commentaire'))}2", server.records(tab)[0][id_heading]


def test_a_tab_people_renamed_in_lower_case_is_the_same_tab(server: FakeSheetsServer, ledger: Ledger,
                                                            as_of: date) -> None:
    view = build_view(ledger, as_of)
    make_sheet(server).write(view)
    cell, customer = comment_cell(server, "Clients", "ID client")
    server.person_set("Clients", cell, "bon payeur")
    server.person_rename_tab("Clients", "clients")
    sheet = make_sheet(server)
    sheet.write(view)  # Google would refuse to add a second "Clients" next to "clients"
    assert server.titles().count("Clients") == 1 and "clients" not in server.titles()
    assert server.value("Clients", cell) == "bon payeur"
    assert server.records("Clients")[0]["ID client"] == customer
    assert any("clients" in note for note in sheet.notes)


def test_a_text_longer_than_a_google_cell_is_cut_with_a_note(server: FakeSheetsServer, ledger: Ledger,
                                                              as_of: date) -> None:
    long_name = "Société " + "x" * 60_000
    customer = ledger.customers[0]
    ledger = replace(ledger, customers=(replace(customer, name=long_name), *ledger.customers[1:]))
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)  # Google refuses a whole write holding a cell over 50,000 characters
    names = [r["Client"] for r in server.records("Clients") if r["ID client"] == customer.id]
    assert len(names) == 1 and len(names[0]) == MAX_CELL_CHARS and names[0].startswith("Société xxx")
    assert any("50,000" in note and "Clients" in note for note in sheet.notes)
    server.reset_counts()
    make_sheet(server).write(view)
    assert [r.method for r in server.requests] == ["GET", "GET"]  # the cut text is not written again


@pytest.mark.parametrize("first_sync", [True, False], ids=["new-sheet", "new-salesperson"])
def test_a_lost_answer_to_a_layout_update_does_not_duplicate_filter_views(
    server: FakeSheetsServer, ledger: Ledger, as_of: date, first_sync: bool
) -> None:
    if not first_sync:
        make_sheet(server).write(build_view(ledger, as_of))
        customer = ledger.customers[0]
        ledger = replace(ledger, customers=(replace(customer, salesperson="Zoé Martin"), *ledger.customers[1:]))
    view = build_view(ledger, as_of)
    server.lose_answer(503, "sheet-1:batchUpdate")  # Google applied it, the answer never came
    make_sheet(server).write(view)
    assert not server.lost_answers  # the lost answer did happen
    for tab in ("Factures", "Clients"):
        titles = Counter(v["title"] for v in server.sheet(tab).filter_views)
        assert titles and max(titles.values()) == 1, (tab, titles)
        assert first_sync or any("Zoé Martin" in t for t in titles)
    assert Counter(server.titles()).most_common(1)[0][1] == 1
    assert len(server.records("Factures")) == len(view.shown_invoice_ids)


def test_formulas_google_hands_back_re_rendered_are_not_rewritten(server: FakeSheetsServer, ledger: Ledger,
                                                                   as_of: date) -> None:
    server.google_rendering = True
    view = build_view(ledger, as_of)
    make_sheet(server).write(view)
    stored = server.stored("Factures", "N2")
    assert isinstance(stored, Formula) and "'Paramètres'!" in stored.text  # re-rendered indeed
    server.reset_counts()
    make_sheet(server).write(view)
    assert [r.method for r in server.requests] == ["GET", "GET"]


# -- a re-sync reads what it needs ------------------------------------------------------------------
def _drop_print(server: FakeSheetsServer) -> None:
    sheet = server.sheet("Factures")
    sheet.developer_metadata = [m for m in sheet.developer_metadata if m["metadataKey"] != "encours.print"]


def _resync_bytes(server: FakeSheetsServer, view: Any) -> tuple[Any, int, int]:
    """(marks read, bytes received, requests) for what a sync does: read people's marks, then write."""
    sheet = make_sheet(server)
    marks = sheet.read_marks()
    sheet.write(view)
    traffic = sheet.traffic.snapshot()
    return marks, int(traffic["bytes_received"]), int(traffic["requests"])


def test_a_resync_with_nothing_changed_reads_ids_and_peoples_columns_only(server: FakeSheetsServer,
                                                                         as_of: date) -> None:
    ledger = sized_ledger(3000, as_of, customers=60)
    view = build_view(ledger, as_of)
    make_sheet(server).write(view)
    header = server.grid("Factures")[0]
    for row in range(2, 40):
        server.person_set("Factures", f"{col_letters(header.index('Commentaire'))}{row}", f"appelé {row}")
        server.person_set("Factures", f"{col_letters(header.index('Litige'))}{row}", row % 2 == 0)
    first = server.records("Factures")[0]["ID"]
    for a1, value in (("A2", first), ("B2", 46400), ("C2", 120.5), ("D2", "accord du 12")):
        server.person_set("Échéanciers", a1, value)
    clients = server.grid("Clients")[0]
    server.person_set("Clients", f"{col_letters(clients.index('Bloquer livraisons'))}2", True)

    light_marks, light_bytes, light_requests = _resync_bytes(server, view)
    _drop_print(server)  # as a sheet without the fingerprint: everything is read
    server.reset_counts()
    full_marks, _, _ = _resync_bytes(server, view)
    whole_sheet = max(r.bytes_out for r in server.requests if r.path.endswith("values:batchGet"))
    assert light_marks == full_marks and len(light_marks.invoices) >= 38
    assert len(light_marks.payment_plans) == 1 and any(c.block_deliveries for c in light_marks.customers.values())
    assert light_bytes <= 0.10 * whole_sheet, (light_bytes, whole_sheet)
    assert light_requests == 2  # marks: metadata, one light read; the write trusts that read
    assert any(m["metadataKey"] == "encours.print" for m in server.sheet("Factures").developer_metadata)


def test_a_sorted_sheet_or_a_source_change_is_read_in_full(server: FakeSheetsServer, ledger: Ledger,
                                                           as_of: date) -> None:
    view = build_view(ledger, as_of)
    make_sheet(server).write(view)
    server.person_sort("Factures", 2, descending=True)
    cell, invoice = comment_cell(server, "Factures", "ID")
    server.person_set("Factures", cell, "vu")
    sheet = make_sheet(server)
    assert sheet.read_marks().for_invoice(invoice).comment == "vu"
    later = build_view(change_some(ledger, 0.2), as_of)
    sheet.write(later)
    rows = {r["ID"]: r for r in server.records("Factures") if r.get("ID")}
    assert rows[invoice]["Commentaire"] == "vu"
    for row in later.invoices:
        if row["id"] in rows:
            assert rows[row["id"]]["Statut"] == row["status"]
