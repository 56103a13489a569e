"""``encours daemon``: repeat the pass on each dossier's schedule until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from encours.sync.commands.common import add_config_argument, load


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "daemon",
        parents=list(parents),
        help="repeat `run` on the configured schedule until stopped (several -c for several dossiers)",
        description="Run the reminder pass every [schedule] every for each configuration file. A dossier whose "
        "source or sheet is down backs off and the log says so. SIGTERM/SIGINT finish the message under way, "
        "write the sheet and exit. A heartbeat JSON file tells a monitor how each dossier is doing.",
    )
    add_config_argument(parser, many=True)
    parser.add_argument("--heartbeat", metavar="FILE", default=None,
                        help="heartbeat file (default: [schedule] heartbeat, else encours-heartbeat.json next to "
                        "the first dossier's state file)")
    parser.add_argument("--max-passes", type=int, default=None, metavar="N",
                        help="stop after N passes (tests, cron-like use)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from encours.sync.daemon import Daemon

    paths = args.config or ["encours.toml"]
    for path in paths:
        load(path)  # a broken configuration is refused before the daemon starts (exit 2)
    daemon = Daemon(paths, loader=load, heartbeat=Path(args.heartbeat) if args.heartbeat else None,
                    max_passes=args.max_passes)
    daemon.install_signal_handlers()
    return daemon.serve()
