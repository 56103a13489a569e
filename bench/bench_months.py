"""Months of life: time per simulated day (issue 12, benchmark).

The life of ``tests/sync/test_months.py`` (``tests/support/months.py``: generated ledger, payer
behaviours, people typing, one real pass a day with the SQLite state and the outbox), scaled to a
number of invoices, lived ``--days`` days.  Prints the ledger's size, the messages sent, and the
time per simulated day (mean, median, slowest; wall and CPU — on a shared machine the CPU is the
figure that holds), the simulation around the pass included.

Run: ``python bench/bench_months.py --invoices 1000 --days 120`` (and ``--invoices 10000``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.months import Life

START = date(2026, 9, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000, help="about this many invoices over the life")
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    customers = max(200, round(args.invoices / 1.5))  # the test's life: about 1.5 invoices a customer
    spacing = (100, 140)
    with tempfile.TemporaryDirectory() as folder:
        life = Life(Path(folder), START, customers=customers, spacing=spacing)
        total = len(life.ledger().invoices) + len(life.pending)
        print(f"{customers} customers, {total} invoices over the life "
              f"({len(life.ledger().invoices)} at the start), {args.days} days")
        days: list[float] = []
        cpu: list[float] = []
        for n in range(args.days):
            day = START + timedelta(days=n)
            started, started_cpu = time.perf_counter(), time.process_time()
            report = life.live(day)
            days.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            sent = 0 if report is None else len(report.sent) + len(report.tasks)
            print(f"  {day}: {days[-1]:.2f} s ({cpu[-1]:.2f} s CPU), {sent} messages and tasks", flush=True)
        sent = sum(len(r.sent) + len(r.tasks) for r in life.reports.values())
        print(f"messages and tasks: {sent} ({sent / args.days:.1f} a day)")
        print(f"time per simulated day: mean {statistics.mean(days):.2f} s, median {statistics.median(days):.2f} s, "
              f"slowest {max(days):.2f} s, total {sum(days):.0f} s")
        print(f"CPU per simulated day: mean {statistics.mean(cpu):.2f} s, median {statistics.median(cpu):.2f} s, "
              f"slowest {max(cpu):.2f} s, total {sum(cpu):.0f} s")


if __name__ == "__main__":
    main()
