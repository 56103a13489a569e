"""A pass never sends an amicable reminder to a customer under insolvency proceedings: the next
action becomes declaring the claim, found through the public registries (served by `responses`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import responses
from openpyxl import load_workbook

from encours.connectors.registries.bodacc import RECORDS_PATH
from encours.sync.channels.outbox import OutboxChannel
from encours.sync.config import load_config
from encours.sync.preview import preview
from encours.sync.run import run_pass
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile
from tests.support.reminders import customer, invoice, ledger

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
MONDAY_9H = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
COMPANIES = {"832310593": ("active", "none"), "521874636": ("receivership", "receivership")}


def _registries(rsps: responses.RequestsMock) -> None:
    def answer(kind: str, siren: str) -> tuple[int, dict[str, str], str]:
        name = COMPANIES[siren][0 if kind == "sirene" else 1]
        return 200, {}, (PAYLOADS / kind / f"{name}.json").read_text(encoding="utf-8")

    def sirene(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        return answer("sirene", request.params["q"])  # type: ignore[attr-defined]

    def bodacc(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        return answer("bodacc", request.params["where"].split('"')[1])  # type: ignore[attr-defined]

    rsps.add_callback(responses.GET, "https://sirene.test/search", callback=sirene)
    rsps.add_callback(responses.GET, "https://bodacc.test" + RECORDS_PATH, callback=bodacc)


def test_receivership_stops_reminders_and_asks_to_declare_the_claim(tmp_path: Path) -> None:
    config_path = write_config(
        tmp_path,
        extra='from = "factures@dupont.example"\nwindow = "08:30-18:00"\n\n[risk]\nenabled = true\n'
        'sirene_base_url = "https://sirene.test"\nbodacc_base_url = "https://bodacc.test"\n',
    )
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(ledger(
        invoice("I1", 20, "1200.00", customer_id="C1"),
        invoice("I3", 20, "450.00", customer_id="C3"),
        customers=(customer("C1", siren="832310593"), customer("C3", name="Brasserie Lambert", siren="521874636")),
    ))
    config = load_config(config_path)
    outbox = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _registries(rsps)
        report = run_pass(config, as_of=MONDAY_9H.date(), now=MONDAY_9H, connector=FakeSource(file),
                          channel=OutboxChannel(outbox))
        lookups = len(rsps.calls)
    assert lookups == 4  # two registries × two SIRENs, then cached for the week
    sent_to = {o.customer for o in report.sent}
    assert sent_to and all("Brasserie" not in name for name in sent_to)
    messages = [p.read_text(encoding="utf-8", errors="replace") for p in outbox.glob("*.eml")]
    assert messages and not any("Brasserie Lambert" in m for m in messages)

    wb = load_workbook(config.sheet.path("path"), read_only=True)
    factures = list(wb["Factures"].iter_rows(values_only=True))
    header = factures[0]
    row = dict(zip(header, next(r for r in factures[1:] if r[0] == "I3"), strict=False))
    assert str(row["Prochaine action"]).startswith("Déclarer la créance au mandataire judiciaire")
    clients = list(wb["Clients"].iter_rows(values_only=True))
    alert = dict(zip(clients[0], next(r for r in clients[1:] if r[0] == "C3"), strict=False))["Alerte"]
    assert alert and "redressement" in str(alert).lower()
    todo = [r for r in wb["À faire"].iter_rows(values_only=True)]
    assert any("Déclarer la créance" in str(r) for r in todo)


def test_preview_is_the_run_for_a_customer_under_proceedings(tmp_path: Path) -> None:
    """Preview assembles the dossier as the run does: no amicable reminder for the customer in
    receivership (the claim declaration instead), and for the other one the very step the run sends."""
    config_path = write_config(
        tmp_path,
        extra='from = "factures@dupont.example"\nwindow = "08:30-18:00"\n\n[risk]\nenabled = true\n'
        'sirene_base_url = "https://sirene.test"\nbodacc_base_url = "https://bodacc.test"\n',
    )
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(ledger(
        invoice("I1", 20, "1200.00", customer_id="C1"),
        invoice("I3", 20, "450.00", customer_id="C3"),
        customers=(customer("C1", siren="832310593"), customer("C3", name="Brasserie Lambert", siren="521874636")),
    ))
    config = load_config(config_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _registries(rsps)
        dry = run_pass(config, as_of=MONDAY_9H.date(), now=MONDAY_9H, connector=FakeSource(file), dry_run=True,
                       channel=OutboxChannel(tmp_path / "dry"))
        # the dry run looked nothing up: a real pass stores the registry signals first
        run_pass(config, as_of=MONDAY_9H.date(), now=MONDAY_9H, connector=FakeSource(file),
                 channel=OutboxChannel(tmp_path / "out"), fetch_pdf=lambda url: None)
    assert any("Brasserie" in o.customer for o in dry.would_send)  # unknown risk until looked up

    # the next day: what the run would do is what the preview shows
    later_now = MONDAY_9H + timedelta(days=15)
    later = later_now.date()
    receivership = preview(config, "C3", as_of=later, fetch_pdf=lambda item: None)
    assert receivership.messages == []
    assert "Déclarer la créance" in receivership.next_action
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _registries(rsps)
        dry_later = run_pass(config, as_of=later, now=later_now,
                             connector=FakeSource(file), dry_run=True)
    other = preview(config, "C1", as_of=later, fetch_pdf=lambda item: None)
    previewed = sorted(f"{a.step.label}" for a, _ in other.messages)
    would = sorted(o.step for o in dry_later.would_send if "Brasserie" not in o.customer)
    assert would and previewed == would
    assert not any("Brasserie" in o.customer for o in dry_later.would_send)
