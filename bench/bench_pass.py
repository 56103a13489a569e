"""What a reminder pass costs as the ledger grows, with nothing or 1 % changed at the source (issue 17 item 3).

For each size, a CSV dossier (invoices, payments; one customer per 20 invoices) is synced and
passed once (its first pass sends what is due), then timed, each pass in its own process
(``encours run``) so that the figure is what the scheduled job pays:

* an unchanged pass — same export, nobody typed anything, the previous pass left its record
  (:mod:`encours.sync.unchanged`): what the scheduled job pays on all but the first pass of a day;
* the same pass planning everything again (records and kept plans off, ``ENCOURS_NO_UNCHANGED_PASS=1``,
  ``ENCOURS_NO_PLAN_MEMORY=1``): the baseline of the line above;
* the same pass with kept plans but no record: what a dossier whose sheet is a Google Sheet (never
  recorded: its marks are read on each pass) pays on each pass of a quiet day;
* a pass after 1 % of the invoices were paid at the source, with kept plans (customers untouched keep
  theirs: :mod:`encours.sync.plan_memory`) and, from the same state, planning everyone from scratch;
* the next day's first pass, nothing changed at the source, the same two ways (with kept plans, only
  the customers whose first crossing came — a step or an invoice falls due — are planned again).

Prints wall and CPU seconds and peak memory per pass, the cost per 1,000 invoices, and the slope
against the smallest size measured in the same run (1.0 = linear).

    python bench/bench_pass.py --sizes 1000 10000 100000 [--prepared DIR] [--window-closed] [--rounds 3]

``--rounds``: each size lived that many times from a fresh copy; the medians are printed (one pass
of 100,000 invoices moves by ±2–3 s from one run to the next even on a quiet machine).

The first sync and pass of a large dossier is long (it sends what is due: about half an hour of
CPU at 100,000 invoices); ``--prepared DIR`` keeps each prepared dossier there and later runs copy
it instead of preparing it again (delete the folder after changing the state store's format).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

DISABLE_ENV = "ENCOURS_NO_UNCHANGED_PASS"  # encours.sync.unchanged.DISABLE_ENV
NO_PLAN_MEMORY = "ENCOURS_NO_PLAN_MEMORY"  # encours.sync.plan_memory.DISABLE_ENV
AS_OF = date(2026, 11, 23)
CONFIG = """[company]
name = "Bench SARL"
state = "state.sqlite"
email = "factures@bench.example"

[source]
type = "csv"
path = "factures.csv"
payments = "paiements.csv"
customers = "clients.csv"

[sheet]
type = "xlsx"
path = "encours.xlsx"

[sending]
mode = "outbox"
outbox = "outbox"
every_day = true
window = "00:00-23:59"

[risk]
enabled = false
"""


CACHE = ".cache"
#: Marks a prepared dossier (2: prepared where it is lived, its cache folder in it).
PREPARED = "prepared-2"

#: ``--window-closed``: the passes run outside the sending window (unless run in the minute after
#: midnight): what is due is deferred, nothing is rendered — the dossier of a night or a weekend, and
#: a large dossier prepared without sending its first reminders.
CLOSED = 'window = "00:00-00:01"'


def write_dossier(folder: Path, n: int, paid_share: float, seed: int = 7) -> None:
    rng = random.Random(seed)
    customers = max(1, n // 20)
    lines = ["Numéro;Client;ID client;Date;Échéance;Montant TTC;Reste dû;Devise"]
    pay = ["Date;ID client;Facture;Montant;Devise"]
    for i in range(n):
        issued = AS_OF - timedelta(days=rng.randint(5, 200))
        total = rng.randint(100, 5000)
        paid = rng.random() < paid_share
        remaining = 0 if paid else total
        lines.append(f"F{i:07d};Client {i % customers};C{i % customers:05d};{issued:%d/%m/%Y};"
                     f"{issued + timedelta(days=30):%d/%m/%Y};{total},00;{remaining},00;EUR")
        if paid:
            pay.append(f"{issued + timedelta(days=31):%d/%m/%Y};C{i % customers:05d};F{i:07d};{total},00;EUR")
    clients = ["ID client;Nom;Email"] + [f"C{c:05d};Client {c};compta{c}@client.example" for c in range(customers)]
    (folder / "factures.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "paiements.csv").write_text("\n".join(pay) + "\n", encoding="utf-8")
    (folder / "clients.csv").write_text("\n".join(clients) + "\n", encoding="utf-8")


Timing = tuple[float, float, float]  # wall seconds, CPU seconds, peak MB


def one_pass(folder: Path, day: date, *, records: bool = True, plans: bool | None = None) -> Timing:
    """Wall seconds, CPU seconds, peak RSS in MB of one ``encours run`` in its own process (peak:
    of this pass, measured by ``/usr/bin/time`` when present, else the largest child so far)."""
    env = {k: v for k, v in os.environ.items() if k not in (DISABLE_ENV, NO_PLAN_MEMORY)}
    env |= {} if records else {DISABLE_ENV: "1"}
    env |= {} if (records if plans is None else plans) else {NO_PLAN_MEMORY: "1"}
    env["XDG_CACHE_HOME"] = str(folder / CACHE)  # what is kept of the workbook travels with the dossier
    command = [sys.executable, "-m", "encours.sync.cli", "-q", "run", "-c", "encours.toml", "--as-of", day.isoformat()]
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    report = folder / ".time"
    if timer is not None:
        command = [timer, "-f", "%M", "-o", str(report), *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = int(report.read_text().split()[-1]) / 1024 if timer is not None else after.ru_maxrss / 1024
    return wall, cpu, peak


def prepared(n: int, keep: Path | None, *, window_closed: bool = False) -> Path:
    """A dossier of ``n`` invoices after its first sync and pass, in a folder of its own, emptied first.

    The folder's path is the same for every copy of one size: what encours keeps of the workbook between
    syncs (the rows' prints, people's marks: ``$XDG_CACHE_HOME/encours``, filed under the workbook's path)
    lives in the folder and is copied with it, as it stays beside a workbook a scheduled job syncs day
    after day (a copy elsewhere would find nothing kept and read every row, as after a person's save)."""
    name = f"dossier-{n}{'-closed' if window_closed else ''}"
    folder = Path(tempfile.gettempdir()) / f"encours-pass-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    kept = None if keep is None else keep / name
    if kept is not None and (kept / PREPARED).exists():
        shutil.copytree(kept, folder, dirs_exist_ok=True)
        return folder
    config = CONFIG.replace('window = "00:00-23:59"', CLOSED) if window_closed else CONFIG
    (folder / "encours.toml").write_text(config, encoding="utf-8")
    write_dossier(folder, n, paid_share=0.6)
    one_pass(folder, AS_OF)  # first pass: full sync, sends what is due
    if kept is not None:
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(folder, kept)
        (kept / PREPARED).touch()
    return folder


def paired(folder: Path, day: date, first_kept: bool) -> tuple[Timing, Timing]:
    """The same pass from the same state twice: with kept plans and records, and from scratch (the
    folder put back between the two; which goes first alternates between rounds).  The state left is
    the second pass's."""
    snapshot = folder.with_name(folder.name + ".before")
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(folder, snapshot, symlinks=True)
    try:
        timings: dict[bool, Timing] = {}
        for records in ((True, False) if first_kept else (False, True)):
            if timings:  # put the state back as it was before the first
                shutil.rmtree(folder)
                shutil.copytree(snapshot, folder, symlinks=True)
            timings[records] = one_pass(folder, day, records=records)
        return timings[True], timings[False]
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


KINDS = ("unchanged", "planned again (same day)", "same day, kept plans", "1 % paid: kept plans",
         "1 % paid: from scratch", "next day: kept plans", "next day: from scratch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--prepared", type=Path, help="keep (and reuse) the prepared dossiers in this folder")
    parser.add_argument("--window-closed", action="store_true", help="pass outside the sending window")
    parser.add_argument("--rounds", type=int, default=1,
                        help="live each size's passes this many times (from a fresh copy each time); medians kept")
    args = parser.parse_args()
    rows: list[tuple[int, list[Timing]]] = []
    for n in args.sizes:
        lived: list[list[Timing]] = []
        for round_ in range(args.rounds):
            folder = prepared(n, args.prepared, window_closed=args.window_closed)
            try:
                one_pass(folder, AS_OF)  # warms the caches; finds nothing changed and leaves its record
                unchanged = one_pass(folder, AS_OF)
                replanned = one_pass(folder, AS_OF, records=False)
                kept = one_pass(folder, AS_OF, records=False, plans=True)  # a Google sheet's pass: no record
                write_dossier(folder, n, paid_share=0.61)  # about 1 % more invoices paid
                changed = paired(folder, AS_OF, first_kept=round_ % 2 == 0)
                next_day = paired(folder, AS_OF + timedelta(days=1), first_kept=round_ % 2 == 1)
                lived.append([unchanged, replanned, kept, *changed, *next_day])
                print(n, *lived[-1], flush=True)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        # per kind of pass: the median wall and CPU of the rounds, and the largest peak
        rows.append((n, [(statistics.median(r[k][0] for r in lived), statistics.median(r[k][1] for r in lived),
                          max(r[k][2] for r in lived)) for k in range(len(KINDS))]))
    print(f"medians of {args.rounds} round(s)")
    print("invoices | pass | wall | CPU | peak | CPU per 1k invoices | slope (CPU per invoice vs the smallest size)")
    for col, kind in enumerate(KINDS):
        base_n, base_cpu = rows[0][0], rows[0][1][col][1]
        for n, passes in rows:
            wall, cpu, peak = passes[col]
            print(f"{n:>8} | {kind:<26} | {wall:6.2f} s | {cpu:6.2f} s | {peak:5.0f} MB | {1000 * cpu / n:6.3f} s | "
                  f"{(cpu / n) / (base_cpu / base_n):5.2f}")
    for n, passes in rows:
        kept_ratio = (f"same day {passes[2][1] / passes[1][1]:.2f}, 1 % paid {passes[3][1] / passes[4][1]:.2f}, "
                      f"next day {passes[5][1] / passes[6][1]:.2f}")
        print(f"{n:>8}: CPU, kept plans ÷ from scratch: {kept_ratio}; "
              f"unchanged ÷ planned again {passes[0][1] / passes[1][1]:.2f}")


if __name__ == "__main__":
    main()
