"""Every character a letter prints is in the font the PDF embeds.

Found in acceptance testing: a letter deducting a payment on account printed the amount without
its minus sign ("Paiement reçu VIR-0920 du 20/09/2026 :  300,00 €") — the embedded DejaVu Sans is
reduced to a list of Unicode ranges that leaves out U+2212 (MINUS SIGN) the templates write, and
fpdf2 only warns ("Font … is missing the following glyphs: '−'").
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from encours.sync.cli import main
from tests.connectors.test_fec_balances import receipt, sale
from tests.sync.test_run_claims_net import _dossier


def test_a_letter_prints_the_minus_sign_of_a_deducted_payment(tmp_path: Path) -> None:
    config = _dossier(tmp_path, sale("1", "20260905", "C1", "FA-0201", "1200,00"),
                      receipt("2", "20260920", "C1", "VIR-0920", "300,00"))
    assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-02"]) == 0
    out = tmp_path / "preview"
    assert main(["-q", "preview", "-c", str(config), "--as-of", "2026-11-02", "C1", "--out", str(out)]) == 0
    (pdf,) = out.glob("*.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "VIR-0920" in text
    assert "− 300,00" in text.replace("\u202f", " ").replace("\u00a0", " ")
