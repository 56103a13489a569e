"""Odoo connector against a local server speaking JSON-RPC, XML-RPC and JSON-2 like Odoo does."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from encours.connectors.model import DocumentKind, InvoiceStatus, Money
from encours.connectors.odoo import OdooCursor
from encours.connectors.source_errors import AuthenticationError, ClientRequestError, UnsupportedVersionError
from tests.support.odoo_server import DB, KEY, LOGIN, FakeOdoo, connector, running, serve


@pytest.fixture()
def odoo16() -> Iterator[tuple[FakeOdoo, str]]:
    odoo = FakeOdoo(16)
    with running(odoo) as url:
        yield odoo, url

def check_ledger_of_the_fixtures(delta: Any) -> None:
    invoices = {i.number: i for i in delta.invoices}
    partial = invoices["INV/2026/00001"]
    assert (partial.status, partial.remaining) == (InvoiceStatus.PARTIALLY_PAID, Money(Decimal("24341.67")))
    assert [(i.due_date, i.remaining.amount) for i in partial.installments] == [
        (date(2026, 11, 30), Decimal("0.00")),
        (date(2026, 12, 31), Decimal("24341.67")),
    ]
    assert partial.salesperson == "Marc Lefort"
    assert invoices["INV/2026/00002"].customer_id == "10"  # billed to a contact: grouped under the company
    assert invoices["INV/2026/00003"].status is InvoiceStatus.CANCELLED  # reversed by a credit note
    credit = invoices["RINV/2026/00001"]
    assert credit.kind is DocumentKind.CREDIT_NOTE and credit.credited_invoice_id == "3"
    usd = invoices["INV/2026/00005"]
    assert usd.remaining == Money(Decimal("1200.00"), "USD")
    assert usd.remaining_company == Money(Decimal("1107.01"), "EUR")
    blocked = invoices["INV/2026/00019"]
    assert (blocked.status, blocked.source_status) == (InvoiceStatus.UNKNOWN, "blocked")

    customers = {c.id: c for c in delta.customers}
    assert set(customers) == {"10", "14"}
    assert customers["10"].contacts[0].email == "compta@decoaddict.example.com"
    assert customers["14"].language == "nl" and customers["14"].salesperson == "Marc Lefort"

    payments = sorted((p.allocations[0].invoice_id, p.date, p.amount.amount, p.method) for p in delta.payments)
    assert payments == [
        ("1", date(2026, 11, 3), Decimal("10953.75"), "transfer"),
        ("1", date(2026, 11, 20), Decimal("1217.08"), "transfer"),
        ("2", date(2026, 11, 7), Decimal("4801.25"), "transfer"),
        ("3", date(2026, 11, 12), Decimal("2213.75"), "credit_note"),
    ]


def test_odoo16_over_jsonrpc(odoo16: tuple[FakeOdoo, str]) -> None:
    odoo, url = odoo16
    delta = connector(url).pull(None)
    assert delta.full
    check_ledger_of_the_fixtures(delta)
    reads = [c for c in odoo.calls if c[0] == "account.move" and c[1] == "search_read"]
    assert reads[0][2]["order"] == "id asc" and reads[0][2]["limit"] == 500  # by id: a full pull resumes
    assert ["id", ">", 0] in reads[0][2]["args"][0]
    assert ["state", "in", ["posted", "cancel"]] in reads[0][2]["args"][0]  # cancelled stay "Annulée"


def test_odoo16_over_xmlrpc(odoo16: tuple[FakeOdoo, str]) -> None:
    _, url = odoo16
    check_ledger_of_the_fixtures(connector(url, protocol="xmlrpc").pull(None))


def test_odoo19_over_json2_with_bearer_key() -> None:
    odoo = FakeOdoo(19)
    server = serve(odoo)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        pl = connector(url)
        check_ledger_of_the_fixtures(pl.pull(None))
        info = pl.check()
        assert info.details == "Odoo 19, JSON-2" and info.open_invoices == 3
        json2 = [h for h in odoo.headers if h.get("Authorization")]
        assert json2 and all(h["X-Odoo-Database"] == DB for h in json2)
    finally:
        server.shutdown()


def test_wrong_api_key_on_json2_is_an_authentication_error() -> None:
    server = serve(FakeOdoo(19))
    try:
        with pytest.raises(AuthenticationError, match="wrong API key") as err:
            connector(f"http://127.0.0.1:{server.server_address[1]}", api_key="not-the-key-1234").pull(None)
        assert "not-the-key-1234" not in str(err.value)
    finally:
        server.shutdown()


def test_authenticate_false_is_wrong_login_or_api_key(odoo16: tuple[FakeOdoo, str]) -> None:
    _, url = odoo16
    with pytest.raises(AuthenticationError, match="wrong login or API key") as err:
        connector(url, api_key="bad-key-00000000").check()
    assert "bad-key-00000000" not in str(err.value)


def test_odoo12_is_refused_clearly() -> None:
    server = serve(FakeOdoo(12))
    try:
        with pytest.raises(UnsupportedVersionError, match="Odoo 12: encours supports Odoo 14 to 19"):
            connector(f"http://127.0.0.1:{server.server_address[1]}").check()
    finally:
        server.shutdown()


def test_check_reports_database_companies_and_open_invoices(odoo16: tuple[FakeOdoo, str]) -> None:
    _, url = odoo16
    info = connector(url).check()
    assert info.organisation == "dupont-prod (Atelier Dupont SARL, Dupont Benelux SRL)"
    assert info.open_invoices == 3 and info.details == "Odoo 16, JSON-RPC"


def test_incremental_by_write_date_with_look_back_and_daily_id_comparison(odoo16: tuple[FakeOdoo, str]) -> None:
    odoo, url = odoo16
    first = connector(url).pull(None)
    cursor = OdooCursor.loads(first.cursor)
    assert cursor is not None and cursor.since == "2026-11-21 08:00:00" and 18 in cursor.known_ids

    moves = odoo.models["account.move"]
    changed = next(m for m in moves if m["id"] == 4)
    changed.update(
        payment_state="paid", amount_residual=0.0, amount_residual_signed=0.0, write_date="2026-11-23 07:00:00"
    )
    odoo.models["account.move"] = [m for m in moves if m["id"] != 19]  # deleted at the source
    odoo.calls.clear()

    same_day = connector(url).pull(first.cursor)
    assert [i.number for i in same_day.invoices] == ["INV/2026/00002", "INV/2026/00004"]  # look-back includes 08:00
    assert same_day.deleted_invoice_ids == ()  # ids were compared today already
    domain = next(c for c in odoo.calls if c[:2] == ("account.move", "search_read"))[2]["args"][0]
    assert ["write_date", ">=", "2026-11-21 07:58:00"] in domain

    next_day = connector(url, as_of=date(2026, 11, 24)).pull(same_day.cursor)
    assert next_day.deleted_invoice_ids == ("19",)
    later = OdooCursor.loads(next_day.cursor)
    assert later is not None and later.ids_checked_on == "2026-11-24" and 19 not in later.known_ids


def test_company_ids_restrict_the_domain_and_context(odoo16: tuple[FakeOdoo, str]) -> None:
    odoo, url = odoo16
    connector(url, company_ids=(2,)).pull(None)
    call = next(c for c in odoo.calls if c[:2] == ("account.move", "search_read"))[2]
    assert ["company_id", "in", [2]] in call["args"][0]
    assert call["context"] == {"allowed_company_ids": [2]}


def test_refetch_reads_one_invoice(odoo16: tuple[FakeOdoo, str]) -> None:
    _, url = odoo16
    pl = connector(url)
    fresh = pl.refetch_invoice("4")
    assert fresh is not None and fresh.status is InvoiceStatus.OPEN and len(fresh.installments) == 0
    assert pl.refetch_invoice("999") is None


def test_server_error_envelope_is_a_clear_message(odoo16: tuple[FakeOdoo, str]) -> None:
    odoo, url = odoo16
    pl = connector(url)
    pl.connect()
    odoo.models["account.move"] = copy.deepcopy(odoo.models["account.move"])
    with pytest.raises(ClientRequestError, match=r"Invalid field account\.move\.nonexistent_field"):
        pl._call("account.move", "unknown_method", [[]])


def test_a_proxy_502_on_a_read_is_retried(odoo16: tuple[FakeOdoo, str]) -> None:
    odoo, url = odoo16
    odoo.fail_next = 1
    assert connector(url).check().open_invoices == 3


@pytest.mark.parametrize("denied", [set(), {"account.partial.reconcile"}])
def test_check_reads_every_model_the_sync_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, denied: set[str]) -> None:
    """``encours check`` proves the sync will work: each model read once, a refused one named with the right."""
    from encours.sync.cli import main
    from tests.conftest import write_config

    odoo = FakeOdoo(16)
    odoo.denied = denied
    server = serve(odoo)
    monkeypatch.setenv("ENCOURS_ODOO_KEY", KEY)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        config = write_config(tmp_path, source=f'type = "odoo"\nurl = "{url}"\ndatabase = "{DB}"\n'
                                               f'login = "{LOGIN}"\napi_key_env = "ENCOURS_ODOO_KEY"')
        code = main(["check", "-c", str(config), "--as-of", "2026-11-23"])
    finally:
        server.shutdown()
    out = capsys.readouterr()
    text = out.out + out.err
    read = {model for model, method, _ in odoo.calls if method == "search_read"}
    assert {"account.move", "account.move.line", "account.partial.reconcile", "res.partner", "res.users"} <= read
    assert "sdd.mandate.search_read: OK (not available" in text  # the optional module: reported, not required
    if denied:
        assert code != 0
        assert "account.partial.reconcile.search_read" in text and "reconciliations" in text
        assert "Traceback" not in text
    else:
        assert code == 0 and "account.move.line.search_read: OK" in text
