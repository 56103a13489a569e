"""Open the configured source: the one place that maps ``[source] type`` to a connector."""

from __future__ import annotations

from datetime import date

from encours.connectors.base import Cache, Connector
from encours.connectors.errors import ConfigError
from encours.sync.config import Config


def open_connector(config: Config, cache: Cache, *, as_of: date) -> Connector:
    """Build the connector for ``[source]``; raises ConfigError naming the key at fault."""
    source = config.source
    kind = source.type
    if kind == "demo":
        from encours.connectors.demo import DemoConnector

        return DemoConnector(as_of=as_of, seed=source.integer("seed", 2026),
                             ledger_path=source.path("ledger") if source.get("ledger") else None)
    if kind == "fec":
        from encours.connectors.fec import FecConnector

        return FecConnector(
            source.path("path"),
            payment_terms_days=config.payment_terms_days,
            due_date_column=source.get("due_date_column") or None,
            encoding=source.get("encoding") or None,
        )
    if kind == "csv":
        from encours.connectors.csvfile import CsvConnector

        return CsvConnector(
            source.path("path"),
            payments_path=source.path("payments") if source.get("payments") else None,
            customers_path=source.path("customers") if source.get("customers") else None,
            payment_terms_days=config.payment_terms_days,
        )
    if kind in ("pennylane", "sage", "odoo"):
        from encours.sync.platform_sources import open_platform

        return open_platform(config, cache, as_of=as_of)
    raise ConfigError(f"source type {kind!r} is not available yet", file=source.file, key="[source] type")
