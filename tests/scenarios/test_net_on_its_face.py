"""A reminder's arithmetic holds on its face: the invoices listed, less the credits it says it
deducted, make its ``Total``.

Found in acceptance testing (FEC, a customer with FA-0201 1 200 € 28 days late, FA-0202 360 € one
day late and a 300 € transfer on account): the letter listed FA-0201 1 200,00 €, « Paiement reçu
VIR-0920 : − 300,00 € (déduit du total) » and « Total : 1 200,00 € ».  The planner asks
min(invoices listed, overdue balance − credits) — 1 200 € is indeed owed — but a customer reading
1 200 − 300 = 1 200 sees the payment ignored.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from encours.connectors.model import Money, Payment
from encours.scenarios.planner import plan
from encours.scenarios.render import render
from encours.sheets_addin.marks import SheetMarks
from tests.support.reminders import AS_OF, company, invoice, ledger, shipped


def _amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d,]", "", text).replace(",", "."))


@pytest.mark.xfail(strict=True, reason="scenarios/grouping._deduct keeps the gross when other overdue invoices "
                                       "absorb the credits, while the template says « déduit du total » "
                                       "(wording in scenarios/templates, wt/tasks)")
def test_a_letter_total_is_its_invoices_less_the_credits_it_deducts() -> None:
    on_account = Payment("P1", "C1", "test", AS_OF - timedelta(days=60), Money(Decimal("300.00")),
                         reference="VIR-0920")
    led = ledger(invoice("I1", 28, "1200.00"), invoice("I2", 1, "360.00"), payments=(on_account,))
    result = plan(led, SheetMarks(), shipped(), AS_OF, done={}, company=company())
    (action,) = result.actions
    text = render(action, shipped()["standard"], led, company(), as_of=AS_OF).text
    listed = [_amount(m) for m in re.findall(r"^- Facture .*: ([\d\s\u202f\u00a0,]+)\u00a0€", text, re.MULTILINE)]
    deducted = [_amount(m) for m in re.findall(r"− ([\d\s\u202f\u00a0,]+)\u00a0€ \(déduit du total\)", text)]
    (total,) = [_amount(m) for m in re.findall(r"^Total : (.+)$", text, re.MULTILINE)]
    assert listed and sum(listed) - sum(deducted) == total, text
