"""A straightforward, row-by-row implementation of the encours maths, written from the definitions.

Two uses: the baseline the benchmark compares the vectorised functions with, and the independent
oracle that computed the expected answers of ``tests/vectors/*.json`` (``make_vectors.py``).  It
does not import ``sheets_addin``: plain loops, ``fractions.Fraction`` for exact money and rates,
one day at a time for interest.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

RATES_FILE = Path(__file__).resolve().parent.parent / "sheets_addin" / "data" / "rates.toml"


def days_late(due: date, as_of: date) -> int:
    return (as_of - due).days


def bucket(days: int, bounds: Sequence[int] = (30, 60, 90)) -> str:
    if days <= 0:
        return "Non échu"
    low = 1
    for high in bounds:
        if days <= high:
            return f"{low}-{high}"
        low = high + 1
    return f"> {bounds[-1]}"


def half_up(value: Fraction) -> int:
    """Round half away from zero."""
    sign = -1 if value < 0 else 1
    return sign * math.floor(abs(value) + Fraction(1, 2))


# -- interest, one day at a time ------------------------------------------------------------------


def load_rate_rows() -> list[dict[str, object]]:
    return list(tomllib.loads(RATES_FILE.read_text(encoding="utf-8"))["half_year"])


def rate_on(day: date, country: str, rows: list[dict[str, object]]) -> Fraction:
    start = date(day.year, 1 if day.month <= 6 else 7, 1)
    chosen = None
    for row in rows:
        row_start = row["start"]
        assert isinstance(row_start, date)
        if row_start <= start:
            chosen = row
    if chosen is None:
        raise LookupError(day)
    ecb = Fraction(str(chosen["ecb"]))
    if country == "FR":
        return Fraction(str(chosen["fr"])) if "fr" in chosen else ecb + 10
    if "be" in chosen:
        return Fraction(str(chosen["be"]))
    return Fraction(math.ceil((ecb + 8) * 2), 2)


def interest(amount: Fraction, due: date, paid_on: date, country: str, rows: list[dict[str, object]]) -> Fraction:
    """Interest in euros (exact), then rounded half-up to the cent."""
    base = Fraction(half_up(amount * 100), 100)
    if base <= 0:
        return Fraction(0)
    total = Fraction(0)
    day = due + timedelta(days=1)
    while day <= paid_on:
        total += base * rate_on(day, country, rows) / 100 / 365
        day += timedelta(days=1)
    return Fraction(half_up(total * 100), 100)


# -- payer score, customer by customer --------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def _r(x: float) -> int:
    return math.floor(x + 0.5)


def scores(
    lines: Iterable[tuple[str, date, int, date | None]],
    as_of: date,
    customers: Sequence[str],
    disputes: dict[str, int] | None = None,
    broken: dict[str, int] | None = None,
) -> dict[str, dict[str, object]]:
    """lines: (customer, due date, amount in cents, paid on or None)."""
    per: dict[str, list[tuple[date, int, date | None]]] = {c: [] for c in customers}
    for customer, due, cents, paid in lines:
        per.setdefault(customer, []).append((due, cents, paid))
    out: dict[str, dict[str, object]] = {}
    for customer, rows in per.items():
        n = late_n = 0
        paid_amt = late_amt = 0
        dsum = 0
        r_amt = r_sum = o_amt = o_sum = 0
        owed = overdue = 0
        for due, cents, paid in rows:
            if cents <= 0:
                continue
            if paid is not None and paid <= as_of:
                age = (as_of - paid).days
                if age >= 730:
                    continue
                delay = (paid - due).days
                n += 1
                paid_amt += cents
                dsum += cents * delay
                if delay > 0:
                    late_n += 1
                    late_amt += cents
                if age < 90:
                    r_amt += cents
                    r_sum += cents * delay
                else:
                    o_amt += cents
                    o_sum += cents * delay
            else:
                owed += cents
                if due < as_of:
                    overdue += cents
        avg = dsum / paid_amt if paid_amt else None
        trend = (r_sum / r_amt - o_sum / o_amt) if r_amt and o_amt else 0.0
        flagged = n < 3
        d = (disputes or {}).get(customer, 0)
        b = (broken or {}).get(customer, 0)
        pts = [
            0.0 if flagged else 25.0 * (late_n / n),
            0.0 if flagged else min(30.0, max(0.0, avg or 0.0) * 0.5),
            0.0 if flagged else 10.0 * (late_amt / paid_amt),
            0.0 if flagged else min(10.0, max(-5.0, 0.5 * trend)),
            40.0 if flagged else 0.0,
            15.0 * (overdue / owed) if owed else 0.0,
            min(10.0, 5.0 * d),
            min(20.0, 10.0 * b),
        ]
        lost = 0.0
        for p in pts:
            lost = lost + p
        score = _r(min(100.0, max(0.0, 100.0 - lost)))
        profile = "A" if score >= 80 else "B" if score >= 60 else "C" if score >= 40 else "D"
        late_share = late_amt / paid_amt if paid_amt else 0.0
        overdue_share = overdue / owed if owed else 0.0
        texts = [
            f"en retard {late_n} fois sur {n}",
            f"retard moyen de {_r(avg or 0.0)} j",
            f"{_r(late_share * 100)} % du montant payé en retard",
            f"retards en hausse (+{_r(trend)} j sur 3 mois)",
            f"peu d'historique ({_plural(n, 'paiement')}) : score neutre",
            f"{_r(overdue_share * 100)} % de l'encours échu",
            _plural(d, "litige"),
            f"{_plural(b, 'promesse')} non tenue{'s' if b > 1 else ''}",
        ]
        chosen: list[int] = []
        if flagged:
            chosen.append(4)
            best = None
            for i, p in enumerate(pts):
                if i != 4 and (best is None or p > pts[best]):
                    best = i
            if best is not None and pts[best] >= 5:
                chosen.append(best)
        else:
            order = sorted(range(len(pts)), key=lambda i: (-pts[i], i))
            for i in order[:2]:
                if pts[i] >= 5:
                    chosen.append(i)
                else:
                    break
        if chosen:
            text = " ; ".join(texts[i] for i in chosen)
        else:
            text = f"paie à l'heure : retard moyen de {_r(avg or 0.0)} j sur {_plural(n, 'paiement')}"
        out[customer] = {
            "avg_delay": avg,
            "score": score,
            "profile": profile,
            "reason": text[:1].upper() + text[1:],
        }
    return out


# -- KPIs -----------------------------------------------------------------------------------------


def tenths(value: Fraction) -> Fraction:
    return Fraction(half_up(value * 10), 10)


def dso(receivables: Fraction, sales: Fraction, days: int) -> Fraction | None:
    return None if sales <= 0 else tenths(receivables / sales * days)


def countback(receivables: Fraction, monthly: Sequence[Fraction], month_days: int = 30) -> Fraction:
    left = receivables
    if left <= 0:
        return Fraction(0)
    elapsed = 0
    for sales in monthly:
        if sales > 0 and left <= sales:
            return tenths(elapsed + left / sales * month_days)
        if sales > 0:
            left -= sales
        elapsed += month_days
    return Fraction(elapsed)


def cei(opening: Fraction, sales: Fraction, closing: Fraction, current: Fraction) -> Fraction | None:
    den = opening + sales - current
    return None if den <= 0 else tenths((opening + sales - closing) / den * 100)


# -- cash forecast ------------------------------------------------------------------------------------


def forecast(rows: Iterable[tuple[date, int, float]], as_of: date, weeks: int) -> tuple[list[date], list[int], int]:
    """rows: (due, cents, delay days) → week starts, cents per week, cents later."""
    monday = as_of - timedelta(days=as_of.weekday())
    starts = [monday + timedelta(weeks=k) for k in range(weeks)]
    sums = [0] * weeks
    later = 0
    for due, cents, delay in rows:
        expected = max(due + timedelta(days=math.floor(delay + 0.5)), as_of)
        index = (expected - monday).days // 7
        if index < weeks:
            sums[index] += cents
        else:
            later += cents
    return starts, sums, later


# -- aging per customer ----------------------------------------------------------------------------


def aging_by_customer(rows: Iterable[tuple[str, date, int]], as_of: date,
                      bounds: Sequence[int] = (30, 60, 90)) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for customer, due, cents in rows:
        label = bucket(days_late(due, as_of), bounds)
        per = out.setdefault(customer, {})
        per[label] = per.get(label, 0) + cents
    return out
