"""The shared vectors against the Python cell functions, the xlwings wrappers and the reference maths."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vector_cases import case_id, decode, function_cases, load, same

from encours.sheets_addin import cells, functions, udfs

CASES = function_cases()
SCALAR_FIRST = {"ENCOURS_DSO", "ENCOURS_DSO_COUNTBACK", "ENCOURS_DSO_OPTIMAL", "ENCOURS_ADD", "ENCOURS_CEI"}


def test_there_are_enough_vectors_with_the_edge_cases() -> None:
    names = " ".join(c["name"] for c in CASES)
    assert len(CASES) + len(load("native")) >= 200
    for edge in ("due today", "leap", "across H1/H2", "credit note", "partial payment", "GBP",
                 "empty history", "empty", "text where a date belongs", "#N/A"):
        assert edge in names, edge


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_cell_functions_match_the_vectors(case: dict[str, Any]) -> None:
    function = cells.FUNCTIONS[case["function"]]
    actual = function(*decode(case["args"]))
    assert same(actual, decode(case["expected"])), f"{actual!r} != {case['expected']!r}"


def _as_excel_passes_it(value: Any) -> Any:
    """xlwings with ndim=2 hands even a single cell over as a 1×1 range."""
    return value if isinstance(value, list) else [[value]]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_xlwings_wrappers_match_the_vectors(case: dict[str, Any]) -> None:
    wrapper = getattr(udfs, case["function"])
    args = decode(case["args"])
    if case["function"] not in SCALAR_FIRST:  # a range-aware first parameter: hand it over as Excel would
        args = [_as_excel_passes_it(args[0]), *args[1:]]
    actual = wrapper(*args)
    expected = decode(case["expected"])
    if isinstance(expected, list) and len(expected) == 1 and len(expected[0]) == 1:
        expected = expected[0][0]  # a 1×1 answer is written as a plain value
    assert same(actual, expected), f"{actual!r} != {case['expected']!r}"


@pytest.mark.parametrize("case", load("native"), ids=lambda c: c["name"])
def test_aging_by_customer_matches_the_native_vectors(case: dict[str, Any]) -> None:
    as_of = date.fromisoformat(case["as_of"])
    frame = pd.DataFrame(case["invoices"])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    known = frame[frame["remaining_eur"].notna()].copy()
    known["remaining_eur"] = known["remaining_eur"].map(lambda v: Decimal(str(v)))
    table = functions.aging_by_customer(known, as_of)
    for customer, expected in case["expected"].items():
        if customer not in table.index:
            assert all(v == 0 for v in expected.values())
            continue
        row = table.loc[customer]
        for label in ("Non échu", "1-30", "31-60", "61-90", "> 90", "Total"):
            assert row[label] == Decimal(str(expected[label])).quantize(Decimal("0.01")), (customer, label)
    days = functions.days_past_due_series(frame["due_date"], as_of)
    assert dict(zip(frame["id"], days.astype(int), strict=True)) == case["days_late"]
