"""BODACC announcements (Bulletin officiel des annonces civiles et commerciales), open data.

The DILA publishes them on OpenDataSoft: ``GET {base_url}/api/explore/v2.1/catalog/datasets/
annonces-commerciales/records?where=registre like "<siren>"&order_by=dateparution desc`` answers
``{total_count, results: [...]}``.  A record holds ``familleavis`` / ``familleavis_lib``
("collective" / "Procédures collectives", "vente" / "Ventes et cessions", "radiation" /
"Radiations", …), ``typeavis_lib`` ("Avis initial", "Avis rectificatif", "Avis d'annulation"),
``dateparution``, ``registre`` (the SIREN, spaced and unspaced), ``tribunal``, ``commercant``,
``url_complete`` and, for judgments, ``jugement``: JSON *text* with ``famille``, ``nature``,
``date`` and ``complementJugement``.  No key is needed; the portal's quota is daily and the
client paces itself at a few requests per second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import requests

from encours.connectors.registries.client import Pacer, RegistryError, get_json, new_session

PLATFORM = "bodacc"
DEFAULT_BASE_URL = "https://bodacc-datadila.opendatasoft.com"
RECORDS_PATH = "/api/explore/v2.1/catalog/datasets/annonces-commerciales/records"
#: Kept well under the portal's limits: the quota is per day, bursts are what gets refused.
RATE_PER_SECOND = 5.0
PAGE_SIZE = 100
MAX_PAGES = 5
#: A notice's page on bodacc.fr when the record carries no url_complete.
NOTICE_URL = "https://www.bodacc.fr/pages/annonces-commerciales-detail/?q.id=id:{id}"


@dataclass(frozen=True)
class Announcement:
    """One BODACC notice about a company."""

    id: str
    siren: str
    published_on: date | None
    family: str  # familleavis: collective, vente, radiation, modification, immatriculation, dpc …
    family_label: str  # familleavis_lib
    notice_type: str  # typeavis_lib: Avis initial / rectificatif / d'annulation
    court: str = ""
    judgment_family: str = ""
    judgment_nature: str = ""
    judgment_date: date | None = None
    judgment_text: str = ""
    url: str = ""
    name: str = ""

    @property
    def cancels(self) -> bool:
        """An "avis d'annulation" withdraws an earlier notice: it is no event by itself."""
        return "annulation" in self.notice_type.casefold()


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _json_text(value: Any) -> dict[str, Any]:
    """``jugement`` and friends are JSON *inside a string*; a dict is accepted too."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _registre(value: Any) -> list[str]:
    if isinstance(value, list):
        items = [str(v) for v in value]
    elif isinstance(value, str):
        items = value.split(",")
    else:
        items = []
    return ["".join(ch for ch in item if ch.isdigit()) for item in items]


def parse_record(record: dict[str, Any], siren: str) -> Announcement | None:
    """One record → :class:`Announcement`, or ``None`` when it is about another SIREN."""
    if siren not in _registre(record.get("registre")):
        return None
    jugement = _json_text(record.get("jugement"))
    notice_id = str(record.get("id") or "")
    return Announcement(
        id=notice_id,
        siren=siren,
        published_on=_date(record.get("dateparution")),
        family=str(record.get("familleavis") or ""),
        family_label=str(record.get("familleavis_lib") or ""),
        notice_type=str(record.get("typeavis_lib") or record.get("typeavis") or ""),
        court=str(record.get("tribunal") or ""),
        judgment_family=str(jugement.get("famille") or ""),
        judgment_nature=str(jugement.get("nature") or ""),
        judgment_date=_date(jugement.get("date")),
        judgment_text=str(jugement.get("complementJugement") or ""),
        url=str(record.get("url_complete") or (NOTICE_URL.format(id=notice_id) if notice_id else "")),
        name=str(record.get("commercant") or ""),
    )


class BodaccClient:
    """Reads a company's BODACC notices; ``base_url`` is overridable ([risk] bodacc_base_url)."""

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

    def announcements(self, siren: str) -> list[Announcement]:
        """Every notice published about ``siren``, newest first (empty when there is none)."""
        found: list[Announcement] = []
        seen: set[str] = set()
        offset = 0
        for _ in range(MAX_PAGES):
            _, body = get_json(
                self.session,
                self.base_url + RECORDS_PATH,
                {
                    "where": f'registre like "{siren}"',
                    "order_by": "dateparution desc",
                    "limit": PAGE_SIZE,
                    "offset": offset,
                },
                platform=PLATFORM,
                endpoint=RECORDS_PATH,
                pacer=self.pacer,
                timeout=self.timeout,
                record=siren,
            )
            if body is None:
                raise RegistryError("dataset not found (HTTP 404)", platform=PLATFORM, endpoint=RECORDS_PATH)
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise RegistryError(
                    "answer without a results list", platform=PLATFORM, endpoint=RECORDS_PATH, record=siren
                )
            records = body["results"]
            new = 0
            for record in records:
                if not isinstance(record, dict):
                    continue
                key = str(record.get("id") or json.dumps(record, sort_keys=True))
                if key in seen:
                    continue
                seen.add(key)
                new += 1
                announcement = parse_record(record, siren)
                if announcement is not None:
                    found.append(announcement)
            total = body.get("total_count")
            offset += len(records)
            if not records or new == 0 or not isinstance(total, int) or offset >= total:
                break
        found.sort(key=lambda a: (a.published_on or date.min, a.id), reverse=True)
        return found
