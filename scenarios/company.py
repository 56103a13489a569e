"""What the reminders need to know about the company sending them (built from ``encours.toml`` by
:func:`encours.sync.company.company_settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class CompanySettings:
    """The sender: identity for letters, defaults for messages, legal rules by country.

    ``dossier`` names the company's dossier; Message-IDs are derived from it, so two companies
    followed by the same accounting firm never share one.
    """

    name: str
    dossier: str = ""
    country: str = "FR"  # FR | BE: interest rules, indemnity, letter wording
    language: str = "fr"
    address: str = ""
    siren: str = ""
    vat_number: str = ""
    phone: str = ""
    iban: str = ""
    bic: str = ""
    sender: str = ""  # From: address
    reply_to: str = ""
    bcc: str = ""  # archive copy
    cc_salesperson: bool = True
    payment_terms_days: int = 30
    formal_notice_days: int = 8  # deadline given by the formal notice
    interest_rate: Decimal | None = None  # a contractual rate (percent) replacing the legal one
    indemnity: Decimal = Decimal(40)
    signature: str = ""
    mail_domain: str = "encours.invalid"  # right-hand side of generated Message-IDs
    extra: Mapping[str, str] = field(default_factory=dict)
