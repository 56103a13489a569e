"""The embedded default: a deterministic, realistic ledger that needs no account.

Forty customers of a small French company with distinct payer behaviours — always on time, a
little late, chronically late, one in dispute, one that stopped paying, direct-debit payers, a
Belgian Dutch-speaking customer, a British customer invoiced in GBP — over two years of invoices,
credit notes and partial payments, followed by four salespeople.  The same ``as_of`` and
``seed`` always give the same ledger.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from encours.connectors import codec
from encours.connectors.model import (
    Allocation,
    Contact,
    Customer,
    Delta,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Ledger,
    Money,
    Payment,
    SourceInfo,
    to_cents,
)

SOURCE = "demo"
COMPANY = "Atelier Dupont SARL"

SALESPEOPLE = (
    ("Claire Martin", "claire.martin@atelier-dupont.fr"),
    ("Hugo Lefèvre", "hugo.lefevre@atelier-dupont.fr"),
    ("Sofia Janssens", "sofia.janssens@atelier-dupont.fr"),
    ("Malik Benali", "malik.benali@atelier-dupont.fr"),
)

#: Payer behaviours: (name, share of invoices paid late, mean delay days, spread, partial share).
BEHAVIOURS: dict[str, tuple[float, int, int, float]] = {
    "on_time": (0.05, -2, 3, 0.0),
    "little_late": (0.6, 9, 6, 0.05),
    "chronic": (0.95, 48, 20, 0.2),
    "direct_debit": (0.0, 0, 0, 0.0),
    "dispute": (0.3, 12, 8, 0.0),
    "stopped": (0.5, 15, 8, 0.1),
}

_NAMES = (
    "Boulangerie Marchand", "Transports Girard", "Menuiserie Roux", "Cabinet Lemoine", "Garage Faure",
    "Imprimerie Bonnet", "Hôtel du Parc", "Pharmacie Centrale", "Brasserie Lambert", "Électricité Morel",
    "Plomberie Fontaine", "Agence Rousseau", "Clinique Vétérinaire Blanc", "Librairie Guérin", "Fromagerie Muller",
    "Pépinières Henry", "Studio Perrin", "Atelier Chevalier", "Scierie Robin", "Laboratoire Clément",
    "Traiteur Gauthier", "Domaine Mercier", "Opticien Dumas", "Quincaillerie Garnier", "Cave Legrand",
    "Crèche Les Petits Pas", "École de Danse Arnaud", "Fleuriste Picard", "Tapisserie Renard", "Bureau d'Études Brun",
    "Maçonnerie Giraud", "Architectes Roy & Fils", "Camping Les Pins", "Couverture Colin", "Restaurant Le Vieux Port",
    "Verhoeven Bouw BV", "Brouwerij De Smet", "Harper & Stone Ltd", "Éditions Vidal", "Nettoyage Lucas",
)


@dataclass(frozen=True)
class _Profile:
    behaviour: str
    size: Decimal  # typical invoice amount excluding VAT
    every_days: int
    terms_days: int
    end_of_month: bool


def _siren(rng: random.Random) -> str:
    """A 9-digit SIREN with a valid Luhn check digit."""
    digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(7)]
    total = 0
    for index, digit in enumerate(digits):
        # Luhn over 9 digits: double every second digit starting from the second from the right.
        doubled = digit * 2 if index % 2 == 1 else digit
        total += doubled - 9 if doubled > 9 else doubled
    check = (10 - total % 10) % 10
    return "".join(map(str, digits)) + str(check)


def _slug(name: str) -> str:
    table = str.maketrans("éèêëàâîïôöûüç", "eeeeaaiioouuc")
    cleaned = name.lower().translate(table)
    return re.sub(r"[^a-z0-9]+", "-", cleaned).strip("-")


def _behaviour_for(index: int) -> str:
    if index == 3:
        return "dispute"
    if index == 7:
        return "stopped"
    if index in (5, 21, 33):
        return "direct_debit"
    if index % 5 == 1:
        return "chronic"
    if index % 3 == 0:
        return "little_late"
    return "on_time"


def _due(issue: date, profile: _Profile) -> date:
    if profile.end_of_month:
        # 45 days end of month: the end of the month in which issue + 45 days falls.
        target = issue + timedelta(days=45)
        next_month = date(target.year + (target.month == 12), target.month % 12 + 1, 1)
        return next_month - timedelta(days=1)
    return issue + timedelta(days=profile.terms_days)


def demo_ledger(as_of: date, seed: int = 2026) -> Ledger:
    """The demo ledger as it stands on ``as_of`` (two years of history before that date)."""
    rng = random.Random(seed)
    customers: list[Customer] = []
    profiles: dict[str, _Profile] = {}
    for index, name in enumerate(_NAMES):
        customer_id = f"C{index + 1:03d}"
        behaviour = _behaviour_for(index)
        belgian = name in ("Verhoeven Bouw BV", "Brouwerij De Smet")
        british = name == "Harper & Stone Ltd"
        language = "nl" if name == "Verhoeven Bouw BV" else "en" if british else "fr"
        domain = _slug(name) + (".be" if belgian else ".co.uk" if british else ".fr")
        salesperson, salesperson_email = SALESPEOPLE[index % len(SALESPEOPLE)]
        if belgian:
            salesperson, salesperson_email = SALESPEOPLE[2]
        email = "" if name == "Camping Les Pins" else f"compta@{domain}"
        contacts = (
            Contact(name="Service comptabilité", email=email, role="comptabilité"),
            Contact(name="Direction", email=f"direction@{domain}", role="direction"),
        )
        customers.append(
            Customer(
                id=customer_id,
                name=name,
                source=SOURCE,
                emails=(email,) if email else (),
                phone=f"+33 {rng.randrange(1, 6)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} "
                f"{rng.randrange(10, 99)} {rng.randrange(10, 99)}"
                if not (belgian or british)
                else ("+32 2 555 01 " + f"{index:02d}" if belgian else "+44 20 7946 0" + f"{index:03d}"),
                contacts=contacts if email else (),
                salesperson=salesperson,
                salesperson_email=salesperson_email,
                language=language,
                siren="" if (belgian or british) else _siren(rng),
                vat_number=("BE0" + str(400000000 + index * 7919)) if belgian else "",
                reference=f"CLI-{index + 1:04d}",
                payment_terms_days=45 if index % 4 == 2 else 30,
                direct_debit=behaviour == "direct_debit",
                address=f"{rng.randrange(1, 120)} rue de la République, 69002 Lyon"
                if not (belgian or british)
                else ("Kerkstraat 12, 9000 Gent" if belgian else "12 King Street, London EC2V 8AB"),
                country="BE" if belgian else "GB" if british else "FR",
            )
        )
        size = Decimal(rng.choice((350, 600, 900, 1500, 2400, 4200, 7800)))
        profiles[customer_id] = _Profile(
            behaviour=behaviour,
            size=size,
            every_days=rng.choice((14, 21, 30, 30, 45, 60)),
            terms_days=45 if index % 4 == 2 else 30,
            end_of_month=index % 9 == 4,
        )

    invoices: list[Invoice] = []
    payments: list[Payment] = []
    start = as_of - timedelta(days=730)
    drafts: list[tuple[date, Customer]] = []
    for customer in customers:
        profile = profiles[customer.id]
        day = start + timedelta(days=rng.randrange(profile.every_days))
        while day <= as_of - timedelta(days=2):
            drafts.append((day, customer))
            day += timedelta(days=profile.every_days + rng.randrange(-3, 4))
    drafts.sort(key=lambda d: (d[0], d[1].id))

    numbers: dict[int, int] = {}
    credit_numbers: dict[int, int] = {}
    stopped_since = as_of - timedelta(days=130)
    for issue, customer in drafts:
        profile = profiles[customer.id]
        numbers[issue.year] = numbers.get(issue.year, 0) + 1
        number = f"F-{issue.year}-{numbers[issue.year]:04d}"
        currency = "GBP" if customer.country == "GB" else "EUR"
        vat = Decimal("0.21") if customer.country == "BE" else Decimal("0") if currency == "GBP" else Decimal("0.20")
        net = to_cents(profile.size * Decimal(rng.randrange(60, 160)) / Decimal(100))
        total = to_cents(net * (1 + vat))
        due = _due(issue, profile)
        invoice_id = f"INV-{number}"
        late_share, mean_delay, spread, partial_share = BEHAVIOURS[profile.behaviour]
        if profile.behaviour == "direct_debit":
            delay = 0
        elif rng.random() < late_share:
            delay = max(1, int(rng.gauss(mean_delay, spread)))
        else:
            delay = rng.randrange(-6, 1)
        pay_day = due + timedelta(days=delay)
        stops = profile.behaviour == "stopped" and issue >= stopped_since
        disputed = profile.behaviour == "dispute" and issue >= as_of - timedelta(days=75) and numbers[issue.year] % 2
        allocations: list[tuple[date, Decimal, str]] = []
        if not stops and not disputed:
            if rng.random() < partial_share:
                first = to_cents(total * Decimal(rng.choice((30, 40, 50))) / 100)
                allocations.append((pay_day, first, "transfer"))
                second_day = pay_day + timedelta(days=rng.randrange(20, 60))
                allocations.append((second_day, total - first, "transfer"))
            else:
                method = "direct_debit" if customer.direct_debit else rng.choice(("transfer", "transfer", "cheque"))
                allocations.append((pay_day, total, method))
        credit: Decimal = Decimal(0)
        if rng.random() < 0.035 and issue < as_of - timedelta(days=20):
            credit = total if rng.random() < 0.3 else to_cents(total * Decimal(rng.choice((10, 15, 25))) / 100)
        # Credit notes are issued ten days after the invoice and used against it.
        last_payment_day: date | None = None
        settled = credit
        for pay_date, amount, method in allocations:
            if pay_date > as_of:
                continue
            amount = min(amount, total - settled)
            if amount <= 0:
                continue
            settled += amount
            last_payment_day = pay_date
            pid = f"PAY-{number}-{len(payments) + 1:05d}"
            payment_amount = Money(amount, currency)
            payments.append(
                Payment(
                    id=pid,
                    customer_id=customer.id,
                    source=SOURCE,
                    date=pay_date,
                    amount=payment_amount,
                    allocations=(Allocation(invoice_id, payment_amount),),
                    method=method,
                    reference=number,
                )
            )
        remaining = total - settled
        if remaining == 0:
            status = InvoiceStatus.PAID if settled > credit or credit < total else InvoiceStatus.CANCELLED
        elif settled > 0:
            status = InvoiceStatus.PARTIALLY_PAID
        else:
            status = InvoiceStatus.OPEN
        rate = Decimal("1.1650") if currency == "GBP" else None
        updated = last_payment_day or issue
        invoices.append(
            Invoice(
                id=invoice_id,
                number=number,
                customer_id=customer.id,
                source=SOURCE,
                issue_date=issue,
                due_date=due,
                total=Money(total, currency),
                remaining=Money(remaining, currency),
                kind=DocumentKind.INVOICE,
                status=status,
                source_status=status.value,
                salesperson=customer.salesperson,
                label=f"Prestations {issue:%m/%Y}",
                remaining_company=Money(to_cents(remaining * rate), "EUR") if rate else None,
                payment_reference=number,
                updated_at=datetime.combine(updated, time(9, 0), UTC),
            )
        )
        if credit:
            credit_numbers[issue.year] = credit_numbers.get(issue.year, 0) + 1
            credit_issue = issue + timedelta(days=10)
            credit_number = f"AV-{issue.year}-{credit_numbers[issue.year]:04d}"
            invoices.append(
                Invoice(
                    id=f"CRN-{credit_number}",
                    number=credit_number,
                    customer_id=customer.id,
                    source=SOURCE,
                    issue_date=credit_issue,
                    due_date=credit_issue,
                    total=Money(credit, currency),
                    remaining=Money(Decimal(0), currency),
                    kind=DocumentKind.CREDIT_NOTE,
                    status=InvoiceStatus.PAID,
                    source_status="credit_note",
                    salesperson=customer.salesperson,
                    label=f"Avoir sur {number}",
                    credited_invoice_id=invoice_id,
                    remaining_company=Money(Decimal(0), "EUR") if rate else None,
                    updated_at=datetime.combine(credit_issue, time(9, 0), UTC),
                )
            )
    # One credit note not yet used: it lowers its customer's balance.
    open_credit_customer = customers[12]
    credit_issue = as_of - timedelta(days=12)
    invoices.append(
        Invoice(
            id=f"CRN-AV-{credit_issue.year}-9001",
            number=f"AV-{credit_issue.year}-9001",
            customer_id=open_credit_customer.id,
            source=SOURCE,
            issue_date=credit_issue,
            due_date=credit_issue,
            total=Money(Decimal("180.00")),
            remaining=Money(Decimal("180.00")),
            kind=DocumentKind.CREDIT_NOTE,
            status=InvoiceStatus.OPEN,
            source_status="credit_note",
            salesperson=open_credit_customer.salesperson,
            label="Geste commercial — remise qualité",
            updated_at=datetime.combine(credit_issue, time(9, 0), UTC),
        )
    )
    return Ledger(tuple(customers), tuple(invoices), tuple(payments))


def behaviour_of(customer_id: str) -> str:
    """The payer behaviour the demo gave this customer (``C001`` … ``C040``)."""
    return _behaviour_for(int(customer_id[1:]) - 1)


def save_demo_ledger(path: Path, ledger: Ledger, *, anchor: date, lived_until: date, seed: int = 2026) -> None:
    """Write the demo dossier's ledger (atomically): written once at creation, then changed only by
    its simulated life (``encours demo --days``)."""
    data = {"anchor": anchor.isoformat(), "lived_until": lived_until.isoformat(), "seed": seed,
            "ledger": codec.to_jsonable(ledger)}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load_demo_ledger(path: Path) -> tuple[Ledger, date, date]:
    """(ledger, anchor date, last day lived) of a demo dossier's ledger file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return (codec.from_jsonable(Ledger, data["ledger"]), date.fromisoformat(data["anchor"]),
            date.fromisoformat(data["lived_until"]))


class DemoConnector:
    """The demo ledger behind the Connector protocol: every pull is full.

    With ``ledger_path`` (``[source] ledger``) the ledger is the dossier's own file, stable from one
    pass to the next; it is written at the first pull when missing, anchored at that day.  Without
    it, the ledger is generated for ``as_of`` (the older, stateless demo).
    """

    source = SOURCE

    def __init__(self, as_of: date, seed: int = 2026, ledger_path: Path | None = None) -> None:
        self.as_of = as_of
        self.seed = seed
        self.ledger_path = ledger_path
        self._ledger: Ledger | None = None
        self._anchor = as_of

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            if self.ledger_path is None:
                self._ledger = demo_ledger(self.as_of, self.seed)
            elif self.ledger_path.exists():
                self._ledger, self._anchor, _ = load_demo_ledger(self.ledger_path)
            else:
                self._ledger = demo_ledger(self.as_of, self.seed)
                save_demo_ledger(self.ledger_path, self._ledger, anchor=self.as_of, lived_until=self.as_of,
                                 seed=self.seed)
        return self._ledger

    def check(self) -> SourceInfo:
        return SourceInfo(
            source=SOURCE,
            organisation=COMPANY,
            open_invoices=len(self.ledger.open_invoices()),
            details=f"embedded demo ledger (seed {self.seed}, as of {self._anchor:%d/%m/%Y})",
        )

    def pull(self, cursor: str | None) -> Delta:
        ledger = self.ledger
        stamp = f"{len(ledger.invoices)}:{len(ledger.payments)}"
        return Delta.of_ledger(ledger, f"demo:{self.seed}:{self._anchor.isoformat()}:{stamp}")

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        for invoice in self.ledger.invoices:
            if invoice.id == invoice_id:
                return invoice
        return None
