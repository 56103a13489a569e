"""Odoo records → domain model, the pure part (encours.connectors.odoo.mapping), table-driven."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from encours.connectors.fields import Fields
from encours.connectors.model import CreditKind, Invoice, InvoiceStatus, Money, UnallocatedCredit
from encours.connectors.odoo import mapping
from encours.connectors.source_errors import MalformedResponseError

AS_OF = date(2026, 11, 23)
COMPANIES = {"1": "EUR"}


def line(**changes: Any) -> Fields:
    raw: dict[str, Any] = {
        "id": 700, "move_id": [950, "OD/2026/0012"], "partner_id": [10, "Deco Addict"], "date": "2026-10-05",
        "date_maturity": "2026-11-04", "name": "Reprise de solde", "balance": 250.0, "amount_currency": 250.0,
        "amount_residual": 250.0, "amount_residual_currency": 250.0, "currency_id": [1, "EUR"],
        "company_id": [1, "Atelier Dupont SARL"], "payment_id": False, "reconciled": False, "parent_state": "posted",
        "write_date": "2026-11-20 10:00:00",
    }
    raw.update(changes)
    return Fields(raw, platform="odoo", endpoint="account.move.line.search_read")


def other(**changes: Any) -> Invoice | UnallocatedCredit | None:
    return mapping.other_receivable(line(**changes), company_currency=COMPANIES, as_of=AS_OF, platform="odoo")


@pytest.mark.parametrize(
    ("changes", "status", "remaining"),
    [
        ({}, InvoiceStatus.OPEN, "250.00"),
        ({"amount_residual": 100.0, "amount_residual_currency": 100.0}, InvoiceStatus.PARTIALLY_PAID, "100.00"),
        ({"reconciled": True, "amount_residual": 0.0, "amount_residual_currency": 0.0}, InvoiceStatus.PAID, "0.00"),
        ({"parent_state": "cancel"}, InvoiceStatus.CANCELLED, "0.00"),
        ({"parent_state": "draft"}, InvoiceStatus.DRAFT, "0.00"),  # entry reset to draft: not "paid"
    ],
)
def test_a_debit_line_of_another_entry_is_a_document_of_its_own(
    changes: dict[str, Any], status: InvoiceStatus, remaining: str
) -> None:
    found = other(**changes)
    assert isinstance(found, Invoice)
    assert (found.id, found.number, found.customer_id) == ("aml-700", "OD/2026/0012", "10")
    assert (found.status, found.remaining, found.total) == (status, Money(Decimal(remaining)), Money(Decimal("250.00")))
    assert found.due_date == date(2026, 11, 4) and found.updated_at is not None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"balance": -80.0, "amount_currency": -80.0, "amount_residual": -80.0, "amount_residual_currency": -80.0,
          "payment_id": [77, "PBNK1/2026/00077"]}, (CreditKind.PAYMENT_ON_ACCOUNT, "80.00")),
        ({"balance": -80.0, "amount_currency": -80.0, "amount_residual": -30.0, "amount_residual_currency": -30.0},
         (CreditKind.OTHER, "30.00")),
        ({"balance": -80.0, "amount_currency": -80.0, "amount_residual": 0.0, "amount_residual_currency": 0.0,
          "reconciled": True}, None),  # settled: nothing to show
        ({"partner_id": False}, None),  # no customer to show it under
    ],
)
def test_a_credit_line_is_an_unallocated_credit_while_open(changes: dict[str, Any], expected: Any) -> None:
    found = other(**changes)
    if expected is None:
        assert found is None
        return
    assert isinstance(found, UnallocatedCredit)
    assert (found.kind, found.amount) == (expected[0], Money(Decimal(expected[1])))


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"amount_residual_currency": "n/a"}, "field 'amount_residual_currency' is not an amount: 'n/a'"),
        ({"currency_id": [9, "euro"]}, "currency 'euro' is not an ISO 4217 code"),
        ({"date": "2026-02-30"}, "field 'date' is not a date: '2026-02-30'"),
        ({"move_id": False}, "field 'move_id' is empty"),
        ({"partner_id": "Deco"}, "field 'partner_id' is not an [id, name] pair: 'Deco'"),
    ],
)
def test_a_line_that_cannot_be_mapped_names_the_record_and_the_field(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        other(**changes)
    assert str(caught.value) == f"odoo account.move.line.search_read record 700: {why}"


@pytest.mark.parametrize(
    ("registry", "vat", "siren"),
    [("552 120 222 00013", "", "552120222"), ("", "FR40303265045", "303265045"), ("123", "BE0477472701", "")],
)
def test_siren_from_the_company_registry_else_a_french_vat_number(registry: str, vat: str, siren: str) -> None:
    assert mapping.siren(registry, vat) == siren


def test_a_customer_without_a_name_cannot_be_mapped() -> None:
    partner = Fields({"id": 14, "name": False, "commercial_partner_id": [14, "x"]}, platform="odoo",
                     endpoint="res.partner.search_read")
    with pytest.raises(MalformedResponseError, match="record 14: field 'name' is empty"):
        mapping.customer(partner, [], salesperson_email="", direct_debit=False, platform="odoo")


ODD_VALUES: list[Any] = [None, False, True, [], {}, [1], ["a", "b"], {"value": 1}, "", "x", -1, 1e308, "2026-13-45",
                         "NaN", "Infinity", 10**15, float("nan"), float("-inf")]


def _maps_or_is_quarantined(build: Any) -> None:
    with contextlib.suppress(MalformedResponseError):  # quarantined: named, left out
        build()


def _move() -> dict[str, Any]:
    return {"id": 4, "name": "INV/2026/00004", "move_type": "out_invoice", "state": "posted",
            "payment_state": "not_paid", "partner_id": [10, "Deco"], "commercial_partner_id": [10, "Deco"],
            "invoice_date": "2026-11-08", "invoice_date_due": "2027-01-08", "amount_total": 3651.25,
            "amount_residual": 3651.25, "amount_total_signed": 3651.25, "amount_residual_signed": 3651.25,
            "currency_id": [2, "USD"], "company_id": [1, "Atelier"], "invoice_user_id": [6, "Marc"],
            "reversed_entry_id": False, "payment_reference": "INV/2026/00004", "ref": False,
            "write_date": "2026-11-20 10:15:02"}


@pytest.mark.parametrize("key", sorted(_move()))
def test_no_odd_value_of_an_invoice_field_crashes_the_mapping(key: str) -> None:
    """Whatever Odoo answers in one field, the invoice maps or is quarantined — nothing else."""
    instalment = line(move_id=[4, "INV/2026/00004"])
    for value in ODD_VALUES:
        raw = {**_move(), key: value}
        _maps_or_is_quarantined(lambda raw=raw: mapping.invoice(
            Fields(raw, platform="odoo", endpoint="account.move.search_read"), [instalment, instalment],
            company_currency=COMPANIES, platform="odoo"))


@pytest.mark.parametrize("key", sorted(line().raw))
def test_no_odd_value_of_a_receivable_line_crashes_the_mapping(key: str) -> None:
    for value in ODD_VALUES:
        _maps_or_is_quarantined(lambda value=value: other(**{key: value}))


@pytest.mark.parametrize("key", ["name", "email", "phone", "vat", "ref", "lang", "user_id", "type", "function",
                                 "street", "zip", "city", "country_code", "company_registry", "write_date"])
def test_no_odd_value_of_a_partner_field_crashes_the_mapping(key: str) -> None:
    for value in ODD_VALUES:
        partner = Fields({"id": 10, "name": "Deco", key: value}, platform="odoo", endpoint="res.partner.search_read")
        kid = Fields({"id": 33, "name": "Paul", "email": "p@x.example", "type": "invoice", key: value},
                     platform="odoo", endpoint="res.partner.search_read")

        def build(partner: Fields = partner, kid: Fields = kid) -> None:
            mapping.contact_check(kid)
            mapping.customer(partner, [kid], salesperson_email="", direct_debit=False, platform="odoo")

        _maps_or_is_quarantined(build)


@pytest.mark.parametrize("key", ["debit_move_id", "credit_move_id", "amount", "debit_amount_currency", "max_date"])
def test_no_odd_value_of_a_payment_share_crashes_the_mapping(key: str) -> None:
    paid = mapping.invoice(Fields(_move(), platform="odoo", endpoint="account.move.search_read"), [],
                           company_currency=COMPANIES, platform="odoo")
    for value in ODD_VALUES:
        partial = Fields({"id": 2, "debit_move_id": [19, "x"], "credit_move_id": [42, "x"], "amount": 10.0,
                          "debit_amount_currency": 10.0, "max_date": "2026-11-07", key: value},
                         platform="odoo", endpoint="account.partial.reconcile.search_read")
        paying = Fields({"id": 42, "move_id": [17, "PBNK"], "date": value, "payment_id": value}, platform="odoo",
                        endpoint="account.move.line.search_read")
        _maps_or_is_quarantined(lambda partial=partial, paying=paying: mapping.payment(
            partial, paid, paying, from_credit_note=False, platform="odoo"))
