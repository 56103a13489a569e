"""Write the shared test vectors ``tests/vectors/*.json`` (run: ``python tests/vectors/make_vectors.py``).

The expected answers come from ``bench/loop_reference.py`` — a plain row-by-row implementation
written from the definitions, independent of ``sheets_addin`` — and from hand-written answers for
the bad cells.  Python (``test_vectors_python.py``), the xlwings wrappers, Apps Script
(``node --test``) and LibreOffice (native formulas) are all checked against these files.

Cell encoding: numbers, text, ``null`` (empty cell), booleans, ``{"date": "YYYY-MM-DD"}``,
``{"datetime": "YYYY-MM-DDTHH:MM:SS"}``, ``{"error": "#N/A"}``; a range is a list of rows.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "bench"))

import loop_reference as ref  # noqa: E402

E = "#ENCOURS: "


def d(day: date) -> dict[str, str]:
    return {"date": day.isoformat()}


def err(code: str) -> dict[str, str]:
    return {"error": code}


def col(values: list[Any]) -> list[list[Any]]:
    return [[v] for v in values]


def serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def key(value: Any) -> str:
    """A customer id cell as text (a whole number typed in a cell is its digits)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def money(cents: int) -> float:
    return cents / 100


def write(name: str, description: str, cases: list[dict[str, Any]]) -> int:
    path = HERE / f"{name}.json"
    payload = {"description": description, "cases": cases}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(cases)


def aging_cases(rng: random.Random) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    as_of = date(2025, 3, 1)
    fixed = [
        ("due today", as_of), ("due yesterday", as_of - timedelta(1)), ("due tomorrow", as_of + timedelta(1)),
        ("30 days", as_of - timedelta(30)), ("31 days", as_of - timedelta(31)), ("60 days", as_of - timedelta(60)),
        ("61 days", as_of - timedelta(61)), ("90 days", as_of - timedelta(90)), ("91 days", as_of - timedelta(91)),
        ("a year", as_of - timedelta(365)), ("leap day due", date(2024, 2, 29)),
        ("far future", date(2030, 12, 31)),
    ]
    for name, due in fixed:
        days = ref.days_late(due, as_of)
        cases.append({"function": "ENCOURS_JOURS_RETARD", "name": name, "args": [d(due), d(as_of)],
                      "expected": days})
        cases.append({"function": "ENCOURS_TRANCHE", "name": name, "args": [d(due), d(as_of)],
                      "expected": ref.bucket(days)})
    leap = [(date(2024, 2, 28), date(2024, 3, 1), "leap year Feb 28 → Mar 1"),
            (date(2024, 2, 29), date(2025, 2, 28), "leap day → next Feb 28"),
            (date(2023, 2, 28), date(2023, 3, 1), "non-leap Feb 28 → Mar 1"),
            (date(2024, 12, 31), date(2025, 1, 1), "year end"),
            (date(2024, 6, 30), date(2024, 7, 1), "half-year boundary")]
    for due, as_of2, name in leap:
        cases.append({"function": "ENCOURS_JOURS_RETARD", "name": name, "args": [d(due), d(as_of2)],
                      "expected": ref.days_late(due, as_of2)})
    # Excel serial numbers and datetimes are dates too
    cases.append({"function": "ENCOURS_JOURS_RETARD", "name": "serial number due", "args": [serial(date(2025, 1, 15)),
                  d(as_of)], "expected": ref.days_late(date(2025, 1, 15), as_of)})
    cases.append({"function": "ENCOURS_JOURS_RETARD", "name": "datetime due keeps its day",
                  "args": [{"datetime": "2025-02-27T18:45:00"}, d(as_of)], "expected": 2})
    for value, message, name in [
        ("31/01/2025", "due date is not a date", "text where a date belongs"),
        (None, "due date is empty", "empty due date"),
        ("", "due date is empty", "empty text due date"),
        (err("#N/A"), "due date is an error value (#N/A)", "error value #N/A"),
        (err("#VALUE!"), "due date is an error value (#VALUE!)", "error value #VALUE!"),
        (True, "due date is not a date", "a boolean"),
    ]:
        for function in ("ENCOURS_JOURS_RETARD", "ENCOURS_TRANCHE"):
            cases.append({"function": function, "name": name, "args": [value, d(as_of)], "expected": E + message})
    cases.append({"function": "ENCOURS_JOURS_RETARD", "name": "bad as-of date", "args": [d(as_of), "demain"],
                  "expected": E + "as-of date is not a date"})
    # a whole column with bad cells in the middle: the rest computes
    dues: list[Any] = [d(as_of - timedelta(rng.randrange(-40, 200))) for _ in range(12)]
    dues[3], dues[7], dues[9] = "n/a", None, err("#REF!")
    exp_days: list[Any] = []
    exp_bucket: list[Any] = []
    for value in dues:
        if isinstance(value, dict) and "date" in value:
            days = ref.days_late(date.fromisoformat(value["date"]), as_of)
            exp_days.append(days)
            exp_bucket.append(ref.bucket(days))
        else:
            message = {"n/a": "due date is not a date", None: "due date is empty"}.get(
                value if not isinstance(value, dict) else "x", "due date is an error value (#REF!)")
            exp_days.append(E + message)
            exp_bucket.append(E + message)
    cases.append({"function": "ENCOURS_JOURS_RETARD", "name": "column with bad cells", "args": [col(dues), d(as_of)],
                  "expected": col(exp_days)})
    cases.append({"function": "ENCOURS_TRANCHE", "name": "column with bad cells", "args": [col(dues), d(as_of)],
                  "expected": col(exp_bucket)})
    # configurable bounds
    for bounds in ([15, 45], [10, 20, 30, 60], [7]):
        for days in (0, 1, bounds[0], bounds[0] + 1, bounds[-1], bounds[-1] + 1, 400):
            due = as_of - timedelta(days)
            cases.append({"function": "ENCOURS_TRANCHE", "name": f"bounds {bounds}, {days} days",
                          "args": [d(due), d(as_of), col(bounds)], "expected": ref.bucket(days, bounds)})
    cases.append({"function": "ENCOURS_TRANCHE", "name": "bounds not rising",
                  "args": [d(as_of), d(as_of), col([60, 30])],
                  "expected": E + "bounds must be whole numbers rising from 1"})
    cases.append({"function": "ENCOURS_TRANCHE", "name": "bounds not whole",
                  "args": [d(as_of), d(as_of), col([30.5, 60])], "expected": E + "bound is not a whole number"})
    return cases


def interest_cases(rng: random.Random) -> list[dict[str, Any]]:
    rows = ref.load_rate_rows()
    cases: list[dict[str, Any]] = []

    def add(name: str, cents: int, due: date, paid: date | None, country: str, as_of: date) -> None:
        end = paid or as_of
        value = ref.interest(Fraction(cents, 100), due, end, country, rows)
        args: list[Any] = [money(cents), d(due), d(paid) if paid else None, country, d(as_of)]
        cases.append({"function": "ENCOURS_INTERETS", "name": name, "args": args, "expected": float(value)})
        indemnity = 40.0 if cents > 0 and end > due else 0.0
        cases.append({"function": "ENCOURS_INDEMNITE", "name": name, "args": [money(cents), d(due),
                      d(paid) if paid else None, d(as_of)], "expected": indemnity})

    as_of = date(2026, 11, 23)
    add("FR across H2 2022/H1 2023, ECB from 0 % to 2.5 %", 100000, date(2022, 12, 1), date(2023, 2, 1), "FR", as_of)
    add("BE across H1/H2 2023", 100000, date(2023, 6, 1), date(2023, 8, 1), "BE", as_of)
    add("FR across H1/H2 2025", 100000, date(2025, 6, 15), date(2025, 7, 15), "FR", as_of)
    add("BE across H1/H2 2025", 100000, date(2025, 6, 15), date(2025, 7, 15), "BE", as_of)
    add("FR within H1 2025 at 13.15%", 1234567, date(2025, 1, 31), date(2025, 3, 2), "FR", as_of)
    add("FR within H2 2025 at 12.15%", 500000, date(2025, 9, 30), date(2025, 11, 14), "FR", as_of)
    add("BE 2024 at 12.5%", 250000, date(2024, 3, 1), date(2024, 5, 1), "BE", as_of)
    add("FR across the leap day 2024", 999999, date(2024, 2, 20), date(2024, 3, 10), "FR", as_of)
    add("FR across year end 2024/2025", 420000, date(2024, 12, 15), date(2025, 1, 20), "FR", as_of)
    add("FR over four half-years", 2500000, date(2024, 5, 31), date(2026, 2, 1), "FR", as_of)
    add("BE over four half-years", 2500000, date(2024, 5, 31), date(2026, 2, 1), "BE", as_of)
    add("paid on the due date", 100000, date(2025, 5, 1), date(2025, 5, 1), "FR", as_of)
    add("paid one day late", 100000, date(2025, 5, 1), date(2025, 5, 2), "FR", as_of)
    add("paid before the due date", 100000, date(2025, 5, 10), date(2025, 5, 1), "FR", as_of)
    add("credit note bears no interest", -50000, date(2025, 5, 1), date(2025, 8, 1), "FR", as_of)
    add("zero amount", 0, date(2025, 5, 1), date(2025, 8, 1), "BE", as_of)
    add("unpaid: interest up to the as-of date", 330000, date(2026, 5, 20), None, "FR", date(2026, 9, 1))
    add("unpaid BE across H1/H2 2026", 330000, date(2026, 5, 20), None, "BE", date(2026, 9, 1))
    add("into H2 2026 (carried forward)", 100000, date(2026, 6, 1), date(2026, 10, 1), "FR", as_of)
    add("after the table: last rate carried forward", 100000, date(2026, 12, 1), date(2027, 3, 1), "FR", as_of)
    add("one cent", 1, date(2025, 1, 1), date(2025, 12, 31), "FR", as_of)
    add("partial payment: interest on the remaining part", 37550, date(2025, 2, 10), date(2025, 4, 10), "FR", as_of)
    add("invoice in GBP (amount in its own currency)", 180000, date(2025, 3, 1), date(2025, 4, 15), "FR", as_of)
    for i in range(24):
        due = date(2024, 1, 1) + timedelta(rng.randrange(0, 900))
        paid = due + timedelta(rng.randrange(-5, 400))
        country = rng.choice(("FR", "BE"))
        add(f"random #{i + 1} ({country})", rng.randrange(1, 5_000_000), due, paid, country, as_of)
    # country spelled in lower case, omitted
    cases.append({"function": "ENCOURS_INTERETS", "name": "country in lower case", "args": [1000, d(date(2025, 6, 15)),
                  d(date(2025, 7, 15)), "be", d(as_of)],
                  "expected": float(ref.interest(Fraction(1000), date(2025, 6, 15), date(2025, 7, 15), "BE", rows))})
    cases.append({"function": "ENCOURS_INTERETS", "name": "country empty means FR", "args": [1000,
                  d(date(2025, 6, 15)), d(date(2025, 7, 15)), None, d(as_of)],
                  "expected": float(ref.interest(Fraction(1000), date(2025, 6, 15), date(2025, 7, 15), "FR", rows))})
    bad = [
        (["mille", d(date(2025, 1, 1)), d(date(2025, 2, 1)), "FR", d(as_of)], "amount is not a number"),
        ([None, d(date(2025, 1, 1)), d(date(2025, 2, 1)), "FR", d(as_of)], "amount is empty"),
        ([100, "hier", d(date(2025, 2, 1)), "FR", d(as_of)], "due date is not a date"),
        ([100, d(date(2025, 1, 1)), "bientôt", "FR", d(as_of)], "payment date is not a date"),
        ([100, d(date(2025, 1, 1)), err("#DIV/0!"), "FR", d(as_of)], "payment date is an error value (#DIV/0!)"),
        ([100, d(date(2025, 1, 1)), d(date(2025, 2, 1)), "DE", d(as_of)], "country must be FR or BE"),
        ([100, d(date(2020, 1, 1)), d(date(2020, 2, 1)), "FR", d(as_of)], "no late-payment rate for 2020-01-01"),
    ]
    for args, message in bad:
        cases.append({"function": "ENCOURS_INTERETS", "name": message, "args": args, "expected": E + message})
    # a column of amounts with one bad cell
    amounts: list[Any] = [1500.0, "n/a", 320.45, None, -80.0]
    expected: list[Any] = []
    due, paid = date(2025, 6, 1), date(2025, 8, 31)
    for a in amounts:
        if isinstance(a, float):
            expected.append(float(ref.interest(Fraction(str(a)), due, paid, "FR", rows)))
        else:
            expected.append(E + ("amount is not a number" if a else "amount is empty"))
    cases.append({"function": "ENCOURS_INTERETS", "name": "column of amounts with bad cells",
                  "args": [col(amounts), d(due), d(paid), "FR", d(as_of)], "expected": col(expected)})
    return cases


def score_cases(rng: random.Random) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    as_of = date(2025, 9, 30)

    def history_case(name: str, lines: list[tuple[Any, Any, Any, Any]], wanted: list[Any],
                     disputes: list[Any] | None = None, broken: list[Any] | None = None) -> None:
        parsed = []
        for customer, due, amount, paid in lines:
            if customer in (None, "") or isinstance(customer, dict):
                continue
            if not (isinstance(due, dict) and "date" in due) or not isinstance(amount, (int, float)) or isinstance(
                    amount, bool):
                continue
            if paid is not None and not (isinstance(paid, dict) and "date" in paid):
                continue
            parsed.append((key(customer), date.fromisoformat(due["date"]), ref.half_up(Fraction(str(amount)) * 100),
                           date.fromisoformat(paid["date"]) if paid else None))
        keys = [key(w) for w in wanted if w not in (None, "") and not isinstance(w, dict)]
        dmap = {key(w): v for w, v in zip(wanted, disputes or [], strict=False) if isinstance(v, int)}
        bmap = {key(w): v for w, v in zip(wanted, broken or [], strict=False) if isinstance(v, int)}
        result = ref.scores(parsed, as_of, list(dict.fromkeys(keys)), dmap, bmap)
        args = [col(wanted), col([x[0] for x in lines]), col([x[1] for x in lines]), col([x[2] for x in lines]),
                col([x[3] for x in lines]), d(as_of)]
        extra = []
        if disputes is not None or broken is not None:
            extra = [col(disputes or [None] * len(wanted)), col(broken or [None] * len(wanted))]
        for function, field in (("ENCOURS_SCORE", "score"), ("ENCOURS_PROFIL", "profile"),
                                ("ENCOURS_SCORE_EXPLICATION", "reason"), ("ENCOURS_RETARD_MOYEN", "avg_delay")):
            expected = []
            for w in wanted:
                if w in (None, ""):
                    expected.append("")
                elif isinstance(w, dict):
                    expected.append(E + f"customer is an error value ({w['error']})")
                else:
                    value = result[key(w)][field]
                    expected.append("" if value is None else value)
            call_args = args + extra if function != "ENCOURS_RETARD_MOYEN" else args
            cases.append({"function": function, "name": name, "args": call_args, "expected": col(expected)})

    behaviours = {"ponctuel": (0.05, 0, 3), "un peu": (0.6, 9, 6), "chronique": (0.95, 45, 20), "aggrave": (0.5, 10, 5)}
    for round_ in range(6):
        lines: list[tuple[Any, Any, Any, Any]] = []
        wanted = []
        for c, (share, mean, spread) in behaviours.items():
            cid = f"C{round_}{c[:2].upper()}"
            wanted.append(cid)
            for _ in range(rng.randrange(2, 14)):
                due = as_of - timedelta(rng.randrange(-30, 800))
                amount = rng.choice((350.0, 1200.5, 99.99, 4800.0, 15.3))
                late = rng.random() < share
                delay = max(1, int(rng.gauss(mean, spread))) if late else rng.randrange(-6, 1)
                if c == "aggrave" and due > as_of - timedelta(120):
                    delay += 30
                paid = due + timedelta(delay)
                if paid > as_of and rng.random() < 0.7:
                    lines.append((cid, d(due), amount, None))
                elif rng.random() < 0.15:  # partial payment: two lines
                    lines.append((cid, d(due), round(amount * 0.4, 2), d(paid)))
                    lines.append((cid, d(due), round(amount * 0.6, 2), d(paid + timedelta(rng.randrange(5, 40)))))
                else:
                    lines.append((cid, d(due), amount, d(paid)))
        rng.shuffle(lines)
        disputes = [rng.choice((0, 0, 1, 2)) for _ in wanted]
        broken = [rng.choice((0, 0, 0, 1, 3)) for _ in wanted]
        history_case(f"four behaviours, round {round_ + 1}", lines, wanted,
                     disputes if round_ % 2 else None, broken if round_ % 2 else None)
    history_case("empty history: neutral, flagged", [("X", d(as_of), 100.0, None)], ["NEW"])
    history_case("two payments only: neutral, flagged, with overdue",
                 [("F", d(as_of - timedelta(60)), 500.0, d(as_of - timedelta(20))),
                  ("F", d(as_of - timedelta(50)), 500.0, d(as_of - timedelta(49))),
                  ("F", d(as_of - timedelta(10)), 800.0, None)], ["F"])
    history_case("credit notes (negative lines) are ignored",
                 [("K", d(as_of - timedelta(100 + i * 30)), 1000.0, d(as_of - timedelta(100 + i * 30 - 5)))
                  for i in range(4)] + [("K", d(as_of - timedelta(70)), -400.0, d(as_of - timedelta(10)))], ["K"])
    history_case("old payments beyond 730 days are not looked at",
                 [("O", d(as_of - timedelta(900 + i)), 100.0, d(as_of - timedelta(800 + i))) for i in range(5)]
                 + [("O", d(as_of - timedelta(40 + i)), 100.0, d(as_of - timedelta(40 + i))) for i in range(3)], ["O"])
    history_case("a payment after the as-of date counts as open",
                 [("P", d(as_of - timedelta(200 + i * 20)), 300.0, d(as_of - timedelta(190 + i * 20)))
                  for i in range(4)]
                 + [("P", d(as_of - timedelta(5)), 300.0, d(as_of + timedelta(3)))], ["P"])
    history_case("bad cells in the history are skipped; blank and error customers",
                 [("B", d(as_of - timedelta(100)), 200.0, d(as_of - timedelta(90))),
                  ("B", "pas une date", 200.0, d(as_of - timedelta(90))),
                  ("B", d(as_of - timedelta(80)), "deux cents", d(as_of - timedelta(60))),
                  ("B", d(as_of - timedelta(70)), 200.0, d(as_of - timedelta(69))),
                  (None, d(as_of - timedelta(70)), 200.0, d(as_of - timedelta(69))),
                  ("B", d(as_of - timedelta(40)), 200.0, d(as_of - timedelta(30))),
                  ("B", d(as_of - timedelta(20)), 200.0, err("#N/A"))],
                 ["B", None, err("#N/A")])
    history_case("numeric customer ids", [(1001.0, d(as_of - timedelta(30 * i)), 50.0, d(as_of - timedelta(30 * i - 2)))
                                          for i in range(1, 6)], [1001])
    return cases


def kpi_cases(rng: random.Random) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    F = Fraction

    def num(x: Fraction | None, undefined: str = "credit sales must be positive") -> Any:
        return float(x) if x is not None else E + undefined

    cases.append({"function": "ENCOURS_DSO_COUNTBACK", "name": "product.md example: 212k over 100k/80k/70k",
                  "args": [212000, col([100000, 80000, 70000])], "expected": 73.7})
    for i in range(14):
        sales = rng.randrange(1000, 500000)
        receivables = rng.randrange(0, 600000)
        current = rng.randrange(0, receivables + 1)
        days = rng.choice((30, 90, 91, 365))
        r, s, c = F(receivables, 100) * 100, F(sales), F(current)
        cases.append({"function": "ENCOURS_DSO", "name": f"random #{i + 1}", "args": [float(r), sales, days],
                      "expected": num(ref.dso(r, s, days))})
        cases.append({"function": "ENCOURS_DSO_OPTIMAL", "name": f"random #{i + 1}", "args": [current, sales, days],
                      "expected": num(ref.dso(c, s, days))})
        cases.append({"function": "ENCOURS_ADD", "name": f"random #{i + 1}", "args": [float(r), current, sales, days],
                      "expected": num(ref.dso(r - c, s, days))})
        monthly = [rng.randrange(0, 200000) for _ in range(rng.randrange(1, 7))]
        cases.append({"function": "ENCOURS_DSO_COUNTBACK", "name": f"random #{i + 1}",
                      "args": [float(r), col(monthly)],
                      "expected": num(ref.countback(r, [F(m) for m in monthly]))})
        opening = rng.randrange(0, 400000)
        cases.append({"function": "ENCOURS_CEI", "name": f"random #{i + 1}",
                      "args": [opening, sales, float(r), current],
                      "expected": num(ref.cei(F(opening), s, r, c), "opening + sales − current must be positive")})
    cases.append({"function": "ENCOURS_DSO_COUNTBACK", "name": "receivables beyond all months: capped",
                  "args": [500, col([100, 100])], "expected": 60.0})
    cases.append({"function": "ENCOURS_DSO_COUNTBACK", "name": "no receivables", "args": [0, col([100, 100])],
                  "expected": 0.0})
    cases.append({"function": "ENCOURS_DSO_COUNTBACK", "name": "calendar months of 31 days",
                  "args": [212000, col([100000, 80000, 70000]), 31],
                  "expected": num(ref.countback(F(212000), [F(100000), F(80000), F(70000)], 31))})
    cases.append({"function": "ENCOURS_DSO", "name": "no sales", "args": [1000, 0, 90],
                  "expected": E + "credit sales must be positive"})
    cases.append({"function": "ENCOURS_DSO", "name": "sales as text", "args": [1000, "beaucoup", 90],
                  "expected": E + "credit sales is not a number"})
    cases.append({"function": "ENCOURS_DSO", "name": "receivables empty", "args": [None, 1000, 90],
                  "expected": E + "receivables is empty"})
    cases.append({"function": "ENCOURS_CEI", "name": "nothing to collect", "args": [0, 0, 0, 0],
                  "expected": E + "opening + sales − current must be positive"})
    cases.append({"function": "ENCOURS_CEI", "name": "perfect collection", "args": [50000, 100000, 30000, 30000],
                  "expected": 100.0})
    cases.append({"function": "ENCOURS_DSO", "name": "credit notes lower receivables", "args": [-500, 10000, 90],
                  "expected": -4.5})
    return cases


def forecast_cases(rng: random.Random) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for i in range(6):
        as_of = date(2025, 3, 1) + timedelta(rng.randrange(0, 400))
        rows = []
        for _ in range(rng.randrange(3, 15)):
            due = as_of + timedelta(rng.randrange(-60, 120))
            cents = rng.choice((10000, 25050, 99999, -5000, 123456))
            delay = rng.choice((0.0, 2.5, 12.3, -3.0, 45.6, None))
            rows.append((due, cents, delay))
        weeks = rng.choice((4, 8, 13))
        starts, sums, later = ref.forecast([(r[0], r[1], r[2] or 0.0) for r in rows], as_of, weeks)
        expected: list[list[Any]] = [[d(s), money(v)] for s, v in zip(starts, sums, strict=True)]
        expected.append(["", money(later)])
        cases.append({"function": "ENCOURS_PREVISION", "name": f"random #{i + 1}",
                      "args": [col([d(r[0]) for r in rows]), col([money(r[1]) for r in rows]),
                               col([r[2] for r in rows]), d(as_of), weeks], "expected": expected})
    as_of = date(2025, 3, 5)
    cases.append({"function": "ENCOURS_PREVISION", "name": "bad lines are skipped",
                  "args": [col([d(date(2025, 3, 10)), "x", d(date(2025, 3, 3))]), col([100.0, 50.0, "y"]),
                           col([None, None, None]), d(as_of), 2],
                  "expected": [[d(date(2025, 3, 3)), 0.0], [d(date(2025, 3, 10)), 100.0], ["", 0.0]]})
    cases.append({"function": "ENCOURS_PREVISION", "name": "bad as-of date",
                  "args": [col([d(date(2025, 3, 10))]), col([100.0]), None, "lundi", 2],
                  "expected": E + "as-of date is not a date"})
    return cases


def native_cases(rng: random.Random) -> list[dict[str, Any]]:
    """Whole ledgers for the native workbook formulas (Jours de retard, Tranche, Clients, Balance âgée)."""
    cases: list[dict[str, Any]] = []
    for i in range(4):
        as_of = date(2025, 1, 1) + timedelta(rng.randrange(0, 600))
        customers = [f"C{i}{k:02d}" for k in range(rng.randrange(3, 7))]
        invoices: list[dict[str, Any]] = []
        for n in range(rng.randrange(15, 40)):
            customer = rng.choice(customers)
            due = as_of - timedelta(rng.randrange(-60, 200))
            if n % 9 == 0:
                due = as_of  # due today
            cents = rng.choice((15000, 120000, 99999, 4550, 300000))
            if n % 7 == 3:
                cents = -cents  # credit note
            eur: int | None = cents
            currency = "EUR"
            if n % 11 == 5:
                currency = "GBP"
                eur = None if n % 2 else cents * 117 // 100
            invoices.append({"id": f"INV-{i}-{n}", "customer_id": customer, "due_date": due.isoformat(),
                             "remaining": money(cents), "currency": currency,
                             "remaining_eur": None if eur is None else money(eur)})
        rows = [(x["customer_id"], date.fromisoformat(x["due_date"]),
                 ref.half_up(Fraction(str(x["remaining_eur"])) * 100))
                for x in invoices if x["remaining_eur"] is not None]
        per = ref.aging_by_customer(rows, as_of)
        expected = {}
        for customer in customers:
            buckets = per.get(customer, {})
            amounts = {label: money(buckets.get(label, 0)) for label in ("Non échu", "1-30", "31-60", "61-90", "> 90")}
            amounts["Total"] = money(sum(buckets.values()))
            amounts["Échu"] = money(sum(v for k, v in buckets.items() if k != "Non échu"))
            expected[customer] = amounts
        cases.append({"name": f"ledger #{i + 1}", "as_of": as_of.isoformat(), "customers": customers,
                      "invoices": invoices, "expected": expected,
                      "days_late": {x["id"]: ref.days_late(date.fromisoformat(x["due_date"]), as_of)
                                    for x in invoices}})
    return cases


def main() -> None:
    rng = random.Random(20251123)
    total = 0
    total += write("aging", "ENCOURS_JOURS_RETARD and ENCOURS_TRANCHE", aging_cases(rng))
    total += write("interest", "ENCOURS_INTERETS and ENCOURS_INDEMNITE (FR/BE rate table)", interest_cases(rng))
    total += write("scores", "ENCOURS_SCORE, _PROFIL, _SCORE_EXPLICATION, _RETARD_MOYEN", score_cases(rng))
    total += write("kpis", "ENCOURS_DSO, _DSO_COUNTBACK, _DSO_OPTIMAL, _ADD, _CEI", kpi_cases(rng))
    total += write("forecast", "ENCOURS_PREVISION (weekly cash forecast)", forecast_cases(rng))
    total += write("native", "Whole ledgers for the native workbook formulas", native_cases(rng))
    print(f"{total} cases written to {HERE}")


if __name__ == "__main__":
    main()
