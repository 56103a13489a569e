"""What a person typed in ``À faire``'s ``Résultat``, understood: a promise with its date, a dispute,
a call back on a date, unreachable, paid (on a date) — or why it could not be understood.

People type French as it comes: case, accents and small words do not matter ("Promesse de
paiement au 15/12/2026", "promis pour le 15.12", "à rappeler le 5/12", "NRP", "Payé le 2 déc."),
and a date is DD/MM/YYYY (the year may be left out: the next such day on or after the task's
day), or said in words ("demain", "lundi", "dans 3 jours").  Pure: no clock, no store.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from encours.sync.result_words import (
    FIRST_DAY_SUFFIX_FR,
    IN_DAYS_FR,
    MONTHS_FR,
    RESULT_KEYWORDS_FR,
    TOMORROW_FR,
    WEEKDAYS_FR,
)
from encours.sync.task_labels import (
    ACCEPTED_FR,
    DATE_LINK_FR,
    OUTCOME_DATE_LINKS_FR,
    OUTCOME_LABELS_FR,
    task_text,
)


class OutcomeKind(enum.StrEnum):
    DONE = "done"  # Fait with nothing to note
    PROMISE = "promise"
    DISPUTE = "dispute"
    CALL_BACK = "call_back"
    UNREACHABLE = "unreachable"
    PAID = "paid"
    NOTE = "note"  # free text on a task whose Fait says it all (a dispute lifted, a letter posted)


#: How each outcome reads in the sheet and the run report (still importable from here).
OUTCOME_LABELS = {kind: OUTCOME_LABELS_FR[kind.value] for kind in OutcomeKind}

#: What the ``Résultat`` column accepts, for the messages that say it was not understood.
ACCEPTED = ACCEPTED_FR


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    when: date | None = None  # the promise's, call back's or payment's date
    text: str = ""  # as typed

    def describe(self) -> str:
        """French, for ``Suivi`` and the run report: "promesse de paiement au 15/12/2026"."""
        label = OUTCOME_LABELS[self.kind]
        if self.when is None:
            return label if self.kind is not OutcomeKind.NOTE else task_text("note", text=self.text)
        link = OUTCOME_DATE_LINKS_FR.get(self.kind, DATE_LINK_FR)
        return task_text("outcome_on", outcome=label, link=link, day=self.when)


class ResultError(ValueError):
    """The ``Résultat`` could not be understood (the message says what is expected)."""


_MONTHS = MONTHS_FR
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{4}|\d{2}))?(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORDY = re.compile(r"(?<!\d)(\d{1,2})(?:" + FIRST_DAY_SUFFIX_FR + r")?\s+([a-z]+)\.?(?:\s+(\d{4}))?")
_IN_DAYS = re.compile(IN_DAYS_FR)

_KEYWORDS: tuple[tuple[OutcomeKind, tuple[str, ...]], ...] = tuple(
    (OutcomeKind(kind), words) for kind, words in RESULT_KEYWORDS_FR)


def fold(text: str) -> str:
    """Lower case, no accents, spaces folded: "Payé  le" → "paye le"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain).strip().casefold()


def find_date(text: str, after: date, *, past: bool = False) -> date | None:
    """The first date in ``text`` (folded): DD/MM/YYYY, DD/MM/YY, DD/MM, ISO, or "15 décembre (2026)".
    A date without a year is the next such day on or after ``after`` (``past``: the last one on or
    before it).  Raises ResultError on 31/02."""
    found: tuple[int, int, int | None] | None = None
    iso = _ISO.search(text)
    numeric = _NUMERIC.search(text)
    wordy = next((m for m in _WORDY.finditer(text) if m.group(2).rstrip(".") in _MONTHS), None)
    candidates = [m for m in (iso, numeric, wordy) if m is not None]
    if not candidates:
        return _relative_day(text, after)
    first = min(candidates, key=lambda m: m.start())
    if first is iso:
        found = (int(iso.group(3)), int(iso.group(2)), int(iso.group(1)))
    elif first is numeric:
        year = numeric.group(3)
        found = (int(numeric.group(1)), int(numeric.group(2)),
                 None if year is None else int(year) + (2000 if len(year) == 2 else 0))
    else:
        assert wordy is not None
        found = (int(wordy.group(1)), _MONTHS[wordy.group(2).rstrip(".")],
                 int(wordy.group(3)) if wordy.group(3) else None)
    day, month, year = found
    try:
        if year is not None:
            return date(year, month, day)
        guess = date(after.year, month, day)
        if past:
            return guess if guess <= after else date(after.year - 1, month, day)
        return guess if guess >= after else date(after.year + 1, month, day)
    except ValueError:
        raise ResultError(task_text("not_a_date", day=day, month=month,
                                    year="" if year is None else f"/{year}")) from None


_WEEKDAYS = WEEKDAYS_FR


def _relative_day(text: str, after: date) -> date | None:
    """"demain", "lundi" (the next Monday after ``after``), "dans 3 jours": a day said in words."""
    if _has(text, TOMORROW_FR):
        return after + timedelta(days=1)
    ahead = _IN_DAYS.search(text)
    if ahead:
        return after + timedelta(days=int(ahead.group(1)))
    for index, name in enumerate(_WEEKDAYS):
        if _has(text, name):
            return after + timedelta(days=(index - after.weekday() - 1) % 7 + 1)
    return None


def parse_result(text: str, as_of: date, *, free_text: bool = False) -> Outcome:
    """The outcome typed in ``Résultat`` when ``Fait`` is ticked, read on ``as_of``.

    ``free_text``: the task's ``Fait`` says it all (a dispute lifted, a letter posted): text that
    names no outcome is kept as a note instead of refused.  Raises :class:`ResultError`.
    """
    raw = text.strip()
    if not raw:
        return Outcome(OutcomeKind.DONE)
    folded = fold(raw)
    kind = next((k for k, words in _KEYWORDS if any(_has(folded, w) for w in words)), None)
    if kind is None:
        if free_text:
            return Outcome(OutcomeKind.NOTE, text=raw)
        raise ResultError(task_text("not_understood", raw=raw, accepted=ACCEPTED))
    when = find_date(folded, as_of, past=kind is OutcomeKind.PAID)
    if kind is OutcomeKind.PROMISE:
        if when is None:
            raise ResultError(task_text("promise_without_date", raw=raw))
        if when < as_of:
            raise ResultError(task_text("promise_past", raw=raw, day=when))
    elif kind is OutcomeKind.CALL_BACK:
        if when is None:
            raise ResultError(task_text("call_back_without_date", raw=raw))
        if when < as_of:
            raise ResultError(task_text("call_back_past", raw=raw, day=when))
    elif kind is OutcomeKind.PAID:
        if when is not None and when > as_of:
            # "paiera le 10/12" is a promise in other words
            return Outcome(OutcomeKind.PROMISE, when, raw)
        if when is not None and when < as_of - timedelta(days=366):
            raise ResultError(task_text("paid_too_old", raw=raw, day=when))
    else:
        when = None
    return Outcome(kind, when, raw)


def _has(folded: str, word: str) -> bool:
    return re.search(r"(?<![a-z])" + re.escape(word) + r"(?![a-z])", folded) is not None
