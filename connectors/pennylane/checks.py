"""``encours check`` for Pennylane: every endpoint the sync and the re-check use, read once.

``GET /me`` lists the token's scopes: an endpoint whose scope is missing is reported without being
called, in Pennylane's words (``transactions:readonly``); the others are read once each and a 403
names the scope the endpoint needs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from encours.connectors.access import EndpointCheck, probe
from encours.connectors.fields import Fields
from encours.connectors.pennylane.client import PennylaneClient
from encours.connectors.pennylane.mapping import PLATFORM, rfc3339

#: The changelogs an incremental sync reads, and the scope each needs.
CHANGELOG_SCOPES = {"customer_invoices": "customer_invoices", "customers": "customers", "transactions": "transactions"}


def check_endpoints(client: PennylaneClient, now: datetime) -> list[EndpointCheck]:
    """Every endpoint the sync and the re-check use, each read once (``encours check``).

    ``GET /me`` lists the token's scopes: an endpoint whose scope is missing is reported
    without being called, in Pennylane's words (``transactions:readonly``).
    """
    me = Fields(client.me(), platform=PLATFORM, endpoint="GET /me")
    granted = {str(s) for s in me.list("scopes", required=False) if isinstance(s, str)}
    results = [EndpointCheck("GET /me", True)]
    since = rfc3339(now - timedelta(days=1))
    found: dict[str, str] = {}

    def first_id(path: str, endpoint: str, params: dict[str, Any]) -> Callable[[], None]:
        def call() -> None:
            body = client.first_page(path, params, endpoint)
            items = body.get("items") if isinstance(body, dict) else None
            if items and isinstance(items[0], dict) and items[0].get("id") is not None:
                found[endpoint] = str(items[0]["id"])

        return call

    listings: list[tuple[str, str, Callable[[], None]]] = [
        ("GET /customers", "customers", first_id("/customers", "GET /customers", {})),
        ("GET /customer_invoices", "customer_invoices",
         first_id("/customer_invoices", "GET /customer_invoices", {})),
        ("GET /transactions", "transactions", first_id("/transactions", "GET /transactions", {})),
    ]
    for resource, scope in CHANGELOG_SCOPES.items():
        endpoint = f"GET /changelogs/{resource}"
        listings.append((endpoint, scope, first_id(f"/changelogs/{resource}", endpoint, {"start_date": since})))
    for endpoint, scope, call in listings:
        results.append(_probe(endpoint, scope, granted, call))
    invoice_id = found.get("GET /customer_invoices", "")
    customer_id = found.get("GET /customers", "")
    transaction_id = found.get("GET /changelogs/transactions", "")
    by_id: list[tuple[str, str, str, str]] = [
        ("GET /customer_invoices/{id}", "customer_invoices", invoice_id, f"/customer_invoices/{invoice_id}"),
        ("GET /customer_invoices/{id}/matched_transactions", "customer_invoices", invoice_id,
         f"/customer_invoices/{invoice_id}/matched_transactions"),
        ("GET /customer_invoices/{id}/payments", "customer_invoices", invoice_id,
         f"/customer_invoices/{invoice_id}/payments"),
        ("GET /customers/{id}", "customers", customer_id, f"/customers/{customer_id}"),
        ("GET /customers/{id}/contacts", "customers", customer_id, f"/customers/{customer_id}/contacts"),
        ("GET /transactions/{id}", "transactions", transaction_id, f"/transactions/{transaction_id}"),
        ("GET /transactions/{id}/matched_invoices", "transactions", transaction_id,
         f"/transactions/{transaction_id}/matched_invoices"),
    ]
    for endpoint, scope, ident, path in by_id:
        if not ident:
            results.append(_probe(endpoint, scope, granted, None))
            continue
        results.append(_probe(endpoint, scope, granted, partial(client.get, path, endpoint)))
    return results

def _probe(
    endpoint: str, scope: str, granted: set[str], call: Callable[[], Any] | None
) -> EndpointCheck:
    wanted = f"{scope}:readonly"
    if granted and not granted & {wanted, f"{scope}:all"}:
        return EndpointCheck(
            endpoint, False, f"the token lacks the scope {wanted} (GET /me lists {', '.join(sorted(granted))})"
        )
    if call is None:
        return EndpointCheck(endpoint, True, "not tried: no record to read yet")
    return probe(endpoint, call, needs=f"the scope {wanted}", missing_ok=True)
