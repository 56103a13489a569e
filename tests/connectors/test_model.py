from datetime import date
from decimal import Decimal

import pytest

from encours.connectors import codec
from encours.connectors.model import (
    Allocation,
    CurrencyMismatchError,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    parse_decimal,
    to_cents,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("230.32", "230.32"), ("1 234,50", "1234.50"), ("1.234,50", "1234.50"), ("-0,01", "-0.01"), (12, "12")],
)
def test_amounts_parse_exactly(text: str, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "", "1,2,3", "NaN", "Infinity"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_decimal(text, what="amount")


def test_rounding_is_half_up_to_the_cent() -> None:
    assert to_cents(Decimal("0.005")) == Decimal("0.01")
    assert to_cents(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67
    assert Money(Decimal("100")).times(Decimal("0.1215")) == Money(Decimal("12.15"))


def test_money_never_mixes_currencies() -> None:
    with pytest.raises(CurrencyMismatchError):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "GBP")
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), "EURO")


def test_credit_notes_count_negative_in_the_balance() -> None:
    credit = Invoice("c1", "AV-1", "C1", "t", date(2026, 1, 1), None, Money(Decimal("50")), Money(Decimal("20")),
                     kind=DocumentKind.CREDIT_NOTE)
    assert credit.signed_remaining == Money(Decimal("-20"))
    assert credit.effective_due_date(30) == date(2026, 1, 31)


def test_partial_payment_left_unallocated() -> None:
    payment = Payment("p", "C1", "t", date(2026, 2, 1), Money(Decimal("100.00")),
                      (Allocation("i1", Money(Decimal("60.01"))),))
    assert payment.unallocated == Money(Decimal("39.99"))


def test_codec_round_trip_keeps_every_field_exact() -> None:
    invoice = Invoice("i", "F-1", "C", "demo", date(2024, 2, 29), date(2024, 3, 30), Money(Decimal("0.10"), "GBP"),
                      Money(Decimal("0.03"), "GBP"), status=InvoiceStatus.PARTIALLY_PAID,
                      remaining_company=Money(Decimal("0.04")))
    payment = Payment("p", "C", "demo", date(2024, 3, 1), Money(Decimal("0.07"), "GBP"),
                      (Allocation("i", Money(Decimal("0.07"), "GBP")),))
    assert codec.loads(Invoice, codec.dumps(invoice)) == invoice
    assert codec.loads(Payment, codec.dumps(payment)) == payment


def test_what_a_payment_leaves_counts_only_allocations_in_its_currency() -> None:
    payment = Payment("p", "C1", "t", date(2026, 2, 1), Money(Decimal("100.000"), "USD"),
                      (Allocation("i1", Money(Decimal("60.01"), "USD")), Allocation("i2", Money(Decimal("5"), "EUR")),
                       Allocation("i3", Money(Decimal("0.0004"), "USD"))))
    rest = payment.unallocated
    assert (str(rest.amount), rest.currency) == ("39.9896", "USD")
    assert Payment("q", "C1", "t", date(2026, 2, 1), Money(Decimal("7.50"))).unallocated == Money(Decimal("7.50"))
