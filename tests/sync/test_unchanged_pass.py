"""A pass where nothing changed reports what the last one did and touches nothing — and lives the same
days as passes that plan everything again (issue 17: a pass costs what changed)."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sync.config import Config, load_config
from encours.sync.run import run_pass
from encours.sync.run_report import RunReport
from encours.sync.state import StateStore
from encours.sync.unchanged import DISABLE_ENV, NOTE, pass_inputs

START = date(2026, 11, 23)  # a Monday
CONFIG = """[company]
name = "Atelier Dupont SARL"
country = "FR"
timezone = "Europe/Paris"
state = "state.sqlite"
email = "factures@dupont.example"

[source]
type = "csv"
path = "factures.csv"
payments = "paiements.csv"
customers = "clients.csv"

[sheet]
type = "xlsx"
path = "encours.xlsx"

[sending]
mode = "outbox"
outbox = "outbox"
window = "08:30-18:00"

[risk]
enabled = false
"""


def write_sources(folder: Path, paid: set[str], n: int = 36) -> None:
    """``n`` invoices of 6 customers, issued 5 to 90 days before ``START``; ``paid`` are settled."""
    rng = random.Random(12)
    lines = ["Numéro;Client;ID client;Date;Échéance;Montant TTC;Reste dû;Devise"]
    pay = ["Date;ID client;Facture;Montant;Devise"]
    for i in range(n):
        number, customer = f"F{i:04d}", f"C{i % 6}"
        issued = START - timedelta(days=rng.randint(5, 90))
        total = rng.randint(100, 3000)
        remaining = 0 if number in paid else total
        lines.append(f"{number};Client {customer};{customer};{issued:%d/%m/%Y};{issued + timedelta(days=30):%d/%m/%Y};"
                     f"{total},00;{remaining},00;EUR")
        if number in paid:
            pay.append(f"{START:%d/%m/%Y};{customer};{number};{total},00;EUR")
    (folder / "factures.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "paiements.csv").write_text("\n".join(pay) + "\n", encoding="utf-8")
    clients = "".join(f"C{c};Client C{c};compta@c{c}.example\n" for c in range(6))
    (folder / "clients.csv").write_text("ID client;Nom;Email\n" + clients, encoding="utf-8")


def dossier(folder: Path) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "encours.toml").write_text(CONFIG, encoding="utf-8")
    write_sources(folder, paid=set())
    return load_config(folder / "encours.toml")


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 1, 0, tzinfo=UTC)  # Paris, winter


def one_pass(config: Config, day: date, hour: int) -> RunReport:
    return run_pass(config, as_of=day, now=at(day, hour))


def type_in_sheet(config: Config, invoice_id: str, heading: str, value: Any) -> None:
    workbook = config.sheet.path("path")
    wb = load_workbook(workbook)
    ws = wb["Factures"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("ID")].value == invoice_id:
            row[header.index(heading)].value = value
    wb.save(workbook)


def journal(config: Config) -> list[tuple[str, str]]:
    with sqlite3.connect(config.state_path) as db:
        return sorted(db.execute("SELECT key, state FROM journal"))


def sheet(config: Config, tab: str) -> list[tuple[Any, ...]]:
    """A tab's cells, the dossier's folder written ``<dossier>`` (the outbox files are named in it)."""
    rows = load_workbook(config.sheet.path("path"), read_only=True)[tab].iter_rows(values_only=True)
    here = str(config.base_dir)
    return [tuple(v.replace(here, "<dossier>") if isinstance(v, str) else v for v in r) for r in rows]


def test_a_pass_with_nothing_new_repeats_the_last_report_and_touches_nothing(tmp_path: Path) -> None:
    config = dossier(tmp_path)
    first = one_pass(config, START, 9)
    assert first.sent, "the first pass sends what is due"
    reports = [one_pass(config, START, hour) for hour in (10, 11, 12)]
    quiet = [r for r in reports if NOTE in r.sync_lines]
    assert quiet, [r.lines() for r in reports]
    workbook = config.sheet.path("path")
    stamp, rows, outbox = workbook.stat().st_mtime_ns, journal(config), sorted((tmp_path / "outbox").rglob("*"))
    again = one_pass(config, START, 13)
    assert NOTE in again.sync_lines and again.sent == [] and again.exit_code == 0
    assert [line for line in again.lines() if line != NOTE] == [line for line in quiet[-1].lines() if line != NOTE]
    assert workbook.stat().st_mtime_ns == stamp and journal(config) == rows
    assert sorted((tmp_path / "outbox").rglob("*")) == outbox
    with StateStore(config.state_path) as store:  # the cursor's time still says when the source was last read
        mark = store.sync_mark("csv")
        assert mark is not None and mark.synced_at == at(START, 13)


def test_before_the_sending_window_opens_the_passes_wait_cheaply_then_the_first_one_after_sends(
        tmp_path: Path) -> None:
    config = dossier(tmp_path)
    early = [one_pass(config, START, hour) for hour in (6, 7, 8)]  # the window opens at 08:30
    assert all(r.sent == [] and r.deferred for r in early)
    assert NOTE in early[-1].sync_lines and early[-1].deferred == early[0].deferred
    assert not list((tmp_path / "outbox").rglob("*.eml"))
    opened = one_pass(config, START, 9)
    assert NOTE not in opened.sync_lines
    assert sorted(o.customer for o in opened.sent) == sorted(o.customer for o in early[0].deferred)


def test_what_a_pass_reads_is_in_its_digest(tmp_path: Path) -> None:
    config = dossier(tmp_path)
    one_pass(config, START, 9)

    def digest(day: date = START) -> str:
        with StateStore(config.state_path) as store:
            return pass_inputs(config, store, XlsxWorkbook(config.sheet.path("path")), source="csv", as_of=day).digest

    base = digest()
    assert digest() == base
    assert digest(START + timedelta(days=1)) != base
    with sqlite3.connect(config.state_path) as db:  # caches and the cursor's time are not inputs
        db.execute("UPDATE cursors SET synced_at = '2030-01-01T00:00:00+00:00'")
        db.execute("INSERT INTO cache (namespace, key, value, updated_at) VALUES ('x', 'y', 'z', 'now')")
    assert digest() == base
    changes = [
        "INSERT INTO recovery (dossier, customer_id, since) VALUES ('Atelier Dupont SARL', 'C1', '2026-11-23')",
        "UPDATE journal SET state = 'failed' WHERE rowid = (SELECT min(rowid) FROM journal)",
        "INSERT INTO risk_checks (siren, known) VALUES ('123456789', 1)",
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'ledger_generation'",
    ]
    for sql in changes:
        with sqlite3.connect(config.state_path) as db:
            db.execute(sql)
        assert digest() != base, sql
        base = digest()
    type_in_sheet(config, "F0001", "Litige", "Oui")
    assert digest() != base


def test_only_the_environment_variables_the_settings_name_are_inputs(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A shell sets ``_`` to the program it starts (``/usr/bin/time``, a wrapper script, cron's shell):
    launching the same pass another way must not cost a full pass. The variables a ``*_env`` key names
    (a token, a password) and ``ENCOURS*`` are inputs."""
    from encours.sync.redact import named_variables

    config = dossier(tmp_path)
    settings = tmp_path / "encours.toml"  # a key holding "_", as most settings have one
    settings.write_text(CONFIG.replace("[risk]", "every_day = true\n\n[risk]"), encoding="utf-8")
    config = load_config(settings)
    one_pass(config, START, 9)

    def digest() -> str:
        with StateStore(config.state_path) as store:
            return pass_inputs(config, store, XlsxWorkbook(config.sheet.path("path")), source="csv", as_of=START).digest

    monkeypatch.setenv("_", "/work/.venv/bin/encours")
    base = digest()
    for name, value in (("_", "/usr/bin/time"), ("OLDPWD", "/tmp"), ("SHLVL", "3"), ("TERM", "dumb")):
        monkeypatch.setenv(name, value)
        assert digest() == base, name
    monkeypatch.setenv("ENCOURS_RATES_FILE", "/etc/encours/taux.toml")
    assert digest() != base
    assert named_variables({"source": {"type": "pennylane", "token_env": "PENNYLANE_TOKEN"},
                            "sending": {"smtp": {"password_env": "SMTP_PASSWORD", "user": "relances"}},
                            "company": {"name": "Atelier_Dupont"}}) == {"PENNYLANE_TOKEN", "SMTP_PASSWORD"}


def live(folder: Path, monkeypatch: pytest.MonkeyPatch, *, records: bool) -> tuple[list[list[str]], int, Config]:
    """A week, four passes a day: payments at the source, a dispute and a promise typed in the sheet,
    the journal growing with each reminder.  Returns each pass's report, the unchanged passes, the config."""
    if records:
        monkeypatch.delenv(DISABLE_ENV, raising=False)
    else:
        monkeypatch.setenv(DISABLE_ENV, "1")
    config = dossier(folder)
    paid: set[str] = set()
    lines: list[list[str]] = []
    unchanged = 0
    for n in range(7):
        day = START + timedelta(days=n)
        if n == 2:
            paid |= {"F0003", "F0010"}
            write_sources(folder, paid)
        if n == 3:
            type_in_sheet(config, "F0005", "Litige", "Oui")
        if n == 5:
            type_in_sheet(config, "F0008", "Promesse (date)", datetime(2026, 12, 10))
        for hour in (9, 11, 14, 16):
            if n == 6 and hour == 14:
                paid |= {"F0002"}
                write_sources(folder, paid)
            report = one_pass(config, day, hour)
            unchanged += NOTE in report.sync_lines
            lines.append([line.replace(str(folder), "<dossier>") for line in report.lines() if line != NOTE])
    return lines, unchanged, config


def test_passes_with_and_without_the_unchanged_records_live_the_same_days(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached, quiet, with_records = live(tmp_path / "records", monkeypatch, records=True)
    fresh, none, without = live(tmp_path / "fresh", monkeypatch, records=False)
    assert none == 0 and quiet >= 8, quiet  # the later passes of a quiet day find nothing new
    assert cached == fresh
    assert journal(with_records) == journal(without)
    assert any(state == "sent" for _, state in journal(with_records))
    outbox = sorted(p.name for p in (tmp_path / "records" / "outbox").rglob("*") if p.is_file())
    assert outbox and outbox == sorted(p.name for p in (tmp_path / "fresh" / "outbox").rglob("*") if p.is_file())
    for tab in ("Factures", "Relances", "À faire"):
        assert sheet(with_records, tab) == sheet(without, tab), tab
