"""``À faire`` is work people finish (issue 12.5): a call says what to say and stays until its
invoices are settled, not a week."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.smtp_server import SmtpServer
from tests.sync.test_run import MONDAY_9H, dossier, one_pass, sheet_rows


def calls(path: Path) -> list[dict[str, object]]:
    return [r for r in sheet_rows(path, "À faire") if r["Action"] == "Appeler"]


def test_a_call_says_what_to_say_and_stays_until_the_invoice_is_paid(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    workbook = config.sheet.path("path")
    with SmtpServer() as server:
        one_pass(config, file, server.port)
        (call,) = calls(workbook)
        assert call["Client"] == "Client C3" and call["Factures"] == "F-I4"
        assert "à dire : 800.00 EUR dus sur F-I4" in str(call["Détail"])
        assert "aucune relance envoyée avant" in str(call["Détail"])
        twelve_days_later = MONDAY_9H + timedelta(days=12)
        one_pass(config, file, server.port, now=twelve_days_later)
        assert [c["Factures"] for c in calls(workbook)][:1] == ["F-I4"], "the call is still to make"
        file.pay(["I4"])
        one_pass(config, file, server.port, now=twelve_days_later + timedelta(days=1))
        assert calls(workbook) == [], "paid: nothing left to say"
