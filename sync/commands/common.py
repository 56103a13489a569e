"""What the commands share: the clock (read only here, at the edge), config loading, progress."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime

from encours.connectors.errors import ConfigError
from encours.sync.config import Config, load_config
from encours.sync.redact import install_redaction


def add_config_argument(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    parser.add_argument(
        "-c",
        "--config",
        action="append" if many else "store",
        default=[] if many else "encours.toml",
        help="the configuration file (default: encours.toml)" + (" — repeat for several dossiers" if many else ""),
    )


def add_as_of_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=parse_day, default=None, metavar="YYYY-MM-DD",
                        help="compute as if today were this date (default: today in the company's time zone)")


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def load(path: str) -> Config:
    config = load_config(path)
    install_redaction(config)
    return config


def now_utc() -> datetime:
    return datetime.now(UTC)


def today(config: Config | None = None) -> date:
    """Today in the company's time zone (a sync at 00:30 in Paris is already the next day)."""
    if config is None:
        return date.today()
    return datetime.now(config.timezone).date()


class Progress:
    """Stage lines on stderr with elapsed time; silent with --quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.monotonic() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)


def require(condition: bool, message: str, *, file: str = "", key: str = "") -> None:
    if not condition:
        raise ConfigError(message, file=file, key=key)
