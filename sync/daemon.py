"""``encours daemon``: the pass again and again, for one or several dossiers, until stopped.

Each dossier (configuration file) runs every ``[schedule] every``.  When its source, its sheet
or its state file is down, the dossier backs off (the interval doubled at each failure, at most
:data:`MAX_BACKOFF` seconds) and the log says so; the others carry on.  SIGTERM and SIGINT ask
the pass under way to stop after the message it is sending, write the sheet, and exit.

A heartbeat JSON file is rewritten after every pass and before every sleep, for a monitor::

    {"pid": 123, "state": "sleeping", "updated_at": "...", "next_pass_at": "...",
     "dossiers": [{"config": "...", "dossier": "...", "last_pass_at": "...", "last_success_at": "...",
                   "consecutive_failures": 0, "last_error": "", "next_pass_at": "...",
                   "sent": 3, "failed": 0, "uncertain": 0, "waiting_approval": 1}]}

It sits next to the first dossier's state file (``encours-heartbeat.json``) unless
``[schedule] heartbeat`` or ``--heartbeat`` says where.  A monitor alerts when ``updated_at`` is
older than a few intervals, or when a dossier's ``consecutive_failures`` grows.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from encours.connectors.errors import ConfigError, EncoursError, SheetError, SourceError
from encours.sync.config import Config
from encours.sync.lock import LockedError
from encours.sync.report import report_due
from encours.sync.report_send import send_weekly_report
from encours.sync.run import run_pass
from encours.sync.run_report import RunReport
from encours.sync.state import StateError

log = logging.getLogger(__name__)

DEFAULT_EVERY = "15m"
MAX_BACKOFF = 6 * 3600
HEARTBEAT_NAME = "encours-heartbeat.json"

Loader = Callable[[str], Config]
Pass = Callable[..., RunReport]
Clock = Callable[[], datetime]


def interval(config: Config) -> int:
    return config.settings.schedule.every_seconds


def heartbeat_path(config: Config) -> Path:
    if config.settings.schedule.heartbeat is not None:
        return config.settings.schedule.heartbeat
    return config.state_path.with_name(HEARTBEAT_NAME)


@dataclass
class Dossier:
    """One configuration file followed by the daemon."""

    path: str
    name: str = ""
    every: int = 900
    next_at: datetime | None = None  # None: at once
    failures: int = 0
    last_pass_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def status(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(timespec="seconds")

        return {
            "config": self.path, "dossier": self.name, "every_seconds": self.every,
            "last_pass_at": iso(self.last_pass_at), "last_success_at": iso(self.last_success_at),
            "consecutive_failures": self.failures, "last_error": self.last_error,
            "next_pass_at": iso(self.next_at), **self.counts,
        }


class Daemon:
    """Runs the dossiers' passes on their schedules; :meth:`serve` until :meth:`request_stop`."""

    def __init__(
        self,
        config_paths: Sequence[str],
        *,
        loader: Loader,
        heartbeat: Path | None = None,
        clock: Clock | None = None,
        run: Pass = run_pass,
        max_passes: int | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if not config_paths:
            raise ConfigError("give at least one configuration file (-c encours.toml)")
        self.dossiers = [Dossier(p) for p in config_paths]
        self.loader = loader
        self.clock = clock or (lambda: datetime.now(UTC))
        self.run = run
        self.max_passes = max_passes
        self.passes = 0
        self.progress = progress
        self._stop = threading.Event()
        self._heartbeat = heartbeat
        self.state = "starting"

    # -- stopping -----------------------------------------------------------------------------
    def request_stop(self, *_: object) -> None:
        if not self._stop.is_set():
            log.warning("stop requested: finishing the current step, then exiting")
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    # -- heartbeat ----------------------------------------------------------------------------
    def heartbeat_file(self, first: Config | None) -> Path | None:
        if self._heartbeat is None and first is not None:
            self._heartbeat = heartbeat_path(first)
        return self._heartbeat

    def write_heartbeat(self) -> None:
        path = self._heartbeat
        if path is None:
            return
        upcoming = [d.next_at for d in self.dossiers if d.next_at is not None]
        data = {
            "pid": os.getpid(),
            "state": self.state,
            "updated_at": self.clock().isoformat(timespec="seconds"),
            "next_pass_at": min(upcoming).isoformat(timespec="seconds") if upcoming else None,
            "passes": self.passes,
            "dossiers": [d.status() for d in self.dossiers],
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("heartbeat %s cannot be written: %s", path, exc)

    # -- one dossier --------------------------------------------------------------------------
    def _back_off(self, dossier: Dossier, now: datetime, what: str, error: str) -> None:
        dossier.failures += 1
        delay = min(dossier.every * 2 ** (dossier.failures - 1), max(MAX_BACKOFF, dossier.every))
        dossier.next_at = now + timedelta(seconds=delay)
        dossier.last_error = error
        log.error("dossier %s: %s — %s; backing off, next try in %s (failure %d in a row)",
                  dossier.name or dossier.path, what, error, _human(delay), dossier.failures)

    def run_one(self, dossier: Dossier) -> None:
        now = self.clock()
        dossier.last_pass_at = now
        try:
            config = self.loader(dossier.path)
            dossier.name = config.dossier
            dossier.every = interval(config)
            self.heartbeat_file(config)
        except EncoursError as exc:
            self._back_off(dossier, now, "configuration cannot be used", str(exc))
            return
        as_of = now.astimezone(config.timezone).date()
        try:
            report = self.run(config, as_of=as_of, now=now, stop=lambda: self.stopping, progress=self.progress)
        except LockedError as exc:
            dossier.next_at = now + timedelta(seconds=dossier.every)
            dossier.last_error = str(exc)
            log.warning("dossier %s: %s", dossier.name, exc)
            return
        except SourceError as exc:
            self._back_off(dossier, now, "the source is unreachable", str(exc))
            return
        except SheetError as exc:
            self._back_off(dossier, now, "the sheet cannot be read", str(exc))
            return
        except StateError as exc:
            self._back_off(dossier, now, "the state file cannot be used", str(exc))
            return
        except EncoursError as exc:
            self._back_off(dossier, now, "the pass failed", str(exc))
            return
        dossier.counts = {"sent": len(report.sent), "tasks": len(report.tasks), "failed": len(report.failed),
                          "uncertain": len(report.uncertain), "waiting_approval": len(report.waiting_approval)}
        for line in report.lines():
            log.info("%s: %s", dossier.name, line)
        if report.sheet_failed:
            self._back_off(dossier, now, "the sheet cannot be written", "; ".join(report.problems))
            return
        dossier.failures = 0
        dossier.last_error = "; ".join(o.line() for o in report.failed)[:500]
        dossier.last_success_at = now
        dossier.next_at = now + timedelta(seconds=dossier.every)
        if not self.stopping:
            self._weekly_report(config, as_of, now)

    def _weekly_report(self, config: Config, as_of: date, now: datetime) -> None:
        if "report" not in config.raw:
            return
        try:
            if report_due(config, as_of):
                outcome = send_weekly_report(config, as_of, now=now)
                log.info("%s: weekly report: %s", config.dossier, outcome)
        except EncoursError as exc:
            log.error("%s: weekly report not sent: %s", config.dossier, exc)

    # -- the loop -----------------------------------------------------------------------------
    def due(self, now: datetime) -> list[Dossier]:
        return [d for d in self.dossiers if d.next_at is None or d.next_at <= now]

    def serve(self) -> int:
        """Run until stopped (or ``max_passes`` passes); 0 on a clean stop."""
        log.info("encours daemon started (pid %d) for %d dossier(s)", os.getpid(), len(self.dossiers))
        while not self.stopping:
            for dossier in self.due(self.clock()):
                if self.stopping:
                    break
                self.state = "running"
                self.run_one(dossier)
                self.passes += 1
                self.write_heartbeat()
                if self.max_passes is not None and self.passes >= self.max_passes:
                    self._stop.set()
            if self.stopping:
                break
            self.state = "sleeping"
            self.write_heartbeat()
            upcoming = [d.next_at for d in self.dossiers if d.next_at is not None]
            wait = max(0.0, (min(upcoming) - self.clock()).total_seconds()) if upcoming else 0.0
            self._stop.wait(wait)
        self.state = "stopped"
        self.write_heartbeat()
        log.info("encours daemon stopped cleanly")
        return 0


def _human(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
