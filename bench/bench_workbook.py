"""Workbook write speed: encours' xlsx backend against rustpy-xlsxwriter (Rust) on the same rows.

    python bench/bench_workbook.py [--invoices 100000] [--rounds 3]

Phases, each in its own process so that its peak memory (max RSS) is its own:

- ``rustpy``: rustpy-xlsxwriter writes the same ``Factures`` rows and columns, formulas included
  (the baseline: issue 17 asks the first write ≤ 1.5 × it, peak ≤ 500 MB);
- ``encours``: the first write of a new workbook (every tab);
- ``resync0``: a sync into that workbook with nothing changed, reading people's marks included
  (target ≤ 0.2 × the first write);
- ``resync1``: a sync with 1 % of the invoices changed (target ≤ 0.5 ×, peak ≤ 600 MB);
- ``resync0-cold``, ``resync1-cold``: the same with people's marks read from the cells (nothing kept
  in the cache folder, as after a person saved the workbook).

Only ratios measured in the same run mean something on a shared machine; the load is printed, and
every figure is given in wall time and in CPU time (the steadier one when the machine is shared).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import shutil
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
from encours.sheets_addin.view import SheetView  # noqa: E402

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


def _changed(ledger: Ledger, share: float) -> Ledger:
    """The same ledger with ``share`` of its invoices paid (every 1/share-th one)."""
    step = max(1, round(1 / share))
    invoices = tuple(
        dataclasses.replace(inv, remaining=Money(Decimal(0)), status=InvoiceStatus.PAID) if i % step == 0 else inv
        for i, inv in enumerate(ledger.invoices)
    )
    return dataclasses.replace(ledger, invoices=invoices)


def _rustpy(view: SheetView, out: Path) -> None:
    """The same Factures rows and columns as encours writes, formulas included, with the Rust writer."""
    from rustpy_xlsxwriter import write_worksheets

    from encours.sheets_addin.layout import INVOICES, Kind, column_letter, render_formula

    letters = {c.key: column_letter(i) for i, c in enumerate(INVOICES.columns)}
    formulas = {c.heading: render_formula(c.formula, letters, 0, {"row": "{row}"})
                for c in INVOICES.columns if c.kind is Kind.FORMULA}
    rows = []
    for row in (r for r in view.invoices if r["id"] in view.shown_invoice_ids):
        line: dict[str, object] = {}
        for column in INVOICES.columns:
            if column.kind is Kind.SYNCED:
                value = row.get(column.key)
                line[column.heading] = float(value) if isinstance(value, Decimal) else value
            elif column.kind is not Kind.FORMULA:
                line[column.heading] = None
        rows.append(line)
    write_worksheets([("Factures", rows)], str(out), formula_columns={"Factures": formulas})


def phase(name: str, invoices: int, out: Path) -> dict[str, float]:
    from encours.sheets_addin.view import build_view
    from encours.sheets_addin.xlsx import XlsxWorkbook

    ledger = big_ledger(invoices, max(1, invoices // 20))
    if name.startswith("resync1"):
        ledger = _changed(ledger, 0.01)
    view = build_view(ledger, AS_OF)
    start, cpu = time.perf_counter(), time.process_time()
    if name == "rustpy":
        _rustpy(view, out)
    elif name == "encours":
        out.unlink(missing_ok=True)
        XlsxWorkbook(out).write(view)
    else:  # a re-sync reads what people typed, then writes
        book = XlsxWorkbook(out)
        book.read_marks()
        book.write(view)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": elapsed, "cpu": cpu, "peak_mb": peak_mb, "bytes": out.stat().st_size,
            "rows": len(view.shown_invoice_ids)}


PHASES = ("rustpy", "encours", "resync0", "resync1", "resync0-cold", "resync1-cold")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternate the phases this many times; best kept")
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.invoices, Path(args.out))))
        return
    results: dict[str, dict[str, float]] = {}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for name in PHASES:
                out = Path(folder) / ("rustpy.xlsx" if name == "rustpy" else "encours.xlsx")
                if name.startswith("resync"):  # from the workbook as the first write left it
                    shutil.copy(Path(folder) / "first.xlsx", out)
                # the marks kept between syncs live in this run's own cache folder; a cold phase gets an empty one
                cache = Path(folder) / ("cache-cold" if name.endswith("-cold") else "cache")
                shutil.rmtree(Path(folder) / "cache-cold", ignore_errors=True)
                done = subprocess.run([sys.executable, __file__, "--phase", name, "--invoices", str(args.invoices),
                                       "--out", str(out)], capture_output=True, text=True, check=True,
                                      env={**os.environ, "XDG_CACHE_HOME": str(cache)})
                if name == "encours":
                    shutil.copy(out, Path(folder) / "first.xlsx")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                best = results.setdefault(name, dict(result))
                best["seconds"] = min(best["seconds"], result["seconds"])  # best wall and best CPU, each
                best["cpu"] = min(best["cpu"], result["cpu"])
                best["peak_mb"] = max(best["peak_mb"], result["peak_mb"])  # memory: the worst round
    print(f"invoices written: {results['encours']['rows']:,}  (best of {args.rounds} alternated rounds); "
          f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, r in results.items():
        print(f"{name:13s} wall {r['seconds']:7.2f} s   cpu {r['cpu']:7.2f} s   peak {r['peak_mb']:6.0f} MB   "
              f"file {r['bytes'] / 1e6:5.1f} MB")

    def ratio(name: str, base: str) -> str:
        wall = results[name]["seconds"] / results[base]["seconds"]
        cpu = results[name]["cpu"] / results[base]["cpu"]
        return f"{wall:.2f} wall, {cpu:.2f} CPU"

    print(f"first write / rustpy-xlsxwriter: {ratio('encours', 'rustpy')} (target <= 1.5, peak <= 500 MB)")
    print(f"re-sync, nothing changed / first write: {ratio('resync0', 'encours')} (target <= 0.2)")
    print(f"re-sync, 1 % changed / first write: {ratio('resync1', 'encours')} (target <= 0.5, peak <= 600 MB)")
    print(f"  marks read from the cells: nothing changed {ratio('resync0-cold', 'encours')}; "
          f"1 % changed {ratio('resync1-cold', 'encours')}")


if __name__ == "__main__":
    main()
