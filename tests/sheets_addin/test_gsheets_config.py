"""``[sheet] type = "gsheets"`` from encours.toml: sign-in modes, ``encours check`` and a whole sync."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_sheets_server import FakeSheetsServer

from encours.connectors.errors import ConfigError
from encours.sync.check import run_checks
from encours.sync.config import Config, config_from_mapping
from encours.sync.pull import open_sheet, sync

SA_EMAIL = "encours-bot@atelier-dupont.iam.gserviceaccount.com"


@pytest.fixture()
def server() -> Any:
    with FakeSheetsServer() as s:
        yield s


def make_config(tmp_path: Path, sheet: dict[str, Any], environ: dict[str, str] | None = None) -> Config:
    raw = {
        "company": {"name": "Atelier Dupont SARL", "state": "state.sqlite"},
        "source": {"type": "demo"},
        "sheet": {"type": "gsheets", **sheet},
    }
    return config_from_mapping(raw, tmp_path / "encours.toml", environ or {})


def service_account_key(folder: Path, token_uri: str) -> Path:
    """A real service-account JSON key (a fresh RSA key) whose token endpoint is the local server."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    path = folder / "encours-key.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "atelier-dupont", "private_key_id": "k1", "private_key": pem,
        "client_email": SA_EMAIL, "client_id": "1", "token_uri": token_uri,
    }), encoding="utf-8")
    return path


def test_service_account_key_signs_in_and_check_says_who_and_can_edit(server: FakeSheetsServer,
                                                                       tmp_path: Path) -> None:
    key = service_account_key(tmp_path, server.base_url + "/token")
    server.require_token = server.issued_token  # only a token obtained with the signed JWT is accepted
    config = make_config(tmp_path, {"spreadsheet_id": "https://docs.google.com/spreadsheets/d/sheet-1/edit#gid=0",
                                    "credentials_env": "ENCOURS_GOOGLE_KEY", "api_base_url": server.base_url},
                         {"ENCOURS_GOOGLE_KEY": str(key)})
    lines, ok = run_checks(config, as_of=date(2026, 11, 23))
    assert ok, lines
    sheet_lines = [line for line in lines if line.startswith("✓ sheet")]
    assert any(f"signed in as service account {SA_EMAIL}" in line for line in sheet_lines)
    assert any(line.endswith("can edit it") for line in sheet_lines)
    assert server.token_grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]

    server.read_only = True
    lines, ok = run_checks(config, as_of=date(2026, 11, 23))
    assert not ok
    assert any(line.startswith("✗ sheet") and "share it with that account as Editor" in line for line in lines)


def test_a_whole_sync_fills_the_google_sheet(server: FakeSheetsServer, tmp_path: Path) -> None:
    config = make_config(tmp_path, {"spreadsheet_id": "sheet-1", "auth": "token", "token_env": "GTOKEN",
                                    "api_base_url": server.base_url}, {"GTOKEN": "ya29.test-token"})
    server.require_token = "ya29.test-token"
    summary = sync(config, as_of=date(2026, 11, 23), now=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert summary.open_invoices > 0
    ids = [r["ID"] for r in server.records("Factures") if r.get("ID")]
    assert len(ids) >= summary.open_invoices
    assert "Google Sheet sheet-1" in summary.sheet


@pytest.mark.parametrize(
    ("sheet", "environ", "key", "words"),
    [
        ({"spreadsheet_id": "x", "credentials_env": "NOPE"}, {}, "[sheet] credentials_env", "NOPE is not set"),
        ({"spreadsheet_id": "x", "credentials_env": "K"}, {"K": "/nowhere/key.json"}, "[sheet] credentials_env",
         "/nowhere/key.json does not exist"),
        ({"spreadsheet_id": "x"}, {}, "[sheet] auth", "say how to sign in"),
        ({"credentials_env": "K"}, {"K": "k"}, "[sheet] spreadsheet_id", "is required"),
    ],
)
def test_bad_sheet_settings_name_the_key(tmp_path: Path, sheet: dict[str, Any], environ: dict[str, str],
                                         key: str, words: str) -> None:
    config = make_config(tmp_path, sheet, environ)
    with pytest.raises(ConfigError) as error:
        open_sheet(config)
    assert error.value.key == key
    assert words in str(error.value)
    assert "k" not in environ or environ["k"] not in str(error.value)


def test_anonymous_sign_in_is_only_for_a_local_server(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"spreadsheet_id": "x", "auth": "none"})
    with pytest.raises(ConfigError, match="say how to sign in"):
        open_sheet(config)


def test_oauth_for_a_person_at_a_desk_reuses_the_stored_authorisation(server: FakeSheetsServer,
                                                                      tmp_path: Path) -> None:
    """After the one-time browser flow, gspread's authorized_user file is used without a browser.

    (google-auth always refreshes such tokens at Google's endpoint, so the stored token is still valid here.)
    """
    token_file = tmp_path / "authorized_user.json"
    token_file.write_text(json.dumps({
        "type": "authorized_user", "client_id": "encours.apps.googleusercontent.com", "client_secret": "s",
        "refresh_token": "1//refresh", "token": "ya29.stored", "expiry": "2999-01-01T00:00:00Z",
        "account": "claire@atelier.fr",
    }), encoding="utf-8")
    server.require_token = "ya29.stored"
    config = make_config(tmp_path, {"spreadsheet_id": "sheet-1", "auth": "oauth", "api_base_url": server.base_url,
                                    "oauth_token_file": str(token_file)})
    lines, ok = run_checks(config, as_of=date(2026, 11, 23))
    assert ok, lines
    assert any("signed in as OAuth user claire@atelier.fr" in line for line in lines)


def test_oauth_without_a_client_file_says_where_to_get_one(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"spreadsheet_id": "sheet-1", "auth": "oauth",
                                    "oauth_token_file": str(tmp_path / "none.json"),
                                    "oauth_client_file": str(tmp_path / "client.json")})
    with pytest.raises(ConfigError, match="OAuth client ID, desktop app") as error:
        open_sheet(config)
    assert error.value.key == "[sheet] oauth_client_file"


def test_refused_credentials_end_with_a_clear_error_not_a_loop(server: FakeSheetsServer, tmp_path: Path) -> None:
    key = service_account_key(tmp_path, server.base_url + "/token")
    server.require_token = "a-token-this-key-never-gets"
    config = make_config(tmp_path, {"spreadsheet_id": "sheet-1", "credentials_env": "K",
                                    "api_base_url": server.base_url}, {"K": str(key)})
    lines, ok = run_checks(config, as_of=date(2026, 11, 23))
    assert not ok
    assert any(line.startswith("✗ sheet") and "401" in line and "refused" in line for line in lines)
    assert 1 < len(server.token_grants) <= 3  # google-auth refreshed and retried a bounded number of times
