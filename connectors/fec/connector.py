"""The FEC file as a source: pulled whole, re-read only when its bytes or the settings change."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from encours.connectors.fec.documents import SOURCE
from encours.connectors.fec.reader import FecFile, read_fec
from encours.connectors.model import Delta, Invoice, SourceInfo
from encours.connectors.parsing import parse_date, read_bounded
from encours.connectors.textfile import invoices_by_id, ledger_counts


class FecConnector:
    """A FEC file as a source.  Every pull re-reads the whole file (a FEC has no change feed).

    The cursor is the SHA-256 of the file's bytes: an unchanged file gives the same cursor.
    """

    source = SOURCE

    def __init__(
        self,
        path: Path,
        *,
        payment_terms_days: int = 30,
        due_date_column: str | None = None,
        encoding: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.payment_terms_days = payment_terms_days
        self.due_date_column = due_date_column
        self.encoding = encoding

    def read(self) -> FecFile:
        return read_fec(
            self.path,
            payment_terms_days=self.payment_terms_days,
            due_date_column=self.due_date_column,
            encoding=self.encoding,
        )

    def check(self) -> SourceInfo:
        fec = self.read()
        ledger = fec.ledger
        due = f", due dates from column {fec.due_date_column}" if fec.due_date_column else ""
        separator = "tab" if fec.separator == "\t" else "'|'"
        # The legal file name is SIRENFECYYYYMMDD (SIREN of the company, closing date of the year).
        named = re.match(r"(\d{9})FEC(\d{8})", self.path.name, re.IGNORECASE)
        company = ""
        if named:
            try:
                company = f"SIREN {named[1]}, year closing {parse_date(named[2]):%d/%m/%Y}; "
            except ValueError:
                company = f"SIREN {named[1]}; "
        return SourceInfo(
            source=SOURCE,
            organisation=self.path.name,
            open_invoices=len(ledger.open_invoices()),
            details=f"{company}{ledger_counts(ledger)}; {fec.encoding}, {separator}-separated{due}",
        )

    def _cursor(self, digest: str) -> str:
        """The file's bytes and the settings that shape what is read from them."""
        return f"sha256:{digest};terms={self.payment_terms_days};due={self.due_date_column or ''}"

    def pull(self, cursor: str | None) -> Delta:
        """The whole ledger — or, when the file and the settings are those of ``cursor``, nothing to
        apply (the file is hashed, not parsed: an unchanged export costs a read, not a rebuild)."""
        if cursor is not None and cursor == self._cursor(hashlib.sha256(read_bounded(self.path)).hexdigest()):
            return Delta(full=False, cursor=cursor)
        fec = self.read()
        return replace(Delta.of_ledger(fec.ledger, self._cursor(fec.digest)), notes=fec.notes)

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        return self.refetch_invoices([invoice_id])[invoice_id]

    def refetch_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
        """The pass's invoices as the file has them now: the file is read once for all of them."""
        return invoices_by_id(self.read().ledger, invoice_ids)
