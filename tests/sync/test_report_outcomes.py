"""The weekly report says what people got on the phone (issue 12): the outcomes typed in
``À faire`` and recorded by real passes — promises with their date, disputes opened and lifted,
unreachable, call back — listed once, in the week they were recorded, per salesperson."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from encours.sync.report_model import CallOutcome
from encours.sync.report_render import render_text
from encours.sync.report_send import plan_reports, render
from tests.support.reminders import customer, invoice, ledger
from tests.support.smtp_server import SmtpServer
from tests.sync.test_run import sheet_rows
from tests.sync.test_tasks import Life, type_in_task

SECTION = "RÉSULTATS DES APPELS DE LA SEMAINE"


def open_call(workbook: Path, customer_name: str, action: str = "Appeler") -> str:
    """The ID of the open task ``action`` of ``customer_name`` in À faire."""
    (row,) = [r for r in sheet_rows(workbook, "À faire")
              if r["Client"] == customer_name and str(r["Action"]).startswith(action) and not r["Fait"]]
    return str(row["ID"])


def section(text: str) -> list[str]:
    """The lines of the text report's outcomes section."""
    body = text.split(SECTION, 1)[1].split("RELANCES", 1)[0]
    return [line for line in body.strip().splitlines() if line]


def test_the_weekly_report_lists_the_outcomes_recorded_that_week_per_salesperson(tmp_path: Path) -> None:
    with SmtpServer() as server:
        life = Life(tmp_path, server)
        # two customers without e-mail (so called), each with their own salesperson
        life.file.save(ledger(
            invoice("I1", 20, "1200.00", customer_id="C1"),
            invoice("I4", 20, "800.00", customer_id="C3"),
            invoice("I6", 20, "650.00", customer_id="C5"),
            customers=(customer("C1"), customer("C3", emails=()),
                       customer("C5", emails=(), salesperson="Marc Petit", salesperson_email="marc@dupont.example")),
        ))
        life.day(date(2026, 11, 23))
        type_in_task(life.workbook, open_call(life.workbook, "Client C3"), result="à rappeler le 26/11")
        type_in_task(life.workbook, open_call(life.workbook, "Client C5"), result="Litige : conteste la livraison")
        life.day(date(2026, 11, 24))
        life.day(date(2026, 11, 26))
        type_in_task(life.workbook, open_call(life.workbook, "Client C3", "Rappeler"), result="NRP")
        life.day(date(2026, 11, 27))
        life.day(date(2026, 11, 30))
        # Monday's report, made after Monday's pass
        first = {p.audience: p.report for p in plan_reports(life.config, date(2026, 11, 30), per_salesperson=True)}
        type_in_task(life.workbook, open_call(life.workbook, "Client C3", "Rappeler (nouvel essai)"),
                     result="Promesse de paiement au 10/12/2026")
        type_in_task(life.workbook, open_call(life.workbook, "Client C5", "Suivre le litige"),
                     result="avoir accordé, litige levé")
        life.day(date(2026, 12, 1))
        life.file.pay(["I6"])
        life.day(date(2026, 12, 2))

    text = render_text(first["*"])
    lines = section(text)
    assert lines[0] == "1 rappel convenu, 1 injoignable, 1 litige ouvert."
    assert lines[1:] == [
        "- 24/11/2026 Client C3 (Julie Martin), F-I4 : À rappeler le 26/11/2026 — reste dû 800,00\u00a0€",
        "- 24/11/2026 Client C5 (Marc Petit), F-I6 : Litige ouvert — reste dû 650,00\u00a0€ "
        "— « Litige : conteste la livraison »",
        "- 27/11/2026 Client C3 (Julie Martin), F-I4 : Injoignable (essai 1) — reste dû 800,00\u00a0€ — « NRP »",
    ]
    marc = section(render_text(first["Marc Petit"]))
    assert marc == ["1 litige ouvert.", "- 24/11/2026 Client C5, F-I6 : Litige ouvert — reste dû 650,00\u00a0€ "
                    "— « Litige : conteste la livraison »"]

    second = {p.audience: p.report for p in plan_reports(life.config, date(2026, 12, 7), per_salesperson=True)}
    lines = section(render_text(second["*"]))
    assert lines[0] == "1 promesse, 1 litige levé.", "each outcome in one weekly report only"
    assert lines[1:] == [
        "- 01/12/2026 Client C3 (Julie Martin), F-I4 : Promesse de paiement au 10/12/2026 — reste dû 800,00\u00a0€",
        "- 01/12/2026 Client C5 (Marc Petit), F-I6 : Litige levé — réglé depuis — « avoir accordé, litige levé »",
    ]
    julie = section(render_text(second["Julie Martin"]))
    assert julie[0] == "1 promesse." and "Client C5" not in "\n".join(julie)

    rendered = render(second["*"], "*", ())
    html = rendered.html
    assert "Résultats des appels de la semaine" in html and "Promesse de paiement au 10/12/2026" in html
    assert "« avoir accordé, litige levé »" in html
    pdf_text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(rendered.pdf)).pages)
    assert "Résultats des appels de la semaine" in pdf_text and "Promesse de paiement au" in pdf_text


def test_a_week_without_outcomes_says_so(tmp_path: Path) -> None:
    with SmtpServer() as server:
        life = Life(tmp_path, server)
        life.day(date(2026, 11, 23))
    (report,) = [p.report for p in plan_reports(life.config, date(2026, 11, 30), per_salesperson=False)]
    assert section(render_text(report)) == ["Aucun résultat noté dans « À faire » cette semaine."]
    assert report.outcomes == ()


@pytest.mark.parametrize(("what", "typed", "shown"), [
    ("Promesse de paiement au 19/11/2026", "promesse 19/11/2026", ""),
    ("À rappeler le 26/11/2026", "à rappeler le 26/11", ""),
    ("Injoignable (essai 1)", "injoignable", ""),
    ("Injoignable (essai 1)", "NRP", "NRP"),
    ("Paiement annoncé le 23/11/2026", "Payé le 23/11 par virement", "Payé le 23/11 par virement"),
    ("Litige ouvert", " Litige : conteste la livraison ", "Litige : conteste la livraison"),
    ("Appel fait", "", ""),
])
def test_what_was_typed_is_shown_only_when_it_says_more_than_the_outcome(what: str, typed: str, shown: str) -> None:
    outcome = CallOutcome("T-0001", date(2026, 11, 24), "Client C3", "", "F-I4", "promise", what, typed)
    assert outcome.note == shown
