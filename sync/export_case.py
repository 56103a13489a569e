"""``encours export-case CUSTOMER``: the file for a collection agency or a court, in one zip.

What it holds (``<customer>-<date>/`` inside the zip):

- ``LISEZMOI.txt`` — what the file is, the customer, the amounts, the list of documents;
- ``releve-de-compte.pdf`` and ``.csv`` — the statement of account: every open invoice and credit
  note with its dates, amounts, days late, and the balance;
- ``factures/`` — each invoice's PDF when the source offers one (``pdf_url``, fetched through an
  injectable function), and ``factures.csv`` with every invoice of the customer;
- ``paiements.csv`` — the payments received and what they paid;
- ``relances/`` — every reminder sent, as it was sent (the ``.eml`` e-mail or the PDF letter kept
  by the journal), and ``historique.csv``: date, channel, recipient, status, reason, Message-ID;
- ``promesses-litiges.csv`` — the promises of payment, disputes, pauses and comments of the sheet.

Then the customer is marked *en recouvrement* in the state store: amicable reminders stop (the
planner's ``in_recovery``), and the journal records it.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from encours.connectors.errors import ConfigError, EncoursError, SheetError
from encours.connectors.labels import CREDIT_LABELS_FR
from encours.connectors.memory import collected_after
from encours.connectors.model import Customer, Invoice, Ledger, Money, UnallocatedCredit, to_cents
from encours.scenarios.company import CompanySettings
from encours.scenarios.letter import Letter, LetterTable
from encours.scenarios.letter_pdf import build_letter_pdf
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import SheetBackend
from encours.sync.case_labels import (
    HISTORY_CSV_HEADINGS,
    INVOICES_CSV_HEADINGS,
    MARKS_CSV_HEADINGS,
    PAYMENTS_CSV_HEADINGS,
    README_END_FR,
    README_FR,
    README_MISSING_FR,
    README_SIREN_FR,
    STATEMENT_CSV_HEADINGS,
    STATEMENT_HEADINGS,
    case_text,
)
from encours.sync.config import Config
from encours.sync.inert import inert_row, without_machine_paths
from encours.sync.journal import STATE_LABELS_FR, State
from encours.sync.lock import DossierLock
from encours.sync.pipeline import assemble
from encours.sync.preflight import owner_of
from encours.sync.pull import open_sheet
from encours.sync.state import StateStore

log = logging.getLogger(__name__)

FetchPdf = Callable[[str], bytes]


class CaseError(EncoursError):
    """The case file cannot be made (unknown customer, nothing synced yet); nothing was changed."""

    exit_code = 2


@dataclass(frozen=True)
class CaseExport:
    path: Path
    customer_id: str
    customer_name: str
    balance: Decimal
    open_invoices: int
    reminders: int
    invoice_pdfs: int
    missing_pdfs: tuple[str, ...] = ()
    newly_in_recovery: bool = True
    notes: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        out = [
            f"Case file for {self.customer_name} ({self.customer_id}): {self.path}",
            f"Balance: {self.balance} — {self.open_invoices} open document(s)",
            f"Reminders included: {self.reminders}; invoice PDFs: {self.invoice_pdfs}",
        ]
        if self.missing_pdfs:
            out.append(f"PDF not available at the source for: {', '.join(self.missing_pdfs)}")
        out.append("Customer marked 'en recouvrement': amicable reminders stop" if self.newly_in_recovery
                   else "Customer was already 'en recouvrement'")
        out.extend(self.notes)
        return out


def default_fetch_pdf(url: str) -> bytes:
    """Download an invoice PDF (HTTPS, certificates verified, 30 s timeout)."""
    import requests

    if not url.startswith("https://"):
        raise OSError(f"{url}: only https links are fetched")
    response = requests.get(url, timeout=30)
    if response.status_code != 200:
        raise OSError(f"{url}: the server answered {response.status_code}")
    return response.content


def find_customer(ledger: Ledger, query: str) -> Customer:
    """A customer by ID, else by name (exact, then a unique part of it); errors list the candidates."""
    text = query.strip()
    by_id = {c.id: c for c in ledger.customers}
    if text in by_id:
        return by_id[text]
    folded = text.casefold()
    exact = [c for c in ledger.customers if c.name.casefold() == folded]
    if len(exact) == 1:
        return exact[0]
    partial = [c for c in ledger.customers if folded and folded in c.name.casefold()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise CaseError(f"no customer has the ID or name {query!r} (synced customers: {len(ledger.customers)})")
    names = ", ".join(f"{c.name} ({c.id})" for c in partial[:10])
    raise CaseError(f"{query!r} matches several customers: {names} — give the ID")


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()[:60] or "client"


def _money(value: Money) -> str:
    return f"{to_cents(value.amount)} {value.currency}"


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(inert_row(list(header)))
    writer.writerows(inert_row(row) for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def _statement(customer: Customer, invoices: list[Invoice], credits: list[UnallocatedCredit], config: Config,
               company: CompanySettings, as_of: date) -> tuple[bytes, bytes, Money]:
    """The statement of account: open documents and the credits no invoice absorbed (payments on
    account, opening credits …), which the balance deducts — a case file claims the net."""
    terms = config.payment_terms_days
    open_docs = [i for i in invoices if i.is_open and i.remaining.amount > 0]
    currencies = {i.currency for i in open_docs} | {c.currency for c in credits} or {"EUR"}
    currency = "EUR" if "EUR" in currencies else sorted(currencies)[0]
    balance = sum((i.signed_remaining for i in open_docs if i.currency == currency), Money.zero(currency))
    balance = sum((c.signed_amount for c in credits if c.currency == currency), balance)
    rows = []
    csv_rows: list[list[object]] = []
    for inv in sorted(open_docs, key=lambda i: (i.effective_due_date(terms), i.number)):
        due = inv.effective_due_date(terms)
        late = (as_of - due).days
        label = case_text("credit_note", number=inv.number) if inv.is_credit_note else inv.number
        rows.append((label, f"{inv.issue_date:%d/%m/%Y}", f"{due:%d/%m/%Y}", _money(inv.signed_total),
                     _money(inv.signed_remaining), str(max(late, 0))))
        csv_rows.append([inv.id, label, inv.issue_date.isoformat(), due.isoformat(), str(inv.signed_total.amount),
                         str(inv.signed_remaining.amount), inv.currency, max(late, 0)])
    for credit in sorted(credits, key=lambda c: (c.date, c.id)):
        label = f"{CREDIT_LABELS_FR[credit.kind]} {credit.reference or credit.label or credit.id}"
        rows.append((label, f"{credit.date:%d/%m/%Y}", "", _money(credit.signed_amount),
                     _money(credit.signed_amount), ""))
        csv_rows.append([credit.id, credit.reference or credit.label or credit.id, credit.date.isoformat(), "",
                         str(credit.signed_amount.amount), str(credit.signed_amount.amount), credit.currency, ""])
    table = LetterTable(STATEMENT_HEADINGS, tuple(rows), ((case_text("balance"), _money(balance)),),
                        (30, 20, 20, 28, 28, 18))
    sender = tuple(line for line in (company.name, *company.address.splitlines(),
                                     f"SIREN {company.siren}" if company.siren else "") if line)
    recipient = tuple(line for line in (customer.name, *customer.address.splitlines(),
                                        f"SIREN {customer.siren}" if customer.siren else "") if line)
    letter = Letter(sender=sender, recipient=recipient, place_date=case_text("place_date", day=as_of),
                    title=case_text("statement_title", day=as_of), table=table, letter_date=as_of,
                    footer=company.name)
    pdf = build_letter_pdf(letter)
    text = _csv(STATEMENT_CSV_HEADINGS, csv_rows)
    return pdf, text, balance


@collected_after  # the demo exports a case between two passes
def export_case(
    config: Config,
    query: str,
    *,
    as_of: date,
    now: datetime,
    out: Path | None = None,
    fetch_pdf: FetchPdf | None = None,
    sheet: SheetBackend | None = None,
) -> CaseExport:
    """Write the customer's case file and mark them *en recouvrement* (see the module docstring)."""
    fetch = fetch_pdf or default_fetch_pdf
    with DossierLock(config.state_path, config.dossier), \
            StateStore(config.state_path, owner=owner_of(config)) as store:
        if not store.ledger().customers:
            raise CaseError(f"{config.state_path}: nothing synced yet — run `encours sync -c {config.file}` first")
        notes: list[str] = []
        try:
            marks = (sheet or open_sheet(config)).read_marks()
        except (SheetError, ConfigError) as exc:
            marks = SheetMarks()
            notes.append(f"Note: promises and disputes not read from the sheet ({exc})")
        state = assemble(config, store, as_of=as_of, now=now, marks=marks)
        ledger, journal = state.ledger, state.journal
        customer = find_customer(ledger, query)
        invoices = [i for i in ledger.invoices if i.customer_id == customer.id]
        folder = f"{_slug(customer.name)}-{as_of.isoformat()}"
        target = out or config.base_dir / "dossiers-recouvrement" / f"{folder}.zip"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        missing: list[str] = []
        pdfs = 0
        reminders = 0
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                def put(name: str, data: bytes) -> None:
                    archive.writestr(f"{folder}/{name}", data)

                credits = ledger.unallocated_credits(customer.id)
                statement_pdf, statement_csv, balance = _statement(customer, invoices, credits, config,
                                                                   state.company, as_of)
                put("releve-de-compte.pdf", statement_pdf)
                put("releve-de-compte.csv", statement_csv)
                invoice_rows: list[list[object]] = []
                for inv in sorted(invoices, key=lambda i: (i.issue_date, i.number)):
                    pdf_name = ""
                    if inv.pdf_url:
                        try:
                            content = fetch(inv.pdf_url)
                            pdf_name = f"factures/{_slug(inv.number or inv.id)}.pdf"
                            put(pdf_name, content)
                            pdfs += 1
                        except (OSError, EncoursError) as exc:
                            missing.append(inv.number or inv.id)
                            log.warning("invoice %s: PDF not fetched (%s)", inv.number, exc)
                    invoice_rows.append([inv.id, inv.number, inv.kind.value, inv.status.value,
                                         inv.issue_date.isoformat(),
                                         inv.effective_due_date(config.payment_terms_days).isoformat(),
                                         str(inv.total.amount), str(inv.remaining.amount), inv.currency, pdf_name])
                put("factures/factures.csv", _csv(INVOICES_CSV_HEADINGS, invoice_rows))
                numbers = {i.id: i.number for i in invoices}
                payments = [p for p in ledger.payments if p.customer_id == customer.id]
                put("paiements.csv", _csv(
                    PAYMENTS_CSV_HEADINGS,
                    [[p.id, p.date.isoformat(), str(p.amount.amount), p.amount.currency, p.method, p.reference,
                      ", ".join(f"{numbers.get(a.invoice_id, a.invoice_id)} ({a.amount.amount})"
                                for a in p.allocations)] for p in sorted(payments, key=lambda p: p.date)]))
                history: list[list[object]] = []
                for event in journal.events(customer_id=customer.id):
                    if event.state in ("planned", "sending"):
                        continue
                    at = event.at.astimezone(config.timezone)
                    history.append([at.strftime("%d/%m/%Y %H:%M"), STATE_LABELS_FR.get(event.state, event.state),
                                    event.channel, event.recipients, event.invoices, event.scenario, event.step,
                                    without_machine_paths(event.reason), event.message_id, event.reference,
                                    without_machine_paths(event.artifact)])
                put("relances/historique.csv", _csv(HISTORY_CSV_HEADINGS, history))
                seen: set[str] = set()
                for entry in journal.entries([State.SENT]):
                    if entry.customer_id != customer.id or not entry.message_id or entry.message_id in seen:
                        continue
                    seen.add(entry.message_id)
                    kept = journal.message_content(entry.message_id)
                    when = (entry.sent_at or entry.updated_at).astimezone(config.timezone)
                    stem = f"{when:%Y-%m-%d}-{_slug(entry.step)}-{entry.reference}"
                    if kept is not None:
                        name, content = kept
                        put(f"relances/{stem}{Path(name).suffix}", content)
                        reminders += 1
                    elif entry.channel == "call":
                        put(f"relances/{stem}.txt", case_text("call_planned", day=when).encode())
                        reminders += 1
                put("promesses-litiges.csv", _marks_csv(invoices, customer, marks))
                put("LISEZMOI.txt", _readme(config, customer, as_of, balance, invoices, reminders, pdfs, missing))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        newly = journal.mark_recovery(customer.id, customer.name, now, case_text("recovery_note", file=target.name))
        log.info("case file %s written; %s marked en recouvrement", target, customer.name)
        open_count = sum(1 for i in invoices if i.is_open and i.remaining.amount > 0)
        return CaseExport(target, customer.id, customer.name, to_cents(balance.amount), open_count, reminders, pdfs,
                          tuple(missing), newly, tuple(notes))


def _marks_csv(invoices: list[Invoice], customer: Customer, marks: SheetMarks) -> bytes:
    rows: list[list[object]] = []
    for inv in sorted(invoices, key=lambda i: i.number):
        m = marks.for_invoice(inv.id)
        if m.dispute or m.promise_date or m.pause_until or m.comment:
            rows.append([inv.number, case_text("yes") if m.dispute else "",
                         m.promise_date.isoformat() if m.promise_date else "",
                         m.pause_until.isoformat() if m.pause_until else "", m.comment])
    cm = marks.for_customer(customer.id)
    if cm.comment:
        rows.append([case_text("customer_row"), "", "", "", cm.comment])
    return _csv(MARKS_CSV_HEADINGS, rows)


def _readme(config: Config, customer: Customer, as_of: date, balance: Money, invoices: list[Invoice],
            reminders: int, pdfs: int, missing: list[str]) -> bytes:
    open_docs = [i for i in invoices if i.is_open and i.remaining.amount > 0]
    values = {
        "customer": customer.name, "creditor": config.company_name, "customer_id": customer.id,
        "siren": README_SIREN_FR.format(siren=customer.siren) if customer.siren else "", "day": as_of,
        "balance": _money(balance), "open_count": len(open_docs), "pdfs": pdfs, "reminders": reminders,
        "missing": ", ".join(missing),
    }
    parts = [*README_FR, *(README_MISSING_FR if missing else ()), *README_END_FR]
    lines = [line.format(**values) for line in parts]
    return ("\n".join(lines) + "\n").encode("utf-8")
