"""Odoo: unreconciled receivable lines that are not invoices count in the customer's balance."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from encours.connectors.model import CreditKind, InvoiceStatus, Ledger, Money
from tests.support.odoo_server import FakeOdoo, connector, serve


def _line(line_id: int, move: str, partner: int, balance: float, residual: float, *, payment: bool = False,
          state: str = "posted", reconciled: bool = False, written: str = "2026-11-20 10:00:00") -> dict[str, Any]:
    return {
        "id": line_id, "move_id": [900 + line_id, move], "partner_id": [partner, "x"],
        "account_id": [6, "411100 Clients"], "account_id.account_type": "asset_receivable",
        "move_id.move_type": "entry", "date": "2026-11-10", "date_maturity": "2026-11-10", "name": move,
        "debit": max(balance, 0.0), "credit": max(-balance, 0.0), "balance": balance, "amount_currency": balance,
        "amount_residual": residual, "amount_residual_currency": residual, "currency_id": [1, "EUR"],
        "company_id": [1, "Atelier Dupont SARL"], "payment_id": [77, "PBNK1/2026/00077"] if payment else False,
        "reconciled": reconciled, "parent_state": state, "write_date": written,
    }


def _balance_of(ledger: Ledger, customer: str) -> Money:
    return ledger.balances().get((customer, "EUR"), Money.zero())


def test_payments_on_account_and_opening_entries_are_in_the_balance_and_a_cancelled_payment_leaves() -> None:
    odoo = FakeOdoo(16)
    odoo.models["account.move.line"] += [
        _line(501, "PBNK1/2026/00077", 14, -5000.0, -5000.0, payment=True),  # acompte, not reconciled
        _line(502, "OUV/2026/0001", 10, 840.5, 840.5),  # opening debit carried forward
        _line(503, "OD/2026/0003", 10, -40.5, -0.0, reconciled=True),  # settled: nothing to show
    ]
    server = serve(odoo)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        first = connector(url).pull(None)
        ledger = Ledger((), ()).apply(first)
        (credit,) = ledger.unallocated_credits()
        assert (credit.id, credit.customer_id, credit.kind, credit.amount) == (
            "aml-501", "14", CreditKind.PAYMENT_ON_ACCOUNT, Money(Decimal("5000.00")))
        assert credit.reference == "PBNK1/2026/00077"
        opening = next(i for i in ledger.invoices if i.id == "aml-502")
        assert (opening.status, opening.remaining, opening.number) == (
            InvoiceStatus.OPEN, Money(Decimal("840.50")), "OUV/2026/0001")
        # Azure's balance: its open invoices less the 5,000 paid on account (the overstatement)
        invoices_only = sum((i.signed_remaining.amount for i in ledger.open_invoices()
                             if i.customer_id == "14" and i.currency == "EUR"), Decimal(0))
        assert _balance_of(ledger, "14").amount == invoices_only - Decimal("5000.00")

        # The payment is cancelled in Odoo and the opening line reconciled: gone at the next incremental pull.
        for record in odoo.models["account.move.line"]:
            if record["id"] == 501:
                record.update(parent_state="cancel", write_date="2026-11-23 08:00:00")
            if record["id"] == 502:
                record.update(reconciled=True, amount_residual=0.0, amount_residual_currency=0.0,
                              write_date="2026-11-23 08:00:00")
        second = connector(url).pull(first.cursor)
        assert not second.full and second.credits_complete
        later = ledger.apply(second)
        assert later.unallocated_credits() == []
        closed = next(i for i in later.invoices if i.id == "aml-502")
        assert closed.status is InvoiceStatus.PAID and closed.remaining.amount == 0
    finally:
        server.shutdown()


def test_invoicing_contact_address_siren_salesperson_email_and_mandates() -> None:
    odoo = FakeOdoo(16)
    partners = odoo.models["res.partner"]
    deco = next(p for p in partners if p["id"] == 10)
    deco.update(street="12 rue de la Paix", zip="75002", city="Paris", country_code="FR", vat="FR40303265045",
                company_registry=False, user_id=[6, "Marc Lefort"])
    azure = next(p for p in partners if p["id"] == 14)
    azure.update(company_registry="552 120 222 00013", street="Avenue Louise 54", zip="1050", city="Bruxelles",
                 country_code="BE")
    partners += [
        {"id": 34, "name": "Service facturation", "type": "invoice", "function": False, "parent_id": [10, "x"],
         "commercial_partner_id": [10, "Deco Addict"], "email": "factures@decoaddict.example.com",
         "street": "3 quai Perrache", "zip": "69002", "city": "Lyon", "country_code": "FR", "customer_rank": 0,
         "write_date": "2026-11-01 09:00:00"},
        {"id": 35, "name": "Anna Peeters", "type": "contact", "function": "Comptable", "parent_id": [14, "x"],
         "commercial_partner_id": [14, "Azure Interior"], "email": "anna@azure.example.com", "customer_rank": 0,
         "write_date": "2026-11-01 09:00:00"},
    ]
    odoo.models["sdd.mandate"] = [{"id": 1, "partner_id": [14, "Azure Interior"], "state": "active"},
                                  {"id": 2, "partner_id": [10, "Deco Addict"], "state": "revoked"}]
    server = serve(odoo)
    try:
        delta = connector(f"http://127.0.0.1:{server.server_address[1]}").pull(None)
    finally:
        server.shutdown()
    customers = {c.id: c for c in delta.customers}
    deco_c, azure_c = customers["10"], customers["14"]
    # the invoicing address first, then the accounting contact, never "the first child"
    assert deco_c.email == "factures@decoaddict.example.com"
    assert azure_c.email == "anna@azure.example.com"
    assert (deco_c.address, deco_c.country) == ("3 quai Perrache, 69002 Lyon", "FR")
    assert (azure_c.address, azure_c.country) == ("Avenue Louise 54, 1050 Bruxelles", "BE")
    assert (deco_c.siren, azure_c.siren) == ("303265045", "552120222")
    assert deco_c.salesperson_email == "marc.lefort@atelier-dupont.fr"
    assert azure_c.direct_debit and not deco_c.direct_debit


def test_a_cancelled_invoice_stays_cancelled_after_a_full_sync() -> None:
    odoo = FakeOdoo(16)
    move = next(m for m in odoo.models["account.move"] if m["id"] == 4)
    move.update(state="cancel")
    server = serve(odoo)
    try:
        delta = connector(f"http://127.0.0.1:{server.server_address[1]}").pull(None)
    finally:
        server.shutdown()
    ledger = Ledger((), ()).apply(delta)
    cancelled = next(i for i in ledger.invoices if i.id == "4")
    assert cancelled.status is InvoiceStatus.CANCELLED and cancelled.remaining.amount == 0


def test_invoices_are_refetched_in_one_request_per_batch() -> None:
    odoo = FakeOdoo(16)
    server = serve(odoo)
    try:
        pl = connector(f"http://127.0.0.1:{server.server_address[1]}")
        pl.connect()
        odoo.calls.clear()
        found = pl.refetch_invoices(["1", "2", "999", "not-an-id"])
    finally:
        server.shutdown()
    assert found["1"] is not None and found["2"] is not None and found["999"] is None and found["not-an-id"] is None
    assert len([c for c in odoo.calls if c[0] == "account.move"]) == 1


def test_a_changed_contact_refreshes_its_customer_at_the_next_incremental_sync() -> None:
    odoo = FakeOdoo(16)
    odoo.models["res.partner"].append(
        {"id": 36, "name": "Anna Peeters", "type": "invoice", "function": False, "parent_id": [14, "x"],
         "commercial_partner_id": [14, "Azure Interior"], "email": "anna@azure.example.com", "customer_rank": 0,
         "write_date": "2026-11-01 09:00:00"})
    server = serve(odoo)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        first = connector(url).pull(None)
        anna = next(p for p in odoo.models["res.partner"] if p["id"] == 36)  # a contact, not itself a customer
        anna.update(email="factures@azure.example.com", write_date="2026-11-23 09:00:00")
        second = connector(url).pull(first.cursor)
    finally:
        server.shutdown()
    assert all(i.customer_id != "14" for i in second.invoices)  # no invoice of Azure changed
    (azure,) = [c for c in second.customers if c.id == "14"]
    assert azure.email == "factures@azure.example.com"


class _Refusing:
    """A server answering every model call with one Odoo error, as Odoo 16 writes it."""

    def __init__(self, name: str, message: str, *, on_authenticate: bool) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        version = {"server_version": "16.0", "server_version_info": [16, 0, 0, "final", 0, ""],
                   "server_serie": "16.0", "protocol_version": 1}
        error = {"jsonrpc": "2.0", "error": {"code": 200, "message": "Odoo Server Error", "data": {
            "name": name, "message": message, "debug": f"Traceback (most recent call last):\n  ...\n{message}"}}}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                params = body["params"]
                if params["method"] == "version":
                    answer: dict[str, Any] = {"jsonrpc": "2.0", "id": body["id"], "result": version}
                elif params["method"] == "authenticate" and not on_authenticate:
                    answer = {"jsonrpc": "2.0", "id": body["id"], "result": 2}
                else:
                    answer = dict(error, id=body["id"])
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"



@pytest.mark.parametrize(
    ("name", "message", "on_authenticate", "key"),
    [
        ("odoo.exceptions.AccessDenied", "Access Denied", True, "[source] api_key_env"),
        ("psycopg2.OperationalError", 'connection to server at "db-7.internal" (10.0.3.7), port 5432 failed: '
         'FATAL:  database "dupont-prd" does not exist', True, "[source] database"),
        ("odoo.exceptions.AccessError", "You are not allowed to access 'Journal Entry' (account.move) records.",
         False, "[source] login"),
    ],
)
def test_wrong_key_database_or_rights_exit_2_with_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    name: str, message: str, on_authenticate: bool, key: str,
) -> None:
    from encours.sync.cli import main
    from tests.conftest import write_config

    server = _Refusing(name, message, on_authenticate=on_authenticate)
    monkeypatch.setenv("ENCOURS_ODOO_KEY", "odoo-key-0123456789abcdef")
    try:
        config = write_config(tmp_path, source=f'type = "odoo"\nurl = "{server.url}"\ndatabase = "dupont-prd"\n'
                                               'login = "compta@atelier-dupont.fr"\napi_key_env = "ENCOURS_ODOO_KEY"')
        assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-23"]) == 2
    finally:
        server.server.shutdown()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and key in err, err
    assert "db-7.internal" not in err and "10.0.3.7" not in err and "Traceback" not in err
    assert "odoo-key-0123456789abcdef" not in err


def test_a_cancelled_payment_of_an_invoice_leaves_at_the_next_incremental_sync(tmp_path: Path) -> None:
    from encours.sync.state import StateStore

    odoo = FakeOdoo(16)
    server = serve(odoo)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        first = connector(url).pull(None)
        # The payment of INV/2026/00002 (partial reconcile 2 in the fixtures) is cancelled: Odoo drops the
        # reconciliation and the invoice is due again.
        odoo.models["account.partial.reconcile"] = [
            r for r in odoo.models["account.partial.reconcile"] if r["debit_move_id"][0] != 19]
        move = next(m for m in odoo.models["account.move"] if m["id"] == 2)
        move.update(payment_state="not_paid", amount_residual=move["amount_total"], write_date="2026-11-23 08:00:00")
        second = connector(url).pull(first.cursor)
    finally:
        server.shutdown()
    paid_2 = [p for p in first.payments if p.allocations[0].invoice_id == "2"]
    assert paid_2, "the fixtures pay invoice 2 once"
    ledger = Ledger((), ()).apply(first).apply(second)
    assert [p for p in ledger.payments if p.allocations[0].invoice_id == "2"] == []
    with StateStore(tmp_path / "s.sqlite") as store:
        with store.transaction():
            store.apply_delta(first)
        with store.transaction():
            store.apply_delta(second)
        stored = store.ledger()
    assert [p for p in stored.payments if p.allocations[0].invoice_id == "2"] == []
    assert len(stored.payments) == len(first.payments) - len(paid_2)


def test_a_full_sync_closes_a_reconciled_entry_line_as_paid_and_a_deleted_one_as_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 11: after ``sync --full``, an opening or miscellaneous debit settled since is "Payée"
    (and leaves the open items); only a line Odoo no longer has is "Supprimée"."""
    from openpyxl import load_workbook

    from encours.sync.cli import main
    from encours.sync.state import StateStore
    from tests.conftest import write_config
    from tests.support.odoo_server import DB, KEY, LOGIN, running

    odoo = FakeOdoo(16)
    odoo.models["account.move.line"] += [
        _line(502, "OUV/2026/0001", 10, 840.5, 840.5),  # opening debit carried forward
        _line(504, "OD/2026/0009", 14, 300.0, 300.0),  # a miscellaneous debit
    ]
    monkeypatch.setenv("ENCOURS_ODOO_KEY", KEY)

    def statuses() -> dict[str, tuple[Any, Any]]:
        rows = list(load_workbook(tmp_path / "encours.xlsx", read_only=True)["Factures"].iter_rows(values_only=True))
        head = [str(h) for h in rows[0]]
        at = {name: head.index(name) for name in ("ID", "Statut", "Reste dû")}
        return {str(r[at["ID"]]): (r[at["Statut"]], r[at["Reste dû"]]) for r in rows[1:] if r[0] is not None}

    with running(odoo) as url:
        config = write_config(tmp_path, source=f'type = "odoo"\nurl = "{url}"\ndatabase = "{DB}"\n'
                                               f'login = "{LOGIN}"\napi_key_env = "ENCOURS_ODOO_KEY"')
        assert main(["sync", "-c", str(config), "--as-of", "2026-11-23"]) == 0
        assert statuses()["aml-502"] == ("À payer", 840.5) and statuses()["aml-504"] == ("À payer", 300.0)
        # The opening line is reconciled with a payment; the miscellaneous entry is deleted.
        for record in odoo.models["account.move.line"]:
            if record["id"] == 502:
                record.update(reconciled=True, amount_residual=0.0, amount_residual_currency=0.0,
                              write_date="2026-11-22 16:00:00")
        odoo.models["account.move.line"] = [r for r in odoo.models["account.move.line"] if r["id"] != 504]
        assert main(["sync", "-c", str(config), "--as-of", "2026-11-23", "--full"]) == 0
    capsys.readouterr()
    after = statuses()
    assert after["aml-502"] == ("Payée", 0) and after["aml-504"] == ("Supprimée", 0)
    with StateStore(tmp_path / "state.sqlite") as store:
        ledger = store.ledger()
    paid = next(i for i in ledger.invoices if i.id == "aml-502")
    assert paid.status is InvoiceStatus.PAID and "aml-502" not in {i.id for i in ledger.open_invoices()}
    assert next(i for i in ledger.invoices if i.id == "aml-504").status is InvoiceStatus.DELETED


def test_an_archived_customer_is_still_a_customer_and_its_archived_contacts_get_nothing() -> None:
    """Odoo leaves archived partners out of a search unless asked: a customer archived with
    invoices still open keeps its name and its reminders; a contact archived (someone who left)
    no longer receives them."""
    odoo = FakeOdoo(16)
    partners = odoo.models["res.partner"]
    next(p for p in partners if p["id"] == 14)["active"] = False
    partners.append({"id": 37, "name": "Ancien comptable", "type": "invoice", "function": False,
                     "parent_id": [14, "x"], "commercial_partner_id": [14, "Azure Interior"],
                     "email": "parti@azure.example.com", "customer_rank": 0, "active": False,
                     "write_date": "2026-11-01 09:00:00"})
    server = serve(odoo)
    try:
        delta = connector(f"http://127.0.0.1:{server.server_address[1]}").pull(None)
    finally:
        server.shutdown()
    azure = next(c for c in delta.customers if c.id == "14")
    assert azure.name == "Azure Interior" and azure.emails == ("azure.interior@example.com",)
    assert azure.contacts == ()
