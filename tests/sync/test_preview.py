"""``encours preview``: the next reminder of an invoice or a customer, exactly as it would be sent."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from encours.connectors.model import Delta, Ledger
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from encours.sync.cli import main
from encours.sync.config import load_config
from encours.sync.pipeline import DossierState, assemble
from encours.sync.preview import PreviewError, preview_plan
from encours.sync.state import StateStore
from tests.support.reminders import AS_OF, customer, invoice, ledger

CONFIG = """[company]
name = "Atelier Dupont SARL"
country = "FR"
timezone = "Europe/Paris"
language = "fr"
state = "state.sqlite"
iban = "FR7630006000011234567890189"

[source]
type = "demo"

[sheet]
type = "xlsx"
path = "absent.xlsx"

[sending]
mode = "outbox"
outbox = "outbox"
from = "factures@dupont.example"
"""


@pytest.fixture()
def dossier(tmp_path: Path) -> Path:
    config = tmp_path / "encours.toml"
    config.write_text(CONFIG, encoding="utf-8")
    led = ledger(invoice("I1", 20, "1200.00"), invoice("I2", -9, "80.00", customer_id="C2"),
                 customers=(customer("C1", name="Boulangerie Martin"), customer("C2", name="Garage Lenoir")))
    with StateStore(tmp_path / "state.sqlite") as store, store.transaction():
        store.apply_delta(Delta(led.customers, led.invoices, led.payments))
    return config


def test_preview_prints_the_message_and_writes_its_files(dossier: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "preview"
    code = main(["preview", "-c", str(dossier), "F-I1", "--as-of", AS_OF.isoformat(), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "Subject: Relance : facture F-I1 impayée — Atelier Dupont SARL" in printed
    assert "To: compta@c1.example" in printed and "Cc: julie@dupont.example" in printed
    assert "1\u202f200,00\u00a0€" in printed
    assert "[attachment] Relevé de compte Boulangerie Martin" in printed
    eml = next(out.glob("*.eml"))
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Relance : facture F-I1 impayée — Atelier Dupont SARL"
    assert next(out.glob("*.html")).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (tmp_path / "outbox").exists()  # nothing was sent
    with StateStore(tmp_path / "state.sqlite") as store:
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "journal" in tables:
            assert store.db.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0


def test_a_customer_with_nothing_due_today_previews_its_next_action(dossier: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preview", "-c", str(dossier), "garage lenoir", "--as-of", AS_OF.isoformat()])
    printed = capsys.readouterr().out
    assert code == 0
    next_day = AS_OF + timedelta(days=4)  # courtesy notice 5 days before a due date 9 days away
    assert f"aperçu au {next_day:%d/%m/%Y}" in printed
    assert "Prévenance" in printed and "F-I2" in printed


def test_an_unknown_target_is_a_usage_error(dossier: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "-c", str(dossier), "nobody", "--as-of", AS_OF.isoformat()]) == 2
    assert "'nobody' is neither an invoice" in capsys.readouterr().err


def test_nothing_synced_yet_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "encours.toml"
    config.write_text(CONFIG, encoding="utf-8")
    assert main(["preview", "-c", str(config), "F-I1"]) == 2
    assert "encours sync" in capsys.readouterr().err


def _state(tmp_path: Path, books: Ledger, marks: SheetMarks) -> DossierState:
    """The dossier state the run would assemble for ``books`` with ``marks`` typed in the sheet."""
    path = tmp_path / "encours.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path)
    store = StateStore(config.state_path)
    with store.transaction():
        store.apply_delta(Delta.of_ledger(books, "t"))
    return assemble(config, store, as_of=AS_OF, now=datetime.combine(AS_OF, time(10), tzinfo=UTC), marks=marks)


def test_a_disputed_invoice_shows_why_nothing_goes(tmp_path: Path) -> None:
    led = ledger(invoice("I1", 20))
    result = preview_plan(_state(tmp_path, led, SheetMarks(invoices={"I1": InvoiceMarks(dispute=True)})), "I1")
    assert result.messages == []
    assert [s.reason for s in result.skips] == ["disputed"]


def test_several_matching_customers_ask_for_the_id(tmp_path: Path) -> None:
    led = ledger(invoice("I1", 20), invoice("I2", 20, customer_id="C2"),
                 customers=(customer("C1", name="Martin SA"), customer("C2", name="Martin SARL")))
    with pytest.raises(PreviewError, match="several customers"):
        preview_plan(_state(tmp_path, led, SheetMarks()), "martin")
