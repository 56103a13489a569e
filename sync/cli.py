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

from encours import version
from encours.connectors.errors import EncoursError
from encours.sync.state import is_disk_full

#: command → (module under sync/commands/, one-line help), in the order ``encours --help`` lists them.
#: Only the command being run is imported, so ``encours --help`` and usage errors answer at once.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "the embedded demo: sample ledger → workbook → one reminder pass (no account needed)"),
    "init": ("init", "answer a few questions and write encours.toml"),
    "sync": ("sync_cmd", "pull from the source and refresh the sheet (sends nothing)"),
    "run": ("run_cmd", "one whole pass: sync, plan the reminders, send those due and approved, journal, "
            "refresh the sheet"),
    "daemon": ("daemon_cmd", "repeat `run` on the configured schedule until stopped (several -c for several "
               "dossiers)"),
    "export-case": ("export_case_cmd", "zip for a collection agency or court: statement, invoices, every reminder "
                    "sent with proof"),
    "report": ("report", "the weekly report (PDF and HTML e-mail); --send mails it"),
    "preview": ("preview", "render the next reminder of an invoice or a customer exactly as it would be sent"),
    "check": ("check", "check the credentials and what the source, sheet and mail server answer"),
    "auth": ("auth", "authorise encours at a platform that needs it (sage)"),
}


def _verbosity() -> argparse.ArgumentParser:
    """-v / -q, accepted before or after the command (``encours -q sync`` and ``encours sync -q``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log details (never secrets)")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors and the summary")
    return common


class _Version(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"encours {version()}")
        parser.exit()


def _chosen(argv: Sequence[str]) -> str | None:
    for word in argv:
        if word in COMMANDS:
            return word
        if not word.startswith("-"):
            return None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; the chosen command's module registers its arguments, the others only their help.
    ``argv=None`` registers every command (documentation tests)."""
    common = _verbosity()  # the subcommands' copy: its options never overwrite the top level's
    parser = argparse.ArgumentParser(
        prog="encours",
        description="Accounts-receivable follow-up in the spreadsheet you already use: "
        "sync invoices and payments, compute aging and scores, send the reminders the sheet approves.",
        parents=[_verbosity()],
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    parser.set_defaults(verbose=False, quiet=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else _chosen(argv)
    for name, (module_name, summary) in COMMANDS.items():
        if argv is None or name == chosen:
            module = importlib.import_module(f"encours.sync.commands.{module_name}")
            module.register(sub, parents=[common])
        else:
            sub.add_parser(name, help=summary, parents=[common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    verbose = getattr(args, "verbose", False)
    quiet = getattr(args, "quiet", False)
    # -q: errors only — warnings (records quarantined, retries) are named in the summary or settle
    # themselves; the summary on stdout still lists every record left out.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "%(message)s",
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
