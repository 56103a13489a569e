"""``encours run``: one whole pass — sync, plan, send what is due and approved, journal, sheet."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Sequence

from encours.connectors.errors import ConfigError
from encours.sync.commands.common import Progress, add_as_of_argument, add_config_argument, load, now_utc, today

VERDICTS = {"sent": True, "not-sent": False}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "run",
        parents=list(parents),
        help="one whole pass: sync, plan the reminders, send those due and approved, journal, refresh the sheet",
        description="Pull the changes, refresh the sheet, read what people marked, re-check each invoice at the "
        "source right before its reminder, send within the sending window, record everything in the journal "
        "(sheet tab Relances). Running it twice sends nothing the second time.",
    )
    add_config_argument(parser)
    parser.add_argument("--dry-run", action="store_true",
                        help="show what would be sent; send nothing, write nothing")
    parser.add_argument("--confirm", nargs=2, metavar=("REF", "sent|not-sent"),
                        help="settle a message left uncertain by an interrupted pass (the reference shown in "
                        "À faire): 'sent' if it went out (never sent again), 'not-sent' to send it at the next pass")
    parser.add_argument("--new-sheet", action="store_true",
                        help="the dossier's sheet is missing: start a new, empty one (its disputes, promises and "
                        "pauses are lost)")
    parser.add_argument("--allow-empty", action="store_true",
                        help="accept a full export with no open invoice (every invoice really is paid)")
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from encours.sync.confirm import confirm
    from encours.sync.run import run_pass

    config = load(args.config)
    if args.confirm:
        reference, verdict = args.confirm
        if verdict not in VERDICTS:
            raise ConfigError(f"--confirm {reference} {verdict}: say 'sent' or 'not-sent'")
        who = getpass.getuser()
        entries = confirm(config, reference, VERDICTS[verdict], now=now_utc(), who=who)
        state = "sent: it will never be sent again" if VERDICTS[verdict] else "not sent: the next pass sends it"
        first = entries[0]
        print(f"{first.reference} ({first.customer_name}, {len(entries)} step(s)) recorded as {state}")
        if first.message_id:
            print(f"  Message-ID {first.message_id} → {first.recipients or first.channel} "
                  "(what the server may have received: search its Sent folder or log for this id)")
        return 0
    report = run_pass(config, as_of=args.as_of or today(config), now=now_utc(), dry_run=args.dry_run,
                      progress=Progress(args.quiet), new_sheet=args.new_sheet, allow_empty=args.allow_empty)
    for line in report.lines():
        print(line)
    return report.exit_code
