"""Months of life for one dossier: a generated ledger whose customers pay as their behaviour says,
people typing in the sheet, and one real pass a day (real SQLite state, real outbox files).

Used by ``tests/sync/test_months.py`` (asserts) and ``bench/bench_months.py`` (times).  The sheet
is kept in memory (:class:`KeptSheet`): what people type is read back as marks, and each pass's
view is kept, so the asserts read ``À faire`` as a person would.  The workbook backends have their
own tests; here the subject is the reminder engine over time.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from encours.connectors.model import Allocation, Customer, Invoice, InvoiceStatus, Ledger, Money, Payment
from encours.scenarios.message import Message, SendResult
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, SheetMarks
from encours.sheets_addin.view import SheetView
from encours.sync.channels.outbox import OutboxChannel
from encours.sync.config import Config, load_config
from encours.sync.confirm import confirm
from encours.sync.run import run_pass
from encours.sync.run_report import RunReport
from tests.support.fake_source import FakeSource, LedgerFile

PARIS = ZoneInfo("Europe/Paris")
#: How payers behave (cycled over the customers).
BEHAVIOURS = ("never", "after_reminder", "prompt", "after_call", "promise_kept", "promise_broken", "disputer",
              "pause", "direct_debit", "never", "partial", "after_reminder")
SCENARIOS = ("standard", "gentle", "firm")


@dataclass
class KeptSheet:
    """The sheet in memory: people's marks (typed by the simulation) and the last view written."""

    invoices: dict[str, InvoiceMarks] = field(default_factory=dict)
    customers: dict[str, CustomerMarks] = field(default_factory=dict)
    view: SheetView | None = None

    def read_marks(self) -> SheetMarks:
        return SheetMarks(dict(self.invoices), dict(self.customers))

    def write(self, view: SheetView) -> None:
        self.view = view

    def type(self, invoice_id: str, **changes: Any) -> None:
        self.invoices[invoice_id] = replace(self.invoices.get(invoice_id, InvoiceMarks()), **changes)


class DyingOutbox(OutboxChannel):
    """The outbox; at the ``die_at``-th message the process dies right after the file is written
    (the message left, the journal does not know it)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.count = 0
        self.die_at = 0

    def send(self, message: Message) -> SendResult:
        result = super().send(message)
        self.count += 1
        if self.die_at and self.count == self.die_at:
            self.die_at = 0
            raise SystemExit("killed between sending and recording")
        return result


@dataclass
class Life:
    """The generated dossier and what happened to it, day by day."""

    folder: Path
    start: date
    customers: int = 200
    spacing: tuple[int, int] = (100, 140)  # days between two invoices of a customer (per currency)
    seed: int = 12
    config: Config = field(init=False)
    file: LedgerFile = field(init=False)
    sheet: KeptSheet = field(default_factory=KeptSheet)
    behaviour: dict[str, str] = field(default_factory=dict)
    scenario: dict[str, str] = field(default_factory=dict)
    pending: list[Invoice] = field(default_factory=list)  # issued later in the simulation
    pay_on: dict[str, date] = field(default_factory=dict)  # invoice id → day the customer pays
    paid: dict[str, date] = field(default_factory=dict)  # invoice id → day the source showed it paid
    reports: dict[date, RunReport] = field(default_factory=dict)
    typed: list[tuple[date, str, str, Any]] = field(default_factory=list)  # (day, invoice id, mark, value)
    crashed: dict[date, str] = field(default_factory=dict)
    confirmed: dict[date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "encours.toml"
        path.write_text(
            '[company]\nname = "Atelier Dupont SARL"\ncountry = "FR"\ntimezone = "Europe/Paris"\n'
            'state = "state.sqlite"\niban = "FR7630006000011234567890189"\n\n'
            '[source]\ntype = "demo"\n\n[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n'
            '[sending]\nmode = "outbox"\noutbox = "outbox"\nfrom = "factures@dupont.example"\n'
            'window = "08:30-18:00"\n', encoding="utf-8")
        self.config = load_config(path)
        self.channel = DyingOutbox(self.folder / "outbox")
        self.file = LedgerFile(self.folder / "ledger.json")
        self._changed: list[Invoice] = []
        self._payments: list[Payment] = []
        self.file.save(self._generate())

    # -- the ledger ---------------------------------------------------------------------------
    def _generate(self) -> Ledger:
        rng = random.Random(self.seed)
        people = []
        issued: list[Invoice] = []
        n = 0
        for c in range(self.customers):
            cid = f"C{c:04d}"
            behaviour = BEHAVIOURS[c % len(BEHAVIOURS)]
            currencies = ["EUR"]
            if c % 7 == 3:
                currencies = ["GBP"]
            if c % 11 == 5:
                currencies = ["EUR", "GBP"]
            if c % 13 == 6:
                currencies = ["USD"]
            self.behaviour[cid] = behaviour
            self.scenario[cid] = SCENARIOS[c % 3]
            self.sheet.customers[cid] = CustomerMarks(scenario=self.scenario[cid])
            people.append(Customer(cid, f"Client {cid}", "fake", emails=(f"compta@{cid.lower()}.example",),
                                   phone="+33 1 23 45 67 89", salesperson="Julie Martin",
                                   address="3 rue des Lilas\n75011 Paris", direct_debit=behaviour == "direct_debit"))
            first = self.start - timedelta(days=rng.randint(5, 45))
            for currency in currencies:
                day = first
                while day < self.start + timedelta(days=90):
                    amount = Decimal(rng.randint(200, 9000)).quantize(Decimal("0.01"))
                    iid = f"I{n:05d}"
                    n += 1
                    invoice = Invoice(iid, f"F-{n:05d}", cid, "fake", day, day + timedelta(days=30),
                                      Money(amount, currency), Money(amount, currency))
                    (issued if day <= self.start else self.pending).append(invoice)
                    if behaviour == "prompt":
                        self.pay_on[iid] = day + timedelta(days=28)
                    elif behaviour == "direct_debit":
                        self.pay_on[iid] = day + timedelta(days=30)
                    day += timedelta(days=rng.randint(self.spacing[0], self.spacing[1]))
        return Ledger(tuple(people), tuple(issued))

    def ledger(self) -> Ledger:
        return self.file.load()[0]

    def pay(self, invoice: Invoice, day: date, amount: Money | None = None) -> None:
        """The customer pays (all, or ``amount``): the source shows the invoice paid and the payment
        (written to the source with the day's other changes, by :meth:`_publish`)."""
        paid = amount or invoice.remaining
        remaining = invoice.remaining - paid
        status = InvoiceStatus.PAID if remaining.amount <= 0 else InvoiceStatus.PARTIALLY_PAID
        if status is InvoiceStatus.PAID:
            self.paid[invoice.id] = day
        at = datetime.combine(day, time(7, 0), tzinfo=PARIS)
        self._changed.append(invoice.with_changes(status=status, remaining=remaining, updated_at=at))
        self._payments.append(Payment(f"P-{invoice.id}-{day:%m%d}", invoice.customer_id, "fake", day, paid,
                                      (Allocation(invoice.id, paid),), method="transfer"))

    def _publish(self) -> None:
        """The day's changes at the source, in one write (new versions for the incremental pull)."""
        if not self._changed:
            return
        ledger, versions, version, fault = self.file.load()
        version += 1
        by_id = {i.id: i for i in ledger.invoices}
        for invoice in self._changed:
            by_id[invoice.id] = invoice
            versions[invoice.id] = version
        self.file.save(Ledger(ledger.customers, tuple(by_id.values()), (*ledger.payments, *self._payments)),
                       versions, version, fault)
        self._changed, self._payments = [], []

    # -- one day ------------------------------------------------------------------------------
    def sent_keys(self) -> Iterator[tuple[str, str, str, str, date, str]]:
        """(level, target, step, state, day sent, customer id) of every journal row."""
        if not self.config.state_path.exists():
            return
        with sqlite3.connect(self.config.state_path) as db:
            for key, state, sent_at, customer in db.execute(
                    "SELECT key, state, COALESCE(sent_at, sending_at, updated_at), customer_id FROM journal"):
                level, target, _, step, _ = key.split("/")
                yield level, target, step, state, datetime.fromisoformat(sent_at).astimezone(PARIS).date(), customer

    def live(self, day: date) -> RunReport | None:
        """People and customers act, then the day's pass runs at 10:00."""
        self._issue(day)
        self._customers_act(day)
        self._publish()
        self._people_type(day)
        now = datetime.combine(day, time(10, 0), tzinfo=PARIS).astimezone(UTC)
        try:
            report = run_pass(self.config, as_of=day, now=now, connector=FakeSource(self.file), sheet=self.sheet,
                              channel=self.channel, fetch_pdf=lambda url: None)
        except SystemExit:
            self.crashed[day] = "killed"
            return None
        self.reports[day] = report
        return report

    def settle(self, day: date, reference: str) -> None:
        """A person checks the outbox and says the uncertain message left."""
        now = datetime.combine(day, time(9, 0), tzinfo=PARIS).astimezone(UTC)
        confirm(self.config, reference, True, now=now, who="julie")
        self.confirmed[day] = reference

    def _issue(self, day: date) -> None:
        due = [i for i in self.pending if i.issue_date <= day]
        if due:
            self.pending = [i for i in self.pending if i.issue_date > day]
            self._changed.extend(due)

    def _customers_act(self, day: date) -> None:
        sent = {(t, s) for level, t, s, state, _, _ in self.sent_keys() if state == "sent" and level == "invoice"}
        sent_day = {(t, s): d for level, t, s, state, d, _ in self.sent_keys() if state == "sent"}
        for invoice in self.ledger().invoices:
            if not invoice.is_open:
                continue
            behaviour = self.behaviour[invoice.customer_id]
            if invoice.id in self.pay_on:
                if self.pay_on[invoice.id] <= day:
                    self.pay(invoice, day)
                continue
            if behaviour == "after_reminder" and (invoice.id, "reminder_1") in sent:
                self.pay_on[invoice.id] = sent_day[(invoice.id, "reminder_1")] + timedelta(days=3)
            elif behaviour == "after_call" and (invoice.id, "call") in sent:
                self.pay_on[invoice.id] = sent_day[(invoice.id, "call")] + timedelta(days=4)
            elif behaviour == "partial" and (invoice.id, "reminder_1") in sent and \
                    invoice.status is InvoiceStatus.OPEN and sent_day[(invoice.id, "reminder_1")] + \
                    timedelta(days=2) <= day:
                self.pay(invoice, day, Money((invoice.remaining.amount / 2).quantize(Decimal("0.01")),
                                             invoice.currency))

    def _people_type(self, day: date) -> None:
        sent = {(t, s): d for level, t, s, state, d, _ in self.sent_keys() if state == "sent" and level == "invoice"}
        for invoice in self.ledger().invoices:
            if not invoice.is_open:
                continue
            behaviour = self.behaviour[invoice.customer_id]
            marks = self.sheet.invoices.get(invoice.id, InvoiceMarks())
            after_first = sent.get((invoice.id, "reminder_1"))
            if behaviour == "disputer" and after_first is not None and not marks.dispute:
                self._type(day, invoice.id, dispute=True)
            elif behaviour in ("promise_kept", "promise_broken") and after_first is not None \
                    and marks.promise_date is None and after_first + timedelta(days=2) <= day:
                promised = day + timedelta(days=6)
                self._type(day, invoice.id, promise_date=promised)
                if behaviour == "promise_kept":
                    self.pay_on[invoice.id] = promised
            elif behaviour == "pause" and marks.pause_until is None and invoice.due_date and \
                    invoice.due_date <= day + timedelta(days=7):
                self._type(day, invoice.id, pause_until=day + timedelta(days=20))
        # approvals: a person ticks « À envoyer » two days after a step appears in À faire
        view = self.sheet.view
        if view is None or view.todo is None:
            return
        numbers = {i.number: i.id for i in self.ledger().invoices}
        for row in view.todo:
            if str(row.get("action", "")).startswith("Approuver") and row.get("date") and row.get("is_open", True) and \
                    row["date"] + timedelta(days=2) <= day:  # a closed task's row stays: not to act on
                for number in str(row.get("invoices", "")).split(", "):
                    iid = numbers.get(number)
                    if iid is None:
                        continue
                    # a tick that approved an earlier step is cleared first, then ticked again
                    self._type(day, iid, approve=not self.sheet.invoices.get(iid, InvoiceMarks()).approve)

    def _type(self, day: date, invoice_id: str, **changes: Any) -> None:
        self.sheet.type(invoice_id, **changes)
        for name, value in changes.items():
            self.typed.append((day, invoice_id, name, value))
