"""The state store's JSON: records encoded by generated encoders, exactly as a generic walk would."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from encours.connectors import codec
from encours.connectors.demo import demo_ledger
from encours.connectors.model import (
    Allocation,
    Contact,
    CreditKind,
    Customer,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    UnallocatedCredit,
)


def _walk(value: Any) -> Any:
    """An independent reference: every value converted by what it is, met one by one."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _walk(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):  # a time at UTC written with Z, as msgspec writes it
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_walk(v) for v in value]
    return value


def _reference(value: Any) -> str:
    return json.dumps(_walk(value), ensure_ascii=False, separators=(",", ":"))


def _odd_records() -> list[Any]:
    eur = Money(Decimal("1234.5678"))
    return [
        Customer("C1", "Lys & Fils <SARL>", "fec", emails=("a@b.fr", "c@d.be"),
                 contacts=(Contact("Anne", "anne@b.fr", "+33 1", "comptabilité"), Contact()),
                 payment_terms_days=None, direct_debit=True, updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        Customer("C2", "=HYPERLINK(\"x\")", "csv", payment_terms_days=45, language="nl"),
        Invoice("I1", "F-1", "C1", "csv", date(2024, 2, 29), None, Money(Decimal("0.10"), "USD"),
                Money(Decimal("0.0300"), "USD"), kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.UNKNOWN,
                source_status="contentieux", remaining_company=Money(Decimal("0.0276")),
                installments=(Installment(date(2024, 3, 1), eur, eur),), extra=(("iban", "FR76"), ("k", "é\u2028")),
                updated_at=datetime(2026, 5, 6)),
        Invoice("I2", "F-2", "C1", "csv", date(2024, 2, 29), date(2024, 3, 30), eur, Money(Decimal("-0"))),
        # a value of another type than the hint says (an enum given as its text): converted as met
        dataclasses.replace(Invoice("I3", "F-3", "C1", "csv", date(2024, 1, 1), None, eur, eur),
                            status="open"),  # type: ignore[arg-type]
        Payment("P1", "C1", "fec", date(2024, 3, 1), Money(Decimal("0.07"), "GBP"),
                (Allocation("I1", Money(Decimal("0.07"), "GBP")),), method="direct_debit"),
        UnallocatedCredit("U1", "C1", "fec", date(2023, 12, 31), Money(Decimal("12.5")),
                          kind=CreditKind.CREDIT_NOTE, amount_company=None),
    ]


def test_generated_encoders_write_what_a_generic_walk_writes() -> None:
    ledger = demo_ledger(date(2026, 11, 30))
    records = [*ledger.customers, *ledger.invoices, *ledger.payments, *ledger.credits, *_odd_records()]
    assert len(records) > 100
    for record in records:
        assert codec.dumps(record) == _reference(record), record


class _Text(str):
    """A text of a str subclass (not the type the field's hint says: written the generic way)."""


def test_records_are_written_as_json_writes_them_whatever_their_text_holds() -> None:
    """The writer generated per class writes each field itself: texts JSON must escape, a str subclass,
    a bool where an int is expected, a Decimal's special values all give ``json``'s own text."""
    awkward = ['quote " back \\ slash', "tab\tnew\nline\x00\x1f\x7f", "\ud800 lone surrogate", "€ é 日本",
               "\u2028\u2029", _Text("sub"), ""]
    records: list[Any] = []
    for text in awkward:
        records.append(Customer(text, text, "csv", emails=(text,), contacts=(Contact(text, text, text, text),),
                                payment_terms_days=True))  # type: ignore[arg-type]
        records.append(Invoice(text, text, text, "csv", date(2024, 1, 1), None, Money(Decimal("NaN")),
                               Money(Decimal("-Infinity")), source_status=text, extra=((text, text),)))
    for record in records:
        assert codec.dumps(record) == _reference(record), record


def test_encoded_records_read_back_equal() -> None:
    for record in _odd_records():
        if getattr(record, "id", "") == "I3":
            continue  # not a valid record: only its encoding is checked above
        assert codec.loads(type(record), codec.dumps(record)) == record


def test_a_list_of_records_is_encoded_too() -> None:
    records = _odd_records()[:2]
    assert codec.to_jsonable(records) == [_walk(r) for r in records]


def test_stored_records_of_earlier_versions_decode() -> None:
    """Rows written by earlier versions: a key they did not have takes its default, a null stays None,
    an unknown enum value is refused (never guessed)."""
    import pytest

    old = {"id": "I9", "number": "F-9", "customer_id": "C1", "source": "csv", "issue_date": "2025-02-28",
           "due_date": None, "total": {"amount": "10.5", "currency": "EUR"},
           "remaining": {"amount": "10.50", "currency": "EUR"}, "status": "partially_paid",
           "installments": [{"due_date": "2025-03-31", "amount": {"amount": "5.25", "currency": "EUR"},
                             "remaining": {"amount": "5.25", "currency": "EUR"}}]}
    invoice = codec.from_jsonable(Invoice, old)
    assert invoice.due_date is None and invoice.kind is DocumentKind.INVOICE and invoice.extra == ()
    assert invoice.status is InvoiceStatus.PARTIALLY_PAID and str(invoice.total.amount) == "10.5"
    assert invoice.installments[0].due_date == date(2025, 3, 31)
    assert codec.loads(Invoice, codec.dumps(invoice)) == invoice
    with pytest.raises(ValueError):
        codec.from_jsonable(Invoice, {**old, "status": "lost"})


def _stored_texts() -> list[tuple[type, list[str]]]:
    ledger = demo_ledger(date(2026, 11, 30))
    odd = [r for r in _odd_records() if getattr(r, "id", "") != "I3"]
    by_class: dict[type, list[str]] = {}
    for record in [*ledger.customers, *ledger.invoices, *ledger.payments, *ledger.credits, *odd]:
        by_class.setdefault(type(record), []).append(codec.dumps(record))
    return list(by_class.items())


def test_a_stored_table_reads_back_the_same_with_or_without_msgspec(monkeypatch: Any) -> None:
    """The stored ledger is decoded in C by msgspec; without it, by the generated decoder: the same
    records, field for field (the demo ledger and odd records: credit notes, instalments, contacts,
    4-decimal amounts, aware and naive times)."""
    tables = _stored_texts()
    assert {Customer, Invoice, Payment, UnallocatedCredit} <= {cls for cls, _ in tables}
    assert codec._fast_decoder(Invoice) is not None  # msgspec is installed with encours
    fast: dict[type, list[Any]] = {cls: codec.loads_many(cls, texts) for cls, texts in tables}
    monkeypatch.setattr(codec, "USE_MSGSPEC", False)
    codec._fast_decoder.cache_clear()
    try:
        for cls, texts in tables:
            slow: list[Any] = codec.loads_many(cls, texts)
            assert fast[cls] == slow == [codec.loads(cls, t) for t in texts], cls
            for a, b in zip(fast[cls], slow, strict=True):
                assert repr(a) == repr(b)  # same types inside too (Decimal, date, tuples, enums)
    finally:
        codec._fast_decoder.cache_clear()


def test_a_table_with_a_row_of_an_earlier_version_is_read_the_other_way() -> None:
    """A row lacking a key (its default), a null where text is expected (kept as stored): msgspec
    refuses the array, the generated decoder reads it; an unknown status is refused either way."""
    import pytest

    current = codec.dumps(Invoice("I1", "F-1", "C1", "csv", date(2025, 1, 2), None, Money(Decimal("1.00")),
                                  Money(Decimal("1.00"))))
    old = json.dumps({"id": "I9", "number": None, "customer_id": "C1", "source": "csv", "issue_date": "2025-02-28",
                      "due_date": None, "total": {"amount": "10.5", "currency": "EUR"},
                      "remaining": {"amount": "10.50", "currency": "EUR"}, "status": "open"})
    read = codec.loads_many(Invoice, [current, old])
    assert read[0] == codec.loads(Invoice, current) and read[1].number is None and read[1].extra == ()
    with pytest.raises(ValueError):
        codec.loads_many(Invoice, [current, old.replace('"open"', '"lost"')])


def _times() -> list[datetime]:
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    return [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(0))),  # zero offset, not the UTC object
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Europe/London")),
            datetime(2026, 7, 2, 3, 4, 5, 7, tzinfo=ZoneInfo("Europe/Paris")),
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(seconds=3661))),  # msgspec would cut it
            datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 3, 4, 5, 7)]


def test_records_are_written_alike_by_msgspec_and_by_the_generated_writer(monkeypatch: Any) -> None:
    """A record is written by msgspec (in C) when its class and times allow, else by the writer generated for
    its class: the text is the same either way, for the demo ledger, odd records, awkward texts and times at
    every kind of offset — a state file written on one machine is read unchanged on another."""
    ledger = demo_ledger(date(2026, 11, 30))
    records: list[Any] = [*ledger.customers, *ledger.invoices, *ledger.payments, *ledger.credits, *_odd_records()]
    for moment in _times():
        records.append(Customer("T", "Horloge", "csv", updated_at=moment))
        records.append(Invoice("T", "F-T", "T", "csv", date(2026, 1, 1), None, Money(Decimal("1.005")),
                               Money(Decimal("1.005")), updated_at=moment))
    for text in ('quote " back \\ slash', "tab\tnew\nline\x00\x1f\x7f", "€ é 日本 😀", "\u2028\u2029", ""):
        records.append(Customer(text, text, "csv", emails=(text,), contacts=(Contact(text, text, text, text),)))
    assert codec._fast_writer(Invoice) is not None and codec._fast_writer(Customer) is not None
    fast = [codec.dumps(r) for r in records]
    monkeypatch.setattr(codec, "USE_MSGSPEC", False)
    monkeypatch.setattr(codec, "_WRITERS", {})
    codec._fast_writer.cache_clear()
    try:
        assert [codec.dumps(r) for r in records] == fast == [_reference(r) for r in records]
    finally:
        codec._fast_writer.cache_clear()


def test_a_time_is_read_back_whichever_way_it_was_written() -> None:
    """Times stored before msgspec wrote them (``+00:00``) read as those written now (``Z``)."""
    for moment in _times():
        record = Customer("T", "Horloge", "csv", updated_at=moment)
        text = codec.dumps(record)
        assert codec.loads(Customer, text) == record
        assert codec.loads_many(Customer, [text.replace('Z"', '+00:00"')])[0] == record
