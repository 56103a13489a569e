"""Pennylane connector against `responses` serving payloads shaped like the Company API v2."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from encours.connectors.model import DocumentKind, InvoiceStatus, Money
from encours.connectors.pennylane import PennylaneConnector, PennylaneCursor
from encours.connectors.source_errors import AuthenticationError, MalformedResponseError, PermissionDeniedError
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "pennylane"
BASE = "https://pennylane.test/api/external/v2"
TOKEN = "pl-tok-4f9a8c7e2b1d0a9f8e7d6c5b"
AS_OF = date(2026, 11, 23)


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def _url(call: responses.Call) -> str:
    url = call.request.url
    assert url is not None
    return url


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(tmp_path / "state.sqlite") as st:
        yield st


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(autouse=True)
def no_bank_transactions() -> None:
    """Full pulls list the bank transactions (unmatched ones are credits): none unless a test serves some."""
    responses.get(f"{BASE}/transactions", json={"has_more": False, "next_cursor": None, "items": []})


def connector(store: StateStore, sleeps: Sleeps, **kw: Any) -> PennylaneConnector:
    return PennylaneConnector(TOKEN, cache=store.cache(), as_of=AS_OF, base_url=BASE, sleep=sleeps, **kw)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def cursor_is(value: str | None) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        got = parse_qs(urlsplit(request.url).query).get("cursor", [None])[0]
        return got == value, f"cursor {got!r} != {value!r}"

    return match


def serve_full(rsps: responses.RequestsMock, last_page: Any = None) -> None:
    """A three-page ledger; ``last_page`` replaces the third invoice page's answer (e.g. an exception)."""
    rsps.get(f"{BASE}/transactions", json=payload("transactions_unmatched.json"))
    rsps.get(f"{BASE}/customers", json=payload("customers_page1.json"), match=[cursor_is(None)])
    rsps.get(f"{BASE}/customers", json=payload("customers_page2.json"), match=[cursor_is("Y3VzdG9tZXJzOjU3")])
    rsps.get(f"{BASE}/customer_invoices", json=payload("invoices_page1.json"), match=[cursor_is(None)])
    rsps.get(f"{BASE}/customer_invoices", json=payload("invoices_page2.json"), match=[cursor_is("eyJpZCI6MTAwM30=")])
    third = {"body": last_page} if last_page is not None else {"json": payload("invoices_page3.json")}
    rsps.get(f"{BASE}/customer_invoices", match=[cursor_is("eyJpZCI6MTAwNn0=")], **third)
    rsps.get(f"{BASE}/customers/42/contacts", json=payload("contacts_42.json"))
    rsps.get(f"{BASE}/customers/57/contacts", json=payload("contacts_empty.json"))
    rsps.get(f"{BASE}/customers/63/contacts", json=payload("contacts_empty.json"))
    rsps.get(f"{BASE}/customer_invoices/1002/matched_transactions", json=payload("matched_transactions_1002.json"))
    rsps.get(f"{BASE}/customer_invoices/1003/matched_transactions", json=payload("matched_transactions_empty.json"))
    rsps.get(f"{BASE}/customer_invoices/1003/payments", json=payload("payments_1003.json"))
    rsps.get(f"{BASE}/customer_invoices/1008/matched_transactions", json=payload("matched_transactions_1008.json"))


@responses.activate
def test_full_pull_maps_invoices_credit_notes_currencies_and_statuses(store: StateStore, sleeps: Sleeps) -> None:
    serve_full(responses.mock)
    delta = connector(store, sleeps).pull(None)

    assert delta.full
    invoices = {i.number: i for i in delta.invoices}
    assert len(invoices) == 8
    late = invoices["F-2026-0101"]
    assert (late.status, late.remaining, late.due_date) == (
        InvoiceStatus.OPEN,
        Money(Decimal("1200.00")),
        date(2026, 10, 1),
    )
    assert invoices["F-2026-0102"].status is InvoiceStatus.PARTIALLY_PAID
    assert invoices["F-2026-0102"].remaining == Money(Decimal("900.00"))
    assert invoices["F-2026-0103"].status is InvoiceStatus.PAID
    credit = invoices["AV-2026-0007"]
    assert credit.kind is DocumentKind.CREDIT_NOTE
    assert credit.total == Money(Decimal("120.00")) and credit.signed_remaining == Money(Decimal("-120.00"))
    assert credit.credited_invoice_id == "1003"
    usd = invoices["F-2026-0105"]
    assert usd.total == Money(Decimal("1080.00"), "USD")
    assert usd.remaining == Money(Decimal("1080.00"), "USD")  # remaining_amount_with_tax is EUR: converted back
    assert usd.remaining_company == Money(Decimal("1000.00"), "EUR")
    part_usd = invoices["F-2026-0108"]
    assert part_usd.remaining == Money(Decimal("270.00"), "USD") and part_usd.status is InvoiceStatus.PARTIALLY_PAID
    odd = invoices["F-2026-0106"]
    # no deadline: the customer's 45_days_end_of_month from 5 November (20 December, then end of month)
    assert (odd.status, odd.source_status, odd.due_date) == (InvoiceStatus.UNKNOWN, "in_collection", date(2026, 12, 31))
    assert invoices["F-2026-0107"].status is InvoiceStatus.CANCELLED

    customers = {c.id: c for c in delta.customers}
    assert customers["42"].email == "compta@lefevre-menuiserie.fr"
    assert customers["42"].contacts[0].email == "p.girard@lefevre-menuiserie.fr"
    assert (customers["42"].siren, customers["42"].payment_terms_days, customers["42"].language) == (
        "512345678",
        30,
        "fr",
    )
    assert customers["63"].language == "en" and customers["63"].country == "US"

    payments = {p.allocations[0].invoice_id: p for p in delta.payments}
    assert payments["1002"].date == date(2026, 10, 20) and payments["1002"].amount == Money(Decimal("1500.00"))
    assert payments["1003"].date == date(2026, 10, 28)  # no bank transaction: the payment record's date
    assert payments["1008"].amount == Money(Decimal("270.00"), "USD")

    listing = [c for c in responses.calls if urlsplit(_url(c)).path.endswith("/customer_invoices")]
    assert len(listing) == 3
    for call in listing:  # the cursor does not carry them: filter and sort on every page
        assert json.loads(query(call)["filter"][0]) == [{"field": "draft", "operator": "eq", "value": "false"}]
        assert query(call)["sort"] == ["id"] and query(call)["limit"] == ["100"]
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert PennylaneCursor.loads(delta.cursor) is not None


@responses.activate
def test_payment_details_are_fetched_once_per_paid_invoice_ever(store: StateStore, sleeps: Sleeps) -> None:
    serve_full(responses.mock)
    connector(store, sleeps).pull(None)
    first = len(responses.calls)
    second = connector(store, sleeps).pull(None)
    detail_calls = [
        c for c in responses.calls[first:] if "/matched_transactions" in c.request.url or "/payments" in c.request.url
    ]
    assert detail_calls == []
    assert {p.allocations[0].invoice_id for p in second.payments} == {"1002", "1003", "1008"}
    contact_calls = [c for c in responses.calls[first:] if "/contacts" in c.request.url]
    assert contact_calls == []


@responses.activate
def test_scoring_window_limits_payment_detail_requests(store: StateStore, sleeps: Sleeps) -> None:
    serve_full(responses.mock)
    delta = connector(store, sleeps, scoring_window_days=30).pull(None)
    assert {p.allocations[0].invoice_id for p in delta.payments} == {"1008"}


@responses.activate
def test_incremental_pull_follows_changelogs_inserts_updates_deletes(store: StateStore, sleeps: Sleeps) -> None:
    rsps = responses.mock
    since = "2026-11-23T09:00:00+00:00"
    rsps.get(
        f"{BASE}/changelogs/customer_invoices", json=payload("changelog_invoices_page1.json"), match=[cursor_is(None)]
    )
    rsps.get(
        f"{BASE}/changelogs/customer_invoices",
        json=payload("changelog_invoices_page2.json"),
        match=[cursor_is("Y2hhbmdlczoy")],
    )
    rsps.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    rsps.get(f"{BASE}/changelogs/transactions", json=payload("changelog_transactions.json"))
    rsps.get(f"{BASE}/transactions/88004/matched_invoices", json=payload("transaction_88004_matched_invoices.json"))
    matched = dict(payload("transactions_unmatched.json")["items"][0], id=88004, outstanding_balance="0.0")
    rsps.get(f"{BASE}/transactions/88004", json=matched)  # left out of the id filter's answer: read alone
    rsps.get(f"{BASE}/customer_invoices", json=payload("invoices_changed.json"))
    rsps.get(f"{BASE}/customers/57/contacts", json=payload("contacts_empty.json"))
    rsps.get(
        f"{BASE}/customer_invoices/1002/matched_transactions", json=payload("matched_transactions_1002_after.json")
    )

    cursor = json.dumps({"v": 1, "since": since})
    delta = connector(store, sleeps).pull(cursor)

    assert not delta.full
    assert delta.deleted_invoice_ids == ("1006",)
    assert {i.id: i.status for i in delta.invoices} == {"1002": InvoiceStatus.PAID, "1009": InvoiceStatus.OPEN}
    shares = sorted((p.date, p.amount.amount) for p in delta.payments)
    assert shares == [(date(2026, 10, 20), Decimal("1500.00")), (date(2026, 11, 22), Decimal("900.00"))]

    pages = [c for c in rsps.calls if "/changelogs/customer_invoices" in c.request.url]
    assert query(pages[0])["start_date"] == ["2026-11-23T09:00:00Z"] and query(pages[0])["limit"] == ["1000"]
    assert "start_date" not in query(pages[1])  # start_date with a cursor answers 400
    refetch = next(c for c in rsps.calls if urlsplit(_url(c)).path == "/api/external/v2/customer_invoices")
    flt = json.loads(query(refetch)["filter"][0])
    assert {"field": "id", "operator": "in", "value": ["1002", "1009"]} in flt
    new_cursor = PennylaneCursor.loads(delta.cursor)
    assert new_cursor is not None and new_cursor.since.isoformat() > since[:10]


@responses.activate
def test_changelog_older_than_retention_answers_422_and_triggers_full_resync(store: StateStore, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/changelogs/customer_invoices", status=422, json=payload("error_422_changelog.json"))
    serve_full(responses.mock)
    delta = connector(store, sleeps).pull(json.dumps({"v": 1, "since": "2026-09-01T00:00:00+00:00"}))
    assert delta.full and len(delta.invoices) == 8


@responses.activate
def test_429_waits_for_retry_after_then_succeeds(store: StateStore, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/me", status=429, body=(PAYLOADS / "error_429.txt").read_text(), headers={"retry-after": "2"})
    responses.get(f"{BASE}/me", json=payload("me.json"))
    responses.get(f"{BASE}/customer_invoices", json=payload("invoices_page3.json"))
    info = connector(store, sleeps).check()
    assert info.organisation == "Atelier Dupont SARL"
    assert info.open_invoices == 1
    assert sleeps and sleeps[0] >= 2


@responses.activate
def test_pacing_waits_for_the_window_reset_instead_of_collecting_429(store: StateStore, sleeps: Sleeps) -> None:
    now = 1_800_000_000.0
    headers = {"ratelimit-limit": "25", "ratelimit-remaining": "0", "ratelimit-reset": str(int(now) + 3)}
    responses.get(f"{BASE}/me", json=payload("me.json"), headers=headers)
    responses.get(f"{BASE}/customer_invoices", json=payload("invoices_page3.json"))
    pl = PennylaneConnector(TOKEN, cache=store.cache(), as_of=AS_OF, base_url=BASE, sleep=sleeps, clock=lambda: now)
    pl.check()
    assert sleeps == pytest.approx([3.0], abs=0.01)
    assert all(c.response.status_code == 200 for c in responses.calls)


@responses.activate
def test_refetch_invoice_reads_fresh_and_404_means_gone(store: StateStore, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/customer_invoices/1002", json=payload("invoice_1002_paid.json"))
    responses.get(f"{BASE}/customer_invoices/999", status=404, json={"error": "Not found", "status": 404})
    pl = connector(store, sleeps)
    fresh = pl.refetch_invoice("1002")
    assert fresh is not None and fresh.status is InvoiceStatus.PAID and fresh.remaining.amount == 0
    assert pl.refetch_invoice("999") is None


@responses.activate
def test_record_missing_a_field_is_quarantined_naming_platform_endpoint_and_record(
    store: StateStore, sleeps: Sleeps
) -> None:
    responses.get(f"{BASE}/customers", json=payload("customers_page2.json"))
    responses.get(f"{BASE}/customer_invoices", json=payload("invoices_missing_field.json"))
    pl = connector(store, sleeps)
    delta = pl.pull(None)
    assert "1010" not in {i.id for i in delta.invoices}
    (held,) = pl.quarantine.items
    assert held.line().startswith("pennylane GET /customer_invoices record 1010:")
    assert "currency_amount" in held.why


@responses.activate
def test_html_page_from_a_proxy_is_a_clear_error(store: StateStore, sleeps: Sleeps) -> None:
    html = (PAYLOADS / "proxy_502.html").read_text()
    responses.get(f"{BASE}/customers", body=html, status=200, content_type="text/html")
    with pytest.raises(MalformedResponseError) as err:
        connector(store, sleeps).pull(None)
    assert "pennylane GET /customers" in str(err.value) and "HTML page" in str(err.value)


@responses.activate
def test_malformed_json_is_a_clear_error(store: StateStore, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/customers", body='{"has_more": false, "items": [', content_type="application/json")
    with pytest.raises(MalformedResponseError, match="not JSON"):
        connector(store, sleeps).pull(None)


def _foreign(remaining: str, rate: str = "0.9259", status: str = "upcoming", **change: str) -> dict[str, Any]:
    raw = payload("invoices_page2.json")["items"][1]
    raw.update(remaining_amount_with_tax=remaining, exchange_rate=rate, status=status, **change)
    return {"has_more": False, "next_cursor": None, "items": [raw]}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # unpaid, remaining stated in pounds instead of euros: the assumption is wrong
        (_foreign("1000.00", "1.15", currency="GBP", amount="1150.00", currency_amount="1000.00"), "equals the GBP"),
        (_foreign("1080.00"), "above the EUR total"),
        (_foreign("1500.00", status="partially_paid"), "above the EUR total"),
        (_foreign("1000.00", rate="1.5"), "exchange_rate"),
    ],
)
@responses.activate
def test_non_eur_remaining_contradicting_the_eur_assumption_quarantines_the_invoice(
    store: StateStore, sleeps: Sleeps, body: dict[str, Any], words: str
) -> None:
    responses.get(f"{BASE}/customers", json=payload("customers_page2.json"))
    responses.get(f"{BASE}/customer_invoices", json=body)
    pl = connector(store, sleeps)
    assert pl.pull(None).invoices == ()
    (held,) = pl.quarantine.items
    assert held.record == "1005" and words in held.why


@responses.activate
def test_refused_token_never_appears_in_errors_or_logs(
    store: StateStore, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses.get(f"{BASE}/me", status=401, json={"error": f"Invalid token {TOKEN}", "status": 401})
    with pytest.raises(AuthenticationError) as err:
        connector(store, sleeps).check()
    assert TOKEN not in str(err.value) and "***" in str(err.value)
    assert TOKEN not in caplog.text


@responses.activate
def test_missing_scope_is_a_permission_error(store: StateStore, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/customers", status=403, json=payload("error_403.json"))
    with pytest.raises(PermissionDeniedError, match="Missing scope"):
        connector(store, sleeps).pull(None)


@responses.activate
def test_a_refused_id_filter_falls_back_to_one_invoice_at_a_time(store: StateStore, sleeps: Sleeps) -> None:
    rsps = responses.mock
    events = payload("changelog_empty.json")
    events["items"] = payload("changelog_invoices_page1.json")["items"][:1]  # 1002 updated
    rsps.get(f"{BASE}/changelogs/customer_invoices", json=events)
    rsps.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    rsps.get(f"{BASE}/changelogs/transactions", json=payload("changelog_empty.json"))
    rsps.get(
        f"{BASE}/customer_invoices",
        status=400,
        json={"message": "Invalid filter value", "code": "ValidateError"},
    )
    rsps.get(f"{BASE}/customer_invoices/1002", json=payload("invoice_1002_paid.json"))
    rsps.get(
        f"{BASE}/customer_invoices/1002/matched_transactions", json=payload("matched_transactions_1002_after.json")
    )
    delta = connector(store, sleeps).pull(json.dumps({"v": 1, "since": "2026-11-23T09:00:00+00:00"}))
    assert [(i.id, i.status) for i in delta.invoices] == [("1002", InvoiceStatus.PAID)]


@responses.activate
def test_a_refused_draft_filter_lists_drafts_too_and_skips_them(store: StateStore, sleeps: Sleeps) -> None:
    def with_filter(request: Any) -> tuple[bool, str]:
        return "filter" in parse_qs(urlsplit(request.url).query), "no filter"

    def without_filter(request: Any) -> tuple[bool, str]:
        return "filter" not in parse_qs(urlsplit(request.url).query), "a filter"

    draft = dict(payload("invoices_page3.json")["items"][0], id=1099, draft=True, status="draft", date=None)
    listing = {"has_more": False, "next_cursor": None, "items": [draft, *payload("invoices_page3.json")["items"]]}
    responses.get(f"{BASE}/customers", json=payload("customers_page2.json"))
    responses.get(
        f"{BASE}/customer_invoices",
        status=400,
        json={"message": "Invalid boolean", "code": "ValidateError"},
        match=[with_filter],
    )
    responses.get(f"{BASE}/customer_invoices", json=listing, match=[without_filter])
    responses.get(f"{BASE}/customers/63/contacts", json=payload("contacts_empty.json"))
    responses.get(f"{BASE}/customer_invoices/1008/matched_transactions", json=payload("matched_transactions_1008.json"))
    delta = connector(store, sleeps).pull(None)
    assert sorted(i.id for i in delta.invoices) == ["1007", "1008"]


@pytest.mark.parametrize(
    ("conditions", "issued", "due"),
    [
        ("30_days_end_of_month", date(2026, 1, 15), date(2026, 2, 28)),
        ("30_days_end_of_month", date(2026, 1, 31), date(2026, 3, 31)),  # 2 March, then end of March
        ("45_days_end_of_month", date(2026, 12, 20), date(2027, 2, 28)),
        ("30_days_end_of_month", date(2027, 12, 15), date(2028, 1, 31)),
        ("30_days", date(2026, 1, 31), date(2026, 3, 2)),
        ("upon_receipt", date(2026, 5, 4), date(2026, 5, 4)),
        ("custom", date(2026, 5, 4), None),
    ],
)
def test_payment_conditions_give_exact_due_dates(conditions: str, issued: date, due: date | None) -> None:
    from encours.connectors.pennylane import due_date_for

    assert due_date_for(conditions, issued) == due


@responses.activate
def test_an_invoice_without_deadline_is_due_at_the_end_of_month_its_customer_was_granted(
    store: StateStore, sleeps: Sleeps
) -> None:
    customers = payload("customers_page1.json")
    customers["items"] += payload("customers_page2.json")["items"]
    for customer in customers["items"]:
        customer["payment_conditions"] = "30_days_end_of_month"
    invoices = payload("invoices_page2.json")
    for invoice in invoices["items"]:
        invoice.update(deadline=None, date="2026-10-20")
    responses.get(f"{BASE}/customers", json=dict(customers, has_more=False))
    responses.get(f"{BASE}/customer_invoices", json=dict(invoices, has_more=False))
    delta = connector(store, sleeps, fetch_contacts=False).pull(None)
    assert {i.due_date for i in delta.invoices} == {date(2026, 11, 30)}  # 19 November, then end of month


@responses.activate
def test_refetch_invoices_reads_a_pass_in_batches_and_checks_the_answer_for_missing_ids(
    store: StateStore, sleeps: Sleeps
) -> None:
    template = payload("invoices_page2.json")["items"][2]  # 1006, EUR, open
    ids = [str(2000 + n) for n in range(150)]
    served = {i: dict(template, id=int(i), invoice_number=f"F-{i}") for i in ids if i != "2077"}

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        wanted = next(f["value"] for f in json.loads(query(request)["filter"][0]) if f["field"] == "id")
        items = [served[i] for i in wanted if i in served]
        return 200, {}, json.dumps({"has_more": False, "next_cursor": None, "items": items})

    class Call:
        def __init__(self, request: Any) -> None:
            self.request = request

    responses.add_callback(responses.GET, f"{BASE}/customer_invoices", callback=lambda r: answer(Call(r)))
    responses.get(f"{BASE}/customer_invoices/2077", status=404, json={"error": "Not found", "status": 404})
    fresh = connector(store, sleeps).refetch_invoices(ids)
    assert set(fresh) == set(ids) and fresh["2077"] is None
    assert all(fresh[i] is not None and fresh[i].number == f"F-{i}" for i in ids if i != "2077")  # type: ignore[union-attr]
    listings = [c for c in responses.calls if urlsplit(_url(c)).path.endswith("/customer_invoices")]
    assert len(listings) == 2 and len(responses.calls) == 3  # 100 + 50 ids, then the missing one alone


@responses.activate
def test_a_full_pull_cut_off_mid_way_resumes_from_the_page_it_stopped_at(store: StateStore, sleeps: Sleeps) -> None:
    from encours.connectors.source_errors import ServerError

    # The first try: page 3 of the invoices never answers (the connection drops every time).
    serve_full(responses.mock, last_page=requests.ConnectionError("reset by peer"))
    first_try = connector(store, sleeps)
    with pytest.raises(ServerError, match="could not connect"):
        first_try.pull(None)
    asked_first = [c.request.url for c in responses.calls]

    responses.reset()
    serve_full(responses.mock)
    delta = connector(store, sleeps).pull(None)
    asked_again = [urlsplit(_url(c)) for c in responses.calls]
    listings = [u for u in asked_again if u.path.endswith(("/customers", "/customer_invoices"))]
    assert len(listings) == 1 and "eyJpZCI6MTAwNn0" in listings[0].query  # only the page that failed
    assert len({i.number for i in delta.invoices}) == 8  # the kept pages and the new one: the whole ledger
    assert delta.full and len(asked_first) > len(listings)
    # Done: a later full pull starts from page 1 again.
    responses.reset()
    serve_full(responses.mock)
    connector(store, sleeps).pull(None)
    assert sum(1 for c in responses.calls if urlsplit(_url(c)).path.endswith("/customer_invoices")) == 3



@responses.activate
def test_a_resumed_pull_is_exactly_an_uninterrupted_one_and_its_kept_pages_are_small(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    """The first page holds an odd record: quarantined before the cut, still quarantined after the
    resume (its page is kept as Pennylane sent it), and the deltas are the same; the kept pages are
    compressed."""
    from encours.connectors.checkpoint import NAMESPACE, unpack
    from encours.connectors.source_errors import ServerError

    odd = payload("invoices_page1.json")
    odd["items"][0]["date"] = None

    def serve(last_page: Any = None) -> None:
        responses.reset()
        serve_full(responses.mock, last_page)
        responses.replace(responses.GET, f"{BASE}/customer_invoices", json=odd, match=[cursor_is(None)])
        responses.get(f"{BASE}/transactions", json={"has_more": False, "next_cursor": None, "items": []})

    serve()
    with StateStore(tmp_path / "whole.sqlite") as whole:
        straight = connector(whole, sleeps).pull(None)
    with StateStore(tmp_path / "cut.sqlite") as cut:
        serve(requests.ConnectionError("reset by peer"))
        with pytest.raises(ServerError):
            connector(cut, sleeps).pull(None)
        kept = cut.cache().get(NAMESPACE, "pennylane:customer_invoices:0")
        serve()
        resumed = connector(cut, sleeps)
        again = resumed.pull(None)
        held = [q.record for q in resumed.quarantine.items]
    assert (again.invoices, again.customers, again.payments) == (straight.invoices, straight.customers,
                                                                 straight.payments)
    assert held == [str(odd["items"][0]["id"])]  # the odd record of a kept page: still quarantined
    assert kept is not None and kept.startswith("zlib:") and unpack(kept) == odd["items"]
    assert len(kept) < len(json.dumps(odd["items"])) / 2
