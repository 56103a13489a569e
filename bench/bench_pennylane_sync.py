"""Pennylane sync against a local rate-limited server: requests, 429s, time vs the rate-limit floor.

A separate process serves N Pennylane-shaped invoices (Company API v2 shapes: cursor pages of 100,
string amounts, changelogs, matched transactions) and enforces the platform's limit — 25 requests
per window — scaled down (25 per 0.1 s by default) so that a run is short; what counts is the
ratio to the floor the limit sets:  floor = (ceil(requests / 25) - 1) × window.

Measured, in one run:
1. a full sync on an empty state store (payment details fetched for paid invoices inside the
   scoring window, contacts for customers with open invoices);
2. the same full sync again (payment details and contacts come from the state store's cache);
3. an incremental sync after 1% of the invoices changed (a third of them newly paid).

    python bench/bench_pennylane_sync.py [--invoices 100000] [--window 0.1]

Prints requests by kind, 429 answers, seconds, the ratio to the floor and the client's peak RSS.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import calendar
import json
import math
import multiprocessing
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AS_OF = date(2026, 11, 23)
LIMIT = 25
B = "http://127.0.0.1/api/external/v2"


# -- the server ---------------------------------------------------------------------------------
class Data:
    """Compact invoices: id -> [customer, issue ordinal, total cents, remaining cents, status, tx id, tx ordinal]."""

    def __init__(self, invoices: int, customers: int, years: int, seed: int) -> None:
        rng = random.Random(seed)
        self.customers = customers
        self.invoices: dict[int, list[Any]] = {}
        self.labels: dict[int, str] = {}
        self.events: list[tuple[str, int, str, float]] = []  # (resource, id, operation, processed_at)
        self.tx_invoice: dict[int, int] = {}
        start = AS_OF.toordinal() - years * 365
        span = years * 365
        next_tx = 5_000_000
        for n in range(invoices):
            inv_id = 100_000 + n
            issued = start + (n * span) // invoices
            due = issued + 30
            total = rng.randrange(5_000, 500_000)
            age = AS_OF.toordinal() - due
            roll = rng.random()
            if rng.random() < 0.01:
                status, remaining = "credit_note", 0
            elif age > 90:
                status, remaining = ("paid", 0) if roll < 0.97 else ("late", total)
            elif age > 0:
                status, remaining = (
                    ("paid", 0) if roll < 0.7 else ("partially_paid", total // 2) if roll < 0.8 else ("late", total)
                )
            else:
                status, remaining = ("paid", 0) if roll < 0.2 else ("upcoming", total)
            tx = tx_day = 0
            if status in ("paid", "partially_paid"):
                next_tx += 1
                tx, tx_day = next_tx, min(due + rng.randrange(-20, 40), AS_OF.toordinal())
                self.tx_invoice[tx] = inv_id
            self.invoices[inv_id] = [1000 + n % customers, issued, total, remaining, status, tx, tx_day]
        self.ids = sorted(self.invoices)
        self.next_tx = next_tx

    def invoice_json(self, inv_id: int) -> dict[str, Any]:
        customer, issued, total, remaining, status, _, _ = self.invoices[inv_id]
        sign = -1 if status == "credit_note" else 1
        amount = f"{sign * total / 100:.2f}"
        rest = f"{sign * remaining / 100:.2f}"
        day = date.fromordinal(issued).isoformat()
        due = date.fromordinal(issued + 30).isoformat()
        return {
            "id": inv_id,
            "label": self.labels.get(inv_id, f"Prestation {inv_id}"),
            "invoice_number": f"F-{inv_id}",
            "currency": "EUR",
            "amount": amount,
            "currency_amount": amount,
            "currency_amount_before_tax": amount,
            "exchange_rate": "1.0",
            "date": day,
            "deadline": due,
            "currency_tax": "0.00",
            "tax": "0.00",
            "language": "fr_FR",
            "paid": remaining == 0 and status != "credit_note",
            "status": status,
            "discount": {"type": "relative", "value": "0"},
            "ledger_entry": {"id": inv_id + 7},
            "public_file_url": None,
            "filename": None,
            "remaining_amount_with_tax": rest,
            "remaining_amount_without_tax": rest,
            "draft": False,
            "special_mention": None,
            "customer": {"id": customer, "url": f"{B}/customers/{customer}"},
            "invoice_line_sections": {"url": f"{B}/customer_invoices/{inv_id}/invoice_line_sections"},
            "invoice_lines": {"url": f"{B}/customer_invoices/{inv_id}/invoice_lines"},
            "custom_header_fields": {"url": f"{B}/customer_invoices/{inv_id}/custom_header_fields"},
            "categories": {"url": f"{B}/customer_invoices/{inv_id}/categories"},
            "pdf_invoice_free_text": "",
            "pdf_invoice_subject": "",
            "pdf_description": None,
            "billing_subscription": None,
            "credited_invoice": None,
            "customer_invoice_template": None,
            "transaction_reference": None,
            "payments": {"url": f"{B}/customer_invoices/{inv_id}/payments"},
            "matched_transactions": {"url": f"{B}/customer_invoices/{inv_id}/matched_transactions"},
            "appendices": {"url": f"{B}/customer_invoices/{inv_id}/appendices"},
            "quote": None,
            "external_reference": f"ext-{inv_id}",
            "archived_at": None,
            "created_at": f"{day}T08:00:00.000000Z",
            "updated_at": f"{day}T09:00:00.000000Z",
        }

    def customer_json(self, cid: int) -> dict[str, Any]:
        return {
            "id": cid,
            "name": f"Client {cid} SARL",
            "billing_iban": None,
            "payment_conditions": "30_days",
            "recipient": "",
            "phone": "+33100000000",
            "reference": f"C{cid}",
            "notes": None,
            "vat_number": "",
            "reg_no": f"{500000000 + cid}",
            "ledger_account": {"id": cid},
            "emails": [f"compta{cid}@example.org"],
            "billing_address": {
                "address": "1 rue de la Paix",
                "postal_code": "75002",
                "city": "Paris",
                "country_alpha2": "FR",
            },
            "delivery_address": {"address": "", "postal_code": "", "city": "", "country_alpha2": "FR"},
            "external_reference": f"c-{cid}",
            "billing_language": "fr_FR",
            "customer_type": "company",
            "contacts": {"url": f"{B}/customers/{cid}/contacts"},
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }

    def change(self, fraction: float, seed: int) -> dict[str, int]:
        """Change a fraction of the invoices: open ones get paid (with a bank transaction), others relabelled."""
        rng = random.Random(seed)
        picked = rng.sample(self.ids, int(len(self.ids) * fraction))
        now = time.time()
        paid = 0
        open_ids = [i for i in self.ids if self.invoices[i][4] in ("late", "upcoming")]
        newly_paid = set(rng.sample(open_ids, min(len(open_ids), len(picked) // 3)))
        picked = list(newly_paid) + [i for i in picked if i not in newly_paid][: len(picked) - len(newly_paid)]
        for inv_id in picked:
            row = self.invoices[inv_id]
            if inv_id in newly_paid:
                self.next_tx += 1
                row[3], row[4], row[5], row[6] = 0, "paid", self.next_tx, AS_OF.toordinal()
                self.tx_invoice[self.next_tx] = inv_id
                self.events.append(("transactions", self.next_tx, "insert", now))
                paid += 1
            else:
                self.labels[inv_id] = f"Prestation {inv_id} (corrigée)"
            self.events.append(("customer_invoices", inv_id, "update", now))
        return {"changed": len(picked), "newly_paid": paid}


def page(items: list[Any], has_more: bool, cursor: str | None) -> dict[str, Any]:
    return {"has_more": has_more, "next_cursor": cursor if has_more else None, "items": items}


def run_server(port_queue: Any, invoices: int, customers: int, window: float, years: int) -> None:
    data = Data(invoices, customers, years, seed=11)
    lock = threading.Lock()
    state = {"window_start": 0.0, "count": 0, "requests": 0, "throttled": 0}

    def listing(ids: list[int], params: dict[str, str], limit_max: int = 100) -> tuple[list[int], bool, str | None]:
        limit = min(int(params.get("limit", 20)), limit_max)
        after = int(base64.b64decode(params["cursor"]).decode()) if params.get("cursor") else -1
        start = bisect.bisect_right(ids, after)
        chunk = ids[start : start + limit + 1]
        more = len(chunk) > limit
        chunk = chunk[:limit]
        cursor = base64.b64encode(str(chunk[-1]).encode()).decode() if more else None
        return chunk, more, cursor

    def filtered(params: dict[str, str], ids: list[int]) -> list[int]:
        for rule in json.loads(params.get("filter", "[]")):
            if rule["field"] == "id" and rule["operator"] == "in":
                wanted = {int(v) for v in rule["value"]}
                ids = [i for i in ids if i in wanted]
        return ids

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def reply(self, status: int, body: bytes, headers: dict[str, str], ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/_bench/change":
                with lock:
                    result = data.change(body["fraction"], body["seed"])
                self.reply(200, json.dumps(result).encode(), {})
            elif self.path == "/_bench/reset":
                with lock:
                    state["requests"] = state["throttled"] = 0
                self.reply(200, b"{}", {})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/_bench/stats":
                self.reply(200, json.dumps(state).encode(), {})
                return
            now = time.time()
            with lock:
                state["requests"] += 1
                start = math.floor(now / window) * window
                if start != state["window_start"]:
                    state["window_start"], state["count"] = start, 0
                reset = start + window
                if state["count"] >= LIMIT:
                    state["throttled"] += 1
                    wait = f"{max(reset - now, 0.001):.3f}"
                    self.reply(429, b"Rate limit exceeded\n", {"retry-after": wait}, "text/plain")
                    return
                state["count"] += 1
                headers = {
                    "ratelimit-limit": str(LIMIT),
                    "ratelimit-remaining": str(LIMIT - state["count"]),
                    "ratelimit-reset": f"{reset:.3f}",
                }
                body = self.route(
                    parts.path.removeprefix("/api/external/v2"), {k: v[0] for k, v in parse_qs(parts.query).items()}
                )
            if body is None:
                self.reply(404, b'{"error": "Not found", "status": 404}', headers)
            else:
                self.reply(200, json.dumps(body).encode(), headers)

        def route(self, path: str, params: dict[str, str]) -> Any:
            segments = path.strip("/").split("/")
            if path == "/me":
                return {"user": {"id": 1, "email": "bench@example.org"}, "company": {"id": 1, "name": "Bench SAS"}}
            if path == "/customers":
                ids, more, cursor = listing(filtered(params, list(range(1000, 1000 + data.customers))), params)
                return page([data.customer_json(i) for i in ids], more, cursor)
            if path == "/customer_invoices":
                ids, more, cursor = listing(filtered(params, data.ids), params)
                return page([data.invoice_json(i) for i in ids], more, cursor)
            if segments[0] == "customers" and segments[-1] == "contacts":
                cid = int(segments[1])
                contact = {
                    "id": cid * 10,
                    "first_name": "Anne",
                    "last_name": f"Compta {cid}",
                    "email": f"anne{cid}@example.org",
                    "role": "comptable",
                    "telephone_number": "",
                    "mobile_number": "",
                }
                return page([contact], False, None)
            if segments[0] == "customer_invoices" and segments[-1] == "matched_transactions":
                row = data.invoices.get(int(segments[1]))
                if row is None:
                    return None
                items = []
                if row[5]:
                    paid = f"{(row[2] - row[3]) / 100:.2f}"
                    items.append(
                        {
                            "id": row[5],
                            "label": f"VIR SEPA CLIENT {row[0]}",
                            "date": date.fromordinal(row[6]).isoformat(),
                            "currency": "EUR",
                            "currency_amount": paid,
                            "amount": paid,
                            "outstanding_balance": "0.0",
                        }
                    )
                return page(items, False, None)
            if path == "/transactions":  # every bench transfer is matched: no unallocated credit
                by_tx = {row[5]: row for row in data.invoices.values() if row[5]}
                ids, more, cursor = listing(filtered(params, sorted(by_tx)), params)
                return page([{
                    "id": tx, "label": f"VIR SEPA CLIENT {by_tx[tx][0]}", "currency": "EUR",
                    "date": date.fromordinal(by_tx[tx][6]).isoformat(), "outstanding_balance": "0.0",
                    "currency_amount": f"{(by_tx[tx][2] - by_tx[tx][3]) / 100:.2f}",
                    "amount": f"{(by_tx[tx][2] - by_tx[tx][3]) / 100:.2f}", "customer": {"id": by_tx[tx][0]},
                } for tx in ids], more, cursor)
            if segments[0] == "transactions" and segments[-1] == "matched_invoices":
                inv = data.tx_invoice.get(int(segments[1]))
                return page([{"id": inv}] if inv else [], False, None)
            if segments[0] == "changelogs":
                resource = segments[1]
                if params.get("start_date") and params.get("cursor"):
                    return {"error": "start_date and cursor cannot be used together", "status": 400}
                if params.get("start_date"):
                    since, offset = float(calendar.timegm(time.strptime(params["start_date"], "%Y-%m-%dT%H:%M:%SZ"))), 0
                else:
                    text_since, _, text_offset = params.get("cursor", "0:0").partition(":")
                    since, offset = float(text_since), int(text_offset)
                events = [e for e in data.events if e[0] == resource and e[3] >= since]
                limit = min(int(params.get("limit", 20)), 1000)
                chunk = events[offset : offset + limit]
                more = offset + limit < len(events)
                items = []
                for e in chunk:
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(e[3]))
                    items.append(
                        {"id": e[1], "operation": e[2], "processed_at": stamp, "updated_at": stamp, "created_at": stamp}
                    )
                return page(items, more, f"{since}:{offset + limit}")
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


# -- the client ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--window", type=float, default=0.1, help="seconds per 25-request window (Pennylane: 5)")
    parser.add_argument("--years", type=int, default=8, help="years of history the invoices span")
    args = parser.parse_args()

    import requests

    from encours.connectors.pennylane import PennylaneConnector
    from encours.sync.state import StateStore

    queue: Any = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=run_server, args=(queue, args.invoices, args.customers, args.window, args.years), daemon=True
    )
    server.start()
    port = queue.get(timeout=120)
    base = f"http://127.0.0.1:{port}"
    admin = requests.Session()

    def stats() -> dict[str, int]:
        return dict(admin.get(f"{base}/_bench/stats", timeout=10).json())

    def run(label: str, connector: PennylaneConnector, cursor: str | None) -> tuple[Any, dict[str, float]]:
        admin.post(f"{base}/_bench/reset", json={}, timeout=10)
        started = time.perf_counter()
        delta = connector.pull(cursor)
        elapsed = time.perf_counter() - started
        served = stats()
        by = connector.http.stats.by_endpoint
        requests_sent = connector.http.stats.requests
        floor = max(math.ceil(requests_sent / LIMIT) - 1, 0) * args.window
        figures = {
            "requests": requests_sent,
            "listing pages": by["GET /customer_invoices"] + by["GET /customers"],
            "payment details": by["GET /customer_invoices/{id}/matched_transactions"]
            + by["GET /customer_invoices/{id}/payments"],
            "contacts": by["GET /customers/{id}/contacts"],
            "changelog + matched_invoices": sum(
                v for k, v in by.items() if "changelogs" in k or "matched_invoices" in k
            ),
            "429 answers": served["throttled"],
            "seconds": round(elapsed, 2),
            "floor seconds": round(floor, 2),
            "ratio to floor": round(elapsed / floor, 3) if floor else float("nan"),
            "invoices": len(delta.invoices),
            "payments": len(delta.payments),
        }
        print(f"\n{label}")
        for key, value in figures.items():
            print(f"  {key:>30}: {value}")
        named = {"GET /customer_invoices", "GET /customers", "GET /customer_invoices/{id}/matched_transactions",
                 "GET /customer_invoices/{id}/payments", "GET /customers/{id}/contacts"}
        for endpoint, count in sorted(by.items()):  # what the lines above do not name, by endpoint
            if endpoint not in named and "changelogs" not in endpoint and "matched_invoices" not in endpoint and count:
                print(f"  {'other: ' + endpoint:>30}: {count}")
        return delta, figures

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder, StateStore(Path(folder) / "state.sqlite") as store:
        window_start = AS_OF - timedelta(days=730)
        print(
            f"{args.invoices} invoices, {args.customers} customers, {LIMIT} requests per {args.window} s window; "
            f"payment details for paid invoices issued since {window_start}"
        )

        def fresh() -> PennylaneConnector:
            return PennylaneConnector(
                "bench-token-0000", cache=store.cache(), as_of=AS_OF, base_url=f"{base}/api/external/v2"
            )

        full, first = run("full sync, empty state store", fresh(), None)
        paid_in_window = sum(
            1
            for i in full.invoices
            if i.status.value in ("paid", "partially_paid") and i.issue_date >= window_start and not i.is_credit_note
        )
        rss_full = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        budget = first["listing pages"] + first["contacts"] + paid_in_window
        print(f"  {'paid invoices in window':>30}: {paid_in_window}")
        print(f"  {'budget (pages + 1/paid)':>30}: {budget}  -> used {first['requests'] / budget:.3f} of it")
        run("full sync again, warm cache", fresh(), None)
        changed = requests.post(f"{base}/_bench/change", json={"fraction": 0.01, "seed": 5}, timeout=60).json()
        print(f"\nchanged {changed['changed']} invoices ({changed['newly_paid']} newly paid)")
        _, incremental = run("incremental sync after 1% changed", fresh(), full.cursor)
        print(f"  {'share of the full sync':>30}: {incremental['requests'] / first['requests']:.4f} (target <= 0.02)")
        del full
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"\npeak RSS of the client: {rss_full / 1024:.0f} MiB after the full sync "
        f"({rss_before / 1024:.0f} MiB before), {rss_after / 1024:.0f} MiB at the end"
    )
    server.terminate()


if __name__ == "__main__":
    main()
