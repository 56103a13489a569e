"""``encours auth sage``: authorise encours to read a Sage business (OAuth2, local redirect)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from encours.sync.commands.common import add_as_of_argument, add_config_argument, load, today


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    parser = sub.add_parser(
        "auth",
        parents=list(parents),
        help="authorise encours at a platform that needs it (sage)",
        description="Run a platform's authorisation flow and store what it grants in the state file.",
    )
    platforms = parser.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    sage = platforms.add_parser(
        "sage",
        help="OAuth2 authorisation for Sage Business Cloud Accounting (opens a browser)",
        description="Open Sage's consent page, receive the answer on 127.0.0.1 ([source] redirect_port, "
        "8765 by default) and store the refresh token in the state file. Lists the businesses reached.",
    )
    add_config_argument(sage)
    add_as_of_argument(sage)
    sage.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser (default 300)")
    sage.set_defaults(handler=run_sage)


def run_sage(args: argparse.Namespace) -> int:
    from encours.sync.auth_sage import run_sage_auth

    config = load(args.config)
    for line in run_sage_auth(config, as_of=args.as_of or today(config), timeout=args.timeout):
        print(line)
    return 0
