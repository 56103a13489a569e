"""What the words of a CSV's columns say — document type and status, a customer's e-mails, language,
SIREN, payment terms and payment method: read the same by the row and the column readers.  Each
raises ``ValueError`` with the words the user sees (the row reader names file, line and column)."""

from __future__ import annotations

import re

from encours.connectors.csvfile.columns import CREDIT_WORDS, EMAIL, INVOICE_WORDS, LANGUAGES, METHODS, STATUS_WORDS
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


def emails_of(text: str) -> tuple[str, ...]:
    """The addresses of an e-mail cell: separated by ``;``, ``,`` or spaces."""
    emails = tuple(e for e in re.split(r"[;,\s]+", text) if e)
    for email in emails:
        if not EMAIL.fullmatch(email):
            raise ValueError(f"{email!r} is not an e-mail address")
    return emails


def language_of(text: str) -> str:
    """fr, nl or en from a language cell (``français``, ``nl-BE`` …); '' when empty."""
    if not text:
        return ""
    word = normalise_name(re.split(r"[-_]", text)[0])
    if word not in LANGUAGES:
        raise ValueError(f"{text!r} is not fr, nl or en")
    return LANGUAGES[word]


def siren_of(text: str) -> str:
    """The SIREN of a SIREN or SIRET cell (spaces and dots ignored); '' when empty."""
    siren = re.sub(r"[\s.]", "", text)
    if siren:
        if not siren.isdigit() or len(siren) not in (9, 14):
            raise ValueError(f"{text!r} is not a SIREN (9 digits) or SIRET (14)")
        siren = siren[:9]
    return siren


def terms_of(text: str) -> int | None:
    """The days of a payment-terms cell (``45 jours``); ``None`` when empty."""
    if not text:
        return None
    match = re.match(r"\s*(\d+)", text)
    if match is None:
        raise ValueError(f"{text!r} is not a number of days")
    return int(match[1])


def direct_debit(text: str) -> bool:
    """Whether a payment-method cell says the customer pays by direct debit (or just says yes)."""
    word = normalise_name(text)
    return METHODS.get(word) == "direct_debit" or word in ("oui", "yes", "ja", "true", "vrai", "1", "x")
