"""The public registries through `responses`, with payloads shaped like the real answers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from encours.connectors.registries.bodacc import RECORDS_PATH, BodaccClient
from encours.connectors.registries.client import Pacer, RegistryRateLimitedError, RegistryUnavailableError
from encours.connectors.registries.signals import (
    SignalKind,
    adjust_figures,
    alert_text,
    blocked_customers,
    claim_declarations,
    headline,
    registry_signals,
)
from encours.connectors.registries.sirene import SireneClient, normalise_siren

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
SIRENE = "https://sirene.test"
BODACC = "https://bodacc.test"
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 23)


def payload(kind: str, name: str) -> object:
    return json.loads((PAYLOADS / kind / f"{name}.json").read_text(encoding="utf-8"))


def fast() -> Pacer:
    return Pacer(1000.0)


def clients() -> tuple[SireneClient, BodaccClient]:
    return (
        SireneClient(SIRENE, pacer=fast(), timeout=2),
        BodaccClient(BODACC, pacer=fast(), timeout=2),
    )


def add_company(rsps: responses.RequestsMock, sirene_name: str, bodacc_name: str) -> None:
    rsps.get(f"{SIRENE}/search", json=payload("sirene", sirene_name))
    rsps.get(BODACC + RECORDS_PATH, json=payload("bodacc", bodacc_name))


def signals_for(siren: str, sirene_name: str, bodacc_name: str) -> list:  # type: ignore[type-arg]
    sirene, bodacc = clients()
    with responses.RequestsMock() as rsps:
        add_company(rsps, sirene_name, bodacc_name)
        company = sirene.lookup(siren)
        notices = bodacc.announcements(siren)
        sent = [urlparse(call.request.url or "") for call in rsps.calls]
    assert parse_qs(sent[0].query)["q"] == [siren]
    assert parse_qs(sent[1].query)["where"] == [f'registre like "{siren}"']
    return registry_signals(company, notices, NOW)


@dataclass(frozen=True)
class Figures:  # the shape of sheets_addin.view.CustomerFigures that adjust_figures relies on
    score: int | None = 82
    profile: str = "A"
    reason: str = "paie à l'heure"


def test_active_company_gives_no_alert_and_keeps_the_score() -> None:
    signals = signals_for("832310593", "active", "none")
    assert [s.kind for s in signals] == [SignalKind.ACTIVE]
    assert "SAS" in signals[0].label and "10 à 19 salariés" in signals[0].label
    assert signals[0].link.endswith("/entreprise/832310593")
    assert alert_text(signals, AS_OF) == ""
    assert adjust_figures(Figures(), signals, AS_OF) == Figures()
    assert blocked_customers({"C1": signals}) == {}


def test_ceased_company_alerts_with_date_and_link_and_lowers_the_score() -> None:
    signals = signals_for("412356784", "ceased", "none")
    assert [s.kind for s in signals] == [SignalKind.CEASED]
    assert signals[0].date == date(2026, 6, 30)
    alert = alert_text(signals, AS_OF)
    assert "Entreprise cessée" in alert and "30/06/2026" in alert
    assert "https://annuaire-entreprises.data.gouv.fr/entreprise/412356784" in alert
    adjusted = adjust_figures(Figures(), signals, AS_OF)
    assert adjusted.score == 10 and adjusted.profile == "D"
    assert adjusted.reason.startswith("Entreprise cessée le 30/06/2026") and "paie à l'heure" in adjusted.reason
    assert blocked_customers({"C1": signals}) == {}  # ceased without proceeding: alert, no claim to declare


def test_receivership_blocks_amicable_reminders_until_the_claim_is_declared() -> None:
    signals = signals_for("521874636", "receivership", "receivership")
    kinds = [s.kind for s in signals]
    # the filed accounts and the cancelled strike-off notice say nothing about risk
    assert kinds == [SignalKind.ACTIVE, SignalKind.RECEIVERSHIP]
    proceeding = signals[-1]
    assert proceeding.date == date(2026, 10, 14) and proceeding.published_on == date(2026, 10, 23)
    assert proceeding.court == "TRIBUNAL DE COMMERCE DE DIJON"
    alert = alert_text(signals, AS_OF)
    assert "redressement judiciaire" in alert and "14/10/2026" in alert
    assert "https://www.bodacc.fr/" in alert
    reason = blocked_customers({"C7": signals})["C7"]
    assert "relances amiables arrêtées" in reason
    assert "déclarer la créance au mandataire judiciaire avant le 23/12/2026" in reason
    assert claim_declarations({"C7": signals})["C7"].deadline == date(2026, 12, 23)
    assert adjust_figures(Figures(), signals, AS_OF).score == 15


def test_liquidation_after_safeguard_wins_over_the_later_sale_notice() -> None:
    signals = signals_for("790142368", "liquidation", "liquidation")
    kinds = [s.kind for s in signals]
    assert kinds == [
        SignalKind.ACTIVE, SignalKind.SAFEGUARD, SignalKind.SAFEGUARD, SignalKind.LIQUIDATION, SignalKind.SALE
    ]
    top = headline(signals, AS_OF)
    assert top is not None and top.kind is SignalKind.LIQUIDATION
    assert "liquidation judiciaire" in alert_text(signals, AS_OF)
    declaration = claim_declarations({"C9": signals})["C9"]
    assert declaration.deadline == date(2026, 12, 2)  # conversion published 02/10/2026 + 2 months
    assert declaration.next_action == "Déclarer la créance au mandataire judiciaire avant le 02/12/2026"
    adjusted = adjust_figures(Figures(score=None, profile="", reason=""), signals, AS_OF)
    assert adjusted.score == 0 and adjusted.profile == "D"
    assert "Liquidation judiciaire le 22/09/2026 (BODACC)" in adjusted.reason


def test_unknown_siren_gives_no_company_and_no_signal() -> None:
    signals = signals_for("318475209", "unknown", "none")
    assert signals == []
    sirene, _ = clients()
    with responses.RequestsMock() as rsps:
        rsps.get(f"{SIRENE}/search", json=payload("sirene", "unknown"))
        assert sirene.lookup("318475209") is None


def test_rate_limited_answer_is_retried_after_retry_after_then_succeeds() -> None:
    sirene, _ = clients()
    with responses.RequestsMock() as rsps:
        rsps.get(f"{SIRENE}/search", status=429, json=payload("sirene", "rate_limited"), headers={"Retry-After": "0"})
        rsps.get(f"{SIRENE}/search", json=payload("sirene", "active"))
        company = sirene.lookup("832310593")
        assert len(rsps.calls) == 2
    assert company is not None and company.active


def test_rate_limited_again_and_again_is_an_unavailable_registry() -> None:
    _, bodacc = clients()
    with responses.RequestsMock() as rsps:
        rsps.get(BODACC + RECORDS_PATH, status=429, json=payload("bodacc", "rate_limited"),
                 headers={"Retry-After": "0"})
        with pytest.raises(RegistryRateLimitedError) as caught:
            bodacc.announcements("521874636")
        assert len(rsps.calls) == 3  # one try and two retries, no more
    assert isinstance(caught.value, RegistryUnavailableError)
    assert "bodacc" in str(caught.value) and "521874636" in str(caught.value) and "429" in str(caught.value)


def test_timeout_names_the_registry_endpoint_and_siren() -> None:
    sirene, _ = clients()
    with responses.RequestsMock() as rsps:
        rsps.get(f"{SIRENE}/search", body=requests.exceptions.ReadTimeout("read timed out"))
        with pytest.raises(RegistryUnavailableError) as caught:
            sirene.lookup("832310593")
    message = str(caught.value)
    assert "recherche-entreprises /search record 832310593" in message and "no answer within 2 s" in message


def test_server_error_is_unavailable_and_not_retried() -> None:
    sirene, _ = clients()
    with responses.RequestsMock() as rsps:
        rsps.get(f"{SIRENE}/search", status=503, body="<html>maintenance</html>")
        with pytest.raises(RegistryUnavailableError, match="HTTP 503"):
            sirene.lookup("832310593")
        assert len(rsps.calls) == 1


def test_base_url_is_overridable() -> None:
    sirene = SireneClient("http://127.0.0.1:9/proxy/", pacer=fast())
    with responses.RequestsMock() as rsps:
        rsps.get("http://127.0.0.1:9/proxy/search", json=payload("sirene", "active"))
        assert sirene.lookup("832310593") is not None


def test_pacer_keeps_to_the_published_rate() -> None:
    pacer = Pacer(20.0)  # 5 requests at 20/s: at least 4 intervals of 50 ms
    start = time.monotonic()
    for _ in range(5):
        pacer.wait()
    assert time.monotonic() - start >= 0.19
    assert pacer.requests == 5


@pytest.mark.parametrize(
    ("text", "siren"),
    [
        ("832 310 593", "832310593"),
        ("83231059300018", "832310593"),  # a SIRET gives its SIREN
        ("832310594", ""),  # bad check digit
        ("12345", ""),
        ("356000000", "356000000"),  # La Poste, the documented exception to the check digit
    ],
)
def test_siren_normalisation(text: str, siren: str) -> None:
    assert normalise_siren(text) == siren
