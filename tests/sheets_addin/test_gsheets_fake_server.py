"""The local Sheets v4 stand-in behaves like Google where encours' tests rely on it (through plain gspread)."""

from __future__ import annotations

from typing import Any

import gspread
import pytest
from fake_sheets_server import FakeSheetsServer, Formula
from google.auth.credentials import AnonymousCredentials

from encours.sheets_addin.gsheets_http import SheetsSession


@pytest.fixture()
def book() -> Any:
    with FakeSheetsServer() as server:
        session = SheetsSession(AnonymousCredentials(), api_base_url=server.base_url)
        client = gspread.Client(None, session=session)  # type: ignore[arg-type]
        yield server, client.open_by_key("sheet-1")


def test_raw_keeps_text_and_user_entered_makes_formulas_numbers_and_dates(book: Any) -> None:
    server, sheet = book
    ws = sheet.sheet1
    ws.update([["=1+1", "0042", "2026-11-23"]], "A1")  # gspread's default is RAW
    ws.update([["=1+1", "0042", "2026-11-23", "'=texte"]], "A2", value_input_option="USER_ENTERED")
    assert server.stored("Feuille 1", "A1") == "=1+1"
    assert server.stored("Feuille 1", "B1") == "0042"
    assert server.stored("Feuille 1", "A2") == Formula("=1+1")
    assert server.stored("Feuille 1", "B2") == 42
    assert server.stored("Feuille 1", "C2") == 46349  # a date serial
    assert server.stored("Feuille 1", "D2") == "=texte"
    assert ws.get("A1:A2", value_render_option="FORMULA") == [["=1+1"], ["=1+1"]]


def test_null_skips_a_cell_and_empty_text_clears_it(book: Any) -> None:
    server, sheet = book
    sheet.values_batch_update({"valueInputOption": "RAW", "data": [{"range": "A1:C1", "values": [["a", "b", "c"]]}]})
    sheet.values_batch_update({"valueInputOption": "RAW", "data": [{"range": "A1:C1", "values": [["", None, "z"]]}]})
    assert server.grid("Feuille 1") == [[None, "b", "z"]]


def test_batch_update_is_all_or_nothing_and_grid_limits_hold(book: Any) -> None:
    server, sheet = book
    with pytest.raises(gspread.exceptions.APIError):
        sheet.batch_update({"requests": [
            {"addSheet": {"properties": {"title": "Nouvel onglet"}}},
            {"deleteSheet": {"sheetId": 424242}},
        ]})
    assert server.titles() == ["Feuille 1"]
    with pytest.raises(gspread.exceptions.APIError, match="exceeds grid limits"):
        sheet.sheet1.update([["x"]], "A1001")


def test_moving_rows_moves_formulas_like_google(book: Any) -> None:
    server, sheet = book
    ws = sheet.sheet1
    ws.update([["k", "v", "double"], ["b", 2, "=B2*2"], ["a", 1, "=B3*2"]], "A1", value_input_option="USER_ENTERED")
    sheet.batch_update({"requests": [{"sortRange": {
        "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 3},
        "sortSpecs": [{"dimensionIndex": 0, "sortOrder": "ASCENDING"}]}}]})
    assert server.grid("Feuille 1")[1:] == [["a", 1, "=B2*2"], ["b", 2, "=B3*2"]]
    server.person_insert_columns("Feuille 1", 1)
    assert server.grid("Feuille 1")[1] == ["a", None, 1, "=C2*2"]
    server.person_delete_rows("Feuille 1", 2)
    assert server.grid("Feuille 1")[1] == ["b", None, 2, "=C2*2"]
