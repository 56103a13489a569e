from collections import Counter
from datetime import date, timedelta

from encours.connectors.demo import DemoConnector, demo_ledger
from encours.connectors.model import DocumentKind, InvoiceStatus, Ledger


def test_demo_is_deterministic(as_of: date) -> None:
    assert demo_ledger(as_of) == demo_ledger(as_of)
    assert demo_ledger(as_of, seed=1) != demo_ledger(as_of)


def test_demo_has_what_the_product_needs_to_show(ledger: Ledger, as_of: date) -> None:
    assert 35 <= len(ledger.customers) <= 45
    issue_dates = [i.issue_date for i in ledger.invoices]
    assert min(issue_dates) <= as_of - timedelta(days=700)
    kinds = Counter(i.kind for i in ledger.invoices)
    assert kinds[DocumentKind.CREDIT_NOTE] >= 5
    statuses = Counter(i.status for i in ledger.invoices)
    assert statuses[InvoiceStatus.PARTIALLY_PAID] >= 1 and statuses[InvoiceStatus.OPEN] >= 10
    assert {c.salesperson for c in ledger.customers} >= {"Claire Martin", "Hugo Lefèvre", "Malik Benali"}
    assert {i.currency for i in ledger.invoices} == {"EUR", "GBP"}
    assert any(c.direct_debit for c in ledger.customers)
    assert any(not c.email for c in ledger.customers)  # falls back to a letter or a call
    assert {c.language for c in ledger.customers} == {"fr", "nl", "en"}


def test_every_payment_settles_invoices_exactly(ledger: Ledger) -> None:
    invoices = {i.id: i for i in ledger.invoices}
    paid: Counter[str] = Counter()
    for payment in ledger.payments:
        assert payment.unallocated.amount == 0
        for allocation in payment.allocations:
            paid[allocation.invoice_id] += allocation.amount.amount  # type: ignore[assignment]
    credited: Counter[str] = Counter()
    for note in ledger.invoices:
        if note.kind is DocumentKind.CREDIT_NOTE and note.credited_invoice_id:
            credited[note.credited_invoice_id] += note.total.amount  # type: ignore[assignment]
    for invoice in invoices.values():
        if invoice.kind is DocumentKind.INVOICE:
            assert invoice.total.amount - paid[invoice.id] - credited[invoice.id] == invoice.remaining.amount


def test_stopped_payer_and_chronic_payers_have_old_debts(ledger: Ledger, as_of: date) -> None:
    overdue_days = [(as_of - i.due_date).days for i in ledger.open_invoices() if i.due_date]
    assert max(overdue_days) > 90


def test_connector_pulls_everything(as_of: date) -> None:
    connector = DemoConnector(as_of)
    delta = connector.pull(None)
    assert delta.full and len(delta.invoices) == len(connector.ledger.invoices)
    assert connector.check().open_invoices == len(connector.ledger.open_invoices())
    first = delta.invoices[0]
    assert connector.refetch_invoice(first.id) == first
    assert connector.refetch_invoice("nope") is None
