"""What people type in ``À faire``'s ``Résultat``, as encours understands it (table-driven)."""

from __future__ import annotations

from datetime import date

import pytest

from encours.sync.task_outcomes import Outcome, OutcomeKind, ResultError, parse_result

THURSDAY = date(2026, 11, 26)
K = OutcomeKind


@pytest.mark.parametrize(("typed", "kind", "when"), [
    ("", K.DONE, None),
    ("promesse 15/12/2026", K.PROMISE, date(2026, 12, 15)),
    ("Promesse de paiement au 15/12", K.PROMISE, date(2026, 12, 15)),
    ("PROMIS pour le 15.12.26", K.PROMISE, date(2026, 12, 15)),
    ("promesse 2026-12-15", K.PROMISE, date(2026, 12, 15)),
    ("promesse le 15 décembre", K.PROMISE, date(2026, 12, 15)),
    ("promesse 05/01", K.PROMISE, date(2027, 1, 5)),  # no year: the next such day
    ("litige", K.DISPUTE, None),
    ("Conteste la livraison du 12/11", K.DISPUTE, None),
    ("Réclamation qualité", K.DISPUTE, None),
    ("rappeler le 05/12/2026", K.CALL_BACK, date(2026, 12, 5)),
    ("à rappeler le 5/12", K.CALL_BACK, date(2026, 12, 5)),
    ("rappeler lundi", K.CALL_BACK, date(2026, 11, 30)),
    ("il rappelle demain", K.CALL_BACK, date(2026, 11, 27)),
    ("recontacter dans 10 jours", K.CALL_BACK, date(2026, 12, 6)),
    ("Injoignable", K.UNREACHABLE, None),
    ("répondeur, message laissé", K.UNREACHABLE, None),
    ("NRP", K.UNREACHABLE, None),
    ("payé", K.PAID, None),
    ("Payée le 24/11 par virement", K.PAID, date(2026, 11, 24)),
    ("payé le 20/12", K.PAID, date(2025, 12, 20)),  # no year, a payment: the last such day
    ("sera payé le 10/12/2026", K.PROMISE, date(2026, 12, 10)),  # a payment to come is a promise
    ("Virement effectué", K.PAID, None),
])
def test_what_people_type_is_understood(typed: str, kind: OutcomeKind, when: date | None) -> None:
    outcome = parse_result(typed, THURSDAY)
    assert (outcome.kind, outcome.when) == (kind, when)


@pytest.mark.parametrize(("typed", "message"), [
    ("promesse", "une promesse a besoin de sa date"),
    ("promesse 20/11/2026", "est déjà passée"),
    ("rappeler", "dire quand rappeler"),
    ("promesse 31/02/2027", "31/02/2027 n'est pas une date"),
    ("il verra avec son comptable", "n'est pas compris"),
    ("payé le 01/01/2024", "trop ancienne"),
])
def test_what_cannot_be_understood_is_refused_with_what_to_write(typed: str, message: str) -> None:
    with pytest.raises(ResultError, match=message):
        parse_result(typed, THURSDAY)


def test_free_text_is_a_note_where_fait_says_it_all() -> None:
    assert parse_result("posté en recommandé", THURSDAY, free_text=True) == Outcome(K.NOTE, None,
                                                                                    "posté en recommandé")
    assert parse_result("promesse 15/12/2026", THURSDAY, free_text=True).kind is K.PROMISE
    assert parse_result("promesse 15/12/2026", THURSDAY).describe() == "promesse de paiement au 15/12/2026"
