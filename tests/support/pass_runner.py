"""One reminder pass in its own process, for the crash tests and the crash benchmark.

``python -m tests.support.pass_runner CONFIG LEDGER_JSON AS_OF NOW [--smtp-port N] [--loops K]``
runs ``run_pass`` with the fake source over LEDGER_JSON and, with ``--smtp-port``, a plain SMTP
channel to 127.0.0.1 (else the outbox of the configuration).  ``ENCOURS_FAILPOINT=N`` makes it
die at the N-th step boundary.  Prints one JSON line per pass; exit code: the pass's.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from connectors.errors import EncoursError
from sync.channels.smtp import SmtpChannel
from sync.config import load_config
from sync.run import run_pass
from tests.support.fake_source import FakeSource, LedgerFile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("ledger")
    parser.add_argument("as_of", type=date.fromisoformat)
    parser.add_argument("now", type=datetime.fromisoformat)
    parser.add_argument("--smtp-port", type=int, default=0)
    parser.add_argument("--loops", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    config = load_config(args.config)
    code = 0
    for loop in range(args.loops):
        channel = SmtpChannel("127.0.0.1", args.smtp_port, security="none", timeout=5) if args.smtp_port else None
        try:
            report = run_pass(config, as_of=args.as_of, now=args.now + timedelta(minutes=15 * loop),
                              connector=FakeSource(LedgerFile(Path(args.ledger))), channel=channel)
        except EncoursError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
            return exc.exit_code
        print(json.dumps({
            "sent": len(report.sent), "tasks": len(report.tasks), "failed": len(report.failed),
            "uncertain": len(report.uncertain), "skipped": len(report.skipped), "held": len(report.held),
            "waiting": len(report.waiting_approval), "problems": report.problems,
            "sheet_written": report.sheet_written,
        }), flush=True)
        code = max(code, report.exit_code)
    return code


if __name__ == "__main__":
    sys.exit(main())
