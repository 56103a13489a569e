"""The sender and the scenarios of a dossier, built from its configuration.

The scenarios package holds the types (:class:`CompanySettings`, :class:`ScenarioSetup`) and the
rules; this module reads ``encours.toml`` into them, so that data keeps walking one way
(scenarios never import the configuration).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from encours.scenarios.company import CompanySettings
from encours.scenarios.loader import SHIPPED_DIR
from encours.scenarios.setup import ScenarioSetup, scenario_setup
from encours.sync.config import Config


def company_settings(config: Config) -> CompanySettings:
    """``[company]`` and ``[sending]`` as the messages need them (values validated at load)."""
    company = config.company
    sending = config.sending
    rate_raw = company.get("interest_rate")
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
        formal_notice_days=company.integer("formal_notice_days", 8),
        interest_rate=None if rate_raw is None else Decimal(str(rate_raw)),
        signature=company.text("signature", ""),
        mail_domain=domain or "encours.invalid",
    )


_SETUPS: dict[tuple[Any, ...], ScenarioSetup] = {}


def scenarios_for(config: Config) -> ScenarioSetup:
    """The dossier's scenarios, loaded and validated once per process while their files are unchanged
    (the daemon asks every 15 minutes; an edited scenario file is read again)."""
    dirs = [SHIPPED_DIR]
    if config.settings.scenario_dir is not None:
        dirs.append(config.settings.scenario_dir)
    stamps = tuple(sorted((str(p), p.stat().st_mtime_ns) for d in dirs if d.is_dir() for p in d.rglob("*")
                          if p.suffix in (".toml", ".j2")))
    profiles = config.scenarios.get("profiles", {})
    key = (str(config.file), config.settings.default_scenario, repr(sorted(profiles.items())), tuple(map(str, dirs)),
           stamps)
    if key not in _SETUPS:
        _SETUPS.clear()
        _SETUPS[key] = scenario_setup(dirs, config.settings.default_scenario, profiles, file=str(config.file))
    return _SETUPS[key]
