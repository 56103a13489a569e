"""Sage v3.1 connector: $next paging, statuses, payments, incremental, OAuth refresh rotation."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from encours.connectors.model import DocumentKind, InvoiceStatus, Money
from encours.connectors.sage import TOKENS_NS, SageConnector, SageCursor, SageTokens
from encours.connectors.source_errors import AuthenticationError, ClientRequestError
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "sage"
BASE = "https://api.sage.test/v3.1"
TOKEN_URL = "https://oauth.sage.test/token"
BUSINESS = "9f1e2d3c4b5a69788796a5b4c3d2e1f0"
CLIENT_SECRET = "cs-5e4d3c2b1a09f8e7d6c5"
INITIAL_RT = "rt-INITIAL-0a9b8c7d6e5f4a3b2c1d"
ROTATED_RT = "rt-ROTATED-2b1f3c4d5e6f7a8b9c0d"
ACCESS = "eyJhbGciOiJSUzI1NiJ9.access-ONE.sig"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def _url(call: responses.Call) -> str:
    url = call.request.url
    assert url is not None
    return url


def _form(call: responses.Call) -> dict[str, list[str]]:
    body = call.request.body
    assert isinstance(body, str)
    return parse_qs(body)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(tmp_path / "state.sqlite") as st:
        st.cache().put(TOKENS_NS, "refresh_token", INITIAL_RT)
        yield st


def sage(store: StateStore, **kw: Any) -> SageConnector:
    tokens = SageTokens(store.cache(), client_id="client-abc", client_secret=CLIENT_SECRET, token_url=TOKEN_URL)
    return SageConnector(
        tokens, business_id=BUSINESS, as_of=date(2026, 11, 23), base_url=BASE, sleep=lambda s: None, **kw
    )


def page_is(value: str | None) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        got = parse_qs(urlsplit(request.url).query).get("page", [None])[0]
        return got == value, f"page {got!r} != {value!r}"

    return match


def serve_full(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
    rsps.get(f"{BASE}/artefact_statuses", json=payload("artefact_statuses.json"))
    rsps.get(f"{BASE}/contacts", json=payload("contacts_page1.json"), match=[page_is(None)])
    rsps.get(f"{BASE}/contacts", json=payload("contacts_page2.json"), match=[page_is("2")])
    rsps.get(f"{BASE}/sales_invoices", json=payload("sales_invoices_page1.json"), match=[page_is(None)])
    rsps.get(f"{BASE}/sales_invoices", json=payload("sales_invoices_page2.json"), match=[page_is("2")])
    rsps.get(f"{BASE}/sales_credit_notes", json=payload("sales_credit_notes.json"))
    rsps.get(f"{BASE}/contact_payments", json=payload("contact_payments.json"))
    rsps.get(f"{BASE}/contact_allocations", json=payload("contact_allocations.json"))


@responses.activate
def test_full_pull_reads_every_page_and_maps_records(store: StateStore) -> None:
    serve_full(responses.mock)
    delta = sage(store).pull(None)

    assert delta.full and SageCursor.loads(delta.cursor) is not None
    invoices = {i.number: i for i in delta.invoices}
    assert set(invoices) == {"FA-0101", "FA-0102", "FA-0103", "FA-0104", "FA-0105", "AV-0007"}
    assert invoices["FA-0101"].status is InvoiceStatus.OPEN
    assert invoices["FA-0102"].status is InvoiceStatus.PARTIALLY_PAID
    assert invoices["FA-0102"].remaining == Money(Decimal("250.00"))
    gbp = invoices["FA-0103"]
    assert gbp.remaining == Money(Decimal("2000.00"), "GBP")
    assert gbp.remaining_company == Money(Decimal("2298.85"), "EUR")
    disputed = invoices["FA-0105"]  # declared by /artefact_statuses but unknown to encours
    assert (disputed.status, disputed.source_status) == (InvoiceStatus.UNKNOWN, "Litige")
    credit = invoices["AV-0007"]
    assert credit.kind is DocumentKind.CREDIT_NOTE and credit.total == Money(Decimal("60.00"))

    customers = {c.reference: c for c in delta.customers}
    assert customers["MOREL"].email == "factures@morel.fr"
    assert customers["MOREL"].contacts[0].email == "sophie@morel.fr"
    assert customers["LONBAK"].language == "en" and customers["LONBAK"].payment_terms_days == 45

    payments = {p.id: p for p in delta.payments}
    assert set(payments) == {"e3000000000000000000000000000001", "f4000000000000000000000000000001"}  # no vendor one
    receipt = payments["e3000000000000000000000000000001"]
    assert receipt.date == date(2026, 10, 30) and receipt.amount == Money(Decimal("590.00"))
    allocated = [(a.invoice_id[-1], a.amount.amount) for a in receipt.allocations]
    assert allocated == [("2", Decimal("350")), ("4", Decimal("240"))]
    by_credit = payments["f4000000000000000000000000000001"]
    assert by_credit.method == "credit_note" and [a.invoice_id[-1] for a in by_credit.allocations] == ["4"]

    api_calls = [c for c in responses.calls if c.request.url.startswith(BASE)]
    for call in api_calls:
        assert call.request.headers["X-Business"] == BUSINESS
        assert call.request.headers["Authorization"] == f"Bearer {ACCESS}"
    listing = [c for c in api_calls if "/sales_invoices" in c.request.url]
    for call in listing:
        query = parse_qs(urlsplit(_url(call)).query)
        assert query["items_per_page"] == ["200"] and query["attributes"] == ["all"]


@responses.activate
def test_rotated_refresh_token_is_committed_before_the_access_token_is_used(store: StateStore) -> None:
    seen: list[str | None] = []

    def business(request: Any) -> tuple[int, dict[str, str], str]:
        # Another connection to the same file: what survives if encours crashed right now.
        with sqlite3.connect(store.path) as other:
            row = other.execute(
                "SELECT value FROM cache WHERE namespace = ? AND key = 'refresh_token'", (TOKENS_NS,)
            ).fetchone()
        seen.append(row[0] if row else None)
        return 200, {}, (PAYLOADS / "business.json").read_text()

    responses.post(TOKEN_URL, json=payload("token_refreshed.json"))
    responses.add_callback(responses.GET, f"{BASE}/businesses/{BUSINESS}", callback=business)
    responses.get(f"{BASE}/sales_invoices", json={"$total": 3, "$items": [], "$next": None})
    info = sage(store).check()

    assert seen == [ROTATED_RT]
    assert info.organisation == "Atelier Dupont SARL" and info.open_invoices == 6
    form = _form(responses.calls[0])
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [INITIAL_RT]


@responses.activate
def test_expired_access_token_is_refreshed_and_the_read_resent(store: StateStore) -> None:
    second = dict(payload("token_refreshed.json"), access_token="access-TWO", refresh_token="rt-THIRD-99887766")
    responses.post(TOKEN_URL, json=payload("token_refreshed.json"))
    responses.post(TOKEN_URL, json=second)
    responses.get(f"{BASE}/businesses/{BUSINESS}", status=401, json=payload("error_token_expired.json"))
    responses.get(f"{BASE}/businesses/{BUSINESS}", json=payload("business.json"))
    responses.get(f"{BASE}/sales_invoices", json={"$total": 0, "$items": [], "$next": None})
    sage(store).check()
    business_calls = [c for c in responses.calls if "/businesses/" in c.request.url]
    assert business_calls[1].request.headers["Authorization"] == "Bearer access-TWO"
    assert store.cache().get(TOKENS_NS, "refresh_token") == "rt-THIRD-99887766"


@responses.activate
def test_invalid_grant_asks_to_run_auth_again_without_leaking_secrets(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses.post(TOKEN_URL, status=400, json=payload("token_invalid_grant.json"))
    with pytest.raises(AuthenticationError, match="encours auth sage") as err:
        sage(store).check()
    assert len([c for c in responses.calls if c.request.url == TOKEN_URL]) == 1  # POST never retried
    for secret in (INITIAL_RT, CLIENT_SECRET):
        assert secret not in str(err.value) and secret not in caplog.text


@responses.activate
def test_no_stored_authorisation_says_what_to_run(tmp_path: Path) -> None:
    with StateStore(tmp_path / "empty.sqlite") as st, pytest.raises(AuthenticationError, match="encours auth sage"):
        sage(st).check()


@responses.activate
def test_incremental_pull_asks_for_changes_and_deletions_since_the_cursor(store: StateStore) -> None:
    rsps = responses.mock
    rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
    rsps.get(f"{BASE}/artefact_statuses", json=payload("artefact_statuses.json"))

    def by_kind(changed: str, deleted: str) -> Any:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            query = parse_qs(urlsplit(request.url).query)
            name = deleted if "deleted_since" in query else changed
            return 200, {}, (PAYLOADS / name).read_text()

        return callback

    for path in ("contacts", "sales_credit_notes", "contact_payments", "contact_allocations"):
        rsps.add_callback(responses.GET, f"{BASE}/{path}", callback=by_kind("empty.json", "empty.json"))
    rsps.add_callback(
        responses.GET,
        f"{BASE}/sales_invoices",
        callback=by_kind("sales_invoices_changed.json", "sales_invoices_deleted.json"),
    )
    delta = sage(store).pull(SageCursor.loads(json.dumps({"since": "2026-11-23T09:00:00+00:00"})).dumps())  # type: ignore[union-attr]

    assert not delta.full
    assert [(i.number, i.status) for i in delta.invoices] == [("FA-0101", InvoiceStatus.PAID)]
    assert delta.deleted_invoice_ids == ("a1000000000000000000000000000005",)
    queries = [parse_qs(urlsplit(_url(c)).query) for c in rsps.calls if "/sales_invoices" in c.request.url]
    assert {"updated_or_created_since": ["2026-11-23T09:00:00+00:00"]}.items() <= queries[0].items()
    assert queries[1]["deleted_since"] == ["2026-11-23T09:00:00+00:00"]


@responses.activate
def test_sage_error_array_becomes_a_clear_message(store: StateStore) -> None:
    responses.post(TOKEN_URL, json=payload("token_refreshed.json"))
    responses.get(f"{BASE}/artefact_statuses", status=400, json=payload("error_invalid.json"))
    with pytest.raises(ClientRequestError) as err:
        sage(store).pull(None)
    assert str(err.value) == (
        "sage GET /artefact_statuses: HTTP 400: RecordInvalid: Date de début invalide (updated_or_created_since)"
    )


@responses.activate
def test_refetch_never_marks_the_invoice_as_sent_and_404_means_gone(store: StateStore) -> None:
    responses.post(TOKEN_URL, json=payload("token_refreshed.json"))
    responses.get(f"{BASE}/artefact_statuses", json=payload("artefact_statuses.json"))
    one = "a1000000000000000000000000000001"
    responses.get(f"{BASE}/sales_invoices/{one}", json=payload("sales_invoice_single.json"))
    responses.get(f"{BASE}/sales_invoices/nope", status=404, json=payload("error_not_found.json"))
    responses.get(f"{BASE}/sales_credit_notes/nope", status=404, json=payload("error_not_found.json"))
    connector = sage(store)
    fresh = connector.refetch_invoice(one)
    assert fresh is not None and fresh.status is InvoiceStatus.PAID
    single = next(c for c in responses.calls if one in c.request.url)
    assert parse_qs(urlsplit(_url(single)).query)["mark_as_sent"] == ["false"]
    assert connector.refetch_invoice("nope") is None
