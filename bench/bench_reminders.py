"""Reminder planning and rendering: cost per invoice as the ledger grows, cost per message.

Prints, in one run:
- plan() time for ledgers of 1,000 / 5,000 / 20,000 invoices (a quarter of them already reminded),
  the time per invoice and its ratio to the 1,000-invoice baseline (linear growth keeps it near 1);
- peak memory of the largest plan (tracemalloc);
- render() time per message (e-mail with statement PDF and QR code; formal notice letter), and the
  letter built with the whole DejaVu font against the reduced font actually used (the baseline).

Run: ``python bench/bench_reminders.py``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.scenarios import letter as letter_module
from encours.scenarios.company import CompanySettings
from encours.scenarios.loader import load_scenarios
from encours.scenarios.planner import StepKey, plan
from encours.scenarios.render import render
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks

AS_OF = date(2026, 11, 23)
COMPANY = CompanySettings("Atelier Dupont SARL", dossier="bench", iban="FR7630006000011234567890189",
                          sender="factures@dupont.example", address="12 avenue de la République\n69003 Lyon")


def synthetic(n_invoices: int, seed: int = 7) -> tuple[Ledger, SheetMarks, dict[StepKey, date]]:
    rng = random.Random(seed)
    n_customers = max(10, n_invoices // 25)
    customers = tuple(
        Customer(f"C{c}", f"Client {c}", "bench", emails=(f"c{c}@client.example",), phone="+33 1 00 00 00 00",
                 direct_debit=rng.random() < 0.05, language=rng.choice(["", "fr", "nl", "en"]))
        for c in range(n_customers)
    )
    invoices = []
    marks: dict[str, InvoiceMarks] = {}
    done: dict[StepKey, date] = {}
    for i in range(n_invoices):
        due = AS_OF - timedelta(days=rng.randint(-40, 150))
        total = Decimal(rng.randint(5_000, 500_000)) / 100
        paid = rng.random() < 0.6
        invoices.append(Invoice(
            f"I{i}", f"F-{i:06d}", f"C{rng.randrange(n_customers)}", "bench", due - timedelta(days=30), due,
            Money(total), Money(Decimal(0) if paid else total),
            status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
        ))
        if rng.random() < 0.05:
            marks[f"I{i}"] = InvoiceMarks(dispute=True)
        if rng.random() < 0.25:
            done[StepKey("invoice", f"I{i}", "standard", "reminder_1")] = due + timedelta(days=6)
    return Ledger(customers, tuple(invoices)), SheetMarks(invoices=marks), done


def time_plan(n: int, repeat: int = 3) -> tuple[float, int]:
    ledger, marks, done = synthetic(n)
    scenarios = load_scenarios()
    timings = []
    actions = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = plan(ledger, marks, scenarios, AS_OF, done=done, company=COMPANY)
        timings.append(time.perf_counter() - start)
        actions = len(result.actions)
    return min(timings), actions


def main() -> None:
    print("plan() over growing ledgers")
    baseline = None
    for n in (1_000, 5_000, 20_000):
        seconds, actions = time_plan(n)
        per = seconds / n
        baseline = baseline or per
        print(f"  {n:>6} invoices: {seconds * 1000:8.1f} ms, {per * 1e6:6.1f} µs/invoice "
              f"(ratio to 1,000: {per / baseline:4.2f}), {actions} actions")
    ledger, marks, done = synthetic(20_000)
    scenarios = load_scenarios()
    tracemalloc.start()
    plan(ledger, marks, scenarios, AS_OF, done=done, company=COMPANY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak memory of the 20,000-invoice plan: {peak / 1e6:.1f} MB")

    small, marks, done = synthetic(400)
    result = plan(small, marks, scenarios, AS_OF, done=done, company=COMPANY)
    emails = [a for a in result.actions if a.channel == "email"][:20]
    render(emails[0], scenarios[emails[0].scenario], small, COMPANY, as_of=AS_OF)  # warm the font cache
    timings = []
    for action in emails:
        start = time.perf_counter()
        render(action, scenarios[action.scenario], small, COMPANY, as_of=AS_OF)
        timings.append(time.perf_counter() - start)
    print(f"render(): e-mail with statement PDF and QR code: median {statistics.median(timings) * 1000:.0f} ms "
          f"over {len(timings)} messages")

    notice = scenarios["standard"].step("formal_notice")
    action = emails[0]
    from dataclasses import replace

    formal = replace(action, step=notice, channel="formal_notice")

    def letter_ms(repeat: int = 5) -> float:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            render(formal, scenarios["standard"], small, COMPANY, as_of=AS_OF)
            best = min(best, time.perf_counter() - start)
        return best * 1000

    reduced = letter_ms()
    whole = (letter_module._font_dir() / "DejaVuSans.ttf", letter_module._font_dir() / "DejaVuSans-Bold.ttf")
    original = letter_module.font_files
    letter_module.font_files = lambda: whole  # type: ignore[assignment]
    try:
        full = letter_ms()
    finally:
        letter_module.font_files = original
    print(f"render(): formal notice letter: {reduced:.0f} ms with the reduced font, {full:.0f} ms with the whole "
          f"font (whole/reduced: {full / reduced:.1f}x)")


if __name__ == "__main__":
    main()
