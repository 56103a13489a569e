"""Signing in to Google Sheets from ``[sheet]``: service account, OAuth at a desk, a token, or none.

A service-account JSON key (its path in the env variable named by ``credentials_env``) for the
server; gspread's local browser flow for a person at a desk (``auth = "oauth"``, the token kept in
``oauth_token_file``); an access token (``auth = "token"``, ``token_env``); no credentials only for
a local server (``api_base_url``).  Every function returns the credentials and a description of
who they are, for ``encours check`` — never a secret.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from google.auth.credentials import AnonymousCredentials, Credentials

from encours.connectors.errors import ConfigError

SCOPES = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive.file")


def anonymous() -> Credentials:
    creds: Credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    return creds


def spreadsheet_key(text: str) -> str:
    """The spreadsheet ID, also when a whole URL was pasted."""
    match = re.search(r"/spreadsheets/d/([A-Za-z0-9_-]+)", text)
    return match.group(1) if match else text.strip()



def credentials_from_section(section: Any, *, local: bool = False) -> tuple[Credentials | None, str]:
    """Credentials and a description of who they are, from ``[sheet]``; never logs a secret."""
    auth = section.text("auth", "service_account" if section.get("credentials_env") else "")
    key = f"[{section.name}]"
    if auth == "service_account":
        from google.oauth2 import service_account

        path = Path(section.secret("credentials"))
        try:
            sa = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(path), scopes=list(SCOPES)
            )
        except FileNotFoundError:
            raise ConfigError(f"the service-account key file {path} does not exist (named by "
                              f"{section.get('credentials_env')})", file=section.file,
                              key=f"{key} credentials_env") from None
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"{path} is not a service-account JSON key ({type(exc).__name__})",
                              file=section.file, key=f"{key} credentials_env") from None
        return sa, f"service account {sa.service_account_email}"
    if auth == "oauth":
        return _oauth(section)
    if auth == "token":
        from google.oauth2.credentials import Credentials as TokenCredentials

        token = TokenCredentials(token=section.secret("token"))  # type: ignore[no-untyped-call]
        return token, f"access token from ${section.get('token_env')}"
    if auth in ("none", "anonymous") and local:
        return None, "anonymous (local server)"
    raise ConfigError(
        "say how to sign in to Google: credentials_env (service account), auth = \"oauth\" or auth = \"token\"",
        file=section.file, key=f"{key} auth",
    )


def _oauth(section: Any) -> tuple[Credentials, str]:
    """A person at a desk: gspread's local browser flow, the token kept for next time."""
    from gspread import auth as gauth

    client_file = section.path("oauth_client_file", str(gauth.DEFAULT_CREDENTIALS_FILENAME))
    token_file = section.path("oauth_token_file", str(gauth.DEFAULT_AUTHORIZED_USER_FILENAME))
    creds = gauth.load_credentials(filename=token_file)
    if creds is None:
        try:
            client_config = json.loads(client_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no OAuth client file at {client_file}: download it from Google Cloud "
                              f"(APIs & Services → Credentials → OAuth client ID, desktop app)",
                              file=section.file, key=f"[{section.name}] oauth_client_file") from None
        creds = gauth.local_server_flow(client_config, list(SCOPES))
        gauth.store_credentials(creds, filename=token_file)
    account = getattr(creds, "account", "") or ""
    return creds, f"OAuth user {account}".strip() if account else f"the Google account authorised in {token_file}"
