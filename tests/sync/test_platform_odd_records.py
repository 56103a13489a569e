"""Spec-valid odd records end to end through `encours sync`: one bad record is quarantined (named
in the summary, left out, retried next sync), a 4-decimal exchange rate is accepted, and the
ledger around them syncs."""

from __future__ import annotations

import json
from copy import deepcopy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

from encours.connectors.model import Money
from encours.sync.cli import main
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "pennylane"
BASE = "https://pennylane.test/api/external/v2"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def config(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PL_TOKEN", "pl-odd-token-9012")
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\n\n'
        f'[source]\ntype = "pennylane"\ntoken_env = "PL_TOKEN"\nbase_url = "{BASE}"\n\n'
        '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n[risk]\nenabled = false\n',
        encoding="utf-8",
    )
    return path


def odd_invoices() -> list[dict[str, Any]]:
    items = payload("invoices_page2.json")["items"]
    base = next(i for i in items if i["id"] == 1006)
    incomplete = dict(deepcopy(base), id=1007, invoice_number="F-2026-0107", date=None, status="incomplete")
    yen = dict(
        deepcopy(base), id=1008, invoice_number="F-2026-0108", currency="JPY", amount="100.00",
        currency_amount="16234.00", exchange_rate="0.0062", remaining_amount_with_tax="100.00", status="upcoming",
    )
    return [*items, incomplete, yen]


def serve(invoices: list[dict[str, Any]]) -> None:
    responses.get(f"{BASE}/customers", json=dict(payload("customers_page1.json"), has_more=False))
    responses.get(f"{BASE}/transactions", json=payload("transactions_unmatched.json"))
    responses.get(f"{BASE}/customer_invoices", json={"has_more": False, "next_cursor": None, "items": invoices})
    for cid in (42, 57, 63):
        responses.get(f"{BASE}/customers/{cid}/contacts", json=payload("contacts_empty.json"))


@responses.activate
def test_an_incomplete_invoice_is_quarantined_and_the_ledger_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, monkeypatch)
    serve(odd_invoices())
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Quarantined: 1 record(s) left out of this sync" in out
    assert "pennylane GET /customer_invoices record 1007: field 'date' is empty (status 'incomplete')" in out
    with StateStore(tmp_path / "state.sqlite") as store:
        assert store.invoice("1007") is None
        yen = store.invoice("1008")
        assert yen is not None and yen.remaining == Money(Decimal(16234), "JPY")  # 0.0062 to 4 decimals: accepted
        assert store.invoice("1006") is not None

    # Next sync: nothing changed in the changelogs, yet the quarantined invoice is asked again.
    responses.reset()
    fixed = dict(odd_invoices()[-2], date="2026-11-02", status="upcoming")
    responses.get(f"{BASE}/changelogs/customer_invoices", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/transactions", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/customer_invoices", json={"has_more": False, "next_cursor": None, "items": [fixed]})
    responses.get(f"{BASE}/customers/63/contacts", json=payload("contacts_empty.json"))
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Quarantined" not in out
    asked = [c.request.url for c in responses.calls if "/v2/customer_invoices?" in c.request.url]
    assert asked and "1007" in asked[0]
    with StateStore(tmp_path / "state.sqlite") as store:
        back = store.invoice("1007")
        assert back is not None and back.is_open


@responses.activate
def test_supplier_matches_of_bank_transactions_are_not_read_as_customer_invoices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, monkeypatch)
    serve(payload("invoices_page2.json")["items"])
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0

    responses.reset()
    transactions = [{"id": 90000 + n, "operation": "update", "processed_at": "2026-11-23T08:00:00Z"}
                    for n in range(40)]
    responses.get(f"{BASE}/changelogs/customer_invoices", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/transactions", json={"has_more": False, "next_cursor": None,
                                                          "items": transactions})
    paid_out = [{"id": 90000 + n, "label": f"PRLV FOURNISSEUR {n}", "date": "2026-11-20", "currency": "EUR",
                 "amount": "-50.00", "currency_amount": "-50.00", "outstanding_balance": "0.0", "customer": None}
                for n in range(40)]
    responses.get(f"{BASE}/transactions", json={"has_more": False, "next_cursor": None, "items": paid_out})
    for n in range(40):
        supplier = {"id": 70000 + n, "invoice_number": f"ACH-{n}", "type": "supplier_invoice",
                    "url": f"{BASE}/supplier_invoices/{70000 + n}"}
        responses.get(f"{BASE}/transactions/{90000 + n}/matched_invoices",
                      json={"has_more": False, "next_cursor": None, "items": [supplier]})
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    followed = [c for c in responses.calls if "/matched_invoices" in c.request.url]
    reread = [c for c in responses.calls if "/v2/customer_invoices" in c.request.url]
    assert len(followed) <= 5 and reread == []  # 40 supplier transactions: a sample, no customer re-reads


@pytest.mark.parametrize(("stated", "synced"), [("250.00", True), ("270.00", False)])
@responses.activate
def test_remaining_stated_in_the_invoice_currency_is_detected_against_the_payments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stated: str, synced: bool
) -> None:
    """USD 540 (EUR 500), 270 USD paid by a matched transfer: 250 is EUR (270 USD left, as assumed);
    270 is the USD figure itself — read as EUR it would claim 291.60 USD."""
    cfg = config(tmp_path, monkeypatch)
    invoice = dict(payload("invoices_page3.json")["items"][1], remaining_amount_with_tax=stated)
    serve([invoice])
    responses.get(f"{BASE}/customer_invoices/1008/matched_transactions", json=payload("matched_transactions_1008.json"))
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    with StateStore(tmp_path / "state.sqlite") as store:
        kept = store.invoice("1008")
    if synced:
        assert kept is not None and kept.remaining == Money(Decimal(270), "USD") and "Quarantined" not in out
    else:
        assert kept is None
        assert "record 1008: remaining_amount_with_tax 270.00 equals the USD total minus the matched payments" in out


@responses.activate
def test_an_unmatched_customer_transfer_is_a_credit_until_pennylane_matches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    cfg = config(tmp_path, monkeypatch)
    serve(payload("invoices_page2.json")["items"])
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    with StateStore(tmp_path / "state.sqlite") as store:
        credits = store.ledger().credits
    assert [(c.id, c.customer_id, c.amount) for c in credits] == [("tx88101", "42", Money(Decimal(300), "EUR"))]
    sheet = load_workbook(tmp_path / "encours.xlsx")["Factures"]
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "Paiement non affecté" in cells  # the customer's 300 € show on the sheet, netting what they owe

    responses.reset()
    matched = dict(payload("transactions_unmatched.json")["items"][0], outstanding_balance="0.0")
    responses.get(f"{BASE}/changelogs/customer_invoices", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/transactions", json={"has_more": False, "next_cursor": None, "items": [
        {"id": 88101, "operation": "update", "processed_at": "2026-11-23T09:00:00Z"}]})
    responses.get(f"{BASE}/transactions", json={"has_more": False, "next_cursor": None, "items": [matched]})
    responses.get(f"{BASE}/transactions/88101/matched_invoices", json=payload("changelog_empty.json"))
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    with StateStore(tmp_path / "state.sqlite") as store:
        assert store.ledger().credits == ()
