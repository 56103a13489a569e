"""Odoo 14 to 19 as a :class:`encours.connectors.base.Connector`: full and incremental pulls,
the re-check before sending, ``encours check``.

* invoices: ``account.move`` ``out_invoice``/``out_refund``, grouped by ``commercial_partner_id``;
  ``company_id`` restricted by ``company_ids``; instalments from their receivable lines;
* payments: ``account.partial.reconcile`` on those lines — one payment share per match;
* other receivable lines (payments on account, opening and miscellaneous entries): credits, or
  debits ``aml-<id>`` — a full pull reads every debit one, so a line reconciled since closes as
  paid and only a line that no longer exists is "Supprimée";
* incremental: ``write_date >=`` the last one seen minus a look-back, ordered ``write_date, id``.
  Deletions are not tracked by Odoo: once a day (by ``as_of``) the ids of posted invoices are
  compared with those of the previous comparison, which the cursor carries (compressed).

A record that cannot be mapped is quarantined (:mod:`encours.connectors.quarantine`), named in
the sync summary and the log, and read again at every sync until it maps:

* an invoice or credit note (its own fields or one of its receivable lines): left out — closed
  in the sheet, never reminded;
* a customer or one of its contacts: left out, and the customer's reminders are held (its
  invoices stay in the sheet, with the customer as last synced);
* a receivable line of another entry: left out, and its customer's reminders in its currency are
  held, since the balance is then unknown (the line may be a payment on account);
* a payment share: left out, nothing held (the invoice's remaining amount is Odoo's own);
* a direct-debit mandate whose customer cannot be read: every customer is held.

"Held" is a :class:`~encours.connectors.quarantine.Hold`: the plan sends nothing it covers and
says why in ``Prochaine action`` (:mod:`encours.sync.source_holds`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import requests

from encours.connectors.access import EndpointCheck, probe
from encours.connectors.base import Cache
from encours.connectors.checkpoint import Checkpoint
from encours.connectors.fields import Fields
from encours.connectors.model import Delta, Invoice, InvoiceStatus, SourceInfo
from encours.connectors.odoo import mapping
from encours.connectors.odoo.client import PAGE, PLATFORM, OdooClient, Transport
from encours.connectors.odoo.cursor import ODOO_TIME, OdooCursor, stamp
from encours.connectors.odoo.full import LOOK_BACK, FullPull
from encours.connectors.odoo.records import PARTIALS, PARTNERS, Records
from encours.connectors.quarantine import CUSTOMER, INVOICE, KINDS, PAYMENT, Quarantine
from encours.connectors.source_errors import MalformedResponseError


class MemoryCache:
    """A cache that lasts as long as the connector (when no state store lends one)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get(self, namespace: str, key: str) -> str | None:
        return self.values.get((namespace, key))

    def put(self, namespace: str, key: str, value: str) -> None:
        self.values[(namespace, key)] = value

    def delete(self, namespace: str, key: str) -> None:
        self.values.pop((namespace, key), None)


class OdooConnector:
    """:class:`encours.connectors.base.Connector` for one Odoo database (one or several companies)."""

    source = PLATFORM

    #: Every model the sync and the re-check read, with the rights a user needs for it (Odoo's words).
    CHECKED_MODELS: tuple[tuple[str, str], ...] = (
        ("account.move", "Invoicing / Billing (read) on invoices and credit notes"),
        ("account.move.line", "Invoicing / Billing (read) on journal items (instalments, payments on account)"),
        ("account.partial.reconcile", "Invoicing / Billing (read) on reconciliations (payment dates)"),
        ("res.partner", "Contact (read) on customers and their invoicing contacts"),
        ("res.users", "read on users (salespeople and their e-mail)"),
    )

    def __init__(
        self,
        url: str,
        *,
        database: str,
        login: str,
        api_key: str,
        as_of: date,
        company_ids: tuple[int, ...] = (),
        version: str | None = None,
        protocol: str = "jsonrpc",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cache: Cache | None = None,
        page_size: int = PAGE,
    ) -> None:
        self.client = OdooClient(url, database=database, login=login, api_key=api_key, company_ids=company_ids,
                                 version=version, protocol=protocol, session=session, sleep=sleep)
        self.http = self.client.http
        self.database = database
        self.as_of = as_of
        self.company_ids = company_ids
        store = cache if cache is not None else MemoryCache()
        self.quarantine = Quarantine(store, PLATFORM)
        self.checkpoint = Checkpoint(store, PLATFORM)  # an interrupted full pull resumes (see full)
        self.page_size = page_size
        self.records = Records(self.client, self.quarantine, as_of=as_of, company_ids=company_ids)

    @property
    def major(self) -> int | None:
        return self.client.major

    # -- connection ---------------------------------------------------------------------------
    def connect(self) -> Transport:
        known = self.client.transport is not None
        transport = self.client.connect()
        if not known:
            self.records.load_companies()
        return transport

    def _call(self, model: str, method: str, args: Sequence[Any] = (), **kwargs: Any) -> Any:
        self.connect()
        return self.client.call(model, method, args, **kwargs)

    # -- Connector ----------------------------------------------------------------------------
    def check(self) -> SourceInfo:
        transport = self.connect()
        domain = [*self._invoice_domain(posted_only=True), ("payment_state", "in", ["not_paid", "partial"])]
        open_count = self.client.count_moves(domain)
        companies = ", ".join(n for n in self.records.company_names.values() if n) or "no company visible"
        return SourceInfo(
            PLATFORM, f"{self.database} ({companies})", open_count, f"Odoo {self.major}, {transport.name}"
        )

    def check_endpoints(self) -> list[EndpointCheck]:
        """``encours check``: one small read of every model the sync uses, each OK or the right missing.
        Direct-debit mandates (``sdd.mandate``, an optional module) are reported, never required."""
        self.connect()
        read = self.client.one_read
        results = [probe(f"{model}.search_read", read(model), needs=needs) for model, needs in self.CHECKED_MODELS]
        mandates = probe("sdd.mandate.search_read", read("sdd.mandate"), needs="the SEPA Direct Debit module, read")
        if not mandates.ok:
            mandates = EndpointCheck(mandates.endpoint, True,
                                     "not available: direct debit comes from the Clients tab's Prélèvement column")
        return [*results, mandates]

    def pull(self, cursor: str | None) -> Delta:
        self.connect()
        previous = OdooCursor.loads(cursor) if cursor else None
        retry = _Retry({(kind, record) for kind in KINDS for record in self.quarantine.held(kind)})
        retry.add_keys(previous.retry if previous else ())
        for kind in KINDS:  # every held record is read again now
            self.quarantine.release_all(self.quarantine.held(kind), kind)
        delta = self._pull_full() if previous is None or not previous.since else self._pull_changes(previous, retry)
        self.quarantine.save()  # only after a pull that worked: a failed one keeps what was held
        return delta

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        return self.refetch_invoices([invoice_id]).get(invoice_id)

    def refetch_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
        """Re-read invoices just before sending: one request per batch of ids, not one per invoice.

        Every id asked is in the answer; None for one that no longer exists at the source, or that
        cannot be mapped any more (quarantined: it must not be reminded).
        """
        found: dict[str, Invoice | None] = {i: None for i in invoice_ids}
        numeric = sorted({int(i) for i in invoice_ids if i.isdigit()})
        if not numeric:
            return found
        self.connect()
        before = len(self.quarantine.found)
        for invoice in self.records.invoices(self.client.moves_by_id(numeric, mapping.MOVE_FIELDS)):
            if invoice.id in found:
                found[invoice.id] = invoice
        if len(self.quarantine.found) != before:
            self.quarantine.save()
        return found

    # -- full ---------------------------------------------------------------------------------
    def _pull_full(self) -> Delta:
        # Cancelled invoices too: a full pull must show them "Annulée", not "Supprimée".
        domain = [*self._invoice_domain(posted_only=False), ("state", "in", ["posted", "cancel"])]
        full = FullPull(self.client, self.records, self.checkpoint, page_size=self.page_size)
        pulled = full.run(domain, self.http.last_date or self.http.clock())  # the server's clock when known
        # From the latest change read, but never after the pull began: what changed while it ran
        # (or while it was interrupted) is read again by the next incremental sync.
        newest = min(pulled.newest or pulled.began, pulled.began)
        invoices = pulled.invoices
        posted = tuple(int(i.id) for i in invoices if i.status is not InvoiceStatus.CANCELLED)
        cursor = OdooCursor(newest, self.as_of.isoformat(), posted, tuple(self.quarantine.found))
        named = {i.customer_id for i in (*invoices, *pulled.misc)} | {c.customer_id for c in pulled.credits}
        full.finish()
        return Delta(
            customers=tuple(pulled.customers),
            stand_in_customers=self.records.stand_ins(named, pulled.customers),
            invoices=(*invoices, *pulled.misc),
            payments=tuple(pulled.payments),
            full=True,
            cursor=cursor.dumps(),
            credits=tuple(pulled.credits),
            credits_complete=True,
        )

    # -- incremental --------------------------------------------------------------------------
    def _pull_changes(self, previous: OdooCursor, retry: _Retry) -> Delta:
        since = (datetime.strptime(previous.since, ODOO_TIME).replace(tzinfo=UTC) - LOOK_BACK).strftime(ODOO_TIME)
        domain = [*self._invoice_domain(posted_only=False), ("write_date", ">=", since)]
        raws = self.client.moves(domain, mapping.MOVE_FIELDS)
        listed = {r.get("id") for r in raws if isinstance(r, dict)}
        again = (retry.ids(INVOICE) | self._invoices_of_partials(retry.ids(PAYMENT, "partial-"))) - listed
        if again:
            raws += self.client.moves_by_id(sorted(again), mapping.MOVE_FIELDS)
        found = {r.get("id") for r in raws if isinstance(r, dict)}
        invoices = self.records.invoices(raws)
        partner_ids = {inv.customer_id for inv in invoices} | {str(i) for i in retry.ids(CUSTOMER)}
        partner_ids |= self._changed_customers(since)
        misc, credits = self.records.other_receivables(since, retry.ids(PAYMENT, "aml-"))
        partner_ids |= {m.customer_id for m in misc} | {c.customer_id for c in credits}
        payments = self.records.payments(invoices)
        customers = self.records.customers(partner_ids)
        newest = max([previous.since, *(stamp(r) for r in raws)])
        known, checked = previous.known_ids, previous.ids_checked_on
        deleted = {str(i) for i in again - found}  # held, then deleted at the source
        if checked < self.as_of.isoformat():
            current = self.client.move_ids(self._invoice_domain(posted_only=True))
            deleted |= {str(i) for i in set(known) - set(current) - {int(i.id) for i in invoices}}
            known, checked = tuple(current), self.as_of.isoformat()
        else:
            posted = {int(r["id"]) for r in raws if isinstance(r, dict) and r.get("state") == "posted"}
            left = {int(r["id"]) for r in raws if isinstance(r, dict) and r.get("state") != "posted"}
            known = tuple(sorted((set(known) | posted) - left))
        # A quarantined invoice or debit line must not stay open in the ledger with its old figures.
        deleted |= {q.record for q in self.quarantine.found.values()
                    if (q.kind == INVOICE and q.record.isdigit()) or q.record.startswith("aml-")}
        deleted -= {m.id for m in misc} | {i.id for i in invoices}
        named = {i.customer_id for i in (*invoices, *misc)} | {c.customer_id for c in credits}
        return Delta(
            customers=tuple(customers),
            stand_in_customers=self.records.stand_ins(named, customers),
            invoices=(*invoices, *misc),
            payments=tuple(payments),
            deleted_invoice_ids=tuple(sorted(deleted)),
            full=False,
            cursor=OdooCursor(newest, checked, known, tuple(self.quarantine.found)).dumps(),
            credits=tuple(credits),
            credits_complete=True,
            payments_of=tuple(i.id for i in invoices),  # their payments are re-read: a cancelled one leaves
        )

    def _changed_customers(self, since: str) -> set[str]:
        """Customers whose record or one of whose contacts changed since (an invoicing contact's new
        e-mail, an address), whether or not the contact is itself a customer."""
        owners: set[int] = set()
        for raw in self.client.partners([("write_date", ">=", since)], ["commercial_partner_id"]):
            f = Fields(raw, platform=PLATFORM, endpoint=PARTNERS)
            try:
                owner = f.many2one("commercial_partner_id")
            except MalformedResponseError as exc:  # whose contact it is cannot be told: listed, not guessed
                self.records.quarantined(f.id(), exc, PARTNERS, kind=CUSTOMER)
                continue
            owners.add(int(owner[0]) if owner else int(f.id()))
        if not owners:
            return set()
        customers = self.client.partners([("id", "in", sorted(owners)), ("customer_rank", ">", 0)], ["name"])
        return {Fields(raw, platform=PLATFORM, endpoint=PARTNERS).id() for raw in customers}

    def _invoices_of_partials(self, partial_ids: set[int]) -> set[int]:
        """The invoices of held payment shares (read again with their payments)."""
        if not partial_ids:
            return set()
        debit_lines: set[int] = set()
        for raw in self.client.partials_by_id(sorted(partial_ids), ["debit_move_id"]):
            line = Fields(raw, platform=PLATFORM, endpoint=PARTIALS).raw.get("debit_move_id")
            if isinstance(line, list) and line and isinstance(line[0], int):
                debit_lines.add(line[0])
        moves: set[int] = set()
        for raw in self.client.lines_by_id(sorted(debit_lines), ["move_id"]):
            move = raw.get("move_id") if isinstance(raw, dict) else None
            if isinstance(move, list) and move and isinstance(move[0], int):
                moves.add(move[0])
        return moves

    def _invoice_domain(self, *, posted_only: bool) -> list[Any]:
        domain: list[Any] = [("move_type", "in", ["out_invoice", "out_refund"])]
        if posted_only:
            domain.append(("state", "=", "posted"))
        if self.company_ids:
            domain.append(("company_id", "in", list(self.company_ids)))
        return domain



class _Retry:
    """The records to read again: those the quarantine holds and those the cursor names."""

    def __init__(self, records: set[tuple[str, str]]) -> None:
        self.records = records

    def add_keys(self, keys: Iterable[str]) -> None:
        """Keys as the quarantine stores them: an invoice by its id, the others ``kind:id``."""
        for key in keys:
            kind, sep, record = key.partition(":")
            self.records.add((kind, record) if sep and kind in KINDS else (INVOICE, key))

    def ids(self, kind: str, prefix: str = "") -> set[int]:
        found = set()
        for held_kind, record in self.records:
            if held_kind == kind and record.startswith(prefix) and record[len(prefix):].isdigit():
                found.add(int(record[len(prefix):]))
        return found
