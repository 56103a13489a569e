"""What a lived demo did (issue 12.2): the summary ``encours demo --days N`` prints — messages by
step, cash collected (and how much within 14 days of a reminder), DSO before and after — and what
it reads back from the journal to say it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from encours.connectors.model import Invoice, Ledger, Money, to_cents
from encours.sheets_addin.functions import ledger_kpis
from encours.sync.company import scenarios_for
from encours.sync.config import Config
from encours.sync.demo_labels import demo_text
from encours.sync.journal import Journal, State
from encours.sync.state import StateStore

#: Cash counts as collected "after a reminder" when paid within this many days of one.
COLLECTED_WITHIN_DAYS = 14


@dataclass
class LifeSummary:
    """What the lived days did: messages by step, cash after reminders, DSO before and after."""

    first: date
    last: date
    messages: Counter[str] = field(default_factory=Counter)
    collected_after_reminder: Decimal = Decimal(0)
    collected: Decimal = Decimal(0)
    dso_before: Decimal | None = None
    dso_after: Decimal | None = None
    events: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [demo_text("lived", first=self.first, last=self.last, days=(self.last - self.first).days + 1)]
        out += [demo_text("messages", step=step, count=count) for step, count in sorted(self.messages.items())]
        out.append(demo_text("collected", collected=self.collected, after_reminder=self.collected_after_reminder,
                             within=COLLECTED_WITHIN_DAYS))
        before = demo_text("no_dso") if self.dso_before is None else f"{self.dso_before:.1f}"
        after = demo_text("no_dso") if self.dso_after is None else f"{self.dso_after:.1f}"
        out.append(demo_text("dso", before=before, after=after))
        out += [demo_text("event", event=event) for event in self.events]
        return out


def eur_of(invoice: Invoice, amount: Money) -> Decimal:
    if amount.currency == "EUR":
        return amount.amount
    if invoice.remaining_company is not None and invoice.remaining.amount:
        return to_cents(amount.amount * invoice.remaining_company.amount / invoice.remaining.amount)
    return Decimal(0)


def dso_on(ledger: Ledger, day: date) -> Decimal | None:
    return ledger_kpis(ledger, day).dso


def sent_keys(config: Config) -> dict[tuple[str, str], date]:
    """(step key id, step label) → day, of every message or task the journal holds as sent."""
    if not config.state_path.exists():
        return {}
    with StateStore(config.state_path) as store:
        entries = Journal(store, config.dossier, tz=config.timezone).entries([State.SENT])
    scenarios = scenarios_for(config).scenarios

    def label(scenario: str, step: str) -> str:
        try:
            return scenarios[scenario].step(step).label
        except KeyError:
            return step

    return {(e.key.id, label(e.scenario, e.step)): (e.sent_at or e.updated_at).astimezone(config.timezone).date()
            for e in entries}


def formal_notices(config: Config) -> dict[str, date]:
    """Customer id → day of its first formal notice sent."""
    out: dict[str, date] = {}
    if not config.state_path.exists():
        return out
    with StateStore(config.state_path) as store:
        for entry in Journal(store, config.dossier, tz=config.timezone).entries([State.SENT]):
            if entry.step == "formal_notice":
                when = (entry.sent_at or entry.updated_at).astimezone(config.timezone).date()
                out[entry.customer_id] = min(out.get(entry.customer_id, when), when)
    return out
