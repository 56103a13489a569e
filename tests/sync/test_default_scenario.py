"""``[scenarios] default`` (issue 12.8): the scenario of customers without enough payment history."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from encours.connectors.model import Allocation, Payment
from encours.sync.config import load_config
from encours.sync.run import run_pass
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile
from tests.support.reminders import AS_OF, customer, invoice, ledger

MONDAY_10H = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_new_customer_gets_the_default_scenario_a_known_one_its_profile(tmp_path: Path) -> None:
    # C1 is new (no paid invoice); C2 paid five invoices late: profile D → firm (shipped mapping)
    history = [invoice(f"H{n}", 200 + n, "100.00", customer_id="C2", remaining="0.00") for n in range(5)]
    payments = tuple(Payment(f"P{n}", "C2", "test", (i.due_date or i.issue_date) + timedelta(days=90), i.total,
                             (Allocation(i.id, i.total),)) for n, i in enumerate(history))
    led = ledger(invoice("I1", -6, "800.00", customer_id="C1"), invoice("I2", -2, "800.00", customer_id="C2"),
                 *history, customers=(customer("C1"), customer("C2")), payments=payments)
    path = write_config(tmp_path, extra='from = "factures@dupont.example"\nwindow = "08:30-18:00"\n\n'
                                        '[scenarios]\ndefault = "gentle"\n')
    config = load_config(path)
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(led)
    report = run_pass(config, as_of=AS_OF, now=MONDAY_10H, connector=FakeSource(file))
    assert report.exit_code == 0, report.lines()
    with sqlite3.connect(config.state_path) as db:
        sent = sorted(db.execute("SELECT customer_id, scenario, step FROM journal WHERE state = 'sent'"))
    # gentle's courtesy notice goes 7 days before the due date; firm's 3 days before (standard: 5)
    assert sent == [("C1", "gentle", "courtesy"), ("C2", "firm", "courtesy")]
