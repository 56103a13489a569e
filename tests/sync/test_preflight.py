"""What a pass refuses before it sends anything: a missing or unreadable sheet of a dossier that
has synced before, an unwritable workbook, a state file of another dossier, a full export that
suddenly holds no open invoice.  Real workbooks, real state files, the outbox as channel."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.connectors.errors import EncoursError
from encours.connectors.model import Delta
from encours.sync.cli import main
from encours.sync.config import Config, load_config
from encours.sync.preflight import SheetMissingError, SuddenlyEmptyError
from encours.sync.pull import sync
from encours.sync.run import run_pass
from encours.sync.run_report import RunReport
from encours.sync.state import StateOwnerError, StateStore
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile
from tests.support.reminders import customer, invoice, ledger

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SENDING = 'from = "factures@dupont.example"\n'


class FileExport(FakeSource):
    """A source read from an export file (FEC, CSV): every pull is the whole file."""

    def pull(self, cursor: str | None) -> Delta:
        return super().pull(None)


def _dossier(folder: Path, name: str = "Atelier Dupont SARL") -> tuple[Config, LedgerFile]:
    folder.mkdir(parents=True, exist_ok=True)
    path = write_config(folder, extra=SENDING)
    path.write_text(path.read_text().replace("Atelier Dupont SARL", name))
    config = load_config(path)
    file = LedgerFile(folder / "ledger.json")
    file.save(ledger(
        invoice("I1", 20, "1200.00", customer_id="C1"),
        invoice("I2", 20, "300.00", customer_id="C2"),
        invoice("I3", 20, "450.00", customer_id="C3"),
        customers=(customer("C1"), customer("C2"), customer("C3")),
    ))
    return config, file


def _pass(config: Config, file: LedgerFile, now: datetime, **kw: Any) -> RunReport:
    source = kw.pop("source", None) or FakeSource(file)
    return run_pass(config, as_of=now.date(), now=now, connector=source, fetch_pdf=lambda url: None, **kw)


def _outbox(config: Config) -> list[str]:
    folder = config.base_dir / "outbox"
    return sorted(p.name for p in folder.glob("*.eml")) if folder.is_dir() else []


def _mark(workbook: Path, invoice_id: str, heading: str, value: Any) -> None:
    wb = load_workbook(workbook)
    ws = wb["Factures"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("ID")].value == invoice_id:
            row[header.index(heading)].value = value
    wb.save(workbook)


def test_a_moved_workbook_stops_the_pass_before_anything_is_sent(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    first = _pass(config, file, MONDAY)
    assert len(first.sent) == 3
    workbook = config.sheet.path("path")
    _mark(workbook, "I2", "Litige", "Oui")
    shutil.move(workbook, tmp_path / "renamed by someone.xlsx")
    sent_before = _outbox(config)
    later = MONDAY + timedelta(days=10)
    with pytest.raises(SheetMissingError) as stopped:
        _pass(config, file, later)
    assert stopped.value.exit_code == 2 and str(workbook) in str(stopped.value) and "--new-sheet" in str(stopped.value)
    assert _outbox(config) == sent_before and not workbook.exists(), "nothing sent, no empty sheet made"
    # told to start a new sheet, the pass goes on (the journal still never repeats a step)
    fresh = _pass(config, file, later, new_sheet=True)
    assert workbook.exists() and len(fresh.sent) == 3


def test_an_unreadable_workbook_stops_the_pass_and_says_where(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    _pass(config, file, MONDAY)
    workbook = config.sheet.path("path")
    workbook.write_bytes(b"PK\x03\x04 not a workbook any more")
    sent_before = _outbox(config)
    with pytest.raises(SheetMissingError, match="cannot be read") as stopped:
        _pass(config, file, MONDAY + timedelta(days=10))
    assert str(workbook) in str(stopped.value) and stopped.value.exit_code == 2
    assert _outbox(config) == sent_before


def test_an_unwritable_workbook_is_found_before_anything_is_sent(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    config_path = Path(config.file)
    config_path.write_text(config_path.read_text().replace('path = "encours.xlsx"', 'path = "gone/encours.xlsx"'))
    with pytest.raises(EncoursError, match="does not exist") as stopped:
        _pass(load_config(config_path), file, MONDAY)
    assert stopped.value.exit_code >= 1 and _outbox(config) == []


def test_a_second_dossier_on_the_same_state_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_a, file_a = _dossier(tmp_path / "a", "Atelier Dupont SARL")
    config_b, file_b = _dossier(tmp_path / "b", "Garage Martin SAS")
    shared = tmp_path / "shared.sqlite"
    for config in (config_a, config_b):
        Path(config.file).write_text(Path(config.file).read_text().replace('state = "state.sqlite"',
                                                                           f'state = "{shared}"'))
    config_a, config_b = load_config(config_a.file), load_config(config_b.file)
    _pass(config_a, file_a, MONDAY)
    with pytest.raises(StateOwnerError) as refused:
        _pass(config_b, file_b, MONDAY)
    assert refused.value.exit_code == 2
    assert "Atelier Dupont SARL" in str(refused.value) and "Garage Martin SAS" in str(refused.value)
    assert _outbox(config_b) == []
    assert main(["run", "-c", str(config_b.file), "--confirm", "R-0000000000", "sent"]) == 2
    assert "belongs to dossier 'Atelier Dupont SARL'" in capsys.readouterr().err
    with StateStore(shared) as store:
        assert store.owner() == ("Atelier Dupont SARL", "demo")
        assert {c.id for c in store.ledger().customers} == {"C1", "C2", "C3"}


def test_a_header_only_export_is_refused_unless_allowed(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    _pass(config, file, MONDAY, source=FileExport(file))
    workbook = config.sheet.path("path")
    before = workbook.read_bytes()
    file.save(ledger(customers=(customer("C1"), customer("C2"), customer("C3"))))  # the header, no invoice
    with pytest.raises(SuddenlyEmptyError, match="--allow-empty") as refused:
        _pass(config, file, MONDAY + timedelta(days=1), source=FileExport(file))
    assert refused.value.exit_code == 2 and "3 were open" in str(refused.value)
    assert workbook.read_bytes() == before
    with StateStore(config.state_path) as store:
        assert store.open_invoice_count() == 3, "nothing was closed"
    allowed = _pass(config, file, MONDAY + timedelta(days=1), source=FileExport(file), allow_empty=True)
    assert allowed.exit_code == 0
    with StateStore(config.state_path) as store:
        assert store.open_invoice_count() == 0


def test_sync_refuses_a_missing_sheet_too(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    _pass(config, file, MONDAY)
    workbook = config.sheet.path("path")
    workbook.unlink()
    with pytest.raises(SheetMissingError):
        sync(config, as_of=MONDAY.date(), now=MONDAY)
    assert not workbook.exists()


def _rename_heading(workbook: Path, old: str, new: str) -> None:
    wb = load_workbook(workbook)
    for cell in wb["Factures"][1]:
        if cell.value == old:
            cell.value = new
    wb.save(workbook)


def test_a_dispute_column_under_a_changed_heading_is_still_read(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    _pass(config, file, MONDAY)
    workbook = config.sheet.path("path")
    _rename_heading(workbook, "Litige", "Litige (oui/non)")
    _mark(workbook, "I2", "Litige (oui/non)", "Oui")
    later = _pass(config, file, MONDAY + timedelta(days=10))
    assert {o.customer for o in later.sent} == {"Client C1", "Client C3"}, "the disputed invoice is not reminded"
    ws = load_workbook(workbook)["Factures"]
    header = [c.value for c in ws[1]]
    disputed = {r[header.index("ID")].value: r[header.index("Litige (oui/non)")].value for r in ws.iter_rows(min_row=2)}
    assert disputed["I2"] == "Oui" and "Litige" not in header, "the person's column and heading are kept"


def test_a_dispute_column_renamed_beyond_recognition_stops_the_pass(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    _pass(config, file, MONDAY)
    workbook = config.sheet.path("path")
    _rename_heading(workbook, "Litige", "Contesté ?")
    _mark(workbook, "I2", "Contesté ?", "Oui")
    sent_before = _outbox(config)
    with pytest.raises(SheetMissingError) as stopped:
        _pass(config, file, MONDAY + timedelta(days=10))
    assert "Litige" in str(stopped.value) and "'Contesté ?'" in str(stopped.value)
    assert _outbox(config) == sent_before


def test_a_killed_pass_leaves_no_copy_of_the_workbook_behind(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    _pass(config, file, MONDAY)
    workbook = config.sheet.path("path")
    stale = workbook.with_name(f".~{workbook.name}.4242.before")  # what a pass killed mid-commit leaves
    stale.write_bytes(workbook.read_bytes())
    file.pay(["I1"])
    _pass(config, file, MONDAY + timedelta(days=1))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".~")] == []
