"""What the words of a CSV's type and status columns say: read the same by the row and the column readers."""

from __future__ import annotations

from encours.connectors.csvfile.columns import CREDIT_WORDS, INVOICE_WORDS, STATUS_WORDS
from encours.connectors.model import DocumentKind, InvoiceStatus
from encours.connectors.textfile import normalise_name


def document_kind(text: str) -> DocumentKind | None:
    """The kind a type column's text names; ``None`` when empty (the total's sign decides).

    Raises ``ValueError`` for a word that is neither an invoice nor a credit note.
    """
    word = normalise_name(text)
    if not word:
        return None
    if word in CREDIT_WORDS:
        return DocumentKind.CREDIT_NOTE
    if word in INVOICE_WORDS:
        return DocumentKind.INVOICE
    raise ValueError(f"{text!r} is neither an invoice (facture, invoice) nor a credit note (avoir, credit note)")


def explicit_status(word: str) -> InvoiceStatus | None:
    """The status a (normalised) status word sets; ``None`` when the amounts decide (an empty or
    ordinary word: open, partly paid or paid as they say); UNKNOWN for a word not known."""
    if not word:
        return None
    for status, words in STATUS_WORDS.items():
        if word in words:
            return status
    return InvoiceStatus.UNKNOWN
