"""Google's limits and habits, against the local Sheets server: case-blind tab titles, 50,000-character
cells, a layout update whose answer is lost, formulas handed back re-rendered."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fake_sheets_server import FakeSheetsServer, Formula

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
    from fake_sheets_server import col_letters

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
