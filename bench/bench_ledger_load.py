"""Loading the stored ledger for a pass: records decoded into objects, or the columns read straight out of
the state file (issue 17 item 3: "the stored ledger loaded as columns, not object by object").

    python bench/bench_ledger_load.py [--invoices 100000] [--rounds 3]

A state file is filled once with a generated ledger that has the traits of real books (credit notes,
invoices in dollars with their euro amount, invoices without a due date, partial payments, payments on
account, payments settling two invoices).  Then each way of loading it runs in its own process (its
peak memory is its own), alternated, best of the rounds kept:

- ``objects-python``: the records decoded one by one by the generated Python decoder (how the state
  store loaded them when the issue was filed), then the figures' frames built from them
  (:func:`~encours.sheets_addin.functions.frames.ledger_frames`) — the baseline;
- ``objects-msgspec``: the same with the tables decoded by msgspec, one JSON array per table, in C
  (what a pass does now);
- ``columns-json``: the frames' columns read out of the stored JSON by SQLite (``json_extract``,
  ``json_each``), no record object at all;
- ``columns-typed``: the same columns from tables holding them typed (cents as integers, the effective
  due date) — what storing the ledger as columns would give; the fastest way known here.  Those tables
  are written when the file is filled (their writing is not timed: a pass after a change would pay it).

Each phase prints CPU seconds to load, to build the frames, and peak memory; the frames of every phase
are checked equal (a digest of each column), so the four ways compute the same figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = date(2026, 11, 23)
TERMS = 30
PHASES = ("objects-python", "objects-msgspec", "columns-json", "columns-typed")


def generated_ledger(invoices: int) -> Any:
    """A ledger with the traits of real books (see the module), the same for a given size."""
    from encours.connectors.model import Allocation, Customer, DocumentKind, Invoice, InvoiceStatus, Ledger, Money
    from encours.connectors.records import Payment

    rng = random.Random(17)
    people = [Customer(f"C{i:06d}", f"Client {i} SARL", "bench", emails=(f"c{i}@example.fr",))
              for i in range(max(1, invoices // 20))]
    rows: list[Invoice] = []
    payments: list[Payment] = []
    for i in range(invoices):
        customer = people[i % len(people)].id
        issue = AS_OF - timedelta(days=rng.randrange(0, 400))
        currency = "USD" if rng.random() < 0.05 else "EUR"
        total = Decimal(rng.randrange(1000, 900000)) / 100
        paid = rng.random()
        remaining = total if paid < 0.45 else Decimal(0) if paid < 0.85 else (total / 3).quantize(Decimal("0.01"))
        status = (InvoiceStatus.OPEN if remaining == total else InvoiceStatus.PAID if not remaining
                  else InvoiceStatus.PARTIALLY_PAID)
        kind = DocumentKind.CREDIT_NOTE if rng.random() < 0.03 else DocumentKind.INVOICE
        rows.append(Invoice(
            f"F{i:07d}", f"F-{i:07d}", customer, "bench", issue,
            None if rng.random() < 0.02 else issue + timedelta(days=rng.choice((0, 30, 45, 60))),
            Money(total, currency), Money(remaining, currency), kind=kind, status=status,
            remaining_company=(Money((remaining * Decimal("0.9217")).quantize(Decimal("0.01")))
                               if currency != "EUR" and rng.random() < 0.8 else None)))
        if remaining != total and kind is DocumentKind.INVOICE:
            amount = total - remaining
            allocations = [Allocation(f"F{i:07d}", Money(amount, currency))]
            earlier = i - len(people)  # the same customer's invoice before this one
            if earlier >= 0 and rng.random() < 0.1 and rows[earlier].currency == currency:  # one transfer, two invoices
                allocations.append(Allocation(f"F{earlier:07d}", Money(Decimal("1.00"), currency)))
            payments.append(Payment(f"P{i:07d}", customer, "bench", issue + timedelta(days=rng.randrange(0, 90)),
                                    Money(amount, currency), tuple(allocations),
                                    method=rng.choice(("transfer", "direct_debit", "cheque", ""))))
        if rng.random() < 0.02:  # a payment on account: matched to nothing yet
            payments.append(Payment(f"A{i:07d}", customer, "bench", issue, Money(Decimal("250.00")), ()))
    return Ledger(tuple(people), tuple(rows), tuple(payments))


def fill(path: Path, invoices: int) -> None:
    """The state file with the ledger, and the typed-column tables ``columns-typed`` reads."""
    from encours.connectors.model import Delta
    from encours.sheets_addin.functions.frames import ledger_frames
    from encours.sync.state import StateStore

    ledger = generated_ledger(invoices)
    with StateStore(path) as store, store.transaction():
        store.apply_delta(Delta(customers=ledger.customers, invoices=ledger.invoices, payments=ledger.payments))
    frame, _ = ledger_frames(ledger, default_terms=TERMS)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoice_columns (id TEXT PRIMARY KEY, customer_id TEXT, kind TEXT, status TEXT,"
               " currency TEXT, issue_date TEXT, due_date TEXT, total_cents INTEGER, remaining_cents INTEGER,"
               " remaining_eur_cents INTEGER)")
    db.execute("CREATE TABLE allocation_columns (payment_id TEXT, position INTEGER, customer_id TEXT, invoice_id TEXT,"
               " date TEXT, amount_cents INTEGER, currency TEXT, method TEXT, PRIMARY KEY (payment_id, position))")
    eur = frame["remaining_eur_cents"]
    db.executemany("INSERT INTO invoice_columns VALUES (?,?,?,?,?,?,?,?,?,?)", [
        (i.id, i.customer_id, i.kind.value, i.status.value, i.currency, i.issue_date.isoformat(),
         i.effective_due_date(TERMS).isoformat(), int(t), int(r), None if e is None else int(e))
        for i, t, r, e in zip(ledger.invoices, frame["total_cents"], frame["remaining_cents"],
                              eur.astype(object).where(eur.notna(), None), strict=True)])
    owner = {i.id: i.customer_id for i in ledger.invoices}
    db.executemany("INSERT INTO allocation_columns VALUES (?,?,?,?,?,?,?,?)", [
        (p.id, n, owner.get(a.invoice_id, p.customer_id), a.invoice_id, p.date.isoformat(),
         int((a.amount.amount * 100).to_integral_value()), a.amount.currency, p.method)
        for p in ledger.payments for n, a in enumerate(p.allocations)])
    db.commit()
    db.close()


_INVOICES_JSON = """
SELECT id, customer_id, json_extract(data, '$.kind'), status, json_extract(data, '$.total.currency'),
       json_extract(data, '$.issue_date'),
       coalesce(json_extract(data, '$.due_date'), date(json_extract(data, '$.issue_date'), '+{terms} days')),
       json_extract(data, '$.total.amount'), json_extract(data, '$.remaining.amount'),
       json_extract(data, '$.remaining_company.amount')
FROM invoices ORDER BY id"""
_PAYMENTS_JSON = """
SELECT p.id, coalesce(i.customer_id, p.customer_id), json_extract(a.value, '$.invoice_id'),
       json_extract(p.data, '$.date'), json_extract(a.value, '$.amount.amount'),
       json_extract(a.value, '$.amount.currency'), json_extract(p.data, '$.method')
FROM payments p, json_each(p.data, '$.allocations') a
LEFT JOIN invoices i ON i.id = json_extract(a.value, '$.invoice_id')
ORDER BY p.id, a.key"""


def _cents(texts: Any) -> Any:
    """Decimal texts with two decimals as int64 cents (exact below 2**53 cents)."""
    import numpy as np
    import pandas as pd

    return np.rint(pd.to_numeric(texts, errors="coerce").to_numpy(dtype="float64") * 100)


def _columns_json(db: Any) -> tuple[Any, Any, Any]:
    import numpy as np
    import pandas as pd

    from encours.sheets_addin.functions.frames import INVOICE_COLUMNS, PAYMENT_COLUMNS

    raw = pd.DataFrame(db.execute(_INVOICES_JSON.format(terms=TERMS)).fetchall(),
                       columns=[*INVOICE_COLUMNS[:-1], "company"])
    sign = np.where(raw["kind"].to_numpy() == "credit_note", -1, 1)
    raw["total_cents"] = (_cents(raw["total_cents"]) * sign).astype("int64")
    raw["remaining_cents"] = (_cents(raw["remaining_cents"]) * sign).astype("int64")
    company = _cents(raw.pop("company")) * sign  # NaN: no amount in the company currency
    euro = (raw["currency"] == "EUR").to_numpy()
    raw["remaining_eur_cents"] = pd.array(np.where(euro, raw["remaining_cents"], company), dtype="Int64")
    payments = pd.DataFrame(db.execute(_PAYMENTS_JSON).fetchall(), columns=PAYMENT_COLUMNS)
    payments["amount_cents"] = _cents(payments["amount_cents"]).astype("int64")
    customers = [row[0] for row in db.execute("SELECT id FROM customers")]
    return raw, payments, customers


def _columns_typed(db: Any) -> tuple[Any, Any, Any]:
    import pandas as pd

    from encours.sheets_addin.functions.frames import INVOICE_COLUMNS, PAYMENT_COLUMNS

    raw = pd.DataFrame(db.execute(f"SELECT {', '.join(INVOICE_COLUMNS)} FROM invoice_columns ORDER BY id").fetchall(),
                       columns=INVOICE_COLUMNS)
    payments = pd.DataFrame(db.execute(f"SELECT {', '.join(PAYMENT_COLUMNS)} FROM allocation_columns"
                                       " ORDER BY payment_id, position").fetchall(), columns=PAYMENT_COLUMNS)
    customers = [row[0] for row in db.execute("SELECT id FROM customers")]
    return raw, payments, customers


def _fingerprint(invoices: Any, payments: Any) -> str:
    """A digest of every column of both frames (the same figures whichever way they were loaded)."""
    digest = hashlib.sha256()
    for frame in (invoices, payments):
        for column in sorted(frame.columns):
            digest.update(column.encode() + b"\0" + frame[column].astype(str).str.cat(sep="\x1f").encode())
    return digest.hexdigest()[:16]


def phase(name: str, path: Path) -> dict[str, Any]:
    from encours.connectors import codec
    from encours.connectors.memory import without_cycle_collection
    from encours.sheets_addin.functions.frames import invoice_frame, ledger_frames, payment_frame
    from encours.sync.state import StateStore

    codec.USE_MSGSPEC = name != "objects-python"
    store = StateStore(path)
    db = sqlite3.connect(path)
    start = time.process_time()
    if name.startswith("objects"):
        ledger = store.ledger()  # the collector paused, as in a pass
        loaded = time.process_time()
        invoices, payments = without_cycle_collection(ledger_frames)(ledger, default_terms=TERMS)
        rows = len(ledger.invoices)
    else:
        raw, pay_raw, customers = (_columns_json if name == "columns-json" else _columns_typed)(db)
        loaded = time.process_time()
        invoices = invoice_frame(raw, customers)
        payments = payment_frame(pay_raw, invoices)
        rows = len(invoices)
    done = time.process_time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"load": loaded - start, "frames": done - loaded, "total": done - start, "peak_mb": peak,
            "rows": rows, "fingerprint": _fingerprint(invoices, payments)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--state")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, Path(args.state))))
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    best: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state.sqlite"
        fill(state, args.invoices)
        for _ in range(args.rounds):
            for name in PHASES:
                done = subprocess.run([sys.executable, __file__, "--phase", name, "--state", str(state)],
                                      capture_output=True, text=True, check=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                kept = best.setdefault(name, result)
                for key in ("load", "frames", "total"):
                    kept[key] = min(kept[key], result[key])
                kept["peak_mb"] = max(kept["peak_mb"], result["peak_mb"])
                if result["fingerprint"] != best[PHASES[0]]["fingerprint"]:
                    raise SystemExit(f"{name}: frames differ from {PHASES[0]}'s")
    print(f"{args.invoices:,} invoices, best of {args.rounds} alternated rounds (CPU seconds); frames equal in every "
          f"phase; load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base, fastest = best["objects-python"]["total"], best["columns-typed"]["total"]
    for name, r in best.items():
        print(f"{name:16s} load {r['load']:6.2f} s   frames {r['frames']:6.2f} s   total {r['total']:6.2f} s   "
              f"peak {r['peak_mb']:5.0f} MB   {r['total'] / base:5.2f} x objects-python   "
              f"{r['total'] / fastest:5.2f} x columns-typed")


if __name__ == "__main__":
    main()
