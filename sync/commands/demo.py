"""``encours demo``: the embedded default — a sample ledger, a full workbook, one reminder pass."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from encours.sync.commands.common import Progress, add_as_of_argument, load, now_utc, today

DEMO_CONFIG = """\
# encours demo dossier — written by `encours demo`; edit it, then `encours sync -c {config}`.
[company]
name = "Atelier Dupont SARL"
country = "FR"
timezone = "Europe/Paris"
language = "fr"
iban = "FR7630006000011234567890189"
state = "encours-state.sqlite"

[source]
type = "demo"

[sheet]
type = "xlsx"
path = "encours-demo.xlsx"

[sending]
mode = "outbox"
outbox = "outbox"
from = "relances@atelier-dupont.fr"
window = "00:00-23:59"
every_day = true

[scenarios]
default = "standard"

[schedule]
every = "15m"
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "demo",
        parents=list(parents),
        help="the embedded demo: sample ledger → workbook → one reminder pass (no account needed)",
        description="Build a realistic sample ledger (40 customers, two years), write DIR/encours-demo.xlsx "
        "with every tab, run one reminder pass into DIR/outbox/ and print a summary.",
    )
    parser.add_argument("--out", default="encours-demo", metavar="DIR", help="output folder (default: ./encours-demo)")
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def write_demo_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "encours.toml"
    if not config.exists():
        config.write_text(DEMO_CONFIG.format(config=config), encoding="utf-8")
    return config


def run(args: argparse.Namespace) -> int:
    from encours.sync.pull import sync
    from encours.sync.run import run_pass

    folder = Path(args.out)
    config = load(str(write_demo_config(folder)))
    progress = Progress(args.quiet)
    as_of = args.as_of or today(config)
    summary = sync(config, as_of=as_of, now=now_utc(), full=True, progress=progress)
    print(f"encours demo — {config.company_name}, as of {as_of:%d/%m/%Y}")
    for line in summary.lines():
        print(f"  {line}")
    report = run_pass(config, as_of=as_of, now=now_utc(), progress=progress)
    print(f"  Reminders (outbox {config.sending.path('outbox', 'outbox')}):")
    for line in report.lines()[1 + len(report.sync_lines):]:
        print(f"    {line}")
    print(f"  Configuration: {config.file}")
    return report.exit_code
