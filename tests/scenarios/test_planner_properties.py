"""Properties over generated ledgers: no plan ever reminds a paid, disputed, paused, promised or
direct-debit invoice; one step per customer; nothing already done is planned again."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encours.connectors.model import Allocation, Customer, DocumentKind, Invoice, InvoiceStatus, Ledger, Money, Payment
from encours.scenarios.planner import StepKey, plan
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, PaymentPlanLine, SheetMarks
from tests.support.reminders import AS_OF, company, shipped

STEP_IDS = sorted({s.id for sc in shipped().values() for s in sc.steps})
SCENARIOS = sorted(shipped())


@st.composite
def situations(draw: st.DrawFn) -> tuple[Ledger, SheetMarks, dict[StepKey, date], date]:
    as_of = AS_OF + timedelta(days=draw(st.integers(-400, 400)))
    rarely = st.sampled_from([False, False, False, False, True])
    n_customers = draw(st.integers(1, 5))
    customers = []
    for index in range(n_customers):
        customers.append(Customer(
            id=f"C{index}",
            name=f"Client {index}",
            source="gen",
            emails=draw(st.sampled_from([(), (f"c{index}@ex.example",), ("not an address",)])),
            phone=draw(st.sampled_from(["", "+32 2 000 00 00"])),
            language=draw(st.sampled_from(["", "fr", "nl", "en", "de"])),
            direct_debit=draw(rarely),
        ))
    invoices = []
    invoice_marks: dict[str, InvoiceMarks] = {}
    plans: list[PaymentPlanLine] = []
    done: dict[StepKey, date] = {}
    payments: list[Payment] = []
    for index in range(draw(st.integers(1, 12))):
        iid = f"I{index}"
        cid = f"C{draw(st.integers(0, n_customers))}"  # sometimes a customer the ledger does not know
        due = as_of + timedelta(days=draw(st.integers(-30, 200)) * -1)
        total = Decimal(draw(st.integers(1, 2_000_000))) / 100
        remaining = draw(st.sampled_from([total, total, Decimal(0), (total / 2).quantize(Decimal("0.01"))]))
        status = draw(st.sampled_from([*InvoiceStatus, *[InvoiceStatus.OPEN] * 5, InvoiceStatus.PAID]))
        currency = draw(st.sampled_from(["EUR", "EUR", "USD"]))
        invoices.append(Invoice(
            id=iid, number=f"F{index}", customer_id=cid, source="gen", issue_date=due - timedelta(days=30),
            due_date=due, total=Money(total, currency), remaining=Money(remaining, currency), status=status,
            kind=draw(st.sampled_from([DocumentKind.INVOICE, DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE])),
        ))
        offset = st.integers(-40, 40).map(lambda d: as_of + timedelta(days=d))
        invoice_marks[iid] = InvoiceMarks(
            scenario=draw(st.sampled_from(["", "", *SCENARIOS, "unknown"])),
            dispute=draw(rarely),
            promise_date=draw(st.none() | st.none() | offset),
            pause_until=draw(st.none() | st.none() | offset),
            approve=draw(st.booleans()),
        )
        if remaining < total and draw(st.booleans()):
            paid = Money(total - remaining, currency)
            payments.append(Payment(f"P{index}", cid, "gen", as_of - timedelta(days=draw(st.integers(0, 40))), paid,
                                    (Allocation(iid, paid),)))
        if draw(st.integers(0, 5)) == 0:  # a payment on account, not matched to an invoice
            free = Money(Decimal(draw(st.integers(1, 3000))), currency)
            payments.append(Payment(f"U{index}", cid, "gen", as_of - timedelta(days=draw(st.integers(0, 40))), free,
                                    reference=draw(st.sampled_from(["virement", f"F{index}", "acompte"]))))
        if draw(st.integers(0, 5)) == 0:
            plans.append(PaymentPlanLine(iid, draw(offset), Decimal(draw(st.integers(1, 500)))))
        for step in draw(st.lists(st.sampled_from(STEP_IDS), max_size=4)):
            scenario = draw(st.sampled_from(SCENARIOS))
            done[StepKey("invoice", iid, scenario, step)] = as_of - timedelta(days=draw(st.integers(0, 90)))
    marks = SheetMarks(
        invoices=invoice_marks,
        customers={c.id: CustomerMarks(scenario=draw(st.sampled_from(["", *SCENARIOS]))) for c in customers},
        payment_plans=tuple(plans),
    )
    return Ledger(tuple(customers), tuple(invoices), tuple(payments)), marks, done, as_of


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_no_plan_reminds_what_must_not_be_reminded(situation: tuple[Ledger, SheetMarks, dict[StepKey, date],
                                                                     date]) -> None:
    ledger, marks, done, as_of = situation
    result = plan(ledger, marks, shipped(), as_of, done=done, company=company(),
                  profiles={"C1": "D"}, profile_scenarios={"D": "firm"})
    invoices = {i.id: i for i in ledger.invoices}
    customers = ledger.customer_index()
    for action in result.actions:
        customer = customers[action.customer_id]
        assert not customer.direct_debit, "a direct-debit customer was reminded"
        assert action.planned_date <= as_of
        assert not set(action.step_keys) & set(done), "a step already done was planned again"
        owed = sum((i.amount for i in action.items), Money.zero(action.currency))
        if action.credits:  # asks only the net of the credits it names
            assert Money.zero(action.currency) < action.amount <= owed
        else:
            assert action.amount == owed
        if action.step.when != "paid" and not action.step.is_courtesy:
            balance = sum((i.signed_remaining for i in ledger.invoices if i.is_open and i.customer_id ==
                           action.customer_id and i.currency == action.currency), Money.zero(action.currency))
            balance -= sum((p.unallocated for p in ledger.payments if p.customer_id == action.customer_id and
                            p.amount.currency == action.currency), Money.zero(action.currency))
            assert balance.amount > 0, "a customer owing nothing in this currency was reminded"
        for item in action.items:
            invoice = invoices[item.invoice_id]
            assert invoice.currency == action.currency
            assert invoice.customer_id == action.customer_id
            assert not invoice.is_credit_note
            if action.step.when == "paid":
                assert invoice.status is InvoiceStatus.PAID
                continue
            m = marks.for_invoice(invoice.id)
            assert invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID), invoice.status
            assert invoice.remaining.amount > 0, "a paid invoice was reminded"
            assert not m.dispute, "a disputed invoice was reminded"
            assert m.pause_until is None or m.pause_until < as_of, "a paused invoice was reminded"
            assert m.promise_date is None or m.promise_date < as_of, "a promised invoice was reminded"
    planned_keys = [k for a in result.actions for k in a.step_keys]
    assert len(planned_keys) == len(set(planned_keys)), "one step key in two messages"
    sendable_steps: dict[str, set[tuple[str, str]]] = {}
    for action in result.sendable:
        sendable_steps.setdefault(action.customer_id, set()).add((action.scenario, action.step.id))
    assert all(len(s) == 1 for s in sendable_steps.values()), "several steps sent to one customer in one run"
    for invoice in ledger.invoices:
        if invoice.is_open and not invoice.is_credit_note and invoice.customer_id in customers:
            assert invoice.id in result.next_actions, "an open invoice has no Prochaine action"
