"""Gentle, standard and firm read differently at every step they share (issue 12 item 6) — the
courtesy notice, the reminders, the statement, the broken promise, the thank-you — in French,
Dutch and English, and each still renders whatever the message holds (one invoice or several,
a little or very late, with or without a promised date, a French or a Belgian company)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from encours.connectors.model import Allocation, Payment
from encours.scenarios.planner import PlannedAction, StepKey
from encours.scenarios.render import render
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from tests.scenarios.test_render import first_action
from tests.support.reminders import AS_OF, company, invoice, ledger, shipped

TONES = ("gentle", "standard", "firm")
SHARED = ("courtesy", "reminder_1", "reminder_2", "reminder_3", "promise_broken", "thanks")
LANGUAGES = ("fr", "nl", "en")


def _step(scenario: str, template: str) -> Any:
    found = [s for s in shipped()[scenario].steps if s.template == template]
    return found[0] if found else None


def _message(template: str, tone: str, language: str, *, count: int = 1, days: int = 20, country: str = "FR",
             promised: bool = True) -> Any:
    invoices = [invoice(f"I{n}", days - n, f"{400 + 100 * n}.00") for n in range(1, count + 1)]
    marks = SheetMarks()
    if template == "thanks":
        paid = [invoice(i.id, days, str(i.total.amount), remaining="0") for i in invoices]
        payments = tuple(Payment(f"P{i.id}", "C1", "test", AS_OF - timedelta(days=1), i.total,
                                 (Allocation(i.id, i.total),)) for i in paid)
        led = ledger(*paid, payments=payments)
        done = {StepKey("invoice", i.id, "standard", "reminder_1"): AS_OF - timedelta(days=10) for i in paid}
        base = first_action(led, done=done)
    else:
        if template == "promise_broken" and promised:
            marks = SheetMarks(invoices={i.id: InvoiceMarks(promise_date=AS_OF - timedelta(days=3)) for i in invoices})
        led = ledger(*invoices)
        base = first_action(led, marks)
    step = _step(tone, template)
    assert step is not None, (tone, template)
    action = PlannedAction(**{**base.__dict__, "scenario": tone, "step": step, "channel": step.channel,
                              "language": language})
    return render(action, shipped()[tone], led, company(country=country), as_of=AS_OF)


def _shared(template: str) -> list[str]:
    return [t for t in TONES if _step(t, template) is not None]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", SHARED)
def test_the_three_tones_read_differently(template: str, language: str) -> None:
    tones = _shared(template)
    assert len(tones) >= 2, template
    messages = {t: _message(template, t, language) for t in tones}
    for part in ("subject", "text", "html"):
        seen = {t: getattr(m, part) for t, m in messages.items()}
        assert len(set(seen.values())) == len(tones), (template, language, part)


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", SHARED)
def test_every_tone_renders_whatever_the_message_holds(template: str, language: str) -> None:
    for tone in _shared(template):
        for count, days, country, promised in ((1, 12, "FR", True), (3, 60, "BE", False), (2, 35, "FR", True)):
            message = _message(template, tone, language, count=count, days=days, country=country, promised=promised)
            for text in (message.subject, message.text, message.html):
                assert text and "{{" not in text and "{%" not in text and "None" not in text, (tone, text)
                assert not re.search(r" [,.]|  ", text), (tone, text)  # nothing left out between two words
            if template != "thanks":
                assert all(f"F-I{n}" in message.text for n in range(1, count + 1))


def test_what_each_tone_says_in_french() -> None:
    gentle, standard, firm = (_message("reminder_1", t, "fr", days=12) for t in TONES)
    assert gentle.subject.startswith("Petit rappel : facture F-I1")
    assert "pourriez-vous regarder cela lorsque vous en aurez l'occasion" in gentle.text
    assert "Il s'agit peut-être d'un simple oubli" in standard.text
    assert firm.subject.startswith("Facture F-I1 impayée : règlement attendu")
    assert "Nous vous demandons de procéder au règlement sous 8 jours." in firm.text
    late = _message("reminder_1", "gentle", "fr", days=60)
    assert "oubli" not in late.text and "jours de retard : pourriez-vous nous dire quand" in late.text
    assert "pénalités de retard" in _message("courtesy", "firm", "fr", days=-4).text
    assert "intérêts de retard" in _message("courtesy", "firm", "fr", days=-4, country="BE").text


def test_what_each_tone_says_in_dutch_and_english() -> None:
    assert "Kleine herinnering" in _message("reminder_1", "gentle", "nl").subject
    assert "binnen 48 uur" in _message("promise_broken", "firm", "nl").text
    assert "Many thanks, and thank you for your business!" in _message("thanks", "gentle", "en").text
    assert "your account is up to date for this invoice" in _message("thanks", "firm", "en").text
    statement = _message("reminder_3", "gentle", "en", count=2)
    assert "we will find a solution together" in statement.text
