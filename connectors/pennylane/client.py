"""Pennylane Company API v2, one method per endpoint: the platform's raw JSON, paging inside.

Every request goes through the one HTTP layer (:class:`~encours.connectors.http.HttpClient`:
retries, ``retry-after``, pacing on ``ratelimit-*`` headers, secrets redacted).  Listings page by
cursor (``limit`` 100, changelogs 1,000), resending ``filter`` and ``sort`` with every page: the
cursor does not carry them.  A listing of a full pull names its ``listing``: its pages are kept in
the :class:`~encours.connectors.checkpoint.Checkpoint` as they arrive, so that an interrupted pull
resumes from the page it stopped at.  Nothing here maps a record (see :mod:`.mapping`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from encours.connectors.checkpoint import Checkpoint
from encours.connectors.http import HttpClient
from encours.connectors.pages import CursorPaginator, PageRequest, paginate, walk
from encours.connectors.pennylane.mapping import PLATFORM

PAGE = 100
CHANGELOG_PAGE = 1000


class PennylaneClient:
    """The endpoints encours reads, each a method returning raw records (dicts as Pennylane sends them)."""

    def __init__(self, http: HttpClient, checkpoint: Checkpoint) -> None:
        self.http = http
        self.checkpoint = checkpoint

    # -- the company and its token ----------------------------------------------------------
    def me(self) -> Any:
        """``GET /me``: the company, the user and the token's scopes."""
        return self.http.get_json("/me", endpoint="GET /me")

    def first_page(self, path: str, params: Mapping[str, Any], endpoint: str) -> Any:
        """One small page of a listing (``encours check``)."""
        return self.http.get_json(path, params={**params, "limit": 1}, endpoint=endpoint)

    def get(self, path: str, endpoint: str, record: str = "") -> Any:
        """One record by its path (``encours check``'s reads by id)."""
        return self.http.get_json(path, endpoint=endpoint, record=record)

    # -- listings -----------------------------------------------------------------------------
    def customer_pages(self, params: Mapping[str, Any], *, listing: str = "") -> Iterator[list[Any]]:
        """``GET /customers``."""
        return self.pages("/customers", params, "GET /customers", listing=listing)

    def customer(self, customer_id: str) -> Any:
        """``GET /customers/{id}`` (raises NotFoundError when it is gone)."""
        return self.http.get_json(f"/customers/{customer_id}", endpoint="GET /customers/{id}", record=customer_id)

    def customer_contacts(self, customer_id: str) -> Iterator[Any]:
        """``GET /customers/{id}/contacts``."""
        return self.items(f"/customers/{customer_id}/contacts", {}, "GET /customers/{id}/contacts", customer_id)

    def invoice_pages(self, params: Mapping[str, Any], *, listing: str = "") -> Iterator[list[Any]]:
        """``GET /customer_invoices`` (invoices and credit notes)."""
        return self.pages("/customer_invoices", params, "GET /customer_invoices", listing=listing)

    def invoice(self, invoice_id: str) -> Any:
        """``GET /customer_invoices/{id}`` (raises NotFoundError when it is gone)."""
        return self.http.get_json(
            f"/customer_invoices/{invoice_id}", endpoint="GET /customer_invoices/{id}", record=invoice_id
        )

    def matched_transactions(self, invoice_id: str) -> Iterator[Any]:
        """``GET /customer_invoices/{id}/matched_transactions``: the bank lines that paid it (dated)."""
        endpoint = "GET /customer_invoices/{id}/matched_transactions"
        return self.items(f"/customer_invoices/{invoice_id}/matched_transactions", {}, endpoint, invoice_id)

    def invoice_payments(self, invoice_id: str) -> Iterator[Any]:
        """``GET /customer_invoices/{id}/payments`` (no payment date there: ``created_at`` only)."""
        endpoint = "GET /customer_invoices/{id}/payments"
        return self.items(f"/customer_invoices/{invoice_id}/payments", {}, endpoint, invoice_id)

    def transactions(self, params: Mapping[str, Any], *, listing: str = "") -> Iterator[Any]:
        """``GET /transactions`` (bank lines)."""
        for page in self.pages("/transactions", params, "GET /transactions", listing=listing):
            yield from page

    def transaction(self, transaction_id: str) -> Any:
        """``GET /transactions/{id}`` (raises NotFoundError when it is gone)."""
        return self.http.get_json(f"/transactions/{transaction_id}", endpoint="GET /transactions/{id}",
                                  record=transaction_id)

    def transaction_matched_invoices(self, transaction_id: str) -> Iterator[Any]:
        """``GET /transactions/{id}/matched_invoices`` (customer and supplier invoices alike)."""
        endpoint = "GET /transactions/{id}/matched_invoices"
        return self.items(f"/transactions/{transaction_id}/matched_invoices", {}, endpoint, transaction_id)

    def changelog_pages(self, resource: str, since: str) -> Iterator[list[Any]]:
        """``GET /changelogs/{resource}?start_date=…``: events oldest first (kept 4 weeks; older: 422)."""
        endpoint = f"GET /changelogs/{resource}"

        def fetch(request: PageRequest) -> Any:
            params = dict(request.params)
            if "cursor" in params:
                params.pop("start_date", None)  # start_date and cursor together answer 400
            return self.http.get_json(request.path, params=params, endpoint=endpoint)

        return paginate(fetch, CursorPaginator(limit=CHANGELOG_PAGE), f"/changelogs/{resource}",
                        {"start_date": since}, platform=PLATFORM, endpoint=endpoint)

    # -- paging -------------------------------------------------------------------------------
    def items(self, path: str, params: Mapping[str, Any], endpoint: str, record: str = "") -> Iterator[Any]:
        for page in self.pages(path, params, endpoint, record):
            yield from page

    def pages(
        self, path: str, params: Mapping[str, Any], endpoint: str, record: str = "", *, listing: str = ""
    ) -> Iterator[list[Any]]:
        """Each page's items; with ``listing``, the pages a previous pull kept first, then on from
        where it stopped, each new page kept before it is handed on."""

        def fetch(request: PageRequest) -> Any:
            return self.http.get_json(request.path, params=request.params, endpoint=endpoint, record=record)

        pager = CursorPaginator(limit=PAGE)
        if not listing:
            yield from paginate(fetch, pager, path, params, platform=PLATFORM, endpoint=endpoint)
            return
        yield from self.checkpoint.kept(listing)
        start = self.checkpoint.next_request(listing, pager.first(path, params))
        for items, following in walk(fetch, pager, start, platform=PLATFORM, endpoint=endpoint):
            self.checkpoint.page_read(listing, items, following)
            yield items
