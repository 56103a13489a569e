"""``encours check``: credentials and reachability of the source (and, once registered, the sheet
and the mail server); says what it found.  Exit 0 when everything answers, 1 otherwise, 2 for a
broken configuration."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from encours.sync.commands.common import add_as_of_argument, add_config_argument, load, today


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "check",
        parents=list(parents),
        help="check the credentials and what the source, sheet and mail server answer",
        description="Check that the source (and the sheet and mail server) answer with the configured "
        "credentials, and say what was reached: company, business or database, and open invoices.",
    )
    add_config_argument(parser)
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from encours.sync.check import run_checks

    config = load(args.config)
    lines, ok = run_checks(config, as_of=args.as_of or today(config))
    for line in lines:
        print(line)
    return 0 if ok else 1
