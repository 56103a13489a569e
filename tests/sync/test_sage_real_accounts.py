"""Sage as real accounts are: throttling without headers, a connection dropped mid-pull, a listing
that changes while it is read, overpaid invoices and GBP credit notes — end to end through
`encours sync`, and the pass's re-check in a few requests."""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from encours.connectors.model import InvoiceStatus, Money
from encours.connectors.sage import TOKENS_NS, SageConnector, SageTokens
from encours.sync.cli import main
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "sage"
SAGE = "https://api.sage.test/v3.1"
TOKEN_URL = "https://oauth.sage.test/token"
BUSINESS = "9f1e2d3c4b5a69788796a5b4c3d2e1f0"
MOREL = "c8a1b2c3d4e5f60718293a4b5c6d7e8f"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def page_is(value: str | None) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        page = parse_qs(urlsplit(request.url).query).get("page", [None])[0]
        return page == value, f"page {page!r} != {value!r}"

    return match


@pytest.fixture()
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAGE_ID", "client-abc")
    monkeypatch.setenv("SAGE_SECRET", "sage-client-secret-0042")
    path = tmp_path / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\n\n'
        f'[source]\ntype = "sage"\nclient_id_env = "SAGE_ID"\nclient_secret_env = "SAGE_SECRET"\n'
        f'business_id = "{BUSINESS}"\nbase_url = "{SAGE}"\ntoken_url = "{TOKEN_URL}"\n\n'
        '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n[risk]\nenabled = false\n',
        encoding="utf-8",
    )
    with StateStore(tmp_path / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
    return path


def gbp_credit_note() -> dict[str, Any]:
    note = deepcopy(payload("sales_credit_notes.json")["$items"][0])
    note.update(id="b2000000000000000000000000000002", credit_note_number="AV-0008", displayed_as="AV-0008",
                contact={"id": "d9b2c3d4e5f60718293a4b5c6d7e8f90", "displayed_as": "Harbour Ltd"},
                total_amount=100.0, outstanding_amount=0.0, base_currency_outstanding_amount=0.0,
                currency={"id": "GBP", "displayed_as": "Pound", "$path": "/currencies/GBP"})
    return note


GBP_INVOICE = "a1000000000000000000000000000003"
GBP_NOTE = "b2000000000000000000000000000002"


def artefact(line: str, amount: float, kind: str, ident: str) -> dict[str, Any]:
    return {"id": line, "amount": amount, "artefact": {"id": ident, "$path": f"/{kind}/{ident}"}}


def gbp_allocation() -> dict[str, Any]:
    allocation = deepcopy(payload("contact_allocations.json")["$items"][0])
    allocation.update(id="f4000000000000000000000000000002",
                      contact={"id": "d9b2c3d4e5f60718293a4b5c6d7e8f90", "displayed_as": "Harbour Ltd"},
                      allocated_artefacts=[artefact("al3", 100.0, "sales_invoices", GBP_INVOICE),
                                           artefact("al4", -100.0, "sales_credit_notes", GBP_NOTE)])
    return allocation


def envelope(items: list[Any]) -> dict[str, Any]:
    return {"$total": len(items), "$page": 1, "$next": None, "$back": None, "$itemsPerPage": 200, "$items": items}


def serve(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
    rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
    rsps.get(f"{SAGE}/contacts", json=payload("contacts_page1.json"), match=[page_is(None)])
    rsps.get(f"{SAGE}/contacts", json=payload("contacts_page2.json"), match=[page_is("2")])
    first = payload("sales_invoices_page1.json")
    second = payload("sales_invoices_page2.json")
    overpaid = next(i for i in second["$items"] if i["invoice_number"] == "FA-0104")
    overpaid["outstanding_amount"] = -40.0
    shrunk = dict(deepcopy(second), **{"$total": 4, "$items": second["$items"][1:]})
    # First reading: a record vanished between the two pages ($total 5, then 4) — read again.
    rsps.get(f"{SAGE}/sales_invoices", json=first, match=[page_is(None)])
    rsps.get(f"{SAGE}/sales_invoices", json=shrunk, match=[page_is("2")])
    rsps.get(f"{SAGE}/sales_invoices", json=first, match=[page_is(None)])
    # Second reading: throttled twice without any header, then the page.
    rsps.get(f"{SAGE}/sales_invoices", status=429, body="Too Many Requests", match=[page_is("2")])
    rsps.get(f"{SAGE}/sales_invoices", status=429, body="Too Many Requests", match=[page_is("2")])
    rsps.get(f"{SAGE}/sales_invoices", json=second, match=[page_is("2")])
    notes = payload("sales_credit_notes.json")
    rsps.get(f"{SAGE}/sales_credit_notes", json=envelope([*notes["$items"], gbp_credit_note()]))
    rsps.get(f"{SAGE}/contact_payments", body=requests.ConnectionError("connection reset by peer"))
    rsps.get(f"{SAGE}/contact_payments", json=payload("contact_payments.json"))
    allocations = payload("contact_allocations.json")["$items"]
    rsps.get(f"{SAGE}/contact_allocations", json=envelope([*allocations, gbp_allocation()]))


def test_a_hostile_but_valid_sage_account_syncs_whole(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with responses.RequestsMock() as rsps:
        serve(rsps)
        assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
        sorted_by = {parse_qs(urlsplit(c.request.url).query).get("sort", [""])[0]
                     for c in rsps.calls if "/sales_invoices" in c.request.url}
    assert sorted_by == {"created_at"}
    with StateStore(cfg.parent / "state.sqlite") as store:
        ledger = store.ledger()
    invoices = {i.number: i for i in ledger.invoices}
    assert set(invoices) >= {"FA-0101", "FA-0102", "FA-0103", "FA-0104", "FA-0105", "AV-0007", "AV-0008"}
    # overpaid by 40: settled, and the 40 are the customer's credit, not a debt
    assert invoices["FA-0104"].remaining == Money(Decimal(0)) and invoices["FA-0104"].status is InvoiceStatus.PAID
    (credit,) = [c for c in ledger.credits if c.id.endswith("-overpaid")]
    assert credit.amount == Money(Decimal(40)) and credit.customer_id == MOREL
    # a GBP credit note set against a GBP invoice is recorded in GBP
    gbp = next(p for p in ledger.payments if p.id == "f4000000000000000000000000000002")
    assert gbp.amount == Money(Decimal(100), "GBP") and gbp.allocations[0].amount.currency == "GBP"
    customers = {c.id: c for c in ledger.customers}
    assert customers[MOREL].address == "5 place Bellecour, 69002 Lyon" and customers[MOREL].country == "FR"


def test_the_pass_re_check_reads_all_invoices_in_a_few_requests(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
        tokens = SageTokens(store.cache(), client_id="client-abc", client_secret="sage-client-secret-0042",
                            token_url=TOKEN_URL)
        sage = SageConnector(tokens, business_id=BUSINESS, as_of=date(2026, 11, 23), base_url=SAGE,
                             sleep=lambda s: None)
        open_ones = [i for i in payload("sales_invoices_page1.json")["$items"]]
        paid_id = "a1000000000000000000000000000004"
        with responses.RequestsMock() as rsps:
            rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
            rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
            rsps.get(f"{SAGE}/sales_invoices", json=envelope(open_ones),
                     match=[responses.matchers.query_param_matcher({"status_id": "UNPAID"}, strict_match=False)])
            rsps.get(f"{SAGE}/sales_invoices", json=envelope([]),
                     match=[responses.matchers.query_param_matcher({"status_id": "PART_PAID"}, strict_match=False)])
            single = payload("sales_invoice_single.json")
            rsps.get(f"{SAGE}/sales_invoices/{paid_id}", json=dict(single, id=paid_id, outstanding_amount=0.0,
                                                                    status={"id": "PAID", "displayed_as": "Payée"}))
            rsps.get(f"{SAGE}/sales_invoices/gone-1", status=404, json=payload("error_not_found.json"))
            rsps.get(f"{SAGE}/sales_credit_notes/gone-1", status=404, json=payload("error_not_found.json"))
            fresh = sage.refetch_invoices([i["id"] for i in open_ones] + [paid_id, "gone-1"])
            api_calls = [c for c in rsps.calls if "/token" not in c.request.url and "artefact" not in c.request.url]
    assert fresh["gone-1"] is None
    assert fresh[paid_id] is not None and fresh[paid_id].status is InvoiceStatus.PAID
    assert all(fresh[i["id"]] is not None for i in open_ones)
    assert len(api_calls) == 5  # two listings of open invoices, one paid invoice, the gone one twice


def test_a_payment_on_account_is_the_customers_credit_until_sage_allocates_it(cfg: Path) -> None:
    receipt = deepcopy(payload("contact_payments.json")["$items"][0])
    receipt.update(id="e3000000000000000000000000000007", total_amount=200.0, allocated_artefacts=[],
                   payment_on_account={"id": "poa1", "total_amount": 200.0, "outstanding_amount": 200.0})
    empty = envelope([])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_minimal(rsps, [receipt])
        assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    with StateStore(cfg.parent / "state.sqlite") as store:
        (credit,) = store.ledger().credits
    assert credit.id == receipt["id"] and credit.amount == Money(Decimal(200)) and credit.customer_id == MOREL

    allocated = dict(receipt, payment_on_account=dict(receipt["payment_on_account"], outstanding_amount=0.0))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_minimal(rsps, [allocated], changes=empty)
        assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    with StateStore(cfg.parent / "state.sqlite") as store:
        assert store.ledger().credits == ()


def serve_minimal(rsps: responses.RequestsMock, receipts: list[Any], changes: dict[str, Any] | None = None) -> None:
    rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
    rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
    contacts = payload("contacts_page1.json")
    rsps.get(f"{SAGE}/contacts", json=dict(contacts, **{"$next": None, "$total": 1}))
    for path in ("/sales_invoices", "/sales_credit_notes", "/contact_allocations"):
        rsps.get(f"{SAGE}{path}", json=changes or envelope([]))
    rsps.get(f"{SAGE}/contact_payments", json=envelope([]), match=[asks_deleted(True)])  # none deleted
    rsps.get(f"{SAGE}/contact_payments", json=envelope(receipts), match=[asks_deleted(False)])


def asks_deleted(wanted: bool) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        deleted = "deleted_since" in parse_qs(urlsplit(request.url).query)
        return deleted == wanted, f"deleted_since {'absent' if wanted else 'present'}"

    return match


def test_a_full_pull_cut_off_mid_way_resumes_from_the_page_it_stopped_at(tmp_path: Path) -> None:
    from encours.connectors.source_errors import ServerError

    def serve_ledger(rsps: responses.RequestsMock, second_page: Any) -> None:
        rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
        rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
        rsps.get(f"{SAGE}/contacts", json=payload("contacts_page1.json"), match=[page_is(None)])
        rsps.get(f"{SAGE}/contacts", json=payload("contacts_page2.json"), match=[page_is("2")])
        rsps.get(f"{SAGE}/sales_invoices", json=payload("sales_invoices_page1.json"), match=[page_is(None)])
        rsps.get(f"{SAGE}/sales_invoices", match=[page_is("2")], **second_page)
        rsps.get(f"{SAGE}/sales_credit_notes", json=payload("sales_credit_notes.json"))
        rsps.get(f"{SAGE}/contact_payments", json=payload("contact_payments.json"))
        rsps.get(f"{SAGE}/contact_allocations", json=payload("contact_allocations.json"))

    with StateStore(tmp_path / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")

        def connector() -> SageConnector:
            tokens = SageTokens(store.cache(), client_id="client-abc", client_secret="sage-client-secret-0042",
                                token_url=TOKEN_URL)
            return SageConnector(tokens, business_id=BUSINESS, as_of=date(2026, 11, 23), base_url=SAGE,
                                 sleep=lambda s: None)

        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            serve_ledger(rsps, {"body": requests.ConnectionError("connection reset by peer")})
            with pytest.raises(ServerError, match="could not connect"):
                connector().pull(None)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            serve_ledger(rsps, {"json": payload("sales_invoices_page2.json")})
            delta = connector().pull(None)
            listed = [urlsplit(c.request.url) for c in rsps.calls]
    asked = [(u.path.rsplit("/", 1)[-1], parse_qs(u.query).get("page", ["1"])[0]) for u in listed]
    assert ("contacts", "1") not in asked and ("contacts", "2") not in asked  # read before the cut: kept
    assert ("sales_invoices", "1") not in asked and ("sales_invoices", "2") in asked
    assert {i.number for i in delta.invoices} >= {"FA-0101", "FA-0102", "FA-0103", "FA-0104", "FA-0105"}
    assert len(delta.customers) == 2


def test_a_re_check_of_one_customers_two_invoices_reads_just_those_two(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
        tokens = SageTokens(store.cache(), client_id="client-abc", client_secret="sage-client-secret-0042",
                            token_url=TOKEN_URL)
        sage = SageConnector(tokens, business_id=BUSINESS, as_of=date(2026, 11, 23), base_url=SAGE,
                             sleep=lambda s: None)
        ids = [i["id"] for i in payload("sales_invoices_page1.json")["$items"]]
        with responses.RequestsMock() as rsps:
            rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
            rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
            for ident in ids:
                rsps.get(f"{SAGE}/sales_invoices/{ident}", json=dict(payload("sales_invoice_single.json"), id=ident))
            fresh = sage.refetch_invoices(ids)
            reads = [c for c in rsps.calls if "/sales_invoices" in c.request.url]
    assert set(fresh) == set(ids) and all(v is not None for v in fresh.values())
    assert len(reads) == 2  # no listing of the whole ledger for two invoices
