"""Reading Odoo records model by model, mapping them, and quarantining what cannot be mapped.

What each kind of odd record does (the safe choice for the customer, see the connector's module):
an invoice is left out; a customer or one of its contacts, or a receivable line of another entry,
holds the customer's reminders (a :class:`~encours.connectors.quarantine.Hold`: the plan sends
nothing to them until it maps); a payment share is left out without holding anything (the
invoice's remaining amount is Odoo's own); a mandate whose customer cannot be read holds every
customer.  Each is listed in the sync summary and the log with the platform, the model's
endpoint, the id and why.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from encours.connectors.errors import SourceError
from encours.connectors.fields import Fields
from encours.connectors.model import Customer, Invoice, Payment, UnallocatedCredit
from encours.connectors.odoo import mapping
from encours.connectors.odoo.client import PLATFORM, OdooClient, batches
from encours.connectors.quarantine import CUSTOMER, INVOICE, PAYMENT, Quarantine
from encours.connectors.source_errors import MalformedResponseError

log = logging.getLogger("encours.odoo")

MOVES = "account.move.search_read"
LINES = "account.move.line.search_read"
PARTIALS = "account.partial.reconcile.search_read"
PARTNERS = "res.partner.search_read"


def _why(exc: MalformedResponseError) -> str:
    """The message without its "platform endpoint record N" prefix."""
    prefix = " ".join(p for p in (exc.platform, exc.endpoint, f"record {exc.record}" if exc.record else "") if p)
    text = str(exc)
    return text[len(prefix) + 2:] if prefix and text.startswith(prefix + ": ") else text


class Records:
    """The records of one pull (or one re-check), read through the client and mapped."""

    def __init__(self, client: OdooClient, quarantine: Quarantine, *, as_of: date,
                 company_ids: tuple[int, ...] = ()) -> None:
        self.client = client
        self.quarantine = quarantine
        self.as_of = as_of
        self.company_ids = company_ids
        self.company_currency: dict[str, str] = {}
        self.company_names: dict[str, str] = {}
        self.lines: dict[str, list[Fields]] = {}

    def load_companies(self) -> None:
        for raw in self.client.companies(["name", "currency_id"]):
            f = Fields(raw, platform=PLATFORM, endpoint="res.company.search_read")
            currency = f.many2one("currency_id")
            self.company_currency[f.id()] = currency[1] if currency else "EUR"
            self.company_names[f.id()] = f.text("name", required=False)

    def quarantined(self, record: str, exc: MalformedResponseError, endpoint: str, noun: str = "", *,
                    kind: str = INVOICE, customer: str = "", currency: str = "", holds: bool | None = None) -> None:
        """Leave ``record`` out, named with why (``noun`` + id when the fault is in another record:
        an invoice's receivable line, a customer's contact); ``holds``: see the module."""
        why = _why(exc)
        if exc.record and exc.record != record.rpartition("-")[2]:
            why = f"{noun or exc.endpoint} {exc.record}: {why}"
        error = MalformedResponseError(why, platform=PLATFORM, endpoint=endpoint, record=record)
        self.quarantine.add(record, error, kind=kind, customer=customer, currency=currency, holds=holds)

    def invoices(self, raws: list[Any]) -> list[Invoice]:
        parsed = [Fields(raw, platform=PLATFORM, endpoint=MOVES) for raw in raws]
        for f in parsed:
            f.id()  # a record without an id cannot be quarantined: the answer itself is wrong
        lines = self.receivable_lines([int(f.id()) for f in parsed if f.id().isdigit()])
        name_companies = len(self.company_names) > 1
        out = []
        for f in parsed:
            try:
                out.append(mapping.invoice(f, lines.get(f.id(), []), company_currency=self.company_currency,
                                           platform=PLATFORM, name_companies=name_companies))
            except MalformedResponseError as exc:
                self.quarantined(f.id(), exc, MOVES, "receivable line")
        return out

    def receivable_lines(self, move_ids: list[int]) -> dict[str, list[Fields]]:
        found: dict[str, list[Fields]] = defaultdict(list)
        for batch in batches(move_ids):
            domain = [("move_id", "in", batch), self.client.receivable_domain()]
            for raw in self.client.lines(domain, mapping.LINE_FIELDS):
                line = Fields(raw, platform=PLATFORM, endpoint=LINES)
                try:
                    move = line.many2one("move_id", required=True)
                except MalformedResponseError as exc:
                    self.quarantined(f"aml-{line.id()}", exc, LINES, kind=PAYMENT, holds=False)
                    continue
                assert move is not None
                found[move[0]].append(line)
        self.lines = found
        return found

    def other_receivables(self, since: str | None,
                           retry: set[int]) -> tuple[list[Invoice], list[UnallocatedCredit]]:
        """Receivable lines of entries that are not invoices.  Every open one; a full pull also
        every debit one (a debit reconciled since closes as paid); an incremental one the lines
        changed since, and those held."""
        not_invoices = ("move_id.move_type", "not in", ["out_invoice", "out_refund"])
        base: list[Any] = [self.client.receivable_domain(), not_invoices]
        if self.company_ids:
            base.append(("company_id", "in", list(self.company_ids)))
        fields = mapping.OTHER_LINE_FIELDS
        raws = self.client.lines([*base, ("reconciled", "=", False), ("parent_state", "=", "posted")], fields)
        if since is None:
            raws += self.client.lines([*base, ("balance", ">", 0), ("parent_state", "in", ["posted", "cancel"])],
                                      fields)
        else:
            raws += self.client.lines([*base, ("write_date", ">=", since)], fields)
            if retry:
                raws += self.client.lines_by_id(sorted(retry), fields, extra=base)
        found: dict[str, Fields] = {}
        for raw in raws:
            line = Fields(raw, platform=PLATFORM, endpoint=LINES)
            found.setdefault(line.id(), line)
        misc: list[Invoice] = []
        credits: list[UnallocatedCredit] = []
        for ident, line in found.items():
            try:
                entry = mapping.other_receivable(line, company_currency=self.company_currency, as_of=self.as_of,
                                                 platform=PLATFORM)
            except MalformedResponseError as exc:  # it may be a payment on account: the balance is unknown
                self.quarantined(f"aml-{ident}", exc, LINES, kind=PAYMENT, customer=_id_of(line.raw.get("partner_id")),
                                 currency=_name_of(line.raw.get("currency_id")), holds=True)
                continue
            if isinstance(entry, Invoice):
                misc.append(entry)
            elif entry is not None:
                credits.append(entry)
        return misc, credits

    def payments(self, invoices: list[Invoice]) -> list[Payment]:
        """One payment share per reconciliation of an invoice's receivable line."""
        invoice_of_line: dict[int, Invoice] = {}
        refund_lines: set[int] = set()
        by_id = {inv.id: inv for inv in invoices}
        for move_id, move_lines in self.lines.items():
            invoice = by_id.get(move_id)
            if invoice is None:
                continue
            for line in move_lines:
                invoice_of_line[int(line.id())] = invoice
                if invoice.is_credit_note:
                    refund_lines.add(int(line.id()))
        debit_lines = sorted(i for i, inv in invoice_of_line.items() if not inv.is_credit_note)
        partials: list[tuple[Fields, Invoice, int]] = []
        for batch in batches(debit_lines):
            for raw in self.client.partials([("debit_move_id", "in", batch)], mapping.PARTIAL_FIELDS):
                partial = Fields(raw, platform=PLATFORM, endpoint=PARTIALS)
                key = f"partial-{partial.id()}"
                try:
                    debit = partial.many2one("debit_move_id", required=True)
                    credit = partial.many2one("credit_move_id", required=True)
                except MalformedResponseError as exc:
                    self.quarantined(key, exc, PARTIALS, kind=PAYMENT, holds=False)
                    continue
                assert debit is not None and credit is not None
                invoice = invoice_of_line.get(int(debit[0]))
                if invoice is not None:
                    partials.append((partial, invoice, int(credit[0])))
        paying: dict[int, Fields] = {}
        paying_ids = sorted({credit for _, _, credit in partials})
        for raw in self.client.lines_by_id(paying_ids, mapping.PAYING_LINE_FIELDS):
            line = Fields(raw, platform=PLATFORM, endpoint=LINES)
            paying[int(line.id())] = line
        payments = []
        for partial, invoice, credit_line in partials:
            try:
                payments.append(mapping.payment(partial, invoice, paying.get(credit_line),
                                                from_credit_note=credit_line in refund_lines, platform=PLATFORM))
            except MalformedResponseError as exc:  # the invoice's remaining is Odoo's own: nothing held
                self.quarantined(f"partial-{partial.id()}", exc, PARTIALS, "paying line", kind=PAYMENT,
                                 customer=invoice.customer_id, holds=False)
        return payments

    def customers(self, commercial_ids: set[str]) -> list[Customer]:
        """The customers; one that cannot be mapped (or a contact of it) is left out and holds its reminders."""
        ids = sorted(int(i) for i in commercial_ids if i.isdigit())
        partners: dict[str, Fields] = {}
        children: dict[str, list[Fields]] = defaultdict(list)
        for batch in batches(ids):
            for raw in self.client.partners([("commercial_partner_id", "in", batch)], mapping.PARTNER_FIELDS):
                f = Fields(raw, platform=PLATFORM, endpoint=PARTNERS)
                try:
                    parent = f.many2one("commercial_partner_id")
                except MalformedResponseError as exc:
                    self.quarantined(f.id(), exc, PARTNERS, kind=CUSTOMER)
                    continue
                owner = parent[0] if parent else f.id()
                if owner == f.id():
                    partners[f.id()] = f
                elif raw.get("active") is not False:  # an archived contact (someone who left) gets nothing
                    children[owner].append(f)
        user_emails = self.user_emails({u[0] for f in partners.values() if (u := _user(f))})
        debited = self.mandated(set(partners))
        customers = []
        for pid, f in sorted(partners.items(), key=lambda kv: int(kv[0])):
            try:
                for kid in children.get(pid, []):
                    mapping.contact_check(kid)
                user = f.many2one("user_id")
                customers.append(mapping.customer(f, children.get(pid, []), direct_debit=pid in debited,
                                                  salesperson_email=user_emails.get(user[0], "") if user else "",
                                                  platform=PLATFORM))
            except MalformedResponseError as exc:
                self.quarantined(pid, exc, PARTNERS, "contact", kind=CUSTOMER)
        return customers

    def user_emails(self, user_ids: set[str]) -> dict[str, str]:
        """Salespeople's e-mail addresses (for Cc); none when the key may not read users."""
        ids = sorted(int(i) for i in user_ids if i.isdigit())
        if not ids:
            return {}
        try:
            raws = self.client.users(ids)
        except SourceError as exc:  # optional: a key without the right, a server that refuses
            log.info("odoo: salespeople's e-mail not read (%s)", exc)
            return {}
        out = {}
        for raw in raws:
            f = Fields(raw, platform=PLATFORM, endpoint="res.users.search_read")
            try:
                address = f.text("email", required=False) or f.text("login", required=False)
            except MalformedResponseError as exc:  # only the Cc is lost: nobody is reminded wrongly
                log.warning("odoo: a salesperson's e-mail left out: %s", exc)
                continue
            if "@" in address:
                out[f.id()] = address
        return out

    def mandated(self, partner_ids: set[str]) -> set[str]:
        """Customers with an active SEPA direct-debit mandate (module account_sepa_direct_debit).

        Databases without the module answer an error for the model: then nobody is marked, and
        the sheet's ``Prélèvement`` column says who pays by direct debit.  A mandate whose customer
        cannot be read holds every customer's reminders (any of them may pay by direct debit).
        """
        out: set[str] = set()
        for batch in batches(sorted(int(i) for i in partner_ids if i.isdigit())):
            try:
                raws = self.client.mandates(batch)
            except SourceError as exc:  # no such model without the module, or no right to read it
                log.info("odoo: no direct-debit mandates read (%s)", exc)
                return set()
            for raw in raws:
                mandate = Fields(raw, platform=PLATFORM, endpoint="sdd.mandate.search_read")
                try:
                    partner = mandate.many2one("partner_id")
                except MalformedResponseError as exc:
                    self.quarantined(f"mandate-{mandate.id()}", exc, "sdd.mandate.search_read", kind=PAYMENT,
                                     holds=True)
                    continue
                if partner:
                    out.add(partner[0])
        return out


def _user(partner: Fields) -> tuple[str, str] | None:
    try:
        return partner.many2one("user_id")
    except MalformedResponseError:
        return None  # the partner is quarantined when mapped


def _id_of(many2one: Any) -> str:
    """The id of an Odoo ``[id, name]`` as far as a raw record says ("" when it does not)."""
    return str(many2one[0]) if isinstance(many2one, list) and many2one and isinstance(many2one[0], int) else ""


def _name_of(many2one: Any) -> str:
    """The name of an Odoo ``[id, name]`` when it reads as a currency code ("" otherwise)."""
    name = many2one[1] if isinstance(many2one, list) and len(many2one) == 2 else ""
    return name if isinstance(name, str) and len(name) == 3 and name.isalpha() else ""
