"""``encours report``: the weekly report as PDF and HTML files, or sent by e-mail."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from encours.sync.commands.common import add_as_of_argument, add_config_argument, load, now_utc, today


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "report",
        parents=list(parents),
        help="the weekly report (PDF and HTML e-mail); --send mails it",
        description="Build the weekly report from the last sync: outstanding and overdue with their trend, DSO, "
        "best possible DSO, ADD, CEI, the cash expected over eight weeks, the aging, the largest late payers, "
        "promises, disputes, the call outcomes recorded in À faire this week, reminders and registry alerts. "
        "Writes the files into --out (default: "
        "./encours-reports); --send mails them to [report] recipients and, with per_salesperson, each "
        "salesperson their own version.",
    )
    add_config_argument(parser)
    parser.add_argument("--send", action="store_true", help="send by e-mail (once per week and recipient)")
    parser.add_argument("--force", action="store_true", help="with --send: send again even if already sent")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="write the PDF, HTML and text files here (default: ./encours-reports)")
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from encours.sync.pull import format_eur
    from encours.sync.report_send import make_reports, send_weekly_report, write_reports

    config = load(args.config)
    as_of = args.as_of or today(config)
    if args.send:
        outcome = send_weekly_report(config, as_of, now=now_utc(), force=args.force)
        for line in outcome.lines():
            print(line)
        if args.out is None:
            return 0
    reports = make_reports(config, as_of)
    out_dir = args.out or Path("encours-reports")
    written = write_reports(reports, out_dir)
    company = reports[0].report
    print(f"Report at {as_of.isoformat()}: total outstanding {format_eur(company.outstanding)}, "
          f"overdue {format_eur(company.overdue)}")
    print(f"Wrote {len(written)} files for {len(reports)} report(s) into {out_dir}")
    for note in company.notes:
        print(f"Note: {note}")
    return 0
