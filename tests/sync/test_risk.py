"""Risk signals refreshed at most weekly, cached in a real SQLite state file, stale when offline."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import requests
import responses

from encours.connectors.model import Customer, Ledger
from encours.connectors.registries.bodacc import RECORDS_PATH, BodaccClient
from encours.connectors.registries.client import Pacer
from encours.connectors.registries.signals import SignalKind
from encours.connectors.registries.sirene import SireneClient
from encours.sheets_addin.view import CustomerFigures, build_view
from encours.sync.config import config_from_mapping
from encours.sync.risk import apply_risk, load_risk, refresh_risk, risk_settings
from encours.sync.settings import RiskSettings
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
SIRENE = "https://sirene.test"
BODACC = "https://bodacc.test"
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
AS_OF = NOW.date()

COMPANIES = {  # SIREN → (sirene payload, bodacc payload)
    "832310593": ("active", "none"),
    "412356784": ("ceased", "none"),
    "521874636": ("receivership", "receivership"),
    "790142368": ("liquidation", "liquidation"),
    "318475209": ("unknown", "none"),
}
CUSTOMERS = (
    Customer("C1", "Menuiserie Roux", "demo", siren="832 310 593"),
    Customer("C2", "Transports Girard", "demo", siren="412356784"),
    Customer("C3", "Brasserie Lambert", "demo", siren="521874636"),
    Customer("C4", "Imprimerie Bonnet", "demo", siren="79014236800019"),  # a SIRET
    Customer("C5", "Société Fantôme", "demo", siren="318475209"),
    Customer("C6", "Verhoeven Bouw BV", "demo"),  # Belgian: no SIREN, never looked up
    Customer("C7", "Faute de Frappe", "demo", siren="123456789"),  # bad check digit
)


def payload(kind: str, name: str) -> object:
    return json.loads((PAYLOADS / kind / f"{name}.json").read_text(encoding="utf-8"))


def registry(rsps: responses.RequestsMock) -> None:
    """Answer like the real registries, by SIREN."""

    def sirene(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        siren = request.params["q"]  # type: ignore[attr-defined]
        return 200, {}, json.dumps(payload("sirene", COMPANIES[siren][0]))

    def bodacc(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        siren = request.params["where"].split('"')[1]  # type: ignore[attr-defined]
        return 200, {}, json.dumps(payload("bodacc", COMPANIES[siren][1]))

    rsps.add_callback(responses.GET, f"{SIRENE}/search", callback=sirene)
    rsps.add_callback(responses.GET, BODACC + RECORDS_PATH, callback=bodacc)


def refresh(store: StateStore, now: datetime, **settings: object):  # type: ignore[no-untyped-def]
    options = RiskSettings(sirene_base_url=SIRENE, bodacc_base_url=BODACC, **settings)  # type: ignore[arg-type]
    return refresh_risk(
        store,
        CUSTOMERS,
        options,
        now=now,
        sirene=SireneClient(SIRENE, pacer=Pacer(1000.0)),
        bodacc=BodaccClient(BODACC, pacer=Pacer(1000.0)),
    )


def test_signals_are_looked_up_once_and_kept_for_a_week(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        assert "0300_risk_signals" in store.applied_migrations()
        with responses.RequestsMock() as rsps:
            registry(rsps)
            first = refresh(store, NOW)
            assert len(rsps.calls) == 10  # 5 SIRENs × (company + BODACC)
        assert first.looked_up == 5 and first.requests == 10 and not first.is_stale
        assert first.unknown == ("318475209",)
        assert first.invalid == ("C7",)
        assert set(first.signals) == {"C1", "C2", "C3", "C4"}
        assert first.signals["C4"][-1].kind is SignalKind.SALE

        with responses.RequestsMock() as rsps:  # any request would fail: nothing is registered
            second = refresh(store, NOW + timedelta(days=6, hours=23))
            assert len(rsps.calls) == 0
        assert second.looked_up == 0 and second.signals == first.signals

        with responses.RequestsMock() as rsps:
            registry(rsps)
            third = refresh(store, NOW + timedelta(days=7))
            assert len(rsps.calls) == 10
        assert third.signals["C3"][-1].fetched_at == NOW + timedelta(days=7)

    # the cache survives the process: a new connection to the same file asks nothing
    with StateStore(tmp_path / "state.sqlite") as store, responses.RequestsMock() as rsps:
        assert set(load_risk(store, CUSTOMERS).signals) == {"C1", "C2", "C3", "C4"}
        assert len(rsps.calls) == 0


def test_network_down_keeps_the_old_signals_and_says_they_are_stale(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        with responses.RequestsMock() as rsps:
            registry(rsps)
            before = refresh(store, NOW)
        later = NOW + timedelta(days=8)
        with responses.RequestsMock() as rsps:
            rsps.get(f"{SIRENE}/search", body=requests.exceptions.ConnectionError("network is unreachable"))
            after = refresh(store, later)
            assert len(rsps.calls) == 1  # the first failure stops the lookups: no hammering a dead network
        assert after.is_stale and set(after.stale) == set(before.checks)
        assert after.signals == before.signals  # the last known signals still count
        assert any("périmés" in line and "23/11/2026" in line for line in after.notes())
        assert "cannot be reached" in after.errors[0]
        # back online: the refresh catches up and the signals are fresh again
        with responses.RequestsMock() as rsps:
            registry(rsps)
            healed = refresh(store, later + timedelta(hours=1))
        assert not healed.is_stale and healed.looked_up == 5


def test_rate_limited_registry_makes_the_refresh_stale_not_failed(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store, responses.RequestsMock() as rsps:
        rsps.get(f"{SIRENE}/search", status=429, json=payload("sirene", "rate_limited"), headers={"Retry-After": "0"})
        result = refresh(store, NOW)
        assert result.is_stale and result.signals == {}
        assert "429" in result.errors[0]


def test_lookups_per_sync_are_capped_and_the_rest_waits(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store:
        with responses.RequestsMock() as rsps:
            registry(rsps)
            partial = refresh(store, NOW, max_lookups=2)
            assert len(rsps.calls) == 4
        assert partial.looked_up == 2 and not partial.is_stale
        with responses.RequestsMock() as rsps:
            registry(rsps)
            rest = refresh(store, NOW + timedelta(minutes=15), max_lookups=2)
            assert len(rsps.calls) == 4
        assert rest.looked_up == 2


def test_signals_reach_the_clients_tab_and_the_scores(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite") as store, responses.RequestsMock() as rsps:
        registry(rsps)
        result = refresh(store, NOW)
    figures = {"C3": CustomerFigures(avg_delay=4.0, score=71, profile="B", reason="retards modérés")}
    adjusted = apply_risk(figures, result, AS_OF)
    assert adjusted["C3"].score == 15 and adjusted["C3"].profile == "D"
    assert adjusted["C3"].reason.startswith("Redressement judiciaire le 14/10/2026 (BODACC)")
    assert adjusted["C4"].score == 0  # no history yet, but in liquidation
    assert "C1" not in adjusted or adjusted["C1"].alert == ""
    view = build_view(Ledger(CUSTOMERS, ()), AS_OF, figures=adjusted)
    rows = {row["id"]: row for row in view.customers}
    assert "Redressement judiciaire" in rows["C3"]["alert"] and "14/10/2026" in rows["C3"]["alert"]
    assert "https://www.bodacc.fr/" in rows["C3"]["alert"]
    assert "30/06/2026" in rows["C2"]["alert"]
    assert rows["C1"]["alert"] == "" and rows["C6"]["alert"] == ""
    blocked = result.blocked()
    assert set(blocked) == {"C3", "C4"}
    assert "avant le 02/12/2026" in blocked["C4"]


def test_risk_section_of_the_configuration(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "source": {"type": "demo"},
            "risk": {"enabled": False, "sirene_base_url": "http://127.0.0.1:8081", "max_age_days": 3},
        },
        tmp_path / "encours.toml",
    )
    settings = risk_settings(config)
    assert settings == RiskSettings(
        enabled=False, sirene_base_url="http://127.0.0.1:8081", max_age_days=3
    )
    with StateStore(tmp_path / "state.sqlite") as store, responses.RequestsMock() as rsps:
        result = refresh_risk(store, CUSTOMERS, settings, now=NOW)
        assert len(rsps.calls) == 0 and result.signals == {} and not result.is_stale
    assert risk_settings(config_from_mapping({"source": {"type": "fec", "path": "f.txt"}}, tmp_path / "e.toml")) == (
        RiskSettings()
    )
    # the demo's SIRENs are made up: no registry lookups unless asked for
    demo = risk_settings(config_from_mapping({"source": {"type": "demo"}}, tmp_path / "e.toml"))
    assert demo.enabled is False
    assert date(2026, 1, 1) < AS_OF


def test_a_proceeding_turns_reminders_into_a_claim_declaration(tmp_path: Path) -> None:
    from encours.scenarios.planner import plan
    from encours.sheets_addin.marks import SheetMarks
    from encours.sync.risk import with_claim_declarations
    from tests.support.reminders import company, customer, invoice, shipped

    brasserie = customer("C3", name="Brasserie Lambert", siren="521874636")
    healthy = customer("C1", siren="832310593")
    books = Ledger((healthy, brasserie), (invoice("I1", 20), invoice("I3", 20, customer_id="C3"),
                                           invoice("I4", 45, "250.00", customer_id="C3")))
    with StateStore(tmp_path / "state.sqlite") as store, responses.RequestsMock() as rsps:
        registry(rsps)
        risk = refresh_risk(store, books.customers, RiskSettings(sirene_base_url=SIRENE, bodacc_base_url=BODACC),
                            now=NOW, sirene=SireneClient(SIRENE, pacer=Pacer(1000.0)),
                            bodacc=BodaccClient(BODACC, pacer=Pacer(1000.0)))
    blocked = risk.blocked()
    assert set(blocked) == {"C3"}
    result = plan(books, SheetMarks(), shipped(), AS_OF, done={}, company=company(), in_recovery=set(blocked))
    assert {a.customer_id for a in result.actions} == {"C1"}  # no amicable reminder to the brasserie
    result = with_claim_declarations(result, books, risk)
    for invoice_id in ("I3", "I4"):
        action = result.next_actions[invoice_id]
        assert action.label == "Déclarer la créance au mandataire judiciaire avant le 23/12/2026"
        assert action.date == date(2026, 12, 23)
    assert result.next_actions["I1"].label.startswith("Relance")
    todo = [row for row in result.todo if row["action"] == "Déclarer la créance"]
    assert len(todo) == 1 and todo[0]["customer"] == "Brasserie Lambert"
    assert todo[0]["amount"] == Decimal("1250.00") and todo[0]["invoices"] == "F-I3, F-I4"
    skips = [s for s in result.skips if s.customer_id == "C3"]
    assert skips and all("déclarer la créance" in s.detail for s in skips)
