"""``encours preview -c encours.toml INVOICE_OR_CUSTOMER``: the next reminder, exactly as it would go."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from encours.sync.commands.common import add_as_of_argument, add_config_argument, load, today
from encours.sync.labels import pass_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "preview",
        parents=list(parents),
        help="render the next reminder of an invoice or a customer exactly as it would be sent",
        description="Render the next reminder of an invoice (ID or number) or a customer (ID or name) "
        "exactly as the run would send it — recipients, subject, text, attachments, letter. "
        "Sends nothing, records nothing.",
    )
    add_config_argument(parser)
    parser.add_argument("target", metavar="INVOICE_OR_CUSTOMER")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="also write the message files (.eml, .pdf, .html) into DIR")
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, *, printer: Callable[[str], None] = print) -> int:
    from encours.sync.preview import describe, preview, write_files

    config = load(args.config)
    result = preview(config, args.target, as_of=args.as_of or today(config))
    for line in describe(result):
        printer(line)
    if args.out is not None:
        for path in write_files(result, args.out):
            printer(f"written: {path}")
    if not result.messages:
        printer(pass_text("preview_nothing"))
    return 0
