"""The sender and the scenarios of a dossier, built from its configuration.

The scenarios package holds the types (:class:`CompanySettings`, :class:`ScenarioSetup`) and the
rules; this module reads ``encours.toml`` into them, so that data keeps walking one way
(scenarios never import the configuration).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import encours.scenarios as scenarios_package
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


def cache_dir() -> Path | None:
    """Where compiled templates and the record of checked scenario files are kept between runs
    (``$XDG_CACHE_HOME/encours``, else ``~/.cache/encours``); None when it cannot be written."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "encours"
    try:
        (base / "templates").mkdir(parents=True, exist_ok=True)
        (base / "checked").mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return base


def _files_digest(dirs: list[Path]) -> str:
    """The scenario and template files and the code that renders them, by content: any change
    (a template edited, encours upgraded) makes the rendering check run again."""
    digest = hashlib.sha256()
    code = Path(scenarios_package.__file__).parent
    for path in sorted([*(p for d in dirs if d.is_dir() for p in d.rglob("*") if p.suffix in (".toml", ".j2")),
                        *code.glob("*.py")]):
        digest.update(str(path).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def scenarios_for(config: Config) -> ScenarioSetup:
    """The dossier's scenarios, loaded and validated once per process while their files are unchanged
    (the daemon asks every 15 minutes; an edited scenario file is read again).

    Every template is rendered with sample data the first time a given set of files is loaded; a
    one-shot ``encours run`` then reuses that verdict and the compiled templates (the cache folder)
    instead of paying for them on every pass.
    """
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
        cache = cache_dir()
        verdict = cache / "checked" / _files_digest(dirs) if cache is not None else None
        _SETUPS[key] = scenario_setup(dirs, config.settings.default_scenario, profiles, file=str(config.file),
                                      cache_dir=cache / "templates" if cache is not None else None,
                                      rendering_checked=verdict is not None and verdict.exists())
        if verdict is not None:
            with contextlib.suppress(OSError):
                verdict.touch()
    return _SETUPS[key]
