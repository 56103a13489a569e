"""The Google Sheets backend, with the real gspread code over real HTTP against a local Sheets v4 server."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fake_sheets_server import FakeSheetsServer, Formula, col_index
from gsheets_ledgers import change_some, sized_ledger

from encours.connectors.errors import SheetError
from encours.connectors.model import InvoiceStatus, Ledger, Money
from encours.sheets_addin.gsheets import GoogleSheet
from encours.sheets_addin.gsheets_http import Clock
from encours.sheets_addin.layout import INVOICES, Kind
from encours.sheets_addin.view import SheetView, build_view

EPOCH = date(1899, 12, 30)


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@pytest.fixture()
def server() -> Any:
    with FakeSheetsServer() as s:
        yield s


def make_sheet(server: FakeSheetsServer, clock: FakeClock | None = None, **options: Any) -> GoogleSheet:
    clock = clock or FakeClock()
    return GoogleSheet("sheet-1", api_base_url=server.base_url, clock=Clock(clock.now, clock.sleep),
                       rng=random.Random(3), **options)


def by_id(server: FakeSheetsServer, tab: str = "Factures") -> dict[str, dict[str, Any]]:
    return {r["ID" if tab != "Clients" else "ID client"]: r for r in server.records(tab)
            if r.get("ID" if tab != "Clients" else "ID client")}


def letter_of(server: FakeSheetsServer, tab: str, heading: str) -> str:
    header = server.grid(tab)[0]
    index = header.index(heading)
    from encours.sheets_addin.layout import column_letter

    return column_letter(index)


def written_columns(server: FakeSheetsServer, tab: str) -> set[int]:
    """Every column index a values write touched on ``tab``, from the requests the server received."""
    touched: set[int] = set()
    for request in server.requests:
        if not request.path.endswith("values:batchUpdate"):
            continue
        for item in request.body["data"]:
            title, cells = item["range"].rsplit("!", 1)
            if title.strip("'") != tab:
                continue
            first, last = (re.match(r"([A-Z]+)", part).group(1) for part in cells.split(":"))  # type: ignore[union-attr]
            touched.update(range(col_index(first), col_index(last) + 1))
    return touched


def expect(view: SheetView, invoice_id: str) -> dict[str, Any]:
    return next(r for r in view.invoices if r["id"] == invoice_id)


# -- layout ---------------------------------------------------------------------------------------
def test_first_sync_lays_out_every_tab_with_formats_validation_protection_and_filter_views(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of, company="Atelier Dupont SARL")
    make_sheet(server).write(view)

    for name in ("Tableau de bord", "Factures", "Clients", "Balance âgée", "À faire", "Relances", "Échéanciers",
                 "Paramètres"):
        assert name in server.titles()
    factures = server.sheet("Factures")
    header = server.grid("Factures")[0]
    assert header == INVOICES.headings
    assert factures.frozen_rows == 1

    rules = {header[v["range"]["startColumnIndex"]]: v["rule"] for v in factures.validations}
    assert rules["À envoyer"]["condition"]["type"] == "BOOLEAN"
    assert rules["Litige"]["condition"]["type"] == "BOOLEAN"
    assert [v["userEnteredValue"] for v in rules["Scénario"]["condition"]["values"]] == list(view.scenario_names)
    assert rules["Promesse (date)"]["condition"]["type"] == "DATE_IS_VALID"
    assert rules["Pause jusqu'au"]["condition"]["type"] == "DATE_IS_VALID"
    assert "Commentaire" not in rules

    protected_columns: set[int] = set()
    for rng in factures.protected_ranges:
        assert rng["warningOnly"] is True
        protected_columns.update(range(rng["range"]["startColumnIndex"], rng["range"]["endColumnIndex"]))
    kinds = {c.heading: c.kind for c in INVOICES.columns}
    assert {header[i] for i in protected_columns} == {h for h, k in kinds.items() if k in (Kind.SYNCED, Kind.FORMULA)}

    bucket = header.index("Tranche")
    assert len(factures.conditional_formats) == 4
    assert all(r["ranges"][0]["startColumnIndex"] == bucket for r in factures.conditional_formats)

    formats = {header[f["range"]["startColumnIndex"]]: f["format"].get("numberFormat") for f in factures.formats
               if "numberFormat" in f["format"]}
    assert formats["Échéance"]["type"] == "DATE"
    assert formats["Reste dû"]["pattern"] == "#,##0.00"

    salespeople = {r["salesperson"] for r in view.invoices if r["id"] in view.shown_invoice_ids}
    for tab in ("Factures", "Clients", "À faire"):
        titles = {v["title"] for v in server.sheet(tab).filter_views}
        assert {f"Commercial : {name}" for name in salespeople} <= titles, tab
    view_spec = server.sheet("Factures").filter_views[0]["filterSpecs"][0]
    assert view_spec["columnIndex"] == header.index("Commercial")

    rows = by_id(server)
    assert len(rows) == len(view.shown_invoice_ids)
    some = next(iter(view.shown_invoice_ids))
    wanted = expect(view, some)
    assert rows[some]["Échéance"] == (wanted["due_date"] - EPOCH).days  # a real date (serial + date format)
    assert Decimal(str(rows[some]["Reste dû"])) == wanted["remaining"]
    assert isinstance(rows[some]["N° facture"], str)
    row = rows[some]["_row"]
    due = letter_of(server, "Factures", "Échéance")
    assert server.value("Factures", f"M{row}").startswith(f"=IF(AND(ISNUMBER({due}{row})")
    assert isinstance(server.stored("Factures", f"M{row}"), Formula)
    assert server.value("Paramètres", "B2") == "=TODAY()"
    aging = server.grid("Balance âgée")
    assert aging[2][2].startswith("=SUMIFS(") and ",$B3," in aging[2][2] and aging[2][2].endswith('"="&C$1)')
    assert aging[-1][0] == "Total" and aging[-1][2] == f"=SUM(C2:C{len(aging) - 1})"
    (chart,) = server.sheet("Tableau de bord").charts
    assert chart["spec"]["basicChart"]["chartType"] == "COLUMN"
    assert server.value("Tableau de bord", "B4").startswith("=SUM('Factures'!$K:$K")


def test_a_second_sync_with_nothing_new_only_reads(server: FakeSheetsServer, ledger: Ledger, as_of: date) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    server.reset_counts()
    sheet.write(view)
    assert [r.method for r in server.requests] == ["GET", "GET"]  # metadata + one batched read


def test_ledger_text_is_never_run_as_a_formula(server: FakeSheetsServer, ledger: Ledger, as_of: date) -> None:
    evil = '=HYPERLINK("http://x","y")'
    customer = replace(ledger.customers[0], name=evil)
    invoice = next(i for i in ledger.invoices if i.customer_id == customer.id and i.is_open)
    invoice2 = replace(invoice, number="=1+1")
    ledger = replace(ledger, customers=(customer, *ledger.customers[1:]),
                     invoices=tuple(invoice2 if i.id == invoice.id else i for i in ledger.invoices))
    make_sheet(server).write(build_view(ledger, as_of))

    row = by_id(server)[invoice.id]["_row"]
    client = letter_of(server, "Factures", "Client")
    number = letter_of(server, "Factures", "N° facture")
    assert server.stored("Factures", f"{client}{row}") == evil  # plain text, not a Formula
    assert server.stored("Factures", f"{number}{row}") == "=1+1"
    names = [r["Client"] for r in server.records("Clients")]
    assert evil in names
    assert not any(isinstance(c, Formula) and "HYPERLINK" in c.text
                   for tab in server.titles() for line in server.sheet(tab).rows for c in line)


# -- people's work --------------------------------------------------------------------------------
def test_resync_after_people_sorted_deleted_and_added_rows_keeps_their_work(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    rows = by_id(server)
    open_ids = sorted(i.id for i in ledger.invoices if i.is_open and not i.is_credit_note)
    marked, deleted, paid = open_ids[0], open_ids[1], open_ids[2]
    comment, approve, promise = (letter_of(server, "Factures", h) for h in ("Commentaire", "À envoyer",
                                                                            "Promesse (date)"))
    server.person_set("Factures", f"{comment}{rows[marked]['_row']}", "Client rappelé, paiement promis")
    server.person_set("Factures", f"{approve}{rows[marked]['_row']}", True)
    server.person_set("Factures", f"{promise}{rows[marked]['_row']}", 46400)
    server.person_sort("Factures", column=2, descending=True)  # people sort by customer
    server.person_delete_rows("Factures", by_id(server)[deleted]["_row"])
    server.person_insert_rows("Factures", 5)  # a row of their own, without ID
    server.person_set("Factures", "C5", "Note de Claire : relancer tout le lot")
    server.person_set("Factures", "Y1", "Mes notes")  # a column of their own
    server.person_set("Factures", "Y7", "à voir")
    server.person_set("Factures", f"A{len(server.grid('Factures')) + 1}", "INV-GHOST")  # an ID never seen
    server.reset_counts()

    new_invoice = replace(ledger.invoices[0], id="INV-NEW-1", number="F-NEW-1", status=InvoiceStatus.OPEN,
                          remaining=ledger.invoices[0].total)
    settled = [replace(i, remaining=Money(Decimal(0), i.currency), status=InvoiceStatus.PAID) if i.id == paid else i
               for i in ledger.invoices]
    changed = replace(ledger, invoices=(*settled, new_invoice))
    view2 = build_view(changed, as_of)
    sheet.write(view2)

    after = by_id(server)
    assert after[marked]["Commentaire"] == "Client rappelé, paiement promis"
    assert after[marked]["À envoyer"] is True
    assert after[marked]["Promesse (date)"] == 46400
    assert after[paid]["Statut"] == "Payée" and after[paid]["Reste dû"] == 0
    assert after["INV-GHOST"]["Statut"] == "Supprimée"
    last = max(r["_row"] for r in after.values())
    # the new invoice, and the open one people deleted, come back at the end
    assert {after[deleted]["_row"], after["INV-NEW-1"]["_row"]} == {last - 1, last}
    assert server.value("Factures", "C5") == "Note de Claire : relancer tout le lot"
    assert server.value("Factures", "A5") is None
    assert server.value("Factures", "Y1") == "Mes notes" and server.value("Factures", "Y7") == "à voir"
    for key, record in after.items():  # every row's synced cells belong to its ID
        if key == "INV-GHOST":
            continue
        wanted = expect(view2, key)
        assert record["N° facture"] == wanted["number"]
        assert Decimal(str(record["Reste dû"])) == wanted["remaining"]
        row = record["_row"]
        assert server.value("Factures", f"M{row}").count(f"G{row}") == 2  # formulas follow their row
    user_columns = {col_index(letter_of(server, "Factures", c.heading)) for c in INVOICES.columns
                    if c.kind is Kind.USER}
    assert not written_columns(server, "Factures") & user_columns
    assert not written_columns(server, "Factures") & {col_index("Y")}


def test_a_row_that_lost_its_id_gets_it_back_from_its_invoice_number(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    target = sorted(view.shown_invoice_ids)[5]
    row = by_id(server)[target]["_row"]
    server.person_set("Factures", f"S{row}", "à garder")
    server.person_set("Factures", f"A{row}", "")
    sheet.write(view)
    assert server.value("Factures", f"A{row}") == target
    assert server.value("Factures", f"S{row}") == "à garder"
    assert len(by_id(server)) == len(view.shown_invoice_ids)  # no duplicate row appended
    assert any("restored" in n and target in n for n in sheet.notes)


def test_read_marks_parses_check_boxes_dates_and_reports_garbage(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    ids = sorted(view.shown_invoice_ids)
    rows = by_id(server)
    letters = {h: letter_of(server, "Factures", h) for h in ("À envoyer", "Litige", "Promesse (date)",
                                                             "Pause jusqu'au", "Scénario")}
    server.person_set("Factures", f"{letters['À envoyer']}{rows[ids[0]]['_row']}", True)
    server.person_set("Factures", f"{letters['Scénario']}{rows[ids[0]]['_row']}", "firm")
    promised = date(2027, 1, 12)  # a date cell: Sheets hands over its serial number
    server.person_set("Factures", f"{letters['Promesse (date)']}{rows[ids[1]]['_row']}", (promised - EPOCH).days)
    pause = letters["Pause jusqu'au"]
    server.person_set("Factures", f"{pause}{rows[ids[2]]['_row']}", "bientôt")
    customer = by_id(server, "Clients")
    first_customer = sorted(customer)[0]
    block = letter_of(server, "Clients", "Bloquer livraisons")
    server.person_set("Clients", f"{block}{customer[first_customer]['_row']}", True)

    marks = sheet.read_marks()
    assert marks.for_invoice(ids[0]).approve is True
    assert marks.for_invoice(ids[0]).scenario == "firm"
    assert marks.for_invoice(ids[1]).promise_date == promised
    assert marks.for_invoice(ids[2]).dispute is True  # a garbled pause never resumes reminders
    (problem,) = marks.problems
    assert (problem.tab, problem.row, problem.column, problem.value) == (
        "Factures", rows[ids[2]]["_row"], "Pause jusqu'au", "bientôt")
    assert marks.for_customer(first_customer).block_deliveries is True


def test_garbage_in_a_synced_date_column_is_simply_rewritten(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    target = sorted(view.shown_invoice_ids)[3]
    row = by_id(server)[target]["_row"]
    due = letter_of(server, "Factures", "Échéance")
    server.person_set("Factures", f"{due}{row}", "la semaine prochaine")
    sheet.write(view)  # same view, same IDs: only the ID column is read, the cell is not seen yet
    assert server.value("Factures", f"{due}{row}") == "la semaine prochaine"
    sheet.write(replace(view, as_of=view.as_of + timedelta(days=1)))  # the next day reads everything
    assert server.value("Factures", f"{due}{row}") == (expect(view, target)["due_date"] - EPOCH).days


# -- concurrent edits -----------------------------------------------------------------------------
def _paid_some(ledger: Ledger) -> Ledger:
    return change_some(ledger, 0.2)


@pytest.mark.parametrize("moment", ["after the read", "during the write"])
def test_a_person_sorting_while_the_sync_runs_loses_nothing(
    server: FakeSheetsServer, ledger: Ledger, as_of: date, moment: str
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    target = sorted(view.shown_invoice_ids)[7]
    comment = letter_of(server, "Factures", "Commentaire")
    state = {"gets": 0, "done": False}

    def person(method: str, path: str) -> None:
        if path.endswith("values:batchGet"):
            state["gets"] += 1
        due = (moment == "after the read" and state["gets"] == 2) or (
            moment == "during the write" and path.endswith("values:batchUpdate"))
        if due and not state["done"]:
            state["done"] = True
            server.person_sort("Factures", column=2)
            server.person_set("Factures", f"{comment}{by_id(server)[target]['_row']}", "tapé pendant la synchro")

    server.hooks.append(person)
    view2 = build_view(_paid_some(ledger), as_of)
    server.reset_counts()
    sheet.write(view2)
    server.hooks.clear()

    assert state["done"]
    assert sum(1 for r in server.requests if r.path == "/v4/spreadsheets/sheet-1") == 2  # computed twice
    after = by_id(server)
    assert after[target]["Commentaire"] == "tapé pendant la synchro"
    for key, record in after.items():
        wanted = expect(view2, key)
        assert record["N° facture"] == wanted["number"], key
        assert Decimal(str(record["Reste dû"])) == wanted["remaining"], key
        assert record["Client"] == wanted["customer"], key


def test_a_sheet_that_keeps_changing_stops_the_sync_with_a_clear_error(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    flip = {"n": 0}

    def restless(method: str, path: str) -> None:
        if path.endswith("values:batchGet"):
            flip["n"] += 1
            server.person_sort("Factures", column=2, descending=flip["n"] % 2 == 0)

    server.hooks.append(restless)
    with pytest.raises(SheetError, match="kept changing"):
        sheet.write(build_view(_paid_some(ledger), as_of))


# -- damage -----------------------------------------------------------------------------------------
def test_renamed_heading_is_restored_and_moved_columns_are_found(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    status = letter_of(server, "Factures", "Statut")
    server.person_set("Factures", f"{status}1", "État")
    server.person_insert_columns("Factures", 2)  # a column of their own between N° facture and Client
    server.person_set("Factures", "C1", "Notes")
    target = sorted(view.shown_invoice_ids)[0]
    server.person_set("Factures", f"C{by_id(server)[target]['_row']}", "à moi")
    view2 = build_view(_paid_some(ledger), as_of)
    sheet.write(view2)

    header = server.grid("Factures")[0]
    assert header[2] == "Notes" and "Statut" in header and "État" not in header
    assert any("restored to 'Statut'" in n for n in sheet.notes)
    after = by_id(server)
    assert after[target]["Notes"] == "à moi"
    for key, record in after.items():
        assert Decimal(str(record["Reste dû"])) == expect(view2, key)["remaining"]


def test_missing_id_heading_stops_before_writing_anything(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    server.person_set("Factures", "A1", "")
    server.reset_counts()
    with pytest.raises(SheetError) as error:
        sheet.write(build_view(_paid_some(ledger), as_of))
    message = str(error.value)
    assert "Factures" in message and "row 1" in message and "'ID'" in message
    assert server.count(method="POST") == 0 and server.count(method="PUT") == 0


def test_duplicate_ids_stop_naming_tab_rows_and_column(server: FakeSheetsServer, ledger: Ledger, as_of: date) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    target = sorted(view.shown_invoice_ids)[4]
    first = by_id(server)[target]["_row"]
    server.person_set("Factures", "A40", target)
    server.reset_counts()
    with pytest.raises(SheetError) as error:
        sheet.write(view)
    message = str(error.value)
    assert f"rows {first} and 40" in message and "Factures" in message and "'ID'" in message
    assert server.count(method="POST") == 0
    with pytest.raises(SheetError, match="appears on rows"):
        sheet.read_marks()


def test_renamed_tab_is_renamed_back_and_deleted_tab_recreated(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    target = sorted(view.shown_invoice_ids)[0]
    server.person_set("Factures", f"S{by_id(server)[target]['_row']}", "gardé")
    server.person_rename_tab("Factures", "Factures (ancien)")
    server.person_delete_tab("Clients")
    sheet.write(view)
    assert "Factures" in server.titles() and "Factures (ancien)" not in server.titles()
    assert by_id(server)[target]["Commentaire"] == "gardé"
    assert len(by_id(server, "Clients")) == len(view.customers)
    assert any("renamed back" in n for n in sheet.notes)
    assert any("'Clients' was missing: recreated" in n for n in sheet.notes)


# -- requests, retries, pacing ------------------------------------------------------------------------
def _sync_counts(invoices: int, as_of: date) -> tuple[int, int, int, int]:
    ledger = sized_ledger(invoices, as_of)
    with FakeSheetsServer() as server:
        sheet = make_sheet(server)
        sheet.write(build_view(ledger, as_of))
        full = len(server.requests)
        full_bytes = server.bytes_in
        server.reset_counts()
        sheet.write(build_view(change_some(ledger, 0.01), as_of))
        return full, len(server.requests), full_bytes, server.bytes_in


def test_requests_do_not_grow_with_the_number_of_invoices(as_of: date) -> None:
    small = _sync_counts(100, as_of)
    large = _sync_counts(2000, as_of)
    assert small[0] == large[0] <= 8
    assert small[1] == large[1] <= 6
    assert large[3] < 0.05 * large[2]  # 1 % of rows changed: under 5 % of the bytes of a full sync


def test_429_storm_is_ridden_out_with_backoff_jitter_and_retry_after(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    clock = FakeClock()
    sheet = make_sheet(server, clock)
    server.fail_next(429, 3, retry_after=7)
    server.fail_next(503, 2)
    sheet.write(build_view(ledger, as_of))
    assert sheet.traffic.retries == 5
    assert sum(1 for s in clock.slept if s >= 7) >= 3  # Retry-After honoured
    backoffs = [s for s in clock.slept if s < 7]
    assert len(set(backoffs)) == len(backoffs)  # jittered, not a fixed ladder
    assert len(by_id(server)) == len(build_view(ledger, as_of).shown_invoice_ids)


def test_a_storm_longer_than_the_retries_fails_with_the_status(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    sheet = make_sheet(server)
    server.fail_next(429, 50)
    with pytest.raises(SheetError, match="429"):
        sheet.write(build_view(ledger, as_of))


def test_pacer_keeps_writes_under_the_per_user_quota(server: FakeSheetsServer) -> None:
    clock = FakeClock()
    sheet = make_sheet(server, clock, per_minute=55)
    sent: list[float] = []
    for n in range(130):
        sheet.http.values_update("sheet-1", f"A{n + 1}", params={"valueInputOption": "RAW"},
                                 body={"values": [[n]]})
        sent.append(clock.t)
    assert max(sum(1 for t in sent if start <= t < start + 60) for start in sent) <= 55
    assert clock.t >= 120  # 130 writes at 55 a minute take two minutes
    assert server.count(method="PUT") == 130


def test_every_request_has_a_timeout_and_slow_reads_are_retried(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    import time

    slow = {"left": 1}

    def stall(method: str, path: str) -> None:
        if method == "GET" and slow["left"]:
            slow["left"] -= 1
            time.sleep(2.0)

    server.hooks.append(stall)
    sheet = make_sheet(server, timeout=(1.0, 0.8))
    sheet.write(build_view(ledger, as_of))
    assert sheet.traffic.retries >= 1
    assert sheet.traffic.log[0][2] == 0 and sheet.traffic.log[1][0] == "GET"  # timed out, then asked again
    assert len(by_id(server)) > 0


# -- identity and config ---------------------------------------------------------------------------------
def test_check_says_who_signed_in_and_whether_it_can_edit(server: FakeSheetsServer) -> None:
    sheet = make_sheet(server, identity="service account encours@projet.iam.gserviceaccount.com")
    lines = sheet.check()
    assert "signed in as service account encours@projet.iam.gserviceaccount.com" in lines[0]
    assert lines[-1].endswith("can edit it")
    server.read_only = True
    with pytest.raises(SheetError, match="cannot edit it — share it with that account as Editor"):
        sheet.check()


# -- what a reminder run writes ------------------------------------------------------------------------
def test_run_columns_journal_and_todo_are_written_by_a_run_and_left_alone_by_a_sync(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    from datetime import datetime

    ids = sorted(i.id for i in ledger.invoices if i.is_open and not i.is_credit_note)
    run = {ids[0]: {"next_action": "Relance 2 (e-mail)", "next_action_date": as_of, "last_reminder": "Relance 1"}}
    journal = [{"id": "J1", "at": datetime(2026, 11, 23, 9, 30), "customer": "=cmd|' /C calc'!A0",
                "invoices": "F-1", "scenario": "standard", "step": "Relance 1", "channel": "email",
                "recipient": "compta@client.fr", "status": "sent", "reason": "", "message": "<id@x>"}]
    todo = [{"id": "T-0001", "salesperson": "Claire Martin", "date": as_of, "action": "Appeler",
             "customer": "Client A", "phone": "+33 1", "invoices": "F-1, F-2", "amount": Decimal("1234.56"),
             "reason": "Relance 3", "follow_up": "", "is_open": True},
            {"id": "T-0002", "salesperson": "Hugo Lefèvre", "date": as_of, "action": "Lettre à valider",
             "customer": "Client B", "phone": "", "invoices": "F-9", "amount": Decimal("99.90"), "reason": "",
             "follow_up": "", "is_open": True}]
    sheet = make_sheet(server)
    sheet.write(build_view(ledger, as_of, run=run, journal=journal, todo=todo))
    rows = by_id(server)
    assert rows[ids[0]]["Prochaine action"] == "Relance 2 (e-mail)"
    assert rows[ids[0]]["Date prochaine action"] == (as_of - EPOCH).days
    assert rows[ids[1]].get("Prochaine action") is None
    (entry,) = server.records("Relances")
    assert entry["Client"] == "=cmd|' /C calc'!A0" and isinstance(server.stored("Relances", "C2"), str)
    assert entry["Date et heure"] == pytest.approx((date(2026, 11, 23) - EPOCH).days + 9.5 / 24)
    assert [r["Action"] for r in server.records("À faire")] == ["Appeler", "Lettre à valider"]
    assert server.records("À faire")[0]["Montant"] == 1234.56

    server.reset_counts()
    sheet.write(build_view(ledger, as_of))  # a plain sync: run columns, journal and to-do stay
    assert by_id(server)[ids[0]]["Prochaine action"] == "Relance 2 (e-mail)"
    assert len(server.records("Relances")) == 1 and len(server.records("À faire")) == 2
    assert server.count(method="POST") == 0

    journal.append({**journal[0], "id": "J2", "customer": "Client B"})
    closed = {**todo[1], "follow_up": "Plus rien à faire (réglé le 24/11/2026)", "is_open": False}
    sheet.write(build_view(ledger, as_of, run={}, journal=journal, todo=[todo[0], closed]))
    assert [r["ID"] for r in server.records("Relances")] == ["J1", "J2"]
    assert [(r["ID"], r.get("Suivi")) for r in server.records("À faire")] == [
        ("T-0001", None), ("T-0002", "Plus rien à faire (réglé le 24/11/2026)")]
    assert by_id(server)[ids[0]].get("Prochaine action") is None  # the run cleared what is no longer due


def test_read_marks_never_silently_drops_a_column_people_renamed(
    server: FakeSheetsServer, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    dispute = letter_of(server, "Factures", "Litige")
    server.person_set("Factures", f"{dispute}1", "Contestée ?")
    problems = sheet.read_marks().problems
    assert [(p.tab, p.row, p.column) for p in problems] == [("Factures", 1, "Litige")]
    server.person_set("Factures", "A1", "Référence")
    with pytest.raises(SheetError, match="'ID' heading is missing"):
        sheet.read_marks()


def test_value_writes_are_chunked_under_the_request_size_limit(server: FakeSheetsServer, as_of: date) -> None:
    ledger = sized_ledger(2000, as_of)
    view = build_view(ledger, as_of)
    make_sheet(server, max_request_bytes=50_000).write(view)
    writes = [r for r in server.requests if r.path.endswith("values:batchUpdate")]
    assert len(writes) > 5
    assert all(r.bytes_in <= 50_000 for r in writes)
    rows = by_id(server)
    assert len(rows) == 2000
    assert all(rows[key]["N° facture"] == expect(view, key)["number"] for key in rows)


def test_headings_moved_down_by_a_title_row_are_found(server: FakeSheetsServer, ledger: Ledger, as_of: date) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    server.person_insert_rows("Factures", 1, 2)
    server.person_set("Factures", "A1", "Suivi des factures — équipe commerciale")
    target = sorted(view.shown_invoice_ids)[2]
    row = next(r["_row"] for r in server.records("Factures", header_row=3) if r.get("ID") == target)
    server.person_set("Factures", f"S{row}", "vu")
    view2 = build_view(_paid_some(ledger), as_of)
    sheet.write(view2)
    records = [r for r in server.records("Factures", header_row=3) if r.get("ID")]
    assert len(records) == len(view2.shown_invoice_ids)  # nothing appended twice
    assert server.value("Factures", "A1") == "Suivi des factures — équipe commerciale"
    assert next(r for r in records if r["ID"] == target)["Commentaire"] == "vu"
    assert all(Decimal(str(r["Reste dû"])) == expect(view2, r["ID"])["remaining"] for r in records)
    assert server.sheet("Factures").frozen_rows == 3
    assert any("headings found on row 3" in n for n in sheet.notes)


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    from encours.connectors.http import RetryPolicy, parse_retry_after

    assert parse_retry_after("12", 0) == 12
    assert parse_retry_after("Mon, 23 Nov 2026 08:00:30 GMT", 1795420800.0) == 30
    assert parse_retry_after("soon", 0) is None and parse_retry_after(None, 0) is None
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(5)
    delays = [policy.delay(attempt, None, rng) for attempt in range(6)]
    assert all(min(8.0, 2.0**a) / 2 <= d <= min(8.0, 2.0**a) for a, d in enumerate(delays))
    assert 20.0 <= policy.delay(0, 20.0, rng) <= 21.0


def test_a_deleted_synced_column_comes_back_at_the_end(server: FakeSheetsServer, ledger: Ledger, as_of: date) -> None:
    view = build_view(ledger, as_of)
    sheet = make_sheet(server)
    sheet.write(view)
    currency = col_index(letter_of(server, "Factures", "Devise"))
    server.person_delete_columns("Factures", currency)
    sheet.write(view)
    header = server.grid("Factures")[0]
    assert header[-1] == "Devise"
    assert any("'Devise' was missing: added as column" in n for n in sheet.notes)
    assert all(r["Devise"] == expect(view, key)["currency"] for key, r in by_id(server).items())


def test_a_wrong_spreadsheet_id_says_which_setting_to_check(server: FakeSheetsServer, ledger: Ledger,
                                                             as_of: date) -> None:
    sheet = GoogleSheet("not-this-one", api_base_url=server.base_url)
    with pytest.raises(SheetError, match=r"404 .*check \[sheet\] spreadsheet_id"):
        sheet.write(build_view(ledger, as_of))
