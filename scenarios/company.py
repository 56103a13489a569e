"""What the reminders need to know about the company sending them (from ``encours.toml``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from encours.connectors.errors import ConfigError

if TYPE_CHECKING:
    from encours.sync.config import Config


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


def company_from_config(config: Config) -> CompanySettings:
    """Read ``[company]`` and ``[sending]`` into :class:`CompanySettings` (errors name the key)."""
    company = config.company
    sending = config.sending
    file = str(config.file)
    rate_raw = company.get("interest_rate")
    rate: Decimal | None = None
    if rate_raw is not None:
        if isinstance(rate_raw, bool) or not isinstance(rate_raw, (int, float, str)):
            raise ConfigError(f"must be a percentage, not {rate_raw!r}", file=file, key="[company] interest_rate")
        rate = Decimal(str(rate_raw))
    days = company.integer("formal_notice_days", 8)
    if days < 1:
        raise ConfigError("must be at least 1 day", file=file, key="[company] formal_notice_days")
    sender = sending.text("from", "") or company.text("email", "")
    domain = sender.rpartition("@")[2] if "@" in sender else "encours.invalid"
    return CompanySettings(
        name=config.company_name,
        dossier=config.dossier,
        country=config.country,
        language=config.language,
        address=company.text("address", ""),
        siren=company.text("siren", ""),
        vat_number=company.text("vat_number", ""),
        phone=company.text("phone", ""),
        iban=company.text("iban", "").replace(" ", "").upper(),
        bic=company.text("bic", "").replace(" ", "").upper(),
        sender=sender,
        reply_to=sending.text("reply_to", ""),
        bcc=sending.text("bcc", ""),
        cc_salesperson=sending.flag("cc_salesperson", True),
        payment_terms_days=config.payment_terms_days,
        formal_notice_days=days,
        interest_rate=rate,
        signature=company.text("signature", ""),
        mail_domain=domain or "encours.invalid",
    )
