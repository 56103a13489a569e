"""Unallocated credits and instalments in the one domain model."""

from datetime import date
from decimal import Decimal

import pytest

from encours.connectors import codec
from encours.connectors.model import (
    Allocation,
    CreditKind,
    Customer,
    Delta,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Ledger,
    Money,
    Payment,
    UnallocatedCredit,
    credit_from_payment,
    invoice_items,
    item_invoice_id,
)


def _eur(text: str) -> Money:
    return Money(Decimal(text))


def _invoice(iid: str, customer: str, remaining: str, **kw: object) -> Invoice:
    return Invoice(iid, f"F-{iid}", customer, "t", date(2026, 1, 1), date(2026, 2, 1), _eur("300.00"),
                   _eur(remaining), **kw)  # type: ignore[arg-type]


def _credit(cid: str, customer: str, amount: str,
            kind: CreditKind = CreditKind.PAYMENT_ON_ACCOUNT) -> UnallocatedCredit:
    return UnallocatedCredit(cid, customer, "t", date(2026, 3, 5), _eur(amount), kind, reference=f"VIR {cid}")


def test_balance_nets_open_invoices_credit_notes_and_credits() -> None:
    ledger = Ledger(
        (Customer("C1", "ACME", "t"), Customer("C2", "Bobo", "t")),
        (
            _invoice("1", "C1", "300.00"),
            _invoice("2", "C1", "120.50", status=InvoiceStatus.PARTIALLY_PAID),
            _invoice("3", "C1", "20.00", kind=DocumentKind.CREDIT_NOTE),
            _invoice("4", "C2", "0.00", status=InvoiceStatus.PAID),
        ),
        credits=(_credit("P1", "C1", "400.50"), _credit("P2", "C2", "75.25", CreditKind.OPENING_BALANCE)),
    )
    assert ledger.balances() == {("C1", "EUR"): _eur("0.00"), ("C2", "EUR"): _eur("-75.25")}
    assert [c.id for c in ledger.unallocated_credits("C2")] == ["P2"]


def test_a_credit_is_never_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        _credit("P1", "C1", "-1.00")


def test_the_unmatched_part_of_a_payment_becomes_a_credit() -> None:
    payment = Payment("P9", "C1", "t", date(2026, 3, 1), _eur("500.00"), (Allocation("1", _eur("300.00")),),
                      reference="VIR ACME")
    credit = credit_from_payment(payment)
    assert credit is not None and credit.amount == _eur("200.00") and credit.reference == "VIR ACME"
    assert payment.unallocated == _eur("200.00")
    settled = Payment("P8", "C1", "t", date(2026, 3, 1), _eur("300.00"), (Allocation("1", _eur("300.00")),))
    assert credit_from_payment(settled) is None


def test_credits_survive_the_codec_exactly() -> None:
    credit = UnallocatedCredit("P1", "C1", "fec", date(2026, 3, 5), Money(Decimal("1234.5678"), "USD"),
                               CreditKind.CREDIT_NOTE, "AV 12", "avoir", Money(Decimal("1100.12")))
    assert codec.loads(UnallocatedCredit, codec.dumps(credit)) == credit
    ledger = Ledger((), (), (), (credit,))
    assert codec.loads(Ledger, codec.dumps(ledger)) == ledger


def test_apply_merges_credits_and_a_full_delta_replaces_them() -> None:
    base = Ledger((Customer("C1", "ACME", "t"),), (_invoice("1", "C1", "300.00"),),
                  credits=(_credit("P1", "C1", "50.00"),))
    incremental = base.apply(Delta(credits=(_credit("P2", "C1", "10.00"),), deleted_credit_ids=("P1",), full=False))
    assert [c.id for c in incremental.credits] == ["P2"]
    full = incremental.apply(Delta(customers=(Customer("C1", "ACME", "t"),), credits=(_credit("P3", "C1", "5.00"),)))
    assert [c.id for c in full.credits] == ["P3"]
    gone = full.invoices[0]
    assert gone.status is InvoiceStatus.DELETED and gone.remaining.amount == 0
    assert full.balances() == {("C1", "EUR"): _eur("-5.00")}


def _split(remaining: tuple[str, str, str]) -> Invoice:
    dues = (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1))
    plan = tuple(Installment(d, _eur("100.00"), _eur(r)) for d, r in zip(dues, remaining, strict=True))
    total = sum((Decimal(r) for r in remaining), Decimal(0))
    return _invoice("7", "C1", str(total), installments=plan, status=InvoiceStatus.PARTIALLY_PAID).with_changes(
        due_date=date(2026, 4, 1))


def test_an_invoice_paid_in_instalments_ages_per_open_instalment() -> None:
    invoice = _split(("0.00", "40.00", "100.00"))
    items = invoice_items(invoice)
    assert [(i.id, i.due_date, i.remaining.amount) for i in items] == [
        ("7#1", date(2026, 2, 1), Decimal("0.00")),
        ("7#2", date(2026, 3, 1), Decimal("40.00")),
        ("7#3", date(2026, 4, 1), Decimal("100.00")),
    ]
    assert {item_invoice_id(i.id) for i in items} == {"7"}
    ledger = Ledger((), (invoice,))
    assert [i.id for i in ledger.open_items()] == ["7#2", "7#3"]


def test_instalments_that_do_not_add_up_keep_one_row_due_at_the_earliest_unpaid() -> None:
    invoice = _split(("0.00", "40.00", "100.00")).with_changes(remaining=_eur("90.00"))
    (item,) = invoice_items(invoice)
    assert item.id == "7" and item.due_date == date(2026, 3, 1) and item.remaining == _eur("90.00")
    assert item_invoice_id("F#A") == "F#A"
