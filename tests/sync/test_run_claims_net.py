"""What ``encours run`` sends claims what the customer owes net, as ``encours preview`` shows it.

Found in acceptance testing: a FEC customer who paid on account (an unlettered transfer) got a
letter listing the payment "− 1 200,00 € (déduit du total)" and then a ``Total`` that had not
deducted it — the re-check at the source right before sending put the gross back.  The preview of
the same reminder showed the net.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from encours.sync.cli import main
from tests.conftest import write_config
from tests.connectors.test_fec_balances import book, receipt, sale

SENDER = '[sending]\nfrom = "compta@atelier-dupont.fr"\nwindow = "00:00-23:59"\n'


def _amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d,]", "", text).replace(",", "."))


def _totals(outbox: Path) -> list[Decimal]:
    return [_amount(m.group(1)) for f in sorted(outbox.glob("*.txt"))
            for m in re.finditer(r"^Total : (.+)$", f.read_text(encoding="utf-8"), re.MULTILINE)]


def _dossier(tmp_path: Path, *rows: list[str]) -> Path:
    # Another customer's invoice and payment are lettered: the book is lettered, so what is not
    # lettered stays a payment on account (an unallocated credit) rather than settled oldest first.
    lettered = (sale("90", "20260105", "C9", "FA-0001", "100,00", "A"),
                receipt("91", "20260205", "C9", "VIR-0205", "100,00", "A"))
    path = book(tmp_path, *lettered, *rows)
    config = write_config(tmp_path, source=f'type = "fec"\npath = "{path.name}"')
    text = config.read_text(encoding="utf-8").replace("[sending]\n", SENDER)
    config.write_text(text, encoding="utf-8")
    return config


def test_a_sent_reminder_asks_only_what_is_owed_net_of_a_payment_on_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # C1 owes 1 200 + 360 and paid 1 500 on account (nothing lettered): 60 € is owed.
    config = _dossier(tmp_path, sale("1", "20260905", "C1", "FA-0201", "1200,00"),
                      sale("2", "20260910", "C1", "FA-0202", "360,00"),
                      receipt("3", "20261105", "C1", "VIR-1105", "1500,00"))
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-12"]) == 0
    assert main(["-q", "preview", "-c", str(config), "--as-of", "2026-11-12", "C1"]) == 0
    previewed = [_amount(m) for m in re.findall(r"^Total : (.+)$", capsys.readouterr().out, re.MULTILINE)]
    assert previewed == [Decimal("60.00")]
    capsys.readouterr()
    assert main(["-q", "run", "-c", str(config), "--as-of", "2026-11-12"]) == 0
    sent = _totals(tmp_path / "outbox")
    assert sent == [Decimal("60.00")], f"the letter claims {sent}, the customer owes 60,00 € net"


def test_a_sent_reminder_deducts_a_partial_payment_it_names(tmp_path: Path) -> None:
    # C2 owes 1 000 and paid 400 on account: the letter names the 400 and asks 600.
    config = _dossier(tmp_path, sale("1", "20260905", "C2", "FA-0301", "1000,00"),
                      receipt("2", "20261020", "C2", "VIR-1020", "400,00"))
    assert main(["-q", "run", "-c", str(config), "--as-of", "2026-11-12"]) == 0
    (letter,) = sorted((tmp_path / "outbox").glob("*.txt"))
    text = letter.read_text(encoding="utf-8")
    assert "VIR-1020" in text and "déduit du total" in text
    assert _totals(tmp_path / "outbox") == [Decimal("600.00")]
