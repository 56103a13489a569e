"""`encours check` on a Pennylane source: what it reached, exit codes, no secret printed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import responses

from encours.sync.check import CHECKS, register_check, run_checks
from encours.sync.cli import main
from encours.sync.config import load_config

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "pennylane"
BASE = "https://pennylane.test/api/external/v2"
TOKEN = "pl-check-token-5a6b7c8d9e0f"


def write(folder: Path) -> Path:
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\n\n'
        f'[source]\ntype = "pennylane"\ntoken_env = "PL_TOKEN"\nbase_url = "{BASE}"\n',
        encoding="utf-8",
    )
    return path


@responses.activate
def test_check_says_what_it_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PL_TOKEN", TOKEN)
    responses.get(f"{BASE}/me", json=json.loads((PAYLOADS / "me.json").read_text()))
    invoices = json.loads((PAYLOADS / "invoices_page3.json").read_text())
    responses.get(f"{BASE}/customer_invoices", json=invoices)
    empty = json.loads((PAYLOADS / "changelog_empty.json").read_text())
    for path in ("customers", "transactions", "changelogs/customer_invoices", "changelogs/customers",
                 "changelogs/transactions"):
        responses.get(f"{BASE}/{path}", json=empty)  # every endpoint the sync uses is read once
    first = invoices["items"][0]["id"]
    responses.get(f"{BASE}/customer_invoices/{first}", json=invoices["items"][0])
    for path in ("matched_transactions", "payments"):
        responses.get(f"{BASE}/customer_invoices/{first}/{path}", json=empty)
    code = main(["check", "-c", str(write(tmp_path)), "--as-of", "2026-11-23"])
    out = capsys.readouterr().out
    assert code == 0
    assert "✓ source: pennylane: reached Atelier Dupont SARL — 1 open invoices" in out


@responses.activate
def test_refused_token_fails_the_check_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PL_TOKEN", TOKEN)
    responses.get(f"{BASE}/me", status=401, json={"error": "Unauthorized", "status": 401})
    code = main(["check", "-c", str(write(tmp_path))])
    captured = capsys.readouterr()
    assert code == 1
    assert "✗ source: pennylane GET /me: HTTP 401" in captured.out
    assert TOKEN not in captured.out + captured.err


def test_missing_token_variable_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PL_TOKEN", raising=False)
    assert main(["check", "-c", str(write(tmp_path))]) == 2
    assert "PL_TOKEN is not set" in capsys.readouterr().err


@responses.activate
def test_other_checks_run_after_the_source_even_when_it_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TOKEN", TOKEN)
    responses.get(f"{BASE}/me", status=403, json={"error": "Missing scope", "status": 403})
    before = list(CHECKS)
    register_check("sheet", lambda config, store, as_of: ["workbook writable"])
    try:
        lines, ok = run_checks(load_config(write(tmp_path)), as_of=date(2026, 11, 23))
    finally:
        CHECKS[:] = before
    assert not ok
    assert lines[0].startswith("✗ source: pennylane GET /me") and lines[1] == "✓ sheet: workbook writable"
