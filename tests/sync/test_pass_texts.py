"""What a pass writes where people read it, word for word: the journal's reasons when a person
confirms an interrupted send, and why the sending window is closed (the run's summary and the
deferred rows) — sentences that come from sync/labels.py, not from the orchestration code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from encours.connectors.model import Money
from encours.scenarios.actions import Skip, StepKey
from encours.sync.config import load_config
from encours.sync.journal import Dispatch, Journal
from encours.sync.preview import Preview, describe
from encours.sync.risk import RiskRefresh, SirenCheck
from encours.sync.state import StateStore
from encours.sync.window import window_state
from tests.conftest import write_config

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _dispatch(target: str) -> Dispatch:
    return Dispatch((StepKey("invoice", target, "standard", "reminder_1"),), "C1", "Garage Faure", "standard",
                    "reminder_1", "email", (target,), (f"F-{target}",), Money(Decimal("120.00"), "EUR"),
                    ("compta@garage-faure.fr",), date(2026, 11, 20))


def test_an_interrupted_send_and_its_confirmation_read_in_french(tmp_path: Path) -> None:
    journal = Journal(StateStore(tmp_path / "state.sqlite"), "atelier")
    for target, sent in (("I1", True), ("I2", False)):
        reference = journal.begin(_dispatch(target), NOW, message_id=f"<{target}@x>")
        (stuck,) = [e for e in journal.recover(NOW + timedelta(minutes=15)) if e.key.target == target]
        assert stuck.reason == ("interrompu entre l'envoi et sa confirmation : vérifier la boîte d'envoi ou le "
                                "serveur, puis `encours run --confirm REF sent|not-sent`")
        (after,) = journal.confirm(reference, sent=sent, now=NOW + timedelta(hours=1), who="claire")
        assert after.reason == ("confirmée envoyée par claire" if sent
                                else "confirmée non envoyée par claire : sera renvoyée")


def test_why_the_sending_window_is_closed(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, extra='from = "factures@dupont.example"\nwindow = "08:30-18:00"\n'))
    paris = config.timezone
    assert window_state(config, datetime(2026, 11, 23, 10, 0, tzinfo=paris)).note == \
        "plage d'envoi ouverte jusqu'à 18:00"
    assert window_state(config, datetime(2026, 11, 23, 19, 0, tzinfo=paris)).note == \
        "hors de la plage d'envoi 08:30-18:00"
    assert window_state(config, datetime(2026, 11, 22, 10, 0, tzinfo=paris)).note == "jour non ouvré (dimanche)"
    assert window_state(config, datetime(2026, 11, 11, 10, 0, tzinfo=paris)).note == "jour non ouvré (Armistice)"


def test_what_the_preview_says_about_an_invoice_without_reminder() -> None:
    result = Preview("F-1", date(2026, 11, 23), skips=[Skip("I1", "C1", "disputed", "Litige : relances suspendues")],
                     next_action="Relance 1 (e-mail) le 24/11/2026")
    assert describe(result) == ["Prochaine action : Relance 1 (e-mail) le 24/11/2026",
                                "Pas de relance (I1) : Litige : relances suspendues"]


def test_the_registries_notes_name_what_could_not_be_checked() -> None:
    checked = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    refresh = RiskRefresh(signals={}, checks={"552100554": SirenCheck("552100554", checked, True, "Acme", ())},
                          stale=("552100554",), unknown=("123456782",), invalid=("C7",))
    assert refresh.notes() == (
        "Signaux des registres périmés pour 1 SIREN : registres injoignables (plus ancienne vérification : "
        "02/11/2026).",
        "SIREN inconnus du répertoire des entreprises : 123456782.",
        "SIREN invalides (clients C7) : non vérifiés.",
    )
