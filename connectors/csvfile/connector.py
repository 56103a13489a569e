"""CSV exports as a source: pulled whole, re-read only when the files' bytes or the settings change."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from encours.connectors.csvfile.columns import SOURCE
from encours.connectors.csvfile.records import read_customers, read_invoices, read_payments
from encours.connectors.csvfile.table import read_file_bytes
from encours.connectors.memory import no_cycle_collection
from encours.connectors.model import (
    Customer,
    Delta,
    Invoice,
    Ledger,
    Payment,
    SourceInfo,
    credit_from_payment,
)
from encours.connectors.textfile import invoices_by_id, ledger_counts


class CsvConnector:
    """CSV exports as a source; every pull re-reads the files whole (cursor: a hash of their bytes)."""

    source = SOURCE

    def __init__(
        self,
        path: Path,
        *,
        payments_path: Path | None = None,
        customers_path: Path | None = None,
        payment_terms_days: int = 30,
    ) -> None:
        self.path = Path(path)
        self.payments_path = Path(payments_path) if payments_path else None
        self.customers_path = Path(customers_path) if customers_path else None
        self.payment_terms_days = payment_terms_days

    def read(self) -> tuple[Ledger, str]:
        """The ledger the files describe and a digest of their bytes."""
        with no_cycle_collection():
            return self._read()

    def _read(self) -> tuple[Ledger, str]:
        digest = hashlib.sha256()  # over each file's own SHA-256, in a fixed order
        customers: dict[str, Customer] = {}
        if self.customers_path is not None:
            customers = read_customers(self.customers_path, digest=digest)
        digest.update(b"customers|invoices")
        invoices, added = read_invoices(self.path, customers, self.payment_terms_days, digest=digest)
        payments: list[Payment] = []
        if self.payments_path is not None:
            payments = read_payments(self.payments_path, invoices, digest=digest)
        everyone = {**customers, **added}
        for payment in payments:
            if payment.customer_id not in everyone:
                everyone[payment.customer_id] = Customer(
                    id=payment.customer_id, name=payment.customer_id, source=SOURCE
                )
        # A payments row naming no invoice is money on account: an unallocated credit.
        credits = tuple(c for c in map(credit_from_payment, payments) if c is not None)
        ledger = Ledger(tuple(everyone.values()), tuple(invoices), tuple(payments), credits)
        return ledger, digest.hexdigest()

    def check(self) -> SourceInfo:
        ledger, _ = self.read()
        files = ", ".join(p.name for p in (self.path, self.payments_path, self.customers_path) if p is not None)
        return SourceInfo(
            source=SOURCE,
            organisation=self.path.name,
            open_invoices=len(ledger.open_invoices()),
            details=f"{ledger_counts(ledger)} from {files}",
        )

    def _cursor(self, digest: str) -> str:
        return f"sha256:{digest};terms={self.payment_terms_days}"

    def files_digest(self) -> str:
        """The digest :meth:`read` computes, from the files' bytes alone (nothing parsed)."""
        digest = hashlib.sha256()
        if self.customers_path is not None:
            digest.update(hashlib.sha256(read_file_bytes(self.customers_path)).digest())
        digest.update(b"customers|invoices")
        digest.update(hashlib.sha256(read_file_bytes(self.path)).digest())
        if self.payments_path is not None:
            digest.update(hashlib.sha256(read_file_bytes(self.payments_path)).digest())
        return digest.hexdigest()

    def pull(self, cursor: str | None) -> Delta:
        """The whole ledger — or nothing to apply when the files and settings are those of ``cursor``."""
        if cursor is not None and cursor == self._cursor(self.files_digest()):
            return Delta(full=False, cursor=cursor)
        ledger, digest = self.read()
        return Delta.of_ledger(ledger, self._cursor(digest))

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        return self.refetch_invoices([invoice_id])[invoice_id]

    def refetch_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
        """The pass's invoices as the files have them now: read once for all of them."""
        return invoices_by_id(self.read()[0], invoice_ids)

