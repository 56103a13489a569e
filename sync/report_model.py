"""What the weekly report holds: the week's figures for one population (the company or one
salesperson), as values :mod:`encours.sync.report_render` lays out — trend points, late payers,
promises and disputes, the call outcomes recorded in ``À faire``, reminders sent and what they
brought in, risk signals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from encours.connectors.errors import EncoursError
from encours.connectors.registries.signals import fr_date
from encours.sheets_addin import functions as fn
from encours.sync.report_labels import report_text

REMINDER_WINDOW_DAYS = 28


class ReportError(EncoursError):
    """The report cannot be made (no synced ledger yet, nothing to send to)."""

    exit_code = 2


@dataclass(frozen=True)
class WeekPoint:
    day: date
    outstanding: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class LatePayer:
    customer_id: str
    name: str
    salesperson: str
    overdue: Decimal
    outstanding: Decimal
    oldest_days: int
    score: int | None = None
    profile: str = ""
    alert: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    """An invoice in the promises or disputes lists."""

    invoice_id: str
    number: str
    customer: str
    salesperson: str
    remaining: Decimal
    currency: str
    due_date: date | None
    day: date | None = None  # the promise's date
    comment: str = ""


@dataclass(frozen=True)
class SentReminder:
    """One reminder the journal holds as sent."""

    sent_on: date
    customer_id: str
    invoice_ids: tuple[str, ...]
    channel: str = "email"
    step: str = ""


@dataclass(frozen=True)
class ReminderStats:
    sent_this_week: int = 0
    by_channel: tuple[tuple[str, int], ...] = ()
    sent_in_window: int = 0
    brought_in: Decimal = Decimal("0.00")
    invoices_paid: int = 0
    known: bool = True  # False: no journal to read yet


@dataclass(frozen=True)
class RiskLine:
    customer_id: str
    name: str
    what: str
    day: date | None
    link: str
    action: str = ""
    outstanding: Decimal = Decimal("0.00")


def _words(text: str) -> list[str]:
    return re.findall(r"[\w/.]+", text.casefold())


@dataclass(frozen=True)
class CallOutcome:
    """What a person recorded in ``À faire`` this week (a task ticked ``Fait``)."""

    task_id: str
    day: date  # the day the pass recorded it
    customer: str
    salesperson: str
    invoices: str  # the invoices' numbers, comma-separated
    kind: str  # the outcome (promise, dispute, call_back, unreachable, paid, done, note) or dispute_lifted
    what: str  # in words, with its date: "Promesse de paiement au 10/12/2026"
    result: str = ""  # as typed in Résultat
    still_owed: Decimal = Decimal("0.00")  # on those invoices today, EUR
    settled: bool = False  # every one of those invoices paid (or closed) since

    @property
    def note(self) -> str:
        """What was typed, when it says more than :attr:`what`: "NRP", "Litige : conteste la livraison"
        are kept; "promesse 19/11/2026" under "Promesse de paiement au 19/11/2026" is not (each word
        typed is, or begins, a word of it: "26/11" for "26/11/2026")."""
        said = _words(self.what)
        typed = _words(self.result)
        if all(any(word.startswith(w) for word in said) for w in typed):
            return ""
        return self.result.strip()


@dataclass(frozen=True)
class WeeklyReport:
    company: str
    as_of: date
    salesperson: str  # "" for the whole company
    customers: int
    kpis: fn.ReceivablesKpis
    history: tuple[WeekPoint, ...]  # oldest first; the last is the as-of date
    forecast: fn.CashForecast
    aging: tuple[tuple[str, Decimal], ...]
    late_payers: tuple[LatePayer, ...]
    promises: tuple[InvoiceLine, ...]
    broken_promises: tuple[InvoiceLine, ...]
    disputes: tuple[InvoiceLine, ...]
    reminders: ReminderStats
    risks: tuple[RiskLine, ...]
    notes: tuple[str, ...] = field(default=())
    outcomes: tuple[CallOutcome, ...] = field(default=())  # recorded in À faire this week

    @property
    def outstanding(self) -> Decimal:
        return self.kpis.receivables

    @property
    def overdue(self) -> Decimal:
        """Past due, gross (as the sheet's ``Échu``)."""
        return self.kpis.overdue

    @property
    def overdue_net(self) -> Decimal:
        """Past due once the unallocated credits are deducted (what reminders claim), never below 0."""
        return max(Decimal("0.00"), self.kpis.overdue + self.kpis.unallocated)

    @property
    def previous(self) -> WeekPoint:
        """The figures seven days before the as-of date."""
        return self.history[-2] if len(self.history) >= 2 else self.history[-1]

    @property
    def week_start(self) -> date:
        return self.as_of - timedelta(days=7)

    @property
    def title(self) -> str:
        who = f" — {self.salesperson}" if self.salesperson else ""
        return report_text("title", day=fr_date(self.as_of), who=who)
