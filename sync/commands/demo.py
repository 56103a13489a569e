"""``encours demo``: the embedded default — a sample ledger, a full workbook, one reminder pass."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from encours.connectors.errors import ConfigError
from encours.sync.commands.common import Progress, add_as_of_argument, load, now_utc, today
from encours.sync.config import Config

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
ledger = "demo-ledger.json"   # written once (anchored at its creation day), then changed only by `encours demo --days`

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
        description="Build a realistic sample ledger (40 customers, two years) once, write DIR/encours-demo.xlsx "
        "with every tab, run one reminder pass into DIR/outbox/ and print a summary. With --days N, live N more "
        "days: customers pay, promise, dispute; a person types in the workbook; one pass a day.",
    )
    parser.add_argument("--out", default="encours-demo", metavar="DIR", help="output folder (default: ./encours-demo)")
    parser.add_argument("--days", type=int, default=0, metavar="N",
                        help="live N days after the last one lived (one pass a day), then print what happened")
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
    fresh = not config.source.get("ledger") or not config.source.path("ledger").exists()
    if args.days and not fresh:
        return _live(config, args.days, progress)
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
    if args.days:
        return _live(config, args.days, progress)
    return report.exit_code


def _live(config: Config, days: int, progress: Progress) -> int:
    if days < 1:
        raise ConfigError(f"--days {days}: give a number of days of at least 1")
    from encours.sync.demo_life import live

    summary = live(config, days, say=progress)
    print(f"encours demo — {config.company_name}: {days} day(s) lived")
    for line in summary.lines():
        print(f"  {line}")
    print(f"  Workbook: {config.sheet.path('path')} (tabs À faire, Relances), outbox: "
          f"{config.sending.path('outbox', 'outbox')}; weekly report: `encours report -c {config.file}`")
    return 0
