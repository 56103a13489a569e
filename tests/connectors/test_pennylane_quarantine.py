"""Every kind of Pennylane record that cannot be mapped is quarantined, end to end through `encours sync`
and `encours run`: a customer without a name, a bank transfer whose amount is not a number, a credit
note whose total is not a number, a transaction whose matched invoices cannot be read.  Each is
named (platform, endpoint, id, why), left out, asked for again at the next sync; the rest of the
ledger syncs; and the customers a left-out record may concern get no reminder until it maps —
never a reminder to someone who may have paid."""

from __future__ import annotations

import email
import email.policy
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
AS_OF = "2026-11-23"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def page(items: list[Any]) -> dict[str, Any]:
    return {"has_more": False, "next_cursor": None, "items": items}


def config(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PL_TOKEN", "pl-quarantine-token-5678")
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\ntimezone = "Europe/Paris"\n\n'
        f'[source]\ntype = "pennylane"\ntoken_env = "PL_TOKEN"\nbase_url = "{BASE}"\n\n'
        '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n[risk]\nenabled = false\n\n'
        '[sending]\nmode = "outbox"\noutbox = "outbox"\nfrom = "factures@dupont.example"\n'
        'window = "00:00-23:59"\nevery_day = true\n',
        encoding="utf-8",
    )
    return path


def customers(*, broken: bool) -> list[dict[str, Any]]:
    base = payload("customers_page1.json")["items"]
    lefevre, martin = deepcopy(base[0]), deepcopy(base[1])
    lefevre["payment_conditions"] = martin["payment_conditions"] = "30_days"
    roux = dict(deepcopy(martin), id=63, name="Roux Transports", emails=["compta@roux-transports.fr"],
                reference="CLI-63", external_reference="7a1c00000063")
    if broken:
        roux["name"] = None  # spec-valid JSON, yet a customer without a name cannot be written to
    return [lefevre, martin, roux]


def overdue(ident: int, customer: int, amount: str, *, currency: str = "EUR") -> dict[str, Any]:
    raw = deepcopy(payload("invoices_page2.json")["items"][1])
    raw.update(id=ident, invoice_number=f"F-2026-{ident}", currency=currency, amount=amount, currency_amount=amount,
               exchange_rate="1.0", remaining_amount_with_tax=amount, date="2026-09-01", deadline="2026-10-01",
               status="late", paid=False, customer={"id": customer, "url": f"{BASE}/customers/{customer}"})
    return raw


def invoices(*, broken: bool) -> list[dict[str, Any]]:
    note = overdue(2004, 57, "-150.00", currency="USD")
    note.update(status="credit_note", invoice_number="AV-2026-2004", remaining_amount_with_tax="-150.00")
    if broken:
        note["currency_amount"] = "cent cinquante"  # not an amount
    return [overdue(2001, 42, "1000.00"), overdue(2002, 57, "400.00"), overdue(2003, 63, "250.00"),
            overdue(2005, 57, "900.00", currency="USD"), note]


def transactions(*, broken: bool) -> list[dict[str, Any]]:
    transfer = dict(deepcopy(payload("transactions_unmatched.json")["items"][0]), id=88200)
    if broken:
        transfer["outstanding_balance"] = "3OO.OO"  # letters O for zeros: not an amount
    return [transfer]


def serve(*, broken: bool, incremental: bool = False) -> None:
    if incremental:
        for resource in ("customer_invoices", "customers", "transactions"):
            responses.get(f"{BASE}/changelogs/{resource}", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/customers", json=page(customers(broken=broken)))
    responses.get(f"{BASE}/customer_invoices", json=page(invoices(broken=broken)))
    responses.get(f"{BASE}/transactions", json=page(transactions(broken=broken)))
    for cid in (42, 57, 63):
        responses.get(f"{BASE}/customers/{cid}/contacts", json=payload("contacts_empty.json"))


def reminded(folder: Path) -> list[str]:
    """The recipients of the e-mails in the outbox."""
    found = []
    for path in sorted((folder / "outbox").rglob("*.eml")) if (folder / "outbox").exists() else []:
        found.append(str(email.message_from_bytes(path.read_bytes())["To"]))
    return found


def next_actions(workbook: Path) -> dict[str, str]:
    """Invoice number -> what ``Factures`` shows as its next action."""
    from openpyxl import load_workbook

    rows = list(load_workbook(workbook, read_only=True)["Factures"].iter_rows(values_only=True))
    heading = next(i for i, row in enumerate(rows) if "Prochaine action" in row)
    header = list(rows[heading])
    number, action = header.index("N° facture"), header.index("Prochaine action")
    return {str(r[number]): str(r[action]) for r in rows[heading + 1:] if r[number]}


def letters(folder: Path) -> list[tuple[str, str]]:
    """(recipient, plain text) of each e-mail in the outbox."""
    found = []
    for path in sorted((folder / "outbox").rglob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        found.append((str(message["To"]), body.get_content() if body is not None else ""))
    return found


@responses.activate
def test_odd_records_of_every_kind_are_quarantined_and_hold_what_they_touch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, monkeypatch)
    serve(broken=True)
    assert main(["sync", "-c", str(cfg), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "Quarantined: 3 record(s) left out of this sync" in out
    assert "pennylane GET /customers record 63: field 'name' is empty" in out
    assert "pennylane GET /transactions record 88200: field 'outstanding_balance' is not an amount: '3OO.OO'" in out
    assert "pennylane GET /customer_invoices record 2004: field 'currency_amount' is not an amount" in out
    assert "reminders held for customer 42 in EUR until pennylane payment 88200 maps" in out
    assert "reminders held for customer 63 in every currency until pennylane customer 63 maps" in out
    assert "reminders held for customer 57 in USD until pennylane invoice 2004 maps" in out
    with StateStore(tmp_path / "state.sqlite") as store:
        ledger = store.ledger()
    assert {i.id for i in ledger.invoices} == {"2001", "2002", "2003", "2005"}  # the rest synced
    assert {c.id for c in ledger.customers} == {"42", "57"}
    assert ledger.credits == ()  # the unreadable transfer: no guessed credit

    # A pass: Martin's EUR invoice is reminded; Lefèvre (a payment of theirs is unreadable), Roux
    # (no readable customer record) and Martin's USD invoice (an unreadable USD credit note) are not.
    responses.reset()
    serve(broken=True, incremental=True)
    assert main(["run", "-c", str(cfg), "--as-of", AS_OF]) in (0, 1)
    out = capsys.readouterr().out
    assert reminded(tmp_path) == ["jeanne.martin@example.org"]
    shown = next_actions(tmp_path / "encours.xlsx")
    held = "Relance retenue : paiement illisible à la source (pennylane payment 88200), à corriger"
    assert shown["F-2026-2001"] == held
    assert shown["F-2026-2005"].startswith("Relance retenue : avoir illisible")
    assert shown["F-2026-2003"].startswith("Relance retenue : fiche client illisible")  # not "Client inconnu"
    assert "reminders held for customer 42 in EUR" in out
    asked = [c.request.url or "" for c in responses.calls]
    assert any("/customers?" in u and "63" in u for u in asked)  # retried though no changelog lists it
    assert any("/transactions?" in u and "88200" in u for u in asked)
    martin_usd = [c.request.url for c in responses.calls if "2005" in (c.request.url or "")]
    assert martin_usd == [] or all("/customer_invoices?" in (u or "") for u in martin_usd)

    # Fixed at the source: the next day's pass maps every record, the holds lift, and the others
    # are reminded, the credits deducted (Lefèvre's 300 € transfer, Martin's 150 USD credit note).
    responses.reset()
    serve(broken=False, incremental=True)
    assert main(["run", "-c", str(cfg), "--as-of", "2026-11-24"]) in (0, 1)
    out = capsys.readouterr().out
    assert "Quarantined" not in out
    with StateStore(tmp_path / "state.sqlite") as store:
        ledger = store.ledger()
    assert [(c.customer_id, c.amount) for c in ledger.credits] == [("42", Money(Decimal(300), "EUR"))]
    assert "63" in {c.id for c in ledger.customers} and "2004" in {i.id for i in ledger.invoices}
    assert sorted(reminded(tmp_path)) == ["compta@lefevre-menuiserie.fr", "compta@roux-transports.fr",
                                          "jeanne.martin@example.org", "jeanne.martin@example.org"]
    texts = letters(tmp_path)
    assert any("lefevre" in to and "LEFEVRE ACOMPTE du 10/11/2026 : − 300,00" in text for to, text in texts)
    assert any("martin" in to and "AV-2026-2004 du 01/09/2026 : − 150,00" in text for to, text in texts)


@responses.activate
def test_a_transaction_whose_matches_cannot_be_read_is_followed_again_next_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, monkeypatch)
    serve(broken=False)
    assert main(["sync", "-c", str(cfg), "--as-of", AS_OF]) == 0
    capsys.readouterr()

    responses.reset()
    changed = page([{"id": 88200, "operation": "update", "processed_at": "2026-11-23T08:00:00Z"}])
    responses.get(f"{BASE}/changelogs/customer_invoices", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/transactions", json=changed)
    responses.get(f"{BASE}/transactions", json=page(transactions(broken=False)))
    responses.get(f"{BASE}/transactions/88200/matched_invoices", json=page([{"invoice_number": "F-2026-2001"}]))
    assert main(["sync", "-c", str(cfg), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "pennylane GET /transactions/{id}/matched_invoices record 88200: field 'id' is missing" in out
    assert "reminders held for customer 42 in EUR until pennylane allocation 88200 maps" in out

    responses.reset()  # nothing changed since, yet the transaction is followed again — and now reads
    for resource in ("customer_invoices", "customers", "transactions"):
        responses.get(f"{BASE}/changelogs/{resource}", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/transactions/88200/matched_invoices", json=page([{"id": 2001}]))
    responses.get(f"{BASE}/customer_invoices", json=page(invoices(broken=False)[:1]))
    responses.get(f"{BASE}/customers/42/contacts", json=payload("contacts_empty.json"))
    assert main(["sync", "-c", str(cfg), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "Quarantined" not in out
    assert any("/customer_invoices?" in (c.request.url or "") and "2001" in (c.request.url or "")
               for c in responses.calls)  # the invoice it pays is read again


@responses.activate
def test_a_contact_that_cannot_be_read_holds_its_customer_until_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, monkeypatch)
    odd = payload("contacts_42.json")
    odd["items"][0]["email"] = ["p.girard@lefevre-menuiserie.fr"]  # a list where text is expected
    serve(broken=False)
    responses.replace(responses.GET, f"{BASE}/customers/42/contacts", json=odd)
    assert main(["run", "-c", str(cfg), "--as-of", AS_OF]) in (0, 1)
    out = capsys.readouterr().out
    assert "pennylane GET /customers/{id}/contacts record 42: contact 7001: field 'email' is not text" in out
    assert "reminders held for customer 42 in every currency until pennylane customer 42 maps" in out
    assert "compta@lefevre-menuiserie.fr" not in reminded(tmp_path)  # who to write to is not certain
    with StateStore(tmp_path / "state.sqlite") as store:
        assert store.ledger().customer_index()["42"].name == "Menuiserie Lefèvre SARL"  # the record itself synced

    responses.reset()  # nothing changed; the customer and its contacts are asked again, and now read
    serve(broken=False, incremental=True)
    responses.replace(responses.GET, f"{BASE}/customers/42/contacts", json=payload("contacts_42.json"))
    assert main(["run", "-c", str(cfg), "--as-of", "2026-11-24"]) in (0, 1)
    out = capsys.readouterr().out
    assert "Quarantined" not in out
    assert "compta@lefevre-menuiserie.fr" in reminded(tmp_path)
    with StateStore(tmp_path / "state.sqlite") as store:
        (girard,) = store.ledger().customer_index()["42"].contacts
    assert girard.email == "p.girard@lefevre-menuiserie.fr"


@responses.activate
def test_a_changelog_operation_pennylane_adds_later_reads_the_record_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, monkeypatch)
    serve(broken=False)
    assert main(["sync", "-c", str(cfg), "--as-of", AS_OF]) == 0
    capsys.readouterr()

    responses.reset()
    for resource in ("customers", "transactions"):
        responses.get(f"{BASE}/changelogs/{resource}", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/customer_invoices", json=page(
        [{"id": 2002, "operation": "archive", "processed_at": "2026-11-23T08:00:00Z"}]))
    paid = dict(overdue(2002, 57, "400.00"), remaining_amount_with_tax="0.00", status="paid", paid=True)
    responses.get(f"{BASE}/customer_invoices", json=page([paid]))
    responses.get(f"{BASE}/customer_invoices/2002/matched_transactions", json=page([]))
    responses.get(f"{BASE}/customer_invoices/2002/payments", json=page([]))
    assert main(["sync", "-c", str(cfg), "--as-of", AS_OF]) == 0  # not a crash on a spec-valid novelty
    with StateStore(tmp_path / "state.sqlite") as store:
        invoice = store.invoice("2002")
    assert invoice is not None and not invoice.is_open  # read again as an update: now paid
