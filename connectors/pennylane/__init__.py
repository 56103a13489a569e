"""Pennylane Company API v2: :mod:`.client` (one method per endpoint), :mod:`.mapping` (records into
the domain model, pure) and :mod:`.connector` (full and incremental pulls, re-checks, ``check``)."""

from __future__ import annotations

from encours.connectors.pennylane.connector import DEFAULT_BASE_URL, PennylaneConnector, PennylaneCursor
from encours.connectors.pennylane.mapping import due_date_for

__all__ = ["DEFAULT_BASE_URL", "PennylaneConnector", "PennylaneCursor", "due_date_for"]
