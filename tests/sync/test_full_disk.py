"""A full disk leaves everything as it was: the workbook and the cursor move together or not at all,
the error is one line with exit code 1, nothing is sent twice once space is back.

The first test makes the state commit fail right after the workbook was replaced (the order that
used to leave the sheet ahead of the cursor); the second fills a real, tiny file system (a tmpfs
mounted in a user namespace with ``unshare``) under a real pass.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from encours.sync.cli import main
from encours.sync.config import load_config
from encours.sync.run import run_pass
from encours.sync.state import StateStore
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile
from tests.support.reminders import customer, invoice, ledger

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def test_a_commit_failing_after_the_sheet_swap_puts_the_old_workbook_back(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write_config(tmp_path, extra='from = "factures@dupont.example"\n'))
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(ledger(invoice("I1", 20, "1200.00", customer_id="C1"), invoice("I2", 5, "300.00", customer_id="C2"),
                     customers=(customer("C1"), customer("C2"))))
    run_pass(config, as_of=MONDAY.date(), now=MONDAY, connector=FakeSource(file), fetch_pdf=lambda u: None)
    workbook = config.sheet.path("path")
    before = workbook.read_bytes()
    with StateStore(config.state_path) as store:
        cursor = store.sync_mark("fake")
    file.pay(["I1"])

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(StateStore, "set_sync_mark", disk_full)
    later = MONDAY + timedelta(days=12)
    report = run_pass(config, as_of=later.date(), now=later, connector=FakeSource(file), fetch_pdf=lambda u: None)
    assert report.exit_code == 1 and any("disk is full" in p for p in report.problems)
    assert workbook.read_bytes() == before, "the workbook is the one that goes with the cursor"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~")], "no leftover file"
    monkeypatch.undo()
    with StateStore(config.state_path) as store:
        assert store.sync_mark("fake") == cursor and store.invoice("I1").remaining.amount > 0  # type: ignore[union-attr]
    again = run_pass(config, as_of=later.date(), now=later + timedelta(minutes=15), connector=FakeSource(file),
                     fetch_pdf=lambda u: None)
    assert again.exit_code == 0 and again.sent == []
    assert workbook.read_bytes() != before


_SCRIPT = textwrap.dedent('''
    import json, os, subprocess, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    disk = Path(sys.argv[1])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    from encours.connectors.errors import EncoursError
    from encours.sync.config import load_config
    from encours.sync.run import run_pass
    from encours.sync.state import StateStore
    from tests.conftest import write_config
    from tests.support.fake_source import FakeSource, LedgerFile, bulk_ledger
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    config = load_config(write_config(disk, extra='from = "factures@dupont.example"\\n'))
    file = LedgerFile(Path(sys.argv[3]))
    file.save(bulk_ledger(60, as_of=monday.date(), customers=20))
    def go(now):
        try:
            report = run_pass(config, as_of=now.date(), now=now, connector=FakeSource(file), fetch_pdf=lambda u: None)
            return {"exit": report.exit_code, "problems": report.problems, "sent": len(report.sent),
                    "failed": len(report.failed)}
        except EncoursError as exc:
            return {"exit": exc.exit_code, "error": str(exc)}
        except BaseException as exc:
            import traceback
            return {"exit": "traceback", "error": repr(exc), "where": traceback.format_exc()}
    def cursor():
        with StateStore(config.state_path) as store:
            mark = store.sync_mark("fake")
            return None if mark is None else mark.cursor
    out = {"first": go(monday)}
    if out["first"]["exit"] != 0:
        sys.exit(json.dumps(out))
    workbook = config.sheet.path("path")
    before, cursor_before = workbook.read_bytes(), cursor()
    ledger, _, _, _ = file.load()
    file.pay([i.id for i in ledger.invoices if i.is_open][:10])
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError:
        os.close(fd)
    later = monday + timedelta(days=12)
    out["full"] = go(later)
    out["workbook_unchanged"] = workbook.read_bytes() == before
    out["leftovers"] = sorted(p.name for p in disk.iterdir() if p.name.startswith((".~", ".tmp")))
    filler.unlink()
    out["cursor_unchanged"] = cursor() == cursor_before
    out["after"] = go(later + timedelta(minutes=15))
    out["cursor_after"] = cursor()
    with StateStore(config.state_path) as store:
        rows = store.db.execute("SELECT message_id FROM journal_events WHERE state = 'sent'").fetchall()
    out["sent_ids"] = [r[0] for r in rows]
    out["outbox"] = len(list((disk / "outbox").glob("*.eml")))
    print(json.dumps(out))
''')


def test_a_real_full_disk_stops_cleanly_and_the_next_run_catches_up(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    disk = tmp_path / "disk"
    disk.mkdir()
    if unshare is None or subprocess.run([unshare, "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("no user namespaces here to mount a tiny file system")
    done = subprocess.run([unshare, "-rm", sys.executable, "-c", _SCRIPT, str(disk), str(ROOT),
                           str(tmp_path / "ledger.json")], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({k: v for k, v in out.items() if k != "sent_ids"}))
    assert out["first"]["exit"] == 0 and out["first"]["sent"] > 0
    full = out["full"]
    assert full["exit"] == 1, full
    said = full.get("error", "") + " ".join(full.get("problems", []))
    assert "disk is full" in said or "No space left" in said, said
    assert "\n" not in full.get("error", ""), "one line"
    assert out["workbook_unchanged"] and out["cursor_unchanged"] and out["leftovers"] == []
    assert out["after"]["exit"] == 0, out["after"]
    assert out["cursor_after"] != "v1"
    assert len(out["sent_ids"]) == len(set(out["sent_ids"])) == out["outbox"], "each message once, none lost"


def test_enospc_is_one_line_with_exit_code_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    from encours.sync.commands import run_cmd

    def full(args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "encours.xlsx"))

    monkeypatch.setattr(run_cmd, "run", full)
    assert main(["run", "-c", str(write_config(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "disk is full" in err and "Traceback" not in err
