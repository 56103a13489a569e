"""An accounting firm on one small server (issue 17 item 6): how many dossiers one core keeps on a
15-minute cycle.

``--dossiers`` dossiers of ``--invoices`` open invoices each (CSV exports, outbox mode; one customer
per 20 invoices, the ledger of ``bench_pass.py``) are synced and passed once — the first dossier is
prepared that way and copied, each copy its own folder, state file and workbook.  Then the daemon
(:class:`encours.sync.daemon.Daemon`, its ``run_one`` as its loop calls it, all dossiers in one
process) passes each dossier with nothing changed at the source or in the sheet:

* a *full* unchanged pass — at most what the first of a day costs (here the unchanged-pass records and
  the kept plans are turned off for it, ``ENCOURS_NO_UNCHANGED_PASS``, ``ENCOURS_NO_PLAN_MEMORY``: it
  plans every customer; a new day plans again only those whose day came);
* the *later* passes of the day — nothing changed since the previous one, which left its record.

Prints the CPU seconds of each kind per dossier (median, slowest), the process's peak memory, and
the dossiers one core keeps on the cycle: ``cycle / CPU per pass`` when every pass is full, and for
a day of 96 cycles with one full pass per dossier and the rest unchanged.

    python bench/bench_firm.py [--dossiers 200 --invoices 5000 --cycle 900]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pass import AS_OF, CONFIG, write_dossier

from encours.sync.config import load_config
from encours.sync.daemon import Daemon, Dossier
from encours.sync.plan_memory import DISABLE_ENV as NO_PLAN_MEMORY
from encours.sync.unchanged import DISABLE_ENV

NINE = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def prepare(root: Path, dossiers: int, invoices: int) -> list[Path]:
    """The dossiers' configuration files, each dossier synced and passed once."""
    first = root / "dossier-000"
    first.mkdir(parents=True)
    (first / "encours.toml").write_text(CONFIG, encoding="utf-8")
    write_dossier(first, invoices, paid_share=0.0)  # every invoice open
    started = time.process_time()
    daemon = Daemon([str(first / "encours.toml")], loader=load_config, clock=lambda: NINE)
    daemon.run_one(daemon.dossiers[0])
    print(f"first sync and pass of one dossier: {time.process_time() - started:.1f} s CPU", flush=True)
    paths = [first / "encours.toml"]
    for n in range(1, dossiers):
        copy = root / f"dossier-{n:03d}"
        shutil.copytree(first, copy)
        paths.append(copy / "encours.toml")
    return paths


def timed(daemon: Daemon, dossier: Dossier) -> float:
    started = time.process_time()
    daemon.run_one(dossier)
    if dossier.failures:
        raise SystemExit(f"{dossier.path}: the pass failed — {dossier.last_error}")
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=200)
    parser.add_argument("--invoices", type=int, default=5000, help="open invoices per dossier")
    parser.add_argument("--cycle", type=int, default=900, help="seconds between two passes of a dossier")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="encours-firm-"))
    try:
        paths = prepare(root, args.dossiers, args.invoices)
        daemon = Daemon([str(p) for p in paths], loader=load_config, clock=lambda: NINE)
        full: list[float] = []
        later: list[float] = []
        for dossier in daemon.dossiers:
            os.environ[DISABLE_ENV] = os.environ[NO_PLAN_MEMORY] = "1"
            full.append(timed(daemon, dossier))
            del os.environ[DISABLE_ENV], os.environ[NO_PLAN_MEMORY]
            timed(daemon, dossier)  # finds its inputs unchanged by the previous pass: leaves the record
            later.append(timed(daemon, dossier))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        shutil.rmtree(root, ignore_errors=True)
    day = (statistics.mean(full) + 95 * statistics.mean(later)) / 96
    print(f"{args.dossiers} dossiers of {args.invoices} open invoices, one process, peak {peak:.0f} MB")
    print(f"full unchanged pass (first of a day): median {statistics.median(full):.3f} s CPU, "
          f"slowest {max(full):.3f} s")
    print(f"later unchanged pass:                 median {statistics.median(later):.3f} s CPU, "
          f"slowest {max(later):.3f} s")
    print(f"dossiers one core keeps on a {args.cycle // 60}-minute cycle: {args.cycle / statistics.mean(full):.0f} "
          f"if every pass is full; {args.cycle / day:.0f} with one full pass a day and the rest unchanged "
          f"(goal: 1,000)")


if __name__ == "__main__":
    main()
