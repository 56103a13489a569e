"""Reminders claim the net (issue 11 item 3): payments on account and open credit notes come off,
a credit naming an invoice covers that invoice, a customer in credit is checked for a refund."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from encours.connectors.model import DocumentKind, Money, Payment
from encours.scenarios.planner import Plan, StepKey, plan
from encours.scenarios.render import render
from encours.sheets_addin.marks import SheetMarks
from tests.support.reminders import AS_OF, company, invoice, ledger, shipped


def run(led, *, done=None, as_of: date = AS_OF) -> Plan:
    return plan(led, SheetMarks(), shipped(), as_of, done=done or {}, company=company())


def on_account(amount: str, reference: str = "VIR 2026-11 ACOMPTE", currency: str = "EUR", pid: str = "P1") -> Payment:
    return Payment(pid, "C1", "test", AS_OF - timedelta(days=3), Money(Decimal(amount), currency), reference=reference)


def test_a_payment_on_account_is_named_and_only_the_net_is_asked() -> None:
    led = ledger(invoice("I1", 20, "1000.00"), invoice("I2", 18, "500.00"), payments=(on_account("300.00"),))
    (action,) = run(led).actions
    assert action.step.id == "reminder_1"
    assert action.amount == Money(Decimal("1200.00"))
    text = render(action, shipped()["standard"], led, company(), as_of=AS_OF).text
    assert "Paiement reçu VIR 2026-11 ACOMPTE du 20/11/2026 : − 300,00\u00a0€ (déduit du total)" in text
    assert "Total : 1\u202f200,00\u00a0€" in text


def test_no_reminder_when_credits_cover_the_overdue_balance() -> None:
    led = ledger(invoice("I1", 20, "1000.00"), invoice("I2", -20, "500.00"), payments=(on_account("1000.00"),))
    result = run(led)
    assert [a.step.id for a in result.actions] == []
    assert {s.reason for s in result.skips if s.target == "I1"} == {"covered"}


def test_a_credit_naming_an_invoice_covers_that_invoice_and_says_so() -> None:
    led = ledger(invoice("I1", 20, "1000.00"), invoice("I2", 20, "500.00"),
                 payments=(on_account("400.00", reference="Règlement F-I2 partiel"),))
    (action,) = run(led).actions
    assert action.amount == Money(Decimal("1100.00"))
    assert [i.amount.amount for i in action.items] == [Decimal("1000.00"), Decimal("100.00")]
    text = render(action, shipped()["standard"], led, company(), as_of=AS_OF).text
    assert "imputé sur la facture F-I2, déjà déduit" in text
    assert "Total : 1\u202f100,00\u00a0€" in text


def test_an_open_credit_note_covering_its_invoice_stops_its_reminders() -> None:
    note = invoice("A1", 20, "1000.00", kind=DocumentKind.CREDIT_NOTE, credited_invoice_id="I1", number="AV-1")
    led = ledger(invoice("I1", 20, "1000.00"), invoice("I2", 20, "250.00"), note)
    (action,) = run(led).actions
    assert action.invoice_ids == ("I2",) and action.amount == Money(Decimal("250.00"))


def test_a_customer_in_credit_is_listed_for_a_refund_check_never_reminded() -> None:
    led = ledger(invoice("I1", 50, "1000.00"), payments=(on_account("1400.00"),))
    result = run(led)
    assert result.actions == []
    (row,) = [r for r in result.todo if r["action"] == "Vérifier le remboursement"]
    assert row["customer"] == "Client C1" and row["amount"] == Decimal("400.00")


def test_credits_in_one_currency_never_net_another() -> None:
    led = ledger(invoice("I1", 20, "1000.00"), invoice("I2", 20, "800.00", currency="GBP"),
                 payments=(on_account("1000.00", currency="GBP"),))
    (action,) = run(led).actions
    assert action.currency == "EUR" and action.amount == Money(Decimal("1000.00"))
    assert [r["amount"] for r in run(led).todo if r["action"] == "Vérifier le remboursement"] == [Decimal("200.00")]


def test_account_level_steps_go_once_per_currency() -> None:
    """A customer invoiced in EUR and GBP gets both statements, each once."""
    led = ledger(invoice("I1", 36, "1000.00"), invoice("I2", 36, "800.00", currency="GBP"))
    done = {StepKey("invoice", iid, "standard", step): AS_OF - timedelta(days=days)
            for iid in ("I1", "I2") for step, days in (("reminder_1", 31), ("reminder_2", 21), ("call", 11))}
    first = run(led, done=done).actions
    assert sorted((a.step.id, a.currency, a.invoice_ids) for a in first if a.sendable) == [
        ("statement", "EUR", ("I1",)), ("statement", "GBP", ("I2",))]
    for action in first:
        done.update({k: AS_OF for k in action.step_keys})
    later = run(led, done=done, as_of=AS_OF + timedelta(days=3)).actions
    assert [a.step.id for a in later] == []


def test_a_credit_the_source_states_without_a_payment_covers_the_overdue_balance() -> None:
    """An opening credit balance (FEC à-nouveaux), an unreconciled Odoo line or an unmatched
    Pennylane transfer has no Payment record: it still nets the reminders, as it nets the sheet."""
    from dataclasses import replace

    from encours.connectors.model import CreditKind, UnallocatedCredit

    opening = UnallocatedCredit("AN-411C1", "C1", "fec", AS_OF - timedelta(days=300), Money(Decimal("1000.00")),
                                CreditKind.OPENING_BALANCE, reference="A-nouveaux")
    led = replace(ledger(invoice("I1", 20, "1000.00")), credits=(opening,))
    assert led.balances() == {("C1", "EUR"): Money(Decimal("0.00"))}
    result = run(led)
    assert result.actions == []
    assert {s.reason for s in result.skips if s.target == "I1"} == {"covered"}
