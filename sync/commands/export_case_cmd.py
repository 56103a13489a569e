"""``encours export-case CUSTOMER``: the zip for a collection agency or a court."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from encours.sync.commands.common import add_as_of_argument, add_config_argument, load, now_utc, today


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "export-case",
        parents=list(parents),
        help="zip for a collection agency or court: statement, invoices, every reminder sent with proof",
        description="Write a zip with the customer's statement of account, the invoices (PDF when the source "
        "has them), every reminder sent (the e-mail or letter itself, with date, channel and recipient), payments, "
        "promises and disputes; then mark the customer 'en recouvrement' so that amicable reminders stop.",
    )
    add_config_argument(parser)
    parser.add_argument("customer", metavar="CUSTOMER", help="the customer's ID, or its name (or a unique part)")
    parser.add_argument("--out", metavar="FILE.zip", default=None,
                        help="where to write the zip (default: dossiers-recouvrement/ next to the configuration)")
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from encours.sync.export_case import export_case

    config = load(args.config)
    result = export_case(config, args.customer, as_of=args.as_of or today(config), now=now_utc(),
                         out=Path(args.out) if args.out else None)
    for line in result.lines():
        print(line)
    return 0
