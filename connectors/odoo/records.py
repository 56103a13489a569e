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
#: Receivable lines still open (unreconciled, posted): read by every pull.
OPEN_OTHER: list[Any] = [("reconciled", "=", False), ("parent_state", "=", "posted")]
#: Every debit receivable line (a full pull: one reconciled since closes as paid).
DEBIT_OTHER: list[Any] = [("balance", ">", 0), ("parent_state", "in", ["posted", "cancel"])]


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
        self.named: dict[str, str] = {}  # customer id → name, as invoices and lines name them

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
        """The invoices of ``raws``, their receivable lines read (and kept for :meth:`payments`)."""
        ids = [int(r["id"]) for r in raws if isinstance(r, dict) and _is_id(r.get("id"))]
        self.lines = self.grouped_lines(self.read_lines(ids))
        return self.map_invoices(raws, self.lines)

    def map_invoices(self, raws: list[Any], lines: dict[str, list[Fields]]) -> list[Invoice]:
        parsed = [Fields(raw, platform=PLATFORM, endpoint=MOVES) for raw in raws]
        for f in parsed:
            f.id()  # a record without an id cannot be quarantined: the answer itself is wrong
        name_companies = len(self.company_names) > 1
        out = []
        for f in parsed:
            try:
                out.append(mapping.invoice(f, lines.get(f.id(), []), company_currency=self.company_currency,
                                           platform=PLATFORM, name_companies=name_companies))
            except MalformedResponseError as exc:
                self.quarantined(f.id(), exc, MOVES, "receivable line")
                continue
            self._remember(out[-1].customer_id, f.raw.get("commercial_partner_id"), f.raw.get("partner_id"))
        return out

    def _remember(self, customer_id: str, *many2ones: Any) -> None:
        for many2one in many2ones:
            name = many2one[1] if isinstance(many2one, list) and len(many2one) == 2 else None
            if _id_of(many2one) == customer_id and isinstance(name, str) and name.strip():
                self.named.setdefault(customer_id, name.strip())
                return

    def stand_ins(self, named_by: set[str], customers: list[Customer]) -> tuple[Customer, ...]:
        """The quarantined customers among those ``named_by`` this pull's invoices and lines, as
        far as these name them (id and name): a first sync then shows whose invoices they are."""
        held = {q.record for q in self.quarantine.found.values() if q.kind == CUSTOMER}
        missing = (held & named_by) - {c.id for c in customers}
        return tuple(Customer(cid, self.named.get(cid) or f"Client {cid}", PLATFORM)
                     for cid in sorted(missing, key=lambda i: (len(i), i)))

    def read_lines(self, move_ids: list[int]) -> list[Any]:
        """The receivable lines of these invoices, as Odoo sends them."""
        out: list[Any] = []
        for batch in batches(move_ids):
            out += self.client.lines([("move_id", "in", batch), self.client.receivable_domain()], mapping.LINE_FIELDS)
        return out

    def grouped_lines(self, raws: list[Any]) -> dict[str, list[Fields]]:
        """Receivable lines by invoice (a line that does not say whose it is: quarantined)."""
        found: dict[str, list[Fields]] = defaultdict(list)
        for raw in raws:
            line = Fields(raw, platform=PLATFORM, endpoint=LINES)
            try:
                move = line.many2one("move_id", required=True)
            except MalformedResponseError as exc:
                self.quarantined(f"aml-{line.id()}", exc, LINES, kind=PAYMENT, holds=False)
                continue
            assert move is not None
            found[move[0]].append(line)
        return found

    # -- one page of a full pull: everything read first (kept as Odoo sent it), then mapped --
    def read_page(self, moves: list[Any]) -> dict[str, list[Any]]:
        """A page of invoices with what maps them: receivable lines, reconciliations, paying lines."""
        ids = [int(r["id"]) for r in moves if isinstance(r, dict) and _is_id(r.get("id"))]
        lines = self.read_lines(ids)
        refunds = {str(r.get("id")) for r in moves if isinstance(r, dict) and r.get("move_type") == "out_refund"}
        debit = sorted({int(raw["id"]) for raw in lines if isinstance(raw, dict) and _is_id(raw.get("id"))
                        and _id_of(raw.get("move_id")) not in refunds})
        partials = self.read_partials(debit)
        paying = sorted({int(i) for p in partials if (i := _id_of(p.get("credit_move_id") if isinstance(p, dict)
                                                                   else None))})
        return {"moves": moves, "lines": lines, "partials": partials,
                "paying": self.client.lines_by_id(paying, mapping.PAYING_LINE_FIELDS)}

    def map_page(self, page: dict[str, list[Any]]) -> tuple[list[Invoice], list[Payment]]:
        lines = self.grouped_lines(page["lines"])
        invoices = self.map_invoices(page["moves"], lines)
        return invoices, self.map_payments(invoices, lines, page["partials"], page["paying"])

    def other_domain(self) -> list[Any]:
        """Receivable lines of entries that are not invoices (payments on account, opening entries …)."""
        not_invoices = ("move_id.move_type", "not in", ["out_invoice", "out_refund"])
        base: list[Any] = [self.client.receivable_domain(), not_invoices]
        if self.company_ids:
            base.append(("company_id", "in", list(self.company_ids)))
        return base

    def other_receivables(self, since: str, retry: set[int]) -> tuple[list[Invoice], list[UnallocatedCredit]]:
        """Receivable lines of entries that are not invoices, for an incremental pull: every open
        one, those changed since, and those held.  (A full pull reads every open one and every
        debit one — a debit reconciled since closes as paid — page by page: see ``full``.)"""
        base = self.other_domain()
        fields = mapping.OTHER_LINE_FIELDS
        raws = self.client.lines([*base, *OPEN_OTHER], fields)
        raws += self.client.lines([*base, ("write_date", ">=", since)], fields)
        if retry:
            raws += self.client.lines_by_id(sorted(retry), fields, extra=base)
        return self.map_other(raws)

    def map_other(self, raws: list[Any]) -> tuple[list[Invoice], list[UnallocatedCredit]]:
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
            if entry is not None:
                self._remember(entry.customer_id, line.raw.get("partner_id"))
        return misc, credits

    def payments(self, invoices: list[Invoice]) -> list[Payment]:
        """One payment share per reconciliation of an invoice's receivable line (lines of :meth:`invoices`)."""
        debit = sorted(i for i, inv in self._invoice_of_line(invoices, self.lines).items() if not inv.is_credit_note)
        partials = self.read_partials(debit)
        paying = sorted({int(i) for p in partials if (i := _id_of(p.get("credit_move_id") if isinstance(p, dict)
                                                                   else None))})
        return self.map_payments(invoices, self.lines, partials,
                                 self.client.lines_by_id(paying, mapping.PAYING_LINE_FIELDS))

    def read_partials(self, debit_lines: list[int]) -> list[Any]:
        out: list[Any] = []
        for batch in batches(debit_lines):
            out += self.client.partials([("debit_move_id", "in", batch)], mapping.PARTIAL_FIELDS)
        return out

    @staticmethod
    def _invoice_of_line(invoices: list[Invoice], lines: dict[str, list[Fields]]) -> dict[int, Invoice]:
        by_id = {inv.id: inv for inv in invoices}
        return {int(line.id()): by_id[move_id] for move_id, move_lines in lines.items() if move_id in by_id
                for line in move_lines}

    def map_payments(self, invoices: list[Invoice], lines: dict[str, list[Fields]], raw_partials: list[Any],
                     raw_paying: list[Any]) -> list[Payment]:
        invoice_of_line = self._invoice_of_line(invoices, lines)
        refund_lines = {i for i, inv in invoice_of_line.items() if inv.is_credit_note}
        partials: list[tuple[Fields, Invoice, int]] = []
        for raw in raw_partials:
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
            if invoice is not None and not invoice.is_credit_note:
                partials.append((partial, invoice, int(credit[0])))
        paying: dict[int, Fields] = {}
        for raw in raw_paying:
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
        raws: list[Any] = []
        for batch in batches(sorted(int(i) for i in commercial_ids if i.isdigit())):
            raws += self.read_partners(batch)
        return self.map_customers(raws)

    def read_partners(self, commercial_ids: list[int]) -> list[Any]:
        """These customers and their contacts, as Odoo sends them."""
        return self.client.partners([("commercial_partner_id", "in", commercial_ids)], mapping.PARTNER_FIELDS)

    def map_customers(self, raws: list[Any]) -> list[Customer]:
        partners: dict[str, Fields] = {}
        children: dict[str, list[Fields]] = defaultdict(list)
        for raw in raws:
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


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id_of(many2one: Any) -> str:
    """The id of an Odoo ``[id, name]`` as far as a raw record says ("" when it does not)."""
    return str(many2one[0]) if isinstance(many2one, list) and many2one and isinstance(many2one[0], int) else ""


def _name_of(many2one: Any) -> str:
    """The name of an Odoo ``[id, name]`` when it reads as a currency code ("" otherwise)."""
    name = many2one[1] if isinstance(many2one, list) and len(many2one) == 2 else ""
    return name if isinstance(name, str) and len(name) == 3 and name.isalpha() else ""
