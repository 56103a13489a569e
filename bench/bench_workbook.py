"""Workbook write speed: encours' xlsx backend vs ``pandas.DataFrame.to_excel`` on the same rows.

    python bench/bench_workbook.py [--invoices 100000]

Each phase runs in its own process so that its peak memory (max RSS) is its own.  The ratio
encours / to_excel is what counts (target ≤ 1.0); both run in the same invocation on the same
machine.  encours writes more than to_excel: formulas, formats, drop-downs, the other tabs.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money  # noqa: E402

AS_OF = date(2026, 11, 23)


def big_ledger(invoices: int, customers: int) -> Ledger:
    rng = random.Random(7)
    people = tuple(Customer(f"C{i:06d}", f"Client {i} SARL", "bench", emails=(f"c{i}@example.fr",),
                            salesperson=f"Commercial {i % 12}") for i in range(customers))
    rows = []
    for i in range(invoices):
        issue = AS_OF - timedelta(days=rng.randrange(0, 400))
        total = Decimal(rng.randrange(1000, 900000)) / 100
        remaining = total if rng.random() < 0.7 else (total / 2).quantize(Decimal("0.01"))
        rows.append(Invoice(f"INV{i:07d}", f"F-{i:07d}", people[i % customers].id, "bench", issue,
                            issue + timedelta(days=30), Money(total), Money(remaining),
                            status=InvoiceStatus.OPEN if remaining == total else InvoiceStatus.PARTIALLY_PAID))
    return Ledger(people, tuple(rows), ())


def phase(name: str, invoices: int, out: Path) -> dict[str, float]:
    from encours.sheets_addin.view import build_view

    ledger = big_ledger(invoices, max(1, invoices // 20))
    view = build_view(ledger, AS_OF)
    if name == "encours":
        from encours.sheets_addin.xlsx import XlsxWorkbook

        start, cpu = time.perf_counter(), time.process_time()
        XlsxWorkbook(out).write(view)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    else:
        import pandas as pd

        frame = pd.DataFrame([r for r in view.invoices if r["id"] in view.shown_invoice_ids])
        start, cpu = time.perf_counter(), time.process_time()
        frame.to_excel(out, sheet_name="Factures", index=False, engine="openpyxl")
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": elapsed, "cpu": cpu, "peak_mb": peak_mb, "bytes": out.stat().st_size,
            "rows": len(view.shown_invoice_ids)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternate the phases this many times; best kept")
    parser.add_argument("--phase", choices=("encours", "to_excel"))
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.invoices, Path(args.out))))
        return
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for name in ("to_excel", "encours"):
                out = Path(folder) / f"{name}.xlsx"
                out.unlink(missing_ok=True)
                done = subprocess.run([sys.executable, __file__, "--phase", name, "--invoices", str(args.invoices),
                                       "--out", str(out)], capture_output=True, text=True, check=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                best = results.get(name)
                if best is None or result["seconds"] < best["seconds"]:
                    results[name] = {**result, "cpu": min(result["cpu"], best["cpu"]) if best else result["cpu"]}
                else:
                    best["cpu"] = min(best["cpu"], result["cpu"])
    print(f"invoices written: {results['encours']['rows']:,}  (best of {args.rounds} alternated rounds)")
    for name, r in results.items():
        print(f"{name:9s} wall {r['seconds']:7.2f} s   cpu {r['cpu']:7.2f} s   peak {r['peak_mb']:6.0f} MB   "
              f"file {r['bytes'] / 1e6:5.1f} MB")
    print(f"ratio encours / to_excel: wall {results['encours']['seconds'] / results['to_excel']['seconds']:.2f}, "
          f"cpu {results['encours']['cpu'] / results['to_excel']['cpu']:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()
