"""The re-check before sending reads a whole pass's Sage invoices in a few requests, whatever their
number: Sage cannot filter by id, so it asks what changed since the pass's own pull — and what it
says changed (paid, deleted, touched by a new receipt, now unreadable) is what a reminder must not
ignore."""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from encours.connectors.model import InvoiceStatus, Money
from encours.connectors.sage import TOKENS_NS, SageConnector, SageTokens
from encours.sync.pipeline import refetch
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "sage"
SAGE = "https://api.sage.test/v3.1"
TOKEN_URL = "https://oauth.sage.test/token"
BUSINESS = "9f1e2d3c4b5a69788796a5b4c3d2e1f0"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def envelope(items: list[Any]) -> dict[str, Any]:
    return {"$total": len(items), "$page": 1, "$next": None, "$back": None, "$itemsPerPage": 200, "$items": items}


def asks(param: str | None) -> Any:
    """Matches a listing asking for ``param`` (``None``: neither changes nor deletions)."""

    def match(request: Any) -> tuple[bool, str]:
        query = parse_qs(urlsplit(request.url).query)
        found = next((p for p in ("deleted_since", "updated_or_created_since") if p in query), None)
        return found == param, f"{found} != {param}"

    return match


def ledger_of(count: int) -> list[dict[str, Any]]:
    base = payload("sales_invoices_page1.json")["$items"][0]  # Morel, 1,200 € unpaid
    return [dict(deepcopy(base), id=f"a1{n:030d}", invoice_number=f"FA-{n:04d}", displayed_as=f"FA-{n:04d}")
            for n in range(count)]


@pytest.mark.parametrize("count", [40, 600])
def test_the_re_check_asks_what_changed_since_the_pull_in_five_requests_whatever_the_number(
    tmp_path: Path, count: int
) -> None:
    raws = ledger_of(count)
    ids = [r["id"] for r in raws]
    paid = dict(deepcopy(raws[0]), outstanding_amount=0.0, status={"id": "PAID", "displayed_as": "Payée"})
    unreadable = dict(deepcopy(raws[3]), contact=None)  # changed since the pull, and now cannot be read
    touched = dict(deepcopy(raws[2]), outstanding_amount=700.0, status={"id": "PART_PAID", "displayed_as": "Partielle"})
    receipt = deepcopy(payload("contact_payments.json")["$items"][0])
    receipt["allocated_artefacts"] = [{"id": "aa9", "amount": 500.0, "artefact": {"id": ids[2]}}]
    with StateStore(tmp_path / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
        tokens = SageTokens(store.cache(), client_id="client-abc", client_secret="sage-client-secret-0042",
                            token_url=TOKEN_URL)
        sage = SageConnector(tokens, business_id=BUSINESS, as_of=date(2026, 11, 23), base_url=SAGE,
                             sleep=lambda s: None)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
            rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
            rsps.get(f"{SAGE}/contacts", json=envelope(payload("contacts_page1.json")["$items"]))
            rsps.get(f"{SAGE}/sales_invoices", json=envelope(raws))
            for path in ("/sales_credit_notes", "/contact_payments", "/contact_allocations"):
                rsps.get(f"{SAGE}{path}", json=envelope([]))
            delta = sage.pull(None)
        known = {i.id: i for i in delta.invoices}
        assert len(known) == count

        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            changed = [asks("updated_or_created_since")]
            rsps.get(f"{SAGE}/sales_invoices", json=envelope([paid, unreadable]), match=changed)
            rsps.get(f"{SAGE}/sales_invoices", json=envelope([{"id": ids[1]}]), match=[asks("deleted_since")])
            rsps.get(f"{SAGE}/contact_payments", json=envelope([receipt]), match=changed)
            rsps.get(f"{SAGE}/contact_allocations", json=envelope([]), match=changed)
            rsps.get(f"{SAGE}/sales_invoices/{ids[2]}", json=touched)
            fresh = refetch(sage, ids, known)
            calls = [urlsplit(c.request.url or "") for c in rsps.calls]
    assert len(calls) == 5  # four listings (each one page) and the invoice a new receipt names
    assert {c.path for c in calls} == {"/v3.1/sales_invoices", "/v3.1/contact_payments",
                                       "/v3.1/contact_allocations", f"/v3.1/sales_invoices/{ids[2]}"}
    assert all("mark_as_sent=false" in c.query for c in calls if c.path.endswith(ids[2]))
    assert fresh[ids[0]] is not None and fresh[ids[0]].status is InvoiceStatus.PAID  # paid since: not reminded
    assert fresh[ids[1]] is None  # deleted since
    assert fresh[ids[2]] is not None and fresh[ids[2]].remaining == Money(Decimal("700.00"), "EUR")
    assert fresh[ids[3]] is None  # changed and unreadable: quarantined, never reminded on the old figures
    assert all(fresh[i] is known[i] for i in ids[4:])  # unchanged since the pull: the pass's own copy


def test_without_a_pull_in_this_process_a_few_invoices_are_read_one_by_one(tmp_path: Path) -> None:
    raws = ledger_of(2)
    with StateStore(tmp_path / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
        tokens = SageTokens(store.cache(), client_id="client-abc", client_secret="sage-client-secret-0042",
                            token_url=TOKEN_URL)
        sage = SageConnector(tokens, business_id=BUSINESS, as_of=date(2026, 11, 23), base_url=SAGE,
                             sleep=lambda s: None)
        with responses.RequestsMock() as rsps:
            rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
            rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
            for raw in raws:
                rsps.get(f"{SAGE}/sales_invoices/{raw['id']}", json=raw)
            fresh = refetch(sage, [r["id"] for r in raws], {})
    assert all(v is not None and v.is_open for v in fresh.values()) and len(fresh) == 2


def dossier(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAGE_ID", "client-abc")
    monkeypatch.setenv("SAGE_SECRET", "sage-client-secret-0042")
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\ntimezone = "Europe/Paris"\n\n'
        f'[source]\ntype = "sage"\nclient_id_env = "SAGE_ID"\nclient_secret_env = "SAGE_SECRET"\n'
        f'business_id = "{BUSINESS}"\nbase_url = "{SAGE}"\ntoken_url = "{TOKEN_URL}"\n\n'
        '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n[risk]\nenabled = false\n\n'
        '[sending]\nmode = "outbox"\noutbox = "outbox"\nfrom = "factures@dupont.example"\n'
        'window = "00:00-23:59"\nevery_day = true\n',
        encoding="utf-8",
    )
    with StateStore(folder / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
    return path


@pytest.mark.parametrize("customers", [4, 40])
def test_a_pass_costs_the_same_requests_whether_it_reminds_4_or_40_customers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, customers: int
) -> None:
    from encours.sync.cli import main

    cfg = dossier(tmp_path, monkeypatch)
    base_contact = payload("contacts_page1.json")["$items"][0]
    contacts = [dict(deepcopy(base_contact), id=f"c{n:031d}", name=f"Client {n}", displayed_as=f"Client {n}",
                     email=f"compta{n}@client{n}.fr", main_contact_person=None) for n in range(customers)]
    base_invoice = payload("sales_invoices_page1.json")["$items"][0]
    invoices = [dict(deepcopy(base_invoice), id=f"a1{n:030d}", invoice_number=f"FA-{n:04d}",
                     displayed_as=f"FA-{n:04d}", contact={"id": f"c{n:031d}", "displayed_as": f"Client {n}"})
                for n in range(customers)]

    def serve(rsps: responses.RequestsMock, first: bool) -> None:
        rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
        rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
        lists = {"/contacts": contacts, "/sales_invoices": invoices, "/sales_credit_notes": [],
                 "/contact_payments": [], "/contact_allocations": []}
        for path, items in lists.items():
            rsps.get(f"{SAGE}{path}", json=envelope([]), match=[asks("deleted_since")])
            rsps.get(f"{SAGE}{path}", json=envelope(items if first else []), match=[asks(None)])
            rsps.get(f"{SAGE}{path}", json=envelope([]), match=[asks("updated_or_created_since")])

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, first=True)
        assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, first=False)
        assert main(["run", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
        api = [c for c in rsps.calls if "/token" not in (c.request.url or "")]
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == customers  # every customer reminded
    singles = [c for c in api if urlsplit(c.request.url or "").path.startswith("/v3.1/sales_invoices/")]
    assert singles == []  # no invoice read one by one
    # the incremental pull (statuses, 5 listings of changes, 5 of deletions) and the re-check (4)
    assert len(api) == 15
