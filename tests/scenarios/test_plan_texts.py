"""What the plan writes in the sheet, word for word: the ``Prochaine action`` of ``Factures``, the
reason of a skip and the reason attached to an action — the sentences a person reads to know why
an invoice gets no reminder today (they come from the label tables, never from the planner's code)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from encours.scenarios.planner import Plan, StepKey, plan
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped


def run(led, marks: SheetMarks | None = None, **kwargs) -> Plan:
    return plan(led, marks or SheetMarks(), shipped(), AS_OF, done=kwargs.pop("done", {}), company=company(),
                **kwargs)


def marked(**values) -> SheetMarks:
    return SheetMarks(invoices={"I1": InvoiceMarks(**values)})


@pytest.mark.parametrize(("marks", "shown"), [
    (marked(dispute=True), "Litige : relances suspendues"),
    (marked(pause_until=date(2026, 12, 4)), "En pause jusqu'au 04/12/2026"),
    (marked(promise_date=date(2026, 11, 30)), "Promesse de paiement au 30/11/2026"),
    (marked(scenario="brutal"), "Scénario 'brutal' inconnu (connus : firm, gentle, standard)"),
])
def test_why_a_marked_invoice_gets_nothing(marks: SheetMarks, shown: str) -> None:
    result = run(ledger(invoice("I1", 20)), marks)
    assert result.next_actions["I1"].label == shown
    assert [s.detail for s in result.skips if s.target == "I1"] == [shown]


def test_customer_cases_read_as_a_sentence() -> None:
    debit = run(ledger(invoice("I1", 20), customers=(customer("C1", direct_debit=True),)))
    assert debit.next_actions["I1"].label == "Client en prélèvement : jamais relancé"
    recovery = run(ledger(invoice("I1", 20)), in_recovery={"C1"})
    assert recovery.next_actions["I1"].label == "Client en recouvrement : relances amiables arrêtées"
    orphan = run(ledger(invoice("I1", 20, customer_id="C9"), customers=(customer("C1"),)))
    assert orphan.next_actions["I1"].label == "Client inconnu : aucune relance"
    assert [s.detail for s in orphan.skips] == ["Client C9 inconnu de la source"]


def test_a_second_step_the_same_day_waits_for_tomorrow() -> None:
    led = ledger(invoice("I1", 20), invoice("I2", 45))
    result = run(led, done={StepKey("invoice", "I2", "standard", "reminder_1"): AS_OF - timedelta(days=25)})
    deferred = [a.label for iid, a in result.next_actions.items() if a.date == AS_OF + timedelta(days=1)]
    assert deferred and all(label.endswith(" — demain (une seule relance par jour)") for label in deferred)


def test_reasons_attached_to_an_action() -> None:
    no_email = run(ledger(invoice("I1", 20), customers=(customer("C1", emails=(), phone=""),)))
    (action,) = no_email.actions
    assert action.channel == "letter" and action.reason == "aucune adresse e-mail : courrier à la place"
    bad = run(ledger(invoice("I1", 20), customers=(customer("C1", emails=("compta@c1.example", "pas-une-adresse")),)))
    assert bad.actions[0].reason == "adresse(s) invalide(s) ignorée(s) : pas-une-adresse"


def test_a_step_under_its_minimum_says_so() -> None:
    done = {StepKey("invoice", "I1", "standard", s): AS_OF - timedelta(days=60 - 10 * n)
            for n, s in enumerate(["reminder_1", "reminder_2", "call"])}
    done[StepKey("account", "C1", "standard", "statement", "EUR:" + (AS_OF - timedelta(days=70)).isoformat())] = (
        AS_OF - timedelta(days=25))
    result = run(ledger(invoice("I1", 70, "40.00")), done=done)
    details = [s.detail for s in result.skips if s.reason == "under_minimum"]
    assert "Mise en demeure : 40.00 EUR sous le minimum de 50" in details
