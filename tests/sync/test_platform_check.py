"""`encours check` proves the sync will work: every endpoint the sync and the re-check use is read
once, and a missing scope (Pennylane) or role (Sage) is named per endpoint, in the platform's words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses

from encours.connectors.sage import TOKENS_NS
from encours.sync.cli import main
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
PL = "https://pennylane.test/api/external/v2"
SAGE = "https://api.sage.test/v3.1"
SAGE_TOKEN = "https://oauth.sage.test/token"
BUSINESS = "9f1e2d3c4b5a69788796a5b4c3d2e1f0"


def payload(platform: str, name: str) -> Any:
    return json.loads((PAYLOADS / platform / name).read_text(encoding="utf-8"))


def write_config(folder: Path, source: str) -> Path:
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\n\n'
        f"[source]\n{source}\n\n"
        '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n[risk]\nenabled = false\n',
        encoding="utf-8",
    )
    return path


def pennylane(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PL_TOKEN", "pl-check-token-5678")
    return write_config(folder, f'type = "pennylane"\ntoken_env = "PL_TOKEN"\nbase_url = "{PL}"')


def serve_pennylane(scopes: list[str]) -> None:
    responses.get(f"{PL}/me", json=dict(payload("pennylane", "me.json"), scopes=scopes))
    responses.get(f"{PL}/customers", json=dict(payload("pennylane", "customers_page1.json"), has_more=False))
    responses.get(f"{PL}/customer_invoices", json=dict(payload("pennylane", "invoices_page2.json"), has_more=False))
    for resource in ("customer_invoices", "customers"):
        responses.get(f"{PL}/changelogs/{resource}", json=payload("pennylane", "changelog_empty.json"))
    responses.get(f"{PL}/changelogs/transactions", json=payload("pennylane", "changelog_transactions.json"))
    responses.get(f"{PL}/transactions", json=payload("pennylane", "transactions_unmatched.json"))
    responses.get(f"{PL}/customer_invoices/1004", json=payload("pennylane", "invoice_1002_paid.json"))
    responses.get(f"{PL}/customer_invoices/1004/matched_transactions",
                  json=payload("pennylane", "matched_transactions_empty.json"))
    responses.get(f"{PL}/customer_invoices/1004/payments", json=payload("pennylane", "changelog_empty.json"))
    responses.get(f"{PL}/customers/42/contacts", json=payload("pennylane", "contacts_empty.json"))
    tx = payload("pennylane", "changelog_transactions.json")["items"][0]["id"]
    responses.get(f"{PL}/transactions/{tx}/matched_invoices",
                  json=payload("pennylane", "transaction_88004_matched_invoices.json"))
    responses.get(f"{PL}/customers/42", json=payload("pennylane", "customers_page1.json")["items"][0])
    responses.get(f"{PL}/transactions/{tx}", json=payload("pennylane", "transactions_unmatched.json")["items"][0])


@responses.activate
def test_pennylane_token_with_every_scope_passes_endpoint_by_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = pennylane(tmp_path, monkeypatch)
    serve_pennylane(["customer_invoices:readonly", "customers:readonly", "transactions:readonly"])
    assert main(["check", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    for endpoint in ("GET /changelogs/transactions", "GET /transactions/{id}/matched_invoices",
                     "GET /customer_invoices/{id}/matched_transactions", "GET /customers/{id}/contacts",
                     "GET /customers/{id}", "GET /transactions/{id}"):
        assert f"✓ source: pennylane {endpoint}: OK" in out
    assert "✗" not in out


@responses.activate
def test_pennylane_token_without_transactions_scope_is_refused_before_the_first_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = pennylane(tmp_path, monkeypatch)
    serve_pennylane(["customer_invoices:readonly", "customers:readonly"])
    assert main(["check", "-c", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert "✗ source: pennylane GET /changelogs/transactions: the token lacks the scope transactions:readonly" in out
    assert "✗ source: pennylane GET /transactions/{id}/matched_invoices: the token lacks the scope" in out
    assert "✓ source: pennylane GET /customer_invoices: OK" in out
    assert not any("/changelogs/transactions" in call.request.url for call in responses.calls)


@responses.activate
def test_pennylane_endpoint_refused_with_403_names_the_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = pennylane(tmp_path, monkeypatch)
    responses.get(f"{PL}/customers", status=403, json=payload("pennylane", "error_403.json"))
    serve_pennylane([])  # an older token: /me lists no scopes, so each endpoint is asked
    assert main(["check", "-c", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert "✗ source: pennylane GET /customers: refused (403): needs the scope customers:readonly" in out


def sage(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAGE_ID", "client-abc")
    monkeypatch.setenv("SAGE_SECRET", "sage-client-secret-0042")
    cfg = write_config(
        folder,
        f'type = "sage"\nclient_id_env = "SAGE_ID"\nclient_secret_env = "SAGE_SECRET"\nbusiness_id = "{BUSINESS}"\n'
        f'base_url = "{SAGE}"\ntoken_url = "{SAGE_TOKEN}"',
    )
    with StateStore(folder / "state.sqlite") as store:
        store.cache().put(TOKENS_NS, "refresh_token", "rt-initial-0001")
    return cfg


def serve_sage(refused: dict[str, int]) -> None:
    responses.post(SAGE_TOKEN, json=payload("sage", "token_refreshed.json"))
    responses.get(f"{SAGE}/businesses/{BUSINESS}", json=payload("sage", "business.json"))
    bodies = {
        "/artefact_statuses": "artefact_statuses.json", "/contacts": "contacts_page2.json",
        "/sales_invoices": "sales_invoices_page2.json", "/sales_credit_notes": "sales_credit_notes.json",
        "/contact_payments": "contact_payments.json", "/contact_allocations": "contact_allocations.json",
    }
    denied = [{"$severity": "error", "$dataCode": "AccessDenied", "$message": "You do not have access", "$source": ""}]
    for path, name in bodies.items():
        if path in refused:
            responses.get(f"{SAGE}{path}", status=refused[path], json=denied)
        else:
            responses.get(f"{SAGE}{path}", json=payload("sage", name))
    first = payload("sage", "sales_invoices_page2.json")["$items"][0]["id"]
    responses.get(f"{SAGE}/sales_invoices/{first}", json=payload("sage", "sales_invoice_single.json"))
    for path, name in bodies.items():  # the reads by id of quarantined records, next sync
        if path in ("/contacts", "/contact_payments", "/contact_allocations") and path not in refused:
            item = payload("sage", name)["$items"][0]
            responses.get(f"{SAGE}{path}/{item['id']}", json=item)


@responses.activate
def test_sage_read_only_user_is_told_which_roles_the_sync_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = sage(tmp_path, monkeypatch)
    serve_sage({"/contact_allocations": 403, "/contact_payments": 403})
    assert main(["check", "-c", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert ("✗ source: sage GET /contact_allocations: refused (403): needs Full Access in Sales, Purchases "
            "and Contacts") in out
    assert "✗ source: sage GET /contact_payments: refused (403): needs a Bank role" in out
    assert "✓ source: sage GET /sales_invoices: OK" in out
    assert "✓ source: sage GET /sales_invoices/{id}: OK" in out
    assert "sage-client-secret-0042" not in out


@responses.activate
def test_sage_user_with_every_role_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = sage(tmp_path, monkeypatch)
    serve_sage({})
    assert main(["check", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert out.count("✓ source: sage GET ") == 11 and "✗" not in out
    assert "✓ source: sage GET /contact_payments/{id}: OK" in out


def test_cleartext_http_to_a_remote_host_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PL_TOKEN", "pl-check-token-5678")
    cfg = write_config(
        tmp_path, 'type = "pennylane"\ntoken_env = "PL_TOKEN"\nbase_url = "http://pennylane.example.com/v2"'
    )
    assert main(["check", "-c", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "[source] base_url" in err and "https://" in err and len(err.strip().splitlines()) == 1


@responses.activate
def test_a_refused_token_stops_the_sync_with_exit_2_and_one_line_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = pennylane(tmp_path, monkeypatch)
    responses.get(f"{PL}/customers", status=401, json={"error": "Unauthorized", "status": 401})
    assert main(["sync", "-c", str(cfg), "--as-of", "2026-11-23"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("encours: error:")]
    assert len(lines) == 1 and "[source] token_env" in lines[0] and "HTTP 401" in lines[0]
    assert "Traceback" not in err
    assert "pl-check-token-5678" not in err


@pytest.mark.parametrize("form", ["plain", "url", "base64", "json"])
@responses.activate
def test_a_token_echoed_by_a_failing_server_reaches_no_console_log_or_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture, form: str,
) -> None:
    import base64
    import logging
    from urllib.parse import quote

    token = "pl/Echo+Token=7f3a9c2e81d4"
    monkeypatch.setenv("PL_TOKEN", token)
    cfg = write_config(tmp_path, f'type = "pennylane"\ntoken_env = "PL_TOKEN"\nbase_url = "{PL}"')
    echoed = {"plain": token, "url": quote(token, safe=""), "base64": base64.b64encode(f"x:{token}".encode()).decode(),
              "json": token.replace("/", "\\/")}[form]
    body = '{"error": "invalid request from ' + echoed + " " + "z" * 300 + '"}'
    responses.get(f"{PL}/customers", status=422, body=body, content_type="application/json")
    caplog.set_level(logging.DEBUG)
    assert main(["-v", "sync", "-c", str(cfg), "--as-of", "2026-11-23"]) != 0
    shown = capsys.readouterr()
    seen = shown.out + shown.err + caplog.text + (tmp_path / "state.sqlite").read_bytes().decode("latin-1")
    pieces = [token[:10], token[-10:], quote(token, safe="")[:12], base64.b64encode(token.encode()[3:15]).decode()]
    assert not [p for p in pieces if p in seen]
