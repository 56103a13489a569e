"""Startup: what a person waits for before encours answers (issue 17 item 5).

Times, as whole processes in alternated rounds (median of ``--rounds``):

* ``encours --help`` and a usage error (``encours sync --bogus``), against the bare interpreter
  (``python -c pass``) — the floor no command can beat — and ``python -c "import pandas"``, what a
  command pays as soon as it touches a data library;
* ``encours sync`` of a 10-invoice CSV ledger into a new workbook, against the same floor.

Prints each figure as seconds and as a ratio against its baseline measured in the same run.

    python bench/bench_startup.py --rounds 7
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CSV = (
    "Numéro;Client;ID client;Date;Échéance;Montant TTC;Reste dû;Devise\n"
    + "".join(f"FA-{n:03d};Client {n % 4};C{n % 4};2026-0{1 + n % 9}-10;2026-1{n % 2}-01;{100 + n},00;{50 + n},00;EUR\n"
              for n in range(10))
)
CONFIG = """[company]
name = "Bench SARL"
state = "state.sqlite"

[source]
type = "csv"
path = "factures.csv"

[sheet]
type = "xlsx"
path = "encours.xlsx"

[sending]
mode = "outbox"
outbox = "outbox"
"""


def timed(argv: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    encours = shutil.which("encours") or sys.exit("encours is not installed in this environment")
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "factures.csv").write_text(CSV, encoding="utf-8")
        (folder / "encours.toml").write_text(CONFIG, encoding="utf-8")
        commands: dict[str, tuple[list[str], Path | None]] = {
            "python -c pass": ([python, "-c", "pass"], None),
            "python -c 'import pandas'": ([python, "-c", "import pandas"], None),
            "encours --help": ([encours, "--help"], None),
            "encours sync --bogus": ([encours, "sync", "--bogus"], None),
            "encours sync (10 invoices, new workbook)": ([encours, "-q", "sync", "-c", "encours.toml"], folder),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv, cwd in commands.values():  # warm-up: caches, .pyc files
            timed(argv, cwd)
        for _ in range(args.rounds):
            for name, (argv, cwd) in commands.items():
                if "sync (" in name:
                    for leftover in ("encours.xlsx", "state.sqlite"):
                        (folder / leftover).unlink(missing_ok=True)
                times[name].append(timed(argv, cwd))
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median["python -c pass"]
    pandas = median["python -c 'import pandas'"]
    print(f"rounds: {args.rounds}, medians (min–max)")
    for name, values in times.items():
        print(f"  {name:<42} {median[name]:6.3f} s ({min(values):.3f}–{max(values):.3f})"
              f"   × bare interpreter {median[name] / floor:5.2f}   × import pandas {median[name] / pandas:5.2f}")
    print(f"encours --help above the bare interpreter: {median['encours --help'] - floor:.3f} s (goal: < 0.3 s in all)")


if __name__ == "__main__":
    main()
