"""Odoo records that cannot be mapped, end to end through ``encours sync`` and ``encours run``.

Each kind — an invoice, a customer, a payment share, a receivable line of another entry — is
listed (platform, endpoint, id, why) in the sync summary and the log, left out, read again at the
next sync until it maps; the rest syncs.  A customer whose own record or whose balance cannot be
read is never reminded: its invoices stay in the sheet, its reminders are held and say why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.connectors.model import InvoiceStatus, Money
from encours.connectors.odoo import OdooCursor
from encours.sheets_addin.view import SheetView
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sync.cli import main
from encours.sync.config import Config, load_config
from encours.sync.pull import sync as sync_once
from encours.sync.run import run_pass
from encours.sync.state import StateStore
from tests.conftest import write_config
from tests.support.odoo_server import DB, KEY, LOGIN, FakeOdoo, running

SENDING = 'from = "factures@dupont.example"\nwindow = "08:30-18:00"\n'
AS_OF = "2026-11-23"


def record(odoo: FakeOdoo, model: str, ident: int) -> dict[str, Any]:
    return next(r for r in odoo.models[model] if r["id"] == ident)


def credit_line(line_id: int, partner: int, amount: float, residual: Any) -> dict[str, Any]:
    """An unreconciled payment on account (a credit on the receivable account), as Odoo lists it."""
    return {
        "id": line_id, "move_id": [900 + line_id, f"PBNK1/2026/{line_id:05d}"], "partner_id": [partner, "x"],
        "account_id": [6, "411100 Clients"], "account_id.account_type": "asset_receivable",
        "move_id.move_type": "entry", "date": "2026-11-10", "date_maturity": "2026-11-10", "name": "Acompte",
        "debit": 0.0, "credit": amount, "balance": -amount, "amount_currency": -amount, "amount_residual": -amount,
        "amount_residual_currency": residual, "currency_id": [1, "EUR"], "company_id": [1, "Atelier Dupont SARL"],
        "payment_id": [77, "PBNK1/2026/00077"], "reconciled": False, "parent_state": "posted",
        "write_date": "2026-11-20 10:00:00",
    }


@contextmanager
def dossier(tmp_path: Path, odoo: FakeOdoo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ENCOURS_ODOO_KEY", KEY)
    with running(odoo) as url:
        yield write_config(tmp_path, source=f'type = "odoo"\nurl = "{url}"\ndatabase = "{DB}"\nlogin = "{LOGIN}"\n'
                                            'api_key_env = "ENCOURS_ODOO_KEY"', extra=SENDING)


def sync(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["sync", "-c", str(config), "--as-of", AS_OF, *extra]) == 0
    return capsys.readouterr().out


def test_an_odd_record_of_each_kind_is_listed_left_out_and_read_again_until_it_maps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    odoo = FakeOdoo(16)
    record(odoo, "account.move", 5)["currency_id"] = [2, "US$"]  # unknown currency
    record(odoo, "account.move", 4)["write_date"] = "2026-11-3x 10:00:00"  # a date that is none
    del record(odoo, "account.move", 19)["name"]  # a missing field
    record(odoo, "account.partial.reconcile", 1)["debit_amount_currency"] = "douze"  # not a number
    record(odoo, "res.partner", 14)["name"] = ["Azure Interior"]  # not text: the customer is held
    odoo.models["account.move.line"].append(credit_line(601, 10, 500.0, "n/a"))  # Deco's balance unknown

    with dossier(tmp_path, odoo, monkeypatch) as config, caplog.at_level(logging.WARNING, "encours.quarantine"):
        out = sync(config, capsys)
        expected = [
            "odoo account.move.search_read record 4: '2026-11-3x 10:00:00' is not a date and time",
            "odoo account.move.search_read record 5: currency 'US$' is not an ISO 4217 code",
            "odoo account.move.search_read record 19: field 'name' is missing",
            "odoo account.partial.reconcile.search_read record partial-1: field 'debit_amount_currency' is not "
            "an amount: 'douze'",
            "odoo res.partner.search_read record 14: field 'name' is not text: ['Azure Interior']",
            "odoo account.move.line.search_read record aml-601: field 'amount_residual_currency' is not an "
            "amount: 'n/a'",
        ]
        assert "Quarantined: 6 record(s) left out of this sync" in out
        for line in expected:
            assert f"{line} — left out, retried next sync" in out, line
            assert any(line in message for message in caplog.messages), line
        # A payment share does not hold its invoice: the invoice's remaining amount is Odoo's own.
        assert "reminders held for customer 14 in every currency until odoo customer 14 maps" in out
        assert "reminders held for customer 10 in EUR until odoo payment aml-601 maps" in out
        assert out.count("reminders held for") == 2
        with StateStore(tmp_path / "state.sqlite") as store:
            ledger = store.ledger()
            cursor = OdooCursor.loads(store.sync_mark("odoo").cursor)  # type: ignore[union-attr]
        assert {i.id for i in ledger.invoices} == {"1", "2", "3", "18"}  # the rest of the ledger synced
        customers = {c.id: c for c in ledger.customers}  # Deco maps (its reminders are held); Azure does not:
        assert set(customers) == {"10", "14"} and customers["14"].name == "Azure Interior"  # named by its invoices
        assert customers["14"].emails == () and customers["14"].contacts == ()  # and nothing more
        assert "partial-1" not in {p.id for p in ledger.payments} and len(ledger.payments) == 3
        assert cursor is not None and cursor.since == "2026-11-21 08:00:00"  # not moved by the bad date
        assert set(cursor.retry) == {"4", "5", "19", "payment:partial-1", "customer:14", "payment:aml-601"}

        # Fixed in Odoo without touching their write_date: the incremental sync reads them again.
        record(odoo, "account.move", 5)["currency_id"] = [2, "USD"]
        record(odoo, "account.move", 4)["write_date"] = "2026-11-20 10:15:02"
        record(odoo, "account.move", 19)["name"] = "INV/2026/00019"
        record(odoo, "account.partial.reconcile", 1)["debit_amount_currency"] = 10953.75
        record(odoo, "res.partner", 14)["name"] = "Azure Interior"
        record(odoo, "account.move.line", 601)["amount_residual_currency"] = -500.0
        out = sync(config, capsys)
        assert "incremental sync" in out and "Quarantined" not in out
        with StateStore(tmp_path / "state.sqlite") as store:
            ledger = store.ledger()
    invoices = {i.id: i for i in ledger.invoices}
    assert invoices["4"].is_open and invoices["5"].remaining == Money(Decimal("1200.00"), "USD")
    assert invoices["19"].number == "INV/2026/00019"
    assert {c.id for c in ledger.customers} == {"10", "14"}
    assert "partial-1" in {p.id for p in ledger.payments}  # its invoice did not change: read again by id
    assert [(c.id, c.amount) for c in ledger.unallocated_credits()] == [("aml-601", Money(Decimal("500.00")))]


def test_a_quarantined_invoice_that_was_open_is_closed_not_left_with_its_old_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    odoo = FakeOdoo(16)
    with dossier(tmp_path, odoo, monkeypatch) as config:
        sync(config, capsys)
        move = record(odoo, "account.move", 4)
        move.update(amount_residual="3 651,25 €/HT", write_date="2026-11-23 07:00:00")  # not an amount now
        out = sync(config, capsys)
        assert "record 4: field 'amount_residual' is not an amount" in out
        with StateStore(tmp_path / "state.sqlite") as store:
            stale = store.invoice("4")
        assert stale is not None and not stale.is_open  # never reminded on figures Odoo no longer has
        move["amount_residual"] = 3651.25
        sync(config, capsys)
        with StateStore(tmp_path / "state.sqlite") as store:
            back = store.invoice("4")
    assert back is not None and back.is_open and back.remaining == Money(Decimal("3651.25"))


def reminded(config: Config, day: date) -> set[str]:
    """The customers a real pass (outbox) reminds on ``day`` at 10:00 in Paris."""
    now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    report = run_pass(config, as_of=day, now=now)
    assert report.exit_code == 0, report.lines()
    return {o.customer for o in (*report.sent, *report.tasks)}


def factures(config: Config) -> dict[str, dict[str, Any]]:
    rows = list(load_workbook(config.sheet.path("path"), read_only=True)["Factures"].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return {str(r[0]): dict(zip(header, r, strict=False)) for r in rows[1:] if r[0] is not None}


def test_a_customer_whose_record_or_balance_cannot_be_read_is_never_reminded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    odoo = FakeOdoo(16)
    day = date(2027, 1, 20)  # every open invoice of the fixtures is overdue
    with dossier(tmp_path, odoo, monkeypatch) as path:
        sync(path, capsys)  # both customers known, as they were
        record(odoo, "res.partner", 14).update(name=False, write_date="2026-11-23 08:00:00")  # Azure: no name
        # Deco Addict paid 5,000 on account; Odoo answers its residual in a form that is not an amount.
        odoo.models["account.move.line"].append(credit_line(601, 10, 5000.0, "-5000,00 EUR"))
        config = load_config(path)
        assert reminded(config, day) == set()  # Azure's record unreadable, Deco's balance unknown: nobody
        rows = factures(config)
        assert rows["1#2"]["Reste dû"] == pytest.approx(24341.67) and rows["4"]["Reste dû"] == pytest.approx(3651.25)
        assert (rows["4"]["Client"], rows["5"]["Client"]) == ("Deco Addict", "Azure Interior")  # invoices stay
        assert rows["4"]["Prochaine action"] == ("Relance retenue : paiement illisible à la source "
                                                 "(odoo payment aml-601), à corriger")
        assert "fiche client illisible à la source (odoo customer 14)" in rows["5"]["Prochaine action"]

        # Odoo's answer about the payment on account is right again: it covers Deco's invoice.
        record(odoo, "account.move.line", 601)["amount_residual_currency"] = -5000.0
        assert reminded(config, day) == set()
        # Azure gets its name back: it is reminded; Deco, in credit, still not.
        record(odoo, "res.partner", 14)["name"] = "Azure Interior"
        assert reminded(config, day) == {"Azure Interior"}
    with StateStore(tmp_path / "state.sqlite") as store:
        assert store.invoice("4") is not None and store.invoice("4").status is InvoiceStatus.OPEN  # type: ignore[union-attr]


class FailingWorkbook(XlsxWorkbook):
    def write(self, view: SheetView) -> None:
        raise OSError("disk full")


def test_a_held_customer_comes_back_when_the_sync_that_released_it_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """The records to read again ride in the cursor, committed with the ledger: a pull that
    mapped them but whose sync failed afterwards does not lose them."""
    odoo = FakeOdoo(16)
    record(odoo, "res.partner", 14)["name"] = ["Azure Interior"]
    with dossier(tmp_path, odoo, monkeypatch) as path:
        sync(path, capsys)
        record(odoo, "res.partner", 14)["name"] = "Azure Interior"
        config = load_config(path)
        with pytest.raises(OSError, match="disk full"):  # the pull mapped Azure, then the sheet failed
            sync_once(config, as_of=date(2026, 11, 23), now=datetime(2026, 11, 23, 9, tzinfo=UTC),
                      sheet=FailingWorkbook(config.sheet.path("path")))
        sync(path, capsys)
        with StateStore(tmp_path / "state.sqlite") as store:
            assert "14" in {c.id for c in store.ledger().customers}


def test_what_people_typed_on_a_held_customer_is_kept_while_it_is_held_and_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    odoo = FakeOdoo(16)
    with dossier(tmp_path, odoo, monkeypatch) as path:
        sync(path, capsys)
        workbook = tmp_path / "encours.xlsx"
        wb = load_workbook(workbook)
        clients = wb["Clients"]
        heading = [c.value for c in clients[1]]
        row = next(r for r in range(2, clients.max_row + 1) if clients.cell(r, 1).value == "14")
        clients.cell(row, heading.index("Email relance") + 1, "tresorerie@azure.example.com")
        wb.save(workbook)

        def typed() -> dict[str, Any]:
            ws = load_workbook(workbook, read_only=True)["Clients"]
            rows = [dict(zip(heading, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)]
            return {str(r["ID client"]): r["Email relance"] for r in rows if r["ID client"]}

        record(odoo, "res.partner", 14).update(name=False, write_date="2026-11-23 08:00:00")
        assert "record 14: field 'name' is empty" in sync(path, capsys)
        assert typed()["14"] == "tresorerie@azure.example.com"
        record(odoo, "res.partner", 14).update(name="Azure Interior", write_date="2026-11-23 08:30:00")
        assert "Quarantined" not in sync(path, capsys)
        assert typed()["14"] == "tresorerie@azure.example.com"


def test_the_recheck_before_sending_treats_an_invoice_it_cannot_read_as_not_to_be_sent() -> None:
    from tests.support.odoo_server import connector

    odoo = FakeOdoo(16)
    with running(odoo) as url:
        pl = connector(url)
        record(odoo, "account.move", 4)["amount_residual"] = {"value": 3651.25}
        found = pl.refetch_invoices(["1", "4"])
    assert found["1"] is not None and found["4"] is None
    (held,) = pl.quarantine.items
    assert held.line() == ("odoo account.move.search_read record 4: field 'amount_residual' is not an amount: "
                           "{'value': 3651.25} — left out, retried next sync")


def test_a_first_sync_with_an_unreadable_customer_names_it_as_its_invoices_do_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """Never synced before: the invoices show whose they are (Odoo's [id, name]) and that the
    customer's record cannot be read — not an empty Client and "Client inconnu"."""
    odoo = FakeOdoo(16)
    record(odoo, "res.partner", 14)["name"] = ["Azure Interior"]  # the record cannot be mapped
    record(odoo, "account.move", 5)["commercial_partner_id"] = [14, False]  # this invoice names no one
    day = date(2027, 1, 20)  # Azure's invoices are overdue
    with dossier(tmp_path, odoo, monkeypatch) as path:
        config = load_config(path)
        assert reminded(config, day) == {"Deco Addict"}  # Azure: held
        rows = factures(config)
        for ident in ("5", "1#2"):
            assert (rows[ident]["Client"], rows[ident]["ID client"]) == ("Azure Interior", "14")
            assert rows[ident]["Prochaine action"] == ("Relance retenue : fiche client illisible à la source "
                                                       "(odoo customer 14), à corriger")
        clients = list(load_workbook(tmp_path / "encours.xlsx", read_only=True)["Clients"].iter_rows(values_only=True))
        assert ("14", "Azure Interior") in [tuple(r[:2]) for r in clients]

        record(odoo, "res.partner", 14).update(name="Azure Interior SA", write_date="2026-11-23 08:00:00")
        assert reminded(config, day) == {"Azure Interior SA"}  # readable again: its own record, reminded
    with StateStore(tmp_path / "state.sqlite") as store:
        azure = next(c for c in store.ledger().customers if c.id == "14")
    assert azure.name == "Azure Interior SA" and azure.language == "nl"


def test_a_full_sync_never_replaces_a_customer_synced_before_by_what_its_invoices_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    odoo = FakeOdoo(16)
    with dossier(tmp_path, odoo, monkeypatch) as path:
        sync(path, capsys)
        record(odoo, "res.partner", 14)["name"] = ["Azure Interior"]
        assert "record 14" in sync(path, capsys, "--full")
        with StateStore(tmp_path / "state.sqlite") as store:
            azure = next(c for c in store.ledger().customers if c.id == "14")
    assert azure.language == "nl" and azure.salesperson == "Marc Lefort"  # as last synced, not a bare name
