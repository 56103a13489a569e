"""Sage records of every kind that cannot be mapped, end to end through `encours sync` and `encours run`:
a contact with neither name nor label, a receipt with no amount, a credit-note allocation with no
date.  Each is named (platform, endpoint, id, why) and left out, the rest of the ledger syncs, the
customers they concern get no reminder, and the next sync reads each one again on its own (no
listing names it any more) until it maps — then the holds lift."""

from __future__ import annotations

import email
import email.policy
import json
from copy import deepcopy
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from encours.connectors.model import Money
from encours.connectors.sage import TOKENS_NS
from encours.sync.cli import main
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "sage"
SAGE = "https://api.sage.test/v3.1"
TOKEN_URL = "https://oauth.sage.test/token"
BUSINESS = "9f1e2d3c4b5a69788796a5b4c3d2e1f0"
MOREL = "c8a1b2c3d4e5f60718293a4b5c6d7e8f"
LONDON = "d9b2c3d4e5f60718293a4b5c6d7e8f90"
DUBOIS = "e0c3d4e5f60718293a4b5c6d7e8f9a01"
RECEIPT = "e3000000000000000000000000000009"
ALLOCATION = "f4000000000000000000000000000009"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def envelope(items: list[Any]) -> dict[str, Any]:
    return {"$total": len(items), "$page": 1, "$next": None, "$back": None, "$itemsPerPage": 200, "$items": items}


@pytest.fixture()
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAGE_ID", "client-abc")
    monkeypatch.setenv("SAGE_SECRET", "sage-client-secret-0042")
    path = tmp_path / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\ntimezone = "Europe/Paris"\n\n'
        f'[source]\ntype = "sage"\nclient_id_env = "SAGE_ID"\nclient_secret_env = "SAGE_SECRET"\n'
        f'business_id = "{BUSINESS}"\nbase_url = "{SAGE}"\ntoken_url = "{TOKEN_URL}"\n\n'
        '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n[risk]\nenabled = false\n\n'
        '[sending]\nmode = "outbox"\noutbox = "outbox"\nfrom = "factures@dupont.example"\n'
        'window = "00:00-23:59"\nevery_day = true\n',
        encoding="utf-8",
    )
    with StateStore(tmp_path / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
    return path


def contacts(*, broken: bool) -> list[dict[str, Any]]:
    morel = payload("contacts_page1.json")["$items"][0]
    london = payload("contacts_page2.json")["$items"][0]
    dubois = dict(deepcopy(morel), id=DUBOIS, name="Café Dubois", displayed_as="Café Dubois",
                  email="compta@cafe-dubois.fr", reference="DUB")
    if broken:
        dubois.update(name=None, displayed_as=None)
    return [morel, london, dubois]


def invoices() -> list[dict[str, Any]]:
    first = payload("sales_invoices_page1.json")["$items"][0]  # Morel FA-0101, 1,200 € due 10/10
    london = dict(deepcopy(payload("sales_invoices_page2.json")["$items"][0]), due_date="2026-10-01")  # GBP
    dubois = dict(deepcopy(first), id="a1000000000000000000000000000006", invoice_number="FA-0106",
                  displayed_as="FA-0106", total_amount=480.0, outstanding_amount=480.0,
                  contact={"id": DUBOIS, "displayed_as": "Café Dubois", "$path": f"/contacts/{DUBOIS}"})
    return [first, london, dubois]


def receipt(*, broken: bool) -> dict[str, Any]:
    raw = deepcopy(payload("contact_payments.json")["$items"][0])
    raw.update(id=RECEIPT, total_amount=None if broken else 200.0, allocated_artefacts=[], reference="ACOMPTE MOREL",
               payment_on_account={"id": "poa9", "total_amount": 200.0, "outstanding_amount": 200.0})
    return raw


def allocation(*, broken: bool) -> dict[str, Any]:
    raw = dict(deepcopy(payload("contact_allocations.json")["$items"][0]), id=ALLOCATION)
    if broken:
        raw["date"] = None
    return raw


def deleted_asked(wanted: bool) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        asked = "deleted_since" in parse_qs(urlsplit(request.url).query)
        return asked == wanted, f"deleted_since {'absent' if wanted else 'present'}"

    return match


def serve(rsps: responses.RequestsMock, *, broken: bool, listed: bool) -> None:
    """``listed``: the listings name the odd records (a full pull); else they are changed since
    long ago and only a read by id finds them."""
    rsps.post(TOKEN_URL, json=payload("token_refreshed.json"))
    rsps.get(f"{SAGE}/artefact_statuses", json=payload("artefact_statuses.json"))
    lists = {
        "/contacts": contacts(broken=broken) if listed else [],
        "/sales_invoices": invoices() if listed else [],
        "/sales_credit_notes": payload("sales_credit_notes.json")["$items"] if listed else [],
        "/contact_payments": [receipt(broken=broken)] if listed else [],
        "/contact_allocations": [allocation(broken=broken)] if listed else [],
    }
    for path, items in lists.items():
        rsps.get(f"{SAGE}{path}", json=envelope([]), match=[deleted_asked(True)])
        rsps.get(f"{SAGE}{path}", json=envelope(items), match=[deleted_asked(False)])
    rsps.get(f"{SAGE}/contacts/{DUBOIS}", json=contacts(broken=broken)[2])
    rsps.get(f"{SAGE}/contact_payments/{RECEIPT}", json=receipt(broken=broken))
    rsps.get(f"{SAGE}/contact_allocations/{ALLOCATION}", json=allocation(broken=broken))


def letters(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted((folder / "outbox").rglob("*.eml")) if (folder / "outbox").exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        found.append((str(message["To"]), body.get_content() if body is not None else ""))
    return found


def test_odd_sage_records_are_quarantined_hold_their_customers_and_are_read_again(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, broken=True, listed=True)
        assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Quarantined: 3 record(s) left out of this sync" in out
    assert f"sage GET /contacts record {DUBOIS}: field 'displayed_as' is empty" in out
    assert f"sage GET /contact_payments record {RECEIPT}: field 'total_amount' is empty" in out
    assert f"sage GET /contact_allocations record {ALLOCATION}: field 'date' is empty" in out
    assert f"reminders held for customer {MOREL} in EUR until sage payment {RECEIPT} maps" in out
    assert f"reminders held for customer {MOREL} in every currency until sage allocation {ALLOCATION} maps" in out
    assert f"reminders held for customer {DUBOIS} in every currency until sage customer {DUBOIS} maps" in out
    with StateStore(cfg.parent / "state.sqlite") as store:
        ledger = store.ledger()
    assert {i.number for i in ledger.invoices} >= {"FA-0101", "FA-0103", "FA-0106"}  # the rest synced
    assert {c.id for c in ledger.customers} == {MOREL, LONDON}
    assert ledger.credits == ()  # the payment on account is unreadable: no guessed credit

    # A pass the same day: only London Bakers is reminded; the odd records, listed nowhere any
    # more (nothing changed), are read again one by one — still odd.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, broken=True, listed=False)
        assert main(["run", "-c", str(cfg), "--as-of", "2026-11-23"]) in (0, 1)
        asked = {urlsplit(c.request.url or "").path for c in rsps.calls}
    out = capsys.readouterr().out
    assert [to for to, _ in letters(cfg.parent)] == ["ap@londonbakers.co.uk"]
    assert {f"/v3.1/contacts/{DUBOIS}", f"/v3.1/contact_payments/{RECEIPT}",
            f"/v3.1/contact_allocations/{ALLOCATION}"} <= asked
    assert "Quarantined: 3 record(s)" in out

    # Fixed at Sage: the next day's pass maps them, the holds lift, Morel is reminded with the
    # 200 € on account deducted and Café Dubois at its address.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, broken=False, listed=False)
        assert main(["run", "-c", str(cfg), "--as-of", "2026-11-24"]) in (0, 1)
    out = capsys.readouterr().out
    assert "Quarantined" not in out
    with StateStore(cfg.parent / "state.sqlite") as store:
        ledger = store.ledger()
    assert [(c.id, c.amount) for c in ledger.credits] == [(RECEIPT, Money(Decimal(200), "EUR"))]
    assert DUBOIS in {c.id for c in ledger.customers}
    sent = letters(cfg.parent)
    assert sorted(to for to, _ in sent) == ["ap@londonbakers.co.uk", "compta@cafe-dubois.fr", "factures@morel.fr"]
    morel = next(text for to, text in sent if to == "factures@morel.fr")
    assert "FA-0101" in morel and "ACOMPTE MOREL" in morel and "− 200,00" in morel


def test_a_customer_movement_of_an_unknown_type_is_quarantined_and_a_refund_is_no_receipt(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contra = dict(receipt(broken=False), transaction_type={"id": "CUSTOMER_CONTRA", "displayed_as": "Compensation"})
    refund = dict(receipt(broken=False), id="e3000000000000000000000000000010", payment_on_account=None,
                  transaction_type={"id": "CUSTOMER_REFUND", "displayed_as": "Remboursement client"})
    refund["contact"] = {"id": LONDON, "displayed_as": "London Bakers Ltd"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, broken=False, listed=True)
        rsps.replace(responses.GET, f"{SAGE}/contact_payments", json=envelope([contra, refund]),
                     match=[deleted_asked(False)])
        assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert f"sage GET /contact_payments record {RECEIPT}: transaction_type 'CUSTOMER_CONTRA' is not a customer " \
           "receipt encours knows" in out
    assert f"reminders held for customer {MOREL} in EUR until sage payment {RECEIPT} maps" in out
    with StateStore(cfg.parent / "state.sqlite") as store:
        ledger = store.ledger()
    assert ledger.credits == () and not [p for p in ledger.payments if p.id == refund["id"]]  # a refund pays out
