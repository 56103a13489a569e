"""``encours sync``: pull from the source and refresh the sheet; sends nothing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from encours.sync.commands.common import Progress, add_as_of_argument, add_config_argument, load, now_utc, today


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "sync",
        parents=list(parents),
        help="pull from the source and refresh the sheet (sends nothing)",
        description="Pull customers, invoices, credit notes and payments from the source and refresh the "
        "sheet. People's columns are kept. A failed sync leaves the sheet and the cursor as they were.",
    )
    add_config_argument(parser)
    parser.add_argument("--full", action="store_true", help="pull everything again instead of the changes")
    parser.add_argument("--new-sheet", action="store_true",
                        help="the dossier's sheet is missing: start a new, empty one (its marks are lost)")
    parser.add_argument("--allow-empty", action="store_true",
                        help="accept a full export with no open invoice (every invoice really is paid)")
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from encours.sync.pull import sync

    config = load(args.config)
    summary = sync(
        config, as_of=args.as_of or today(config), now=now_utc(), full=args.full, progress=Progress(args.quiet),
        new_sheet=args.new_sheet, allow_empty=args.allow_empty,
    )
    for line in summary.lines():
        print(line)
    return 0
