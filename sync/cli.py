"""The ``encours`` command line: parses arguments, reads the clock, reports errors.

Each command lives in its own module under ``sync/commands/`` with ``register(subparsers)``;
add new commands to :data:`COMMANDS`.  Exit codes: 0 success; 1 a run finished with some items
in error; 2 bad usage or configuration (nothing done).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sqlite3
import sys
from collections.abc import Sequence

from encours.connectors.errors import EncoursError
from encours.sync.state import is_disk_full

#: Modules under sync/commands/, in the order ``encours --help`` lists them.
COMMANDS: list[str] = [
    "demo",
    "init",
    "sync_cmd",
    "run_cmd",
    "daemon_cmd",
    "export_case_cmd",
    "report",
    "preview",
    "check",
    "auth",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="encours",
        description="Accounts-receivable follow-up in the spreadsheet you already use: "
        "sync invoices and payments, compute aging and scores, send the reminders the sheet approves.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (never secrets)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors and the summary")
    from importlib.metadata import PackageNotFoundError, version

    try:
        current = version("encours")
    except PackageNotFoundError:
        current = "dev"
    parser.add_argument("--version", action="version", version=f"encours {current}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"encours.sync.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if args.verbose else "%(message)s",
        stream=sys.stderr,
    )
    try:
        code: int = args.handler(args)
        return code
    except EncoursError as exc:
        print(f"encours: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (OSError, sqlite3.DatabaseError) as exc:
        if not is_disk_full(exc):
            raise
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        print(f"encours: error: the disk is full{where}: {exc} — what was not recorded will be done at the next "
              "run; free some space and run again", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("encours: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
