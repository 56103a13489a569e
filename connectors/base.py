"""What every source of accounting data provides, as a Protocol (no base class to inherit)."""

from __future__ import annotations

from typing import Protocol

from encours.connectors.model import Delta, Invoice, SourceInfo


class Cache(Protocol):
    """A durable key/value store the state store lends to a connector.

    ``put`` is committed before it returns (a rotated OAuth refresh token must survive a crash
    that happens right after it was received).  Values are text (JSON when structured).
    """

    def get(self, namespace: str, key: str) -> str | None: ...

    def put(self, namespace: str, key: str, value: str) -> None: ...

    def delete(self, namespace: str, key: str) -> None: ...


class Connector(Protocol):
    """A source of customers, invoices, credit notes and payments.

    ``pull(None)`` returns the whole ledger (``Delta.full``); ``pull(cursor)`` what changed since
    the cursor a previous pull returned, or the whole ledger again when the source cannot answer
    incrementally (then ``full`` is true).  ``refetch_invoice`` reads one invoice at the source
    right before it is reminded; ``None`` means it no longer exists there.
    """

    source: str

    def check(self) -> SourceInfo: ...

    def pull(self, cursor: str | None) -> Delta: ...

    def refetch_invoice(self, invoice_id: str) -> Invoice | None: ...
