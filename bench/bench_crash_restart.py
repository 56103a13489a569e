"""Reliability of the sync job: randomised crash-and-restart over a large ledger, a real SMTP server.

    python bench/bench_crash_restart.py [--iterations 1000] [--crash-invoices 200] [--crash-customers 40]
                                        [--invoices 5000] [--customers 1000] [--seed 1] [--skip-timings]

Each iteration changes the source (payments, new invoices), moves the clock (15 minutes to a
business day), then runs a pass in a forked process that ``os._exit``s at a random step boundary
(``ENCOURS_FAILPOINT``; one iteration in five is left to finish), then restarts: a pass in this
process, a person confirming each *uncertain* message from the SMTP server's log (sent if the
server has its Message-ID, else not-sent) — read only once the killed pass's connection is closed
and handled by the server, and with the same waiting rule as ``encours run --confirm`` — and one
more pass when something was confirmed.  The crash loop runs on a small ledger (200 invoices by
default: what is measured is the journal's exactly-once, not the ledger's size); the timings run
on the big one.

Counted after every iteration, from the SMTP server (aiosmtpd on 127.0.0.1) and the journal:
- duplicates: a Message-ID delivered twice, or a step key carried by two delivered messages;
- lost: a key the journal holds as sent whose message the server never received, or a key still
  uncertain/failed at the end.

The crash loop writes the sheet as a JSON file (atomic, all or nothing) so that the iterations
measure the journal and not openpyxl; the xlsx figures (a pass with no change, with a few
changes) are measured separately on the same ledger.  Timings: the cost of a pass with no change,
and with 10 / 100 / 1,000 changes, and with no change on a ledger 5× smaller (cost vs ledger).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from encours.connectors.model import Invoice, Money  # noqa: E402
from encours.sheets_addin.marks import SheetMarks  # noqa: E402
from encours.sheets_addin.view import SheetView  # noqa: E402
from encours.sync.channels.smtp import SmtpChannel  # noqa: E402
from encours.sync.config import Config, load_config  # noqa: E402
from encours.sync.confirm import confirm_quiet  # noqa: E402
from encours.sync.journal import Journal, State  # noqa: E402
from encours.sync.run import FAILPOINT_ENV, run_pass  # noqa: E402
from encours.sync.state import StateStore  # noqa: E402
from tests.support.fake_source import FakeSource, LedgerFile, bulk_ledger  # noqa: E402
from tests.support.smtp_server import RecordingHandler, SmtpServer  # noqa: E402

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class JsonSheet:
    """A sheet as a JSON file: read_marks() is empty, write() replaces the file atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_marks(self) -> SheetMarks:
        return SheetMarks()

    def write(self, view: SheetView) -> None:
        tmp = self.path.with_suffix(".tmp")
        data = {"as_of": view.as_of.isoformat(), "invoices": len(view.invoices),
                "journal": len(view.journal or ()), "todo": len(view.todo or ())}
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)


def config_in(folder: Path, sheet: str = "xlsx") -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Bench SARL"\ncountry = "FR"\ntimezone = "Europe/Paris"\nstate = "state.sqlite"\n\n'
        f'[source]\ntype = "demo"\n\n[sheet]\ntype = "xlsx"\npath = "encours.{sheet}"\n\n'
        '[sending]\nmode = "outbox"\noutbox = "outbox"\nfrom = "relances@bench.example"\nwindow = "08:30-18:00"\n',
        encoding="utf-8")
    return load_config(path)


def one_pass(config: Config, file: LedgerFile, port: int, now: datetime, json_sheet: bool) -> Any:
    sheet = JsonSheet(config.base_dir / "sheet.json") if json_sheet else None
    return run_pass(config, as_of=now.astimezone(config.timezone).date(), now=now, connector=FakeSource(file),
                    channel=SmtpChannel("127.0.0.1", port, security="none", timeout=10), sheet=sheet,
                    fetch_pdf=lambda url: None)


def _child(config_path: str, ledger_path: str, port: int, now: str, failpoint: int) -> None:
    if failpoint:
        os.environ[FAILPOINT_ENV] = str(failpoint)
    import encours.sync.run

    encours.sync.run._crossed = 0
    one_pass(load_config(config_path), LedgerFile(Path(ledger_path)), port, datetime.fromisoformat(now), True)
    os._exit(0)


def killed_pass(config: Config, file: LedgerFile, port: int, now: datetime, failpoint: int) -> int:
    gc.collect()  # a sqlite3 connection left to the collector would be inherited open: the child's commits get lost
    process = multiprocessing.get_context("fork").Process(
        target=_child, args=(str(config.file), str(file.path), port, now.isoformat(), failpoint))
    process.start()
    process.join(600)
    return process.exitcode if process.exitcode is not None else -1


def settle(config: Config, server: SmtpServer, now: datetime) -> int:
    if not server.wait_closed():
        raise RuntimeError("a killed pass's SMTP connection is still open after 30 s")
    received = set(server.handler.message_ids)
    done = 0
    with StateStore(config.state_path) as store:
        journal = Journal(store, config.dossier)
        seen: set[str] = set()
        for entry in journal.entries([State.UNCERTAIN]):
            if entry.reference in seen:
                continue
            seen.add(entry.reference)
            journal.confirm(entry.reference, entry.message_id in received, now, who="bench",
                            quiet=confirm_quiet(config))
            done += 1
    return done


def audit(config: Config, handler: RecordingHandler) -> tuple[int, int, int]:
    """(duplicates, lost, still pending) from the server's log and the journal."""
    ids = handler.message_ids
    duplicates = len(ids) - len(set(ids))
    carried: dict[str, set[str]] = {}
    with contextlib.closing(sqlite3.connect(config.state_path)) as db:
        for message_id, keys in db.execute("SELECT message_id, keys FROM journal_events WHERE state = 'sending'"):
            carried.setdefault(message_id, set()).update(keys.split())
        sent = {key: mid for key, mid in db.execute(
            "SELECT key, message_id FROM journal WHERE state = 'sent' AND channel IN ('email', 'thanks')")}
        pending = db.execute("SELECT COUNT(*) FROM journal WHERE state IN ('uncertain', 'sending')").fetchone()[0]
    keys = [k for mid in set(ids) for k in carried.get(mid, ())]
    duplicates += len(keys) - len(set(keys))
    received = set(ids)
    lost = sum(1 for key, mid in sent.items() if mid not in received)
    return duplicates, lost, int(pending)


def next_time(now: datetime, rng: random.Random) -> datetime:
    # mostly the daemon's 15-minute rhythm, sometimes a longer gap, now and then the next day
    step = rng.choice([timedelta(minutes=15)] * 6 + [timedelta(hours=2)] * 3 + [timedelta(days=1)])
    later = now + step
    local_hour = later.astimezone(UTC).hour
    if local_hour >= 16 or local_hour < 7:  # keep within the sending window (Paris 08:30-18:00)
        later = (later + timedelta(days=1)).replace(hour=8, minute=0)
    while later.weekday() >= 5:
        later += timedelta(days=1)
    return later


def change_source(file: LedgerFile, rng: random.Random, now: datetime, counter: list[int]) -> int:
    ledger, _, _, _ = file.load()
    open_ids = [i.id for i in ledger.invoices if i.is_open]
    paid = rng.sample(open_ids, k=min(len(open_ids), rng.randint(0, 20)))
    new = []
    for _ in range(rng.randint(0, 5)):
        counter[0] += 1
        cust = rng.choice(ledger.customers)
        due = now.date() - timedelta(days=rng.randint(-5, 10))
        amount = Decimal(rng.randint(100, 3000))
        new.append(Invoice(f"N{counter[0]:06d}", f"N-{counter[0]:06d}", cust.id, "fake", due - timedelta(days=30),
                           due, Money(amount), Money(amount)))
    if paid:
        file.pay(paid)
    if new:
        file.change(new)
    return len(paid) + len(new)


def timed(config: Config, file: LedgerFile, port: int, now: datetime, json_sheet: bool) -> tuple[float, Any]:
    started = time.perf_counter()
    report = one_pass(config, file, port, now, json_sheet)
    return time.perf_counter() - started, report


def scaling(work: Path, invoices: int, customers: int, port: int) -> dict[str, float]:
    """Seconds per pass: no change on the big and a 5× smaller ledger; 10/100/1000 changes (JSON sheet)."""
    out: dict[str, float] = {}
    for size, label in ((invoices, "big"), (invoices // 5, "small")):
        config = config_in(work / f"scale-{label}", "json")
        file = LedgerFile(config.base_dir / "ledger.json")
        file.save(bulk_ledger(size, as_of=START.date(), customers=max(1, customers * size // invoices)))
        one_pass(config, file, port, START, True)
        out[f"no_change_{label}"] = statistics.median(
            timed(config, file, port, START + timedelta(minutes=i + 1), True)[0] for i in range(3))
        if label == "big":
            ledger, _, _, _ = file.load()
            ids = [i.id for i in ledger.invoices if i.is_open]
            for k, n in enumerate((10, 100, 1000)):
                file.pay(ids[:n])
                ids = ids[n:]
                out[f"changes_{n}"] = timed(config, file, port, START + timedelta(minutes=10 + k), True)[0]
    return out


def xlsx_figures(work: Path, invoices: int, customers: int, port: int) -> dict[str, float]:
    config = config_in(work / "xlsx", "xlsx")
    file = LedgerFile(config.base_dir / "ledger.json")
    file.save(bulk_ledger(invoices, as_of=START.date(), customers=customers))
    first, report = timed(config, file, port, START, False)
    out = {"first_pass": first, "first_pass_sent": float(len(report.sent))}
    out["no_change"] = statistics.median(
        timed(config, file, port, START + timedelta(minutes=i + 1), False)[0] for i in range(2))
    ledger, _, _, _ = file.load()
    file.pay([i.id for i in ledger.invoices if i.is_open][:10])
    out["changes_10"] = timed(config, file, port, START + timedelta(minutes=9), False)[0]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--crash-invoices", type=int, default=200, help="ledger of the crash loop")
    parser.add_argument("--crash-customers", type=int, default=40)
    parser.add_argument("--invoices", type=int, default=5000, help="ledger of the timings")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--skip-timings", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--budget", type=float, default=0, help="stop the crash loop after this many seconds")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="encours-bench-crash-"))
    results: dict[str, Any] = {"crash_invoices": args.crash_invoices, "crash_customers": args.crash_customers,
                               "invoices": args.invoices, "customers": args.customers, "seed": args.seed}
    handler = RecordingHandler()
    with SmtpServer(handler) as server:
        config = config_in(work / "crash", "json")
        file = LedgerFile(config.base_dir / "ledger.json")
        file.save(bulk_ledger(args.crash_invoices, as_of=START.date(), customers=args.crash_customers))
        first, report = timed(config, file, server.port, START, True)
        results["first_pass_s"] = round(first, 2)
        results["first_pass_sent"] = len(report.sent)
        now = START
        counter = [0]
        kills = crashes_total = confirmations = changes = 0
        iteration_times = []
        loop_started = time.perf_counter()
        done = 0
        for iteration in range(args.iterations):
            if args.budget and time.perf_counter() - loop_started > args.budget:
                break
            started = time.perf_counter()
            now = next_time(now, rng)
            changes += change_source(file, rng, now, counter)
            failpoint = 0 if rng.random() < 0.2 else rng.randint(1, 20)
            code = killed_pass(config, file, server.port, now, failpoint)
            kills += code == 86
            crashes_total += failpoint > 0
            one_pass(config, file, server.port, now + timedelta(minutes=5), True)
            settled = settle(config, server, now + timedelta(minutes=6))
            confirmations += settled
            if settled:
                one_pass(config, file, server.port, now + timedelta(minutes=7), True)
            duplicates, lost, pending = audit(config, handler)
            if duplicates or lost:
                print(f"iteration {iteration}: duplicates {duplicates}, lost {lost}", flush=True)
            iteration_times.append(time.perf_counter() - started)
            done += 1
            if done % 25 == 0:
                print(f"{done} iterations, {len(handler.received)} messages received, "
                      f"{statistics.mean(iteration_times):.2f} s/iteration", flush=True)
        final = one_pass(config, file, server.port, next_time(now, rng), True)
        duplicates, lost, pending = audit(config, handler)
        with StateStore(config.state_path) as store:
            failed_left = len(Journal(store, config.dossier).entries([State.FAILED]))
        results.update({
            "iterations": done, "killed": kills, "failpoints_set": crashes_total,
            "confirmations_by_person": confirmations, "source_changes": changes,
            "messages_received": len(handler.received), "duplicates": duplicates,
            "lost": lost + pending, "failed_left": failed_left, "final_pass_sent": len(final.sent),
            "seconds_per_iteration": round(statistics.mean(iteration_times), 2) if iteration_times else None,
        })
    print(json.dumps(results), flush=True)  # the reliability figures, before the timings
    if args.skip_timings:
        return 0 if results["duplicates"] == 0 and results["lost"] == 0 else 1
    with SmtpServer() as fresh:  # a new server: the timings do not depend on the loop's long-lived one
        results["scaling_json_sheet_s"] = {k: round(v, 3) for k, v in
                                           scaling(work, args.invoices, args.customers, fresh.port).items()}
        if not args.skip_xlsx:
            results["xlsx_s"] = {k: round(v, 2) for k, v in
                                 xlsx_figures(work, args.invoices, args.customers, fresh.port).items()}
    scale = results["scaling_json_sheet_s"]
    results["ratios"] = {
        "changes_1000_vs_no_change": round(scale["changes_1000"] / scale["no_change_big"], 2),
        "changes_100_vs_no_change": round(scale["changes_100"] / scale["no_change_big"], 2),
        "ledger_5x_no_change": round(scale["no_change_big"] / scale["no_change_small"], 2),
    }
    print(json.dumps(results, indent=2))
    print(f"run on {date.today().isoformat()}, work folder {work}")
    return 0 if results["duplicates"] == 0 and results["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

