"""Sage Business Cloud Accounting API v3.1, one method per endpoint: raw JSON, paging inside.

Every request goes through the one HTTP layer (:class:`~encours.connectors.http.HttpClient`:
OAuth headers, a re-authentication on 401, retries, client-side pacing since Sage sends no
rate-limit headers, secrets redacted).  Listings follow ``$next`` 200 items a page, sorted by
creation where Sage allows it (new records land on the last page instead of shifting the
others), and are counted: when ``$total`` moved during the listing or the ids received do not add
up to it (a record deleted meanwhile shifts the pages and hides another), the listing is read
again.  A listing of a full pull is kept page by page in the
:class:`~encours.connectors.checkpoint.Checkpoint`: an interrupted pull resumes.  Nothing here maps
a record (see :mod:`.mapping`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from encours.connectors.checkpoint import Checkpoint
from encours.connectors.http import HttpClient
from encours.connectors.pages import NextLinkPaginator, PageRequest, walk

log = logging.getLogger("encours.sage")

PLATFORM = "sage"
PAGE = 200
#: Listings Sage can sort (``sort=created_at``): a full pull reads them oldest first.
SORTABLE = frozenset({"/sales_invoices", "/sales_credit_notes", "/contact_payments", "/contact_allocations"})
#: How many times a listing that changed while it was read is read again.
LISTING_TRIES = 3
DOCUMENTS = ("/sales_invoices", "/sales_credit_notes")


class SageClient:
    """The endpoints encours reads, each a method returning raw records (dicts as Sage sends them)."""

    def __init__(self, http: HttpClient, checkpoint: Checkpoint, base_url: str) -> None:
        self.http = http
        self.checkpoint = checkpoint
        self.base_path = urlsplit(base_url).path.rstrip("/")
        #: A full pull is under way: its listings are kept page by page (see :meth:`listing`).
        self.resumable = False

    # -- businesses and checks ----------------------------------------------------------------
    def businesses(self) -> Any:
        """``GET /businesses``: every business the authorised user can reach."""
        return self.http.get_json("/businesses", endpoint="GET /businesses")

    def business(self, business_id: str) -> Any:
        """``GET /businesses/{id}``."""
        return self.http.get_json(f"/businesses/{business_id}", endpoint="GET /businesses/{id}", record=business_id)

    def first_page(self, path: str, params: Mapping[str, Any]) -> Any:
        """One item of a listing, with its ``$total`` (``encours check``)."""
        return self.http.get_json(path, params={**params, "items_per_page": 1}, endpoint=f"GET {path}")

    # -- listings -----------------------------------------------------------------------------
    def artefact_statuses(self) -> list[Any]:
        """``GET /artefact_statuses``: the status ids of this business."""
        return self.listing("/artefact_statuses", {}, all_attributes=False)

    def contacts(self, params: Mapping[str, Any]) -> list[Any]:
        """``GET /contacts`` (``contact_type_id=CUSTOMER`` for customers)."""
        return self.listing("/contacts", params)

    def documents(self, path: str, params: Mapping[str, Any], *, check_count: bool = True) -> list[Any]:
        """``GET /sales_invoices`` or ``GET /sales_credit_notes``."""
        return self.listing(path, params, check_count=check_count)

    def contact_payments(self, params: Mapping[str, Any]) -> list[Any]:
        """``GET /contact_payments`` (customer receipts and vendor payments alike)."""
        return self.listing("/contact_payments", params)

    def contact_allocations(self, params: Mapping[str, Any]) -> list[Any]:
        """``GET /contact_allocations`` (credit notes and payments on account set against invoices)."""
        return self.listing("/contact_allocations", params)

    def deleted(self, path: str, since: str) -> list[Any]:
        """``GET {path}?deleted_since=…``: the records deleted since then (ids only)."""
        return self.listing(path, {"deleted_since": since}, all_attributes=False)

    # -- one record ---------------------------------------------------------------------------
    def contact(self, contact_id: str) -> Any:
        """``GET /contacts/{id}`` (raises NotFoundError when it is gone)."""
        return self.http.get_json(f"/contacts/{contact_id}", params={"attributes": "all"},
                                  endpoint="GET /contacts/{id}", record=contact_id)

    def document(self, path: str, document_id: str) -> Any:
        """``GET /sales_invoices/{id}`` or ``GET /sales_credit_notes/{id}``, never marking it sent
        (``mark_as_sent`` defaults to true on a single read: reading must not change the invoice)."""
        return self.http.get_json(f"{path}/{document_id}", params={"mark_as_sent": "false"},
                                  endpoint=f"GET {path}/{{id}}", record=document_id)

    def contact_payment(self, payment_id: str) -> Any:
        """``GET /contact_payments/{id}``."""
        return self.http.get_json(f"/contact_payments/{payment_id}", params={"attributes": "all"},
                                  endpoint="GET /contact_payments/{id}", record=payment_id)

    def contact_allocation(self, allocation_id: str) -> Any:
        """``GET /contact_allocations/{id}``."""
        return self.http.get_json(f"/contact_allocations/{allocation_id}", params={"attributes": "all"},
                                  endpoint="GET /contact_allocations/{id}", record=allocation_id)

    # -- paging -------------------------------------------------------------------------------
    def listing(
        self, path: str, params: Mapping[str, Any], *, all_attributes: bool = True, check_count: bool = True
    ) -> list[Any]:
        """Every item of a listing, sorted and counted (see the module docstring)."""
        endpoint = f"GET {path}"
        query = {**params, **({"attributes": "all"} if all_attributes else {})}
        if path in SORTABLE and "deleted_since" not in params:
            query["sort"] = "created_at"
        resumable = self.resumable and "deleted_since" not in params and check_count
        listing = path.strip("/")
        pager = NextLinkPaginator(page_size=PAGE)
        items: list[Any] = []
        for attempt in range(1, LISTING_TRIES + 1):
            totals: list[Any] = []
            items = [item for page in self.checkpoint.kept(listing) for item in page] if resumable else []
            start = self.checkpoint.next_request(listing, pager.first(path, query)) if resumable else None
            for page, following in walk(
                partial(self._fetch_page, endpoint=endpoint, totals=totals),
                pager, start if resumable else pager.first(path, query), platform=PLATFORM, endpoint=endpoint,
            ):
                if resumable:
                    self.checkpoint.page_read(listing, page, following)
                items.extend(page)
            if not check_count or "deleted_since" in params:
                return items
            ids = {str(i.get("id")) for i in items if isinstance(i, dict)}
            stated = {t for t in totals if isinstance(t, int) and not isinstance(t, bool)}
            if not stated or (len(stated) == 1 and len(ids) == stated.pop()):
                return items
            if resumable:
                self.checkpoint.forget(listing)
            log.warning(
                "sage %s: the listing changed while it was read (totals %s, %d ids received): reading it again (%d/%d)",
                endpoint, sorted({t for t in totals if isinstance(t, int)}), len(ids), attempt, LISTING_TRIES,
            )
        log.warning("sage %s: the listing kept changing; the next sync reads what was missed", endpoint)
        return items

    def _fetch_page(self, request: PageRequest, endpoint: str, totals: list[Any]) -> Any:
        target = request.path
        if target.startswith(("http://", "https://")):
            target = urlsplit(target).path
        if self.base_path and target.startswith(self.base_path + "/"):
            target = target[len(self.base_path) :]
        body = self.http.get_json(target, params=request.params, endpoint=endpoint)
        if isinstance(body, dict):
            totals.append(body.get("$total"))
        return body
