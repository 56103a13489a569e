"""What changed at Pennylane since the last pull: the changelogs, and the invoices that changed bank
transactions paid.

``/changelogs/{resource}`` gives the last operation on each record since a moment (kept 4 weeks).
Whether matching a payment emits an invoice changelog event is unconfirmed, so changed bank
transactions are followed to their matched invoices (a sample first, see
:meth:`ChangeFeed.invoices_of_transactions`); supplier matches are skipped by type.  A transaction
whose matches cannot be read is quarantined (kind ``allocation``) and followed again next sync.
"""

from __future__ import annotations

import logging

from encours.connectors.fields import Fields
from encours.connectors.pennylane import mapping
from encours.connectors.pennylane.client import PennylaneClient
from encours.connectors.quarantine import ALLOCATION, Quarantine
from encours.connectors.source_errors import MalformedResponseError, NotFoundError

log = logging.getLogger("encours.pennylane")

PLATFORM = mapping.PLATFORM
TX_SAMPLE = 5  # changed bank transactions always followed to their invoices
OPERATIONS = ("insert", "update", "delete")


class ChangeFeed:
    """The changelogs of one company, and the invoices of its changed bank transactions."""

    def __init__(self, client: PennylaneClient, quarantine: Quarantine) -> None:
        self.client = client
        self.quarantine = quarantine
        #: transaction id -> (customer id, currency) as ``/transactions`` listed it ("" when unknown)
        self.owners: dict[str, tuple[str, str]] = {}

    def operations(self, resource: str, since: str) -> dict[str, str]:
        """The last operation seen for each record id since *since* (events come oldest first).
        An operation Pennylane adds later is read as an update: the record is read again."""
        endpoint = f"GET /changelogs/{resource}"
        ops: dict[str, str] = {}
        for page in self.client.changelog_pages(resource, since):
            for raw in page:
                fields = Fields(raw, platform=PLATFORM, endpoint=endpoint)
                operation = fields.text("operation", required=False)
                if operation not in OPERATIONS:
                    log.warning("pennylane %s: unknown operation %r on record %s: read again as an update",
                                endpoint, operation, fields.record)
                    operation = "update"
                ops[fields.id()] = operation
        return ops

    def invoices_of_transactions(self, transaction_ids: list[str], already: set[str]) -> set[str]:
        """Invoices matched to changed bank transactions that the invoice changelog did not list.

        Whether matching a payment emits an invoice changelog event is unconfirmed.  The first
        :data:`TX_SAMPLE` transactions are always followed (one request each); when every invoice
        they paid is already in the invoice changelog, the changelog is trusted for the rest;
        otherwise (or when a transaction pays a supplier invoice) every transaction is followed.
        Transactions whose matches could not be read before are always followed.
        """
        found: set[str] = set()
        held = set(self.quarantine.held(ALLOCATION))
        trusted = False
        for index, tx_id in enumerate(transaction_ids):
            if trusted and tx_id not in held:
                continue
            found |= set(self.matched_invoice_ids(tx_id))
            if index + 1 == TX_SAMPLE and found <= already:
                log.info(
                    "pennylane: the invoice changelog lists the invoices of the %d sampled transactions: "
                    "the other %d are not followed one by one",
                    TX_SAMPLE,
                    len(transaction_ids) - TX_SAMPLE,
                )
                trusted = True
        return found - already

    def matched_invoice_ids(self, transaction_id: str) -> list[str]:
        endpoint = "GET /transactions/{id}/matched_invoices"
        try:
            items = list(self.client.transaction_matched_invoices(transaction_id))
        except NotFoundError:
            self.quarantine.release(transaction_id, ALLOCATION)
            return []
        try:
            ids = [Fields(raw, platform=PLATFORM, endpoint=endpoint, record=transaction_id).id()
                   for raw in items if not mapping.is_supplier_match(raw)]
        except MalformedResponseError as exc:
            # Which invoices it paid cannot be told.  Each invoice is read again at the source
            # right before it is reminded, so a payment is never missed there; the transaction's
            # customer (when the listing said it) is held too, in its currency.
            owner, currency = self.owners.get(transaction_id, ("", ""))
            self.quarantine.add(transaction_id, exc, kind=ALLOCATION, customer=owner, currency=currency,
                                holds=bool(owner))
            return []
        self.quarantine.release(transaction_id, ALLOCATION)
        return ids
