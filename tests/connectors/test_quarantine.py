"""The quarantine by kind: what a left-out record holds back, what survives in the state file, and
what an earlier version's state file still means."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from encours.connectors.model import Money
from encours.connectors.quarantine import (
    CUSTOMER,
    INVOICE,
    NAMESPACE,
    PAYMENT,
    Hold,
    Quarantine,
    quarantine_notes,
    source_holds,
)
from encours.connectors.source_errors import MalformedResponseError
from encours.sync.state import StateStore


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(tmp_path / "state.sqlite") as st:
        yield st


@pytest.mark.parametrize(
    ("hold", "customer", "currency", "covered"),
    [
        (Hold("42", "EUR", "pennylane payment 1", PAYMENT), "42", "EUR", True),
        (Hold("42", "EUR", "pennylane payment 1", PAYMENT), "42", "usd", False),
        (Hold("42", "EUR", "pennylane payment 1", PAYMENT), "57", "EUR", False),
        (Hold("42", "", "sage customer 42", CUSTOMER), "42", "GBP", True),
        (Hold("", "EUR", "sage payment 9", PAYMENT), "57", "EUR", True),  # whose it is cannot be read
        (Hold("", "", "sage payment 9", PAYMENT), "63", "JPY", True),
    ],
)
def test_a_hold_covers_its_customer_in_its_currency(hold: Hold, customer: str, currency: str, covered: bool) -> None:
    assert hold.covers(customer, currency) is covered


def test_a_state_file_of_the_invoice_only_quarantine_still_reads_and_holds_nothing(store: StateStore) -> None:
    store.cache().put(NAMESPACE, "pennylane", json.dumps({"1007": {"endpoint": "GET /customer_invoices",
                                                                   "why": "field 'date' is empty"}}))
    quarantine = Quarantine(store.cache(), "pennylane")
    assert quarantine.held() == ["1007"] and quarantine.held(CUSTOMER) == []
    (item,) = quarantine.items
    assert (item.kind, item.record, item.holds) == (INVOICE, "1007", False)
    assert quarantine.holds == () and source_holds(store.cache(), "pennylane") == ()


def test_held_records_survive_in_the_state_file_until_they_map(store: StateStore) -> None:
    quarantine = Quarantine(store.cache(), "sage")

    def payment(raw: Any) -> Money:
        return Money(Decimal(raw["amount"]), raw["currency"])  # the model refuses a currency that is no ISO code

    ok, value = quarantine.attempt({"id": "p9", "amount": 10, "currency": "EURO"}, payment, kind=PAYMENT,
                                   endpoint="GET /contact_payments", customer="c1", currency="EUR")
    assert (ok, value) == (False, None)
    quarantine.save()
    assert source_holds(store.cache(), "sage") == (Hold("c1", "EUR", "sage payment p9", PAYMENT),)
    lines = quarantine_notes(type("Connector", (), {"quarantine": quarantine})())
    assert lines[0] == "Quarantined: 1 record(s) left out of this sync"
    assert "sage GET /contact_payments record p9: currency 'EURO' is not an ISO 4217 code" in lines[1]
    assert lines[2] == "  reminders held for customer c1 in EUR until sage payment p9 maps"

    again = Quarantine(store.cache(), "sage")  # the next sync
    assert again.held(PAYMENT) == ["p9"] and again.is_held("p9", PAYMENT) and not again.is_held("p9")
    ok, value = again.attempt({"id": "p9", "amount": 10, "currency": "EUR"}, payment, kind=PAYMENT,
                              endpoint="GET /contact_payments")
    assert ok and value == Money(Decimal(10), "EUR")
    again.save()
    assert source_holds(store.cache(), "sage") == () and Quarantine(store.cache(), "sage").items == ()


def test_a_record_without_an_id_cannot_be_asked_for_again_so_it_stops_the_sync(store: StateStore) -> None:
    quarantine = Quarantine(store.cache(), "pennylane")

    def broken(raw: Any) -> None:
        raise MalformedResponseError("field 'id' is missing", platform="pennylane", endpoint="GET /customers")

    with pytest.raises(MalformedResponseError):
        quarantine.attempt({"name": "x"}, broken, kind=CUSTOMER, endpoint="GET /customers")
    assert quarantine.items == ()


def test_invoices_keep_their_bare_ids_and_other_kinds_do_not_collide(store: StateStore) -> None:
    quarantine = Quarantine(store.cache(), "pennylane")
    error = MalformedResponseError("odd", platform="pennylane", endpoint="GET /customers", record="42")
    quarantine.add("42", error, kind=CUSTOMER)
    quarantine.add("42", MalformedResponseError("odd", platform="pennylane", endpoint="GET /customer_invoices"))
    assert set(quarantine.found) == {"42", "customer:42"}
    quarantine.release("42")  # the invoice 42 maps; the customer 42 is still held
    assert [q.kind for q in quarantine.items] == [CUSTOMER]
    assert quarantine.holds == (Hold("42", "", "pennylane customer 42", CUSTOMER),)


def test_a_credit_note_asked_again_by_id_keeps_holding_its_customer(store: StateStore) -> None:
    """The listing said whose the credit note is; a read by id at the next sync says nothing of it."""
    first = Quarantine(store.cache(), "sage")
    first.add("b2", MalformedResponseError("field 'date' is empty", platform="sage", endpoint="GET /sales_credit_notes",
                                           record="b2"), customer="c1", currency="GBP", holds=True)
    first.save()
    def still_odd(record: str) -> None:
        raise MalformedResponseError("field 'date' is empty", platform="sage",
                                     endpoint="GET /sales_credit_notes/{id}", record=record)

    again = Quarantine(store.cache(), "sage")
    assert again.guarded("b2", still_odd) is None
    again.save()
    assert source_holds(store.cache(), "sage") == (Hold("c1", "GBP", "sage invoice b2", INVOICE),)
