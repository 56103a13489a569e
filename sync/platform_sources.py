"""``[source]`` → Pennylane, Sage or Odoo connector (called by :func:`encours.sync.sources.open_connector`).

Keys (secrets only through ``*_env`` variables):

* pennylane: ``token_env``; optional ``base_url``, ``currency`` (company currency, EUR),
  ``scoring_window_days`` (730: paid invoices older than this get no payment details),
  ``contacts`` (true).
* sage: ``client_id_env``, ``client_secret_env``, ``business_id``; optional ``base_url``,
  ``auth_url``, ``token_url``, ``requests_per_minute`` (client-side budget, 100: Sage sends no
  rate-limit headers).  The refresh token lives in the state store (``encours auth sage``).
* odoo: ``url``, ``database``, ``login``, ``api_key_env``; optional ``company_id`` or
  ``company_ids``, ``version`` (skip detection, e.g. "17.0"), ``protocol`` (jsonrpc | xmlrpc).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from encours.connectors.base import Cache, Connector
from encours.connectors.errors import ConfigError
from encours.sync.config import Config, Section

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _url(section: Section, key: str, default: str) -> str:
    """An http(s) URL; cleartext ``http://`` only to this machine, since a token travels with it."""
    value = section.text(key, default)
    where = {"file": section.file, "key": f"[{section.name}] {key}"}
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{value!r} is not an http(s) URL", **where)
    host = urlsplit(value).hostname or ""
    if value.startswith("http://") and host not in _LOOPBACK and not host.startswith("127."):
        raise ConfigError(
            f"cleartext http:// to {host or 'an unnamed host'} would send the credentials unencrypted: "
            "use https:// (http:// is accepted only for a server on this machine)",
            **where,
        )
    return value.rstrip("/")


def open_platform(config: Config, cache: Cache, *, as_of: date) -> Connector:
    source = config.source
    kind = source.type
    if kind == "pennylane":
        from encours.connectors.pennylane import DEFAULT_BASE_URL, PennylaneConnector

        return PennylaneConnector(
            source.secret("token"),
            cache=cache,
            as_of=as_of,
            base_url=_url(source, "base_url", DEFAULT_BASE_URL),
            company_currency=source.text("currency", "EUR"),
            scoring_window_days=source.integer("scoring_window_days", 730),
            fetch_contacts=source.flag("contacts", True),
        )
    if kind == "sage":
        from encours.connectors.sage import (
            DEFAULT_AUTH_URL,
            DEFAULT_BASE_URL,
            DEFAULT_REQUESTS_PER_MINUTE,
            DEFAULT_TOKEN_URL,
            SageConnector,
            SageTokens,
        )

        tokens = SageTokens(
            cache,
            client_id=source.secret("client_id"),
            client_secret=source.secret("client_secret"),
            token_url=_url(source, "token_url", DEFAULT_TOKEN_URL),
        )
        return SageConnector(
            tokens,
            business_id=source.text("business_id"),
            as_of=as_of,
            base_url=_url(source, "base_url", DEFAULT_BASE_URL),
            auth_url=_url(source, "auth_url", DEFAULT_AUTH_URL),
            requests_per_minute=source.integer("requests_per_minute", DEFAULT_REQUESTS_PER_MINUTE),
        )
    if kind == "odoo":
        from encours.connectors.odoo import OdooConnector

        companies: list[int] = []
        if "company_ids" in source.values:
            raw = source.get("company_ids")
            if not isinstance(raw, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
                raise ConfigError("must be a list of whole numbers", file=source.file, key="[source] company_ids")
            companies = list(raw)
        elif "company_id" in source.values:
            companies = [source.integer("company_id")]
        protocol = source.text("protocol", "jsonrpc")
        if protocol not in ("jsonrpc", "xmlrpc"):
            raise ConfigError(f"{protocol!r} is not jsonrpc or xmlrpc", file=source.file, key="[source] protocol")
        return OdooConnector(
            _url(source, "url", ""),
            database=source.text("database"),
            login=source.text("login"),
            api_key=source.secret("api_key"),
            as_of=as_of,
            company_ids=tuple(companies),
            version=source.text("version", "") or None,
            protocol=protocol,
            cache=cache,
        )
    raise ConfigError(f"source type {kind!r} is not a platform", file=source.file, key="[source] type")
