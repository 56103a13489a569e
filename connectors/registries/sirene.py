"""Company status from the French administration's company search API (recherche-entreprises).

``GET {base_url}/search?q=<siren>`` answers ``{results: [...], total_results, page, per_page,
total_pages}``; each result is a legal unit with ``siren``, ``nom_complet``, ``etat_administratif``
("A" active, "C" ceased), ``date_creation``, ``date_fermeture``, ``nature_juridique`` (INSEE legal
form code), ``tranche_effectif_salarie`` (INSEE headcount band code) and ``siege``.  No key is
needed; the published limit is 7 requests per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import requests

from encours.connectors.registries.client import Pacer, RegistryError, get_json, new_session

PLATFORM = "recherche-entreprises"
DEFAULT_BASE_URL = "https://recherche-entreprises.api.gouv.fr"
RATE_PER_SECOND = 7.0
#: The public page of a company on the administration's directory (linked from the sheet).
PAGE_URL = "https://annuaire-entreprises.data.gouv.fr/entreprise/{siren}"

#: INSEE legal form codes (catégories juridiques, level 3) most often met among B2B customers.
LEGAL_FORMS = {
    "1000": "Entrepreneur individuel",
    "5202": "Société en nom collectif",
    "5306": "Société en commandite simple",
    "5410": "SARL nationale",
    "5498": "EURL",
    "5499": "SARL",
    "5505": "SA à conseil d'administration",
    "5599": "SA à conseil d'administration",
    "5699": "SA à directoire",
    "5710": "SAS",
    "5720": "SASU",
    "5785": "Société d'exercice libéral par actions simplifiée",
    "6540": "Société civile immobilière",
    "6589": "Société civile de moyens",
    "9220": "Association déclarée",
}

#: INSEE headcount bands (tranches d'effectif salarié).
HEADCOUNT_BANDS = {
    "NN": "effectif non renseigné",
    "00": "0 salarié",
    "01": "1 ou 2 salariés",
    "02": "3 à 5 salariés",
    "03": "6 à 9 salariés",
    "11": "10 à 19 salariés",
    "12": "20 à 49 salariés",
    "21": "50 à 99 salariés",
    "22": "100 à 199 salariés",
    "31": "200 à 249 salariés",
    "32": "250 à 499 salariés",
    "41": "500 à 999 salariés",
    "42": "1 000 à 1 999 salariés",
    "51": "2 000 à 4 999 salariés",
    "52": "5 000 à 9 999 salariés",
    "53": "10 000 salariés et plus",
}


def normalise_siren(text: str) -> str:
    """A SIREN from what a source holds: spaces and dots removed; a SIRET gives its first 9 digits.

    Returns "" when the text is not a valid SIREN (9 digits with a Luhn check digit; La Poste's
    356000000 is the documented exception).
    """
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 14:
        digits = digits[:9]
    if len(digits) != 9:
        return ""
    if digits == "356000000" or _luhn_ok(digits):
        return digits
    return ""


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 1 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@dataclass(frozen=True)
class CompanyRecord:
    """One legal unit as the registry knows it."""

    siren: str
    name: str
    active: bool
    created_on: date | None = None
    closed_on: date | None = None
    legal_form_code: str = ""
    headcount_code: str = ""
    address: str = ""

    @property
    def legal_form(self) -> str:
        if not self.legal_form_code:
            return ""
        return LEGAL_FORMS.get(self.legal_form_code, f"forme juridique {self.legal_form_code}")

    @property
    def headcount(self) -> str:
        return HEADCOUNT_BANDS.get(self.headcount_code, "")

    @property
    def link(self) -> str:
        return PAGE_URL.format(siren=self.siren)


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_company(result: dict[str, Any]) -> CompanyRecord:
    """One item of ``results`` → :class:`CompanyRecord`; raises ``ValueError`` on a broken item."""
    siren = str(result.get("siren") or "")
    state = result.get("etat_administratif")
    if not siren or state not in ("A", "C"):
        raise ValueError(f"result without a SIREN or an etat_administratif A/C: siren={siren!r} state={state!r}")
    raw_siege = result.get("siege")
    siege: dict[str, Any] = raw_siege if isinstance(raw_siege, dict) else {}
    return CompanyRecord(
        siren=siren,
        name=str(result.get("nom_complet") or result.get("nom_raison_sociale") or ""),
        active=state == "A",
        created_on=_date(result.get("date_creation")),
        closed_on=_date(result.get("date_fermeture")),
        legal_form_code=str(result.get("nature_juridique") or ""),
        headcount_code=str(result.get("tranche_effectif_salarie") or ""),
        address=str(siege.get("adresse") or ""),
    )


class SireneClient:
    """Looks companies up by SIREN; ``base_url`` is overridable ([risk] sirene_base_url)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: requests.Session | None = None,
        pacer: Pacer | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or new_session()
        self.pacer = pacer or Pacer(RATE_PER_SECOND)
        self.timeout = timeout

    def lookup(self, siren: str) -> CompanyRecord | None:
        """The company with this SIREN, or ``None`` when the registry does not know it."""
        _, body = get_json(
            self.session,
            f"{self.base_url}/search",
            {"q": siren, "page": 1, "per_page": 5},
            platform=PLATFORM,
            endpoint="/search",
            pacer=self.pacer,
            timeout=self.timeout,
            record=siren,
        )
        if body is None:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise RegistryError("answer without a results list", platform=PLATFORM, endpoint="/search", record=siren)
        for item in body["results"]:
            if isinstance(item, dict) and str(item.get("siren")) == siren:
                try:
                    return parse_company(item)
                except ValueError as exc:
                    raise RegistryError(str(exc), platform=PLATFORM, endpoint="/search", record=siren) from None
        return None
