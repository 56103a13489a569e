"""What a pass writes where people read it, word for word: the journal's reasons when a person
confirms an interrupted send, and why the sending window is closed (the run's summary and the
deferred rows) — sentences that come from sync/labels.py, not from the orchestration code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from encours.connectors.model import Money
from encours.scenarios.actions import StepKey
from encours.sync.config import load_config
from encours.sync.journal import Dispatch, Journal
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
