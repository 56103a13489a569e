"""``À faire`` is work people finish (issue 12.5): a call says what to say and stays until a person
ticks ``Fait``; what they type in ``Résultat`` flows back into the plan, pass after pass."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.sync.run_report import RunReport
from encours.sync.state import StateStore
from encours.sync.task_store import TaskStore
from tests.support.smtp_server import SmtpServer
from tests.sync.test_run import MONDAY_9H, dossier, one_pass, sheet_rows


def calls(path: Path) -> list[dict[str, Any]]:
    return [r for r in sheet_rows(path, "À faire") if str(r["Action"]).startswith(("Appeler", "Rappeler"))]


def on(day: date) -> datetime:
    """10:00 in Paris on ``day`` (inside the sending window)."""
    return MONDAY_9H.replace(year=day.year, month=day.month, day=day.day, hour=9)


def type_in_task(workbook: Path, task_id: str, *, done: Any = "Oui", result: Any = None) -> None:
    """A person ticks ``Fait`` and types a ``Résultat`` on the row of ``task_id``."""
    wb = load_workbook(workbook)
    ws = wb["À faire"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("ID")].value == task_id:
            row[header.index("Fait")].value = done
            if result is not None:
                row[header.index("Résultat")].value = result
            break
    else:
        raise AssertionError(f"no row {task_id} in À faire")
    wb.save(workbook)


def invoice_row(workbook: Path, invoice_id: str) -> dict[str, Any]:
    return next(r for r in sheet_rows(workbook, "Factures") if r["ID"] == invoice_id)


def steps_for(workbook: Path, number: str) -> list[str]:
    """The steps ``Relances`` shows for one invoice number, in order."""
    return [str(r["Étape"]) for r in sheet_rows(workbook, "Relances") if number in str(r["Factures"])
            and r["Statut"] == "envoyée"]


class Life:
    """One dossier lived pass after pass (real SMTP server on loopback, workbook on disk)."""

    def __init__(self, tmp_path: Path, server: SmtpServer) -> None:
        self.config, self.file = dossier(tmp_path)
        self.workbook = self.config.sheet.path("path")
        self.server = server

    def day(self, when: date) -> RunReport:
        report = one_pass(self.config, self.file, self.server.port, now=on(when))
        assert report.exit_code == 0, report.lines()
        return report

    @property
    def store(self) -> StateStore:
        return StateStore(self.config.state_path)


def the_call(workbook: Path) -> dict[str, Any]:
    (call,) = [c for c in calls(workbook) if c["Factures"] == "F-I4" and not c["Fait"]]
    return call


def test_a_call_says_what_to_say_and_stays_until_a_person_ticks_fait(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    workbook = config.sheet.path("path")
    with SmtpServer() as server:
        one_pass(config, file, server.port)
        (call,) = calls(workbook)
        assert call["ID"] == "T-0001" and call["Client"] == "Client C3" and call["Factures"] == "F-I4"
        assert "à dire : 800,00\u00a0€ dus sur F-I4" in str(call["Détail"])
        assert "aucune relance envoyée avant" in str(call["Détail"])
        twelve_days_later = MONDAY_9H + timedelta(days=12)
        one_pass(config, file, server.port, now=twelve_days_later)
        assert [c["ID"] for c in calls(workbook)][:1] == ["T-0001"], "the call is still to make"
        file.pay(["I4"])
        one_pass(config, file, server.port, now=twelve_days_later + timedelta(days=1))
        (call,) = calls(workbook)
        assert call["ID"] == "T-0001" and "plus rien à réclamer" in str(call["Suivi"]), "paid: still there until Fait"
        type_in_task(workbook, "T-0001")
        one_pass(config, file, server.port, now=twelve_days_later + timedelta(days=2))
        (call,) = calls(workbook)
        assert call["Fait"] == "Oui" and str(call["Suivi"]).startswith("Enregistré le 07/12/2026 : fait")


@pytest.mark.slow
def test_a_promise_typed_after_a_call_holds_reminders_until_its_date_then_the_broken_promise_step(
        tmp_path: Path) -> None:
    with SmtpServer() as server:
        life = Life(tmp_path, server)
        life.day(date(2026, 11, 23))
        assert the_call(life.workbook)["ID"] == "T-0001"
        type_in_task(life.workbook, "T-0001", result="Promesse de paiement au 10/12/2026")
        report = life.day(date(2026, 11, 24))
        assert any("T-0001 Client C3 — Enregistré le 24/11/2026 : promesse de paiement au 10/12/2026" in line
                   for line in report.lines())
        row = invoice_row(life.workbook, "I4")
        assert row["Prochaine action"] == "Promesse de paiement au 10/12/2026 (T-0001)"
        before = steps_for(life.workbook, "F-I4")
        for day in (date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 10)):
            life.day(day)
            assert steps_for(life.workbook, "F-I4") == before, f"nothing for I4 on {day} (promised)"
        life.day(date(2026, 12, 11))
        assert steps_for(life.workbook, "F-I4") == [*before, "Promesse non tenue"]
        with life.store as store:
            (task,) = [t for t in TaskStore(store).all() if t.id == "T-0001"]
        assert (task.status, task.outcome, task.outcome_date, task.closed_on, task.result) == (
            "done", "promise", date(2026, 12, 10), date(2026, 11, 24), "Promesse de paiement au 10/12/2026")
        assert task.recorded_at is not None


@pytest.mark.slow
def test_a_dispute_typed_stops_every_reminder_until_its_follow_up_task_is_ticked(tmp_path: Path) -> None:
    with SmtpServer() as server:
        life = Life(tmp_path, server)
        life.day(date(2026, 11, 23))
        type_in_task(life.workbook, "T-0001", result="LITIGE : conteste la livraison")
        life.day(date(2026, 11, 24))
        follow = [r for r in sheet_rows(life.workbook, "À faire") if r["Action"] == "Suivre le litige"]
        assert [(r["ID"], r["Factures"]) for r in follow] == [("T-0002", "F-I4")]
        assert invoice_row(life.workbook, "I4")["Prochaine action"].startswith("Litige (T-0002 du 24/11/2026")
        before = steps_for(life.workbook, "F-I4")
        for day in (date(2026, 12, 10), date(2027, 1, 15)):
            life.day(day)
        assert steps_for(life.workbook, "F-I4") == before, "nothing while the dispute lasts"
        type_in_task(life.workbook, "T-0002", result="avoir partiel accordé, litige levé")
        life.day(date(2027, 1, 18))
        assert len(steps_for(life.workbook, "F-I4")) > len(before), "lifted: the scenario resumes"
        assert not str(invoice_row(life.workbook, "I4")["Prochaine action"] or "").startswith("Litige")


@pytest.mark.slow
def test_call_back_on_a_day_opens_a_new_call_that_day_and_unreachable_a_new_attempt(tmp_path: Path) -> None:
    with SmtpServer() as server:
        life = Life(tmp_path, server)
        life.day(date(2026, 11, 23))
        type_in_task(life.workbook, "T-0001", result="à rappeler le 02/12")
        life.day(date(2026, 11, 24))
        assert [c["ID"] for c in calls(life.workbook) if not c["Fait"]] == [], "not before its day"
        life.day(date(2026, 12, 2))
        (again,) = [c for c in calls(life.workbook) if not c["Fait"]]
        assert (again["ID"], again["Action"], again["Date"].date()) == ("T-0002", "Rappeler", date(2026, 12, 2))
        assert "Rappel convenu le 24/11/2026 (T-0001)" in str(again["Détail"])
        type_in_task(life.workbook, "T-0002", result="Injoignable (répondeur)")
        life.day(date(2026, 12, 3))
        assert [c for c in calls(life.workbook) if c["Action"] == "Rappeler (nouvel essai)"] == []
        life.day(date(2026, 12, 7))  # two days later is a Saturday: the Monday after
        (attempt,) = [c for c in calls(life.workbook) if c["Action"] == "Rappeler (nouvel essai)"]
        assert attempt["Date"].date() == date(2026, 12, 7) and not attempt["Fait"]
        assert str(attempt["Détail"]).startswith("Essai 2/3, injoignable le 03/12/2026 (T-0002)")
        assert "nouvel essai le 07/12/2026 ; le scénario continue" in str(
            next(c for c in calls(life.workbook) if c["ID"] == "T-0002")["Suivi"])


@pytest.mark.slow
def test_paid_holds_reminders_a_week_then_they_resume_and_a_check_is_asked(tmp_path: Path) -> None:
    with SmtpServer() as server:
        life = Life(tmp_path, server)
        life.day(date(2026, 11, 23))
        type_in_task(life.workbook, "T-0001", result="Payé le 23/11 par virement")
        life.day(date(2026, 11, 24))
        assert invoice_row(life.workbook, "I4")["Prochaine action"] == (
            "Paiement annoncé (T-0001) : relances suspendues jusqu'au 01/12/2026")
        before = steps_for(life.workbook, "F-I4")
        life.day(date(2026, 12, 1))
        assert steps_for(life.workbook, "F-I4") == before
        life.day(date(2026, 12, 2))
        checks = [r for r in sheet_rows(life.workbook, "À faire") if r["Action"] == "Vérifier le paiement annoncé"]
        assert len(checks) == 1 and str(checks[0]["Détail"]).startswith(
            "Paiement annoncé (payé le 23/11/2026 selon le client) (T-0001, noté le 24/11/2026) mais toujours dû")
        life.day(date(2026, 12, 3))
        assert len(steps_for(life.workbook, "F-I4")) > len(before), "no payment came: reminders resume"


def test_an_unreadable_result_is_reported_on_its_row_and_nothing_is_guessed(tmp_path: Path) -> None:
    with SmtpServer() as server:
        life = Life(tmp_path, server)
        life.day(date(2026, 11, 23))
        type_in_task(life.workbook, "T-0001", result="il verra avec son comptable")
        report = life.day(date(2026, 11, 24))
        (line,) = [x for x in report.lines() if x.startswith("À faire row")]
        assert line.startswith("À faire row 2 (T-0001 Client C3): Résultat not recorded — « il verra avec son "
                               "comptable » n'est pas compris")
        (call,) = calls(life.workbook)
        assert str(call["Suivi"]).startswith("Résultat non enregistré : « il verra avec son comptable »")
        type_in_task(life.workbook, "T-0001", done=None, result="promesse 31/02/2027")
        life.day(date(2026, 11, 25))
        (call,) = calls(life.workbook)
        assert call["Suivi"] == "« promesse 31/02/2027 » sera enregistré quand « Fait » sera coché"
        type_in_task(life.workbook, "T-0001", done="x")
        report = life.day(date(2026, 11, 26))
        assert any("31/02/2027 n'est pas une date" in x for x in report.lines())
        with life.store as store:
            assert [t.status for t in TaskStore(store).all()] == ["open"]


def test_fait_and_resultat_stay_with_their_task_when_people_sort_and_an_old_tab_is_laid_out_anew(
        tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    workbook = config.sheet.path("path")
    with SmtpServer() as server:
        one_pass(config, file, server.port)
        # the layout before task IDs: a person's workbook from an older version
        wb = load_workbook(workbook)
        ws = wb["À faire"]
        ws.delete_rows(1, ws.max_row)
        ws.append(["Commercial", "Date", "Action", "Client", "Téléphone", "Factures", "Montant", "Détail"])
        ws.append(["Julie Martin", "23/11/2026", "Appeler", "Client C3", "", "F-I4", 800, "old"])
        wb.save(workbook)
        one_pass(config, file, server.port, now=MONDAY_9H.replace(hour=10))
        rows = sheet_rows(workbook, "À faire")
        assert [r["ID"] for r in rows] == ["T-0001"] and "old" not in str(rows)
        type_in_task(workbook, "T-0001", done=None, result="note perso")
        wb = load_workbook(workbook)
        ws = wb["À faire"]
        ws.insert_rows(2)
        ws.cell(row=2, column=1).value = None
        ws.cell(row=2, column=4).value = "ma ligne à moi"
        wb.save(workbook)
        one_pass(config, file, server.port, now=MONDAY_9H.replace(hour=11))
        rows = sheet_rows(workbook, "À faire")
        assert [(r["ID"], r["Action"], r["Résultat"]) for r in rows] == [
            (None, "ma ligne à moi", None), ("T-0001", "Appeler", "note perso")]


def test_a_task_row_a_person_deleted_comes_back_while_open_never_once_closed(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    workbook = config.sheet.path("path")
    with SmtpServer() as server:
        one_pass(config, file, server.port)
        wb = load_workbook(workbook)
        wb["À faire"].delete_rows(2, 1)
        wb.save(workbook)
        file.pay(["I1"])  # any change, so that the pass writes
        one_pass(config, file, server.port, now=MONDAY_9H + timedelta(days=1))
        assert [c["ID"] for c in calls(workbook)] == ["T-0001"], "open: back at the end"
        type_in_task(workbook, "T-0001", result="injoignable")
        one_pass(config, file, server.port, now=MONDAY_9H + timedelta(days=2))
        wb = load_workbook(workbook)
        ws = wb["À faire"]
        header = [c.value for c in ws[1]]
        number = next(int(r[0].row or 0) for r in ws.iter_rows(min_row=2) if r[header.index("ID")].value == "T-0001")
        ws.delete_rows(number, 1)
        wb.save(workbook)
        one_pass(config, file, server.port, now=MONDAY_9H + timedelta(days=3))
        assert "T-0001" not in [r["ID"] for r in sheet_rows(workbook, "À faire")], "closed: stays deleted"


def test_a_workbook_kept_when_its_state_file_was_lost_never_lends_its_answers_to_new_tasks(tmp_path: Path) -> None:
    """New task IDs are numbered after every ID the sheet shows: a row a person answered before the
    state file was lost (T-0001 "payé") is never read as the answer to a new task that would reuse it."""
    config, file = dossier(tmp_path)
    workbook = config.sheet.path("path")
    with SmtpServer() as server:
        one_pass(config, file, server.port)
        (call,) = calls(workbook)
        assert call["ID"] == "T-0001"
        type_in_task(workbook, "T-0001", result="payé")
        config.state_path.unlink()  # the state file is lost; the workbook people use is kept
        one_pass(config, file, server.port, now=MONDAY_9H + timedelta(days=1))
        stored = TaskStore(StateStore(config.state_path)).all()
        assert stored and all(t.id != "T-0001" for t in stored), [t.id for t in stored]
        assert not [t for t in stored if t.outcome], "nobody answered the new tasks"
        fresh = [c for c in calls(workbook) if c["ID"] != "T-0001"]
        assert fresh and fresh[0]["Factures"] == "F-I4" and not fresh[0]["Fait"]
