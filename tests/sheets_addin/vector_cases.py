"""Load ``tests/vectors/*.json`` and turn their cells into what a spreadsheet hands a custom function."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
FUNCTION_FILES = ("aging", "interest", "scores", "kpis", "forecast")


def load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))["cases"]
    return cases


def function_cases() -> list[dict[str, Any]]:
    return [case for name in FUNCTION_FILES for case in load(name)]


def case_id(case: dict[str, Any]) -> str:
    return f"{case['function']}: {case['name']}"


def decode(value: Any) -> Any:
    """A JSON cell as Excel (xlwings) hands it to Python: date, datetime, number, text, None, "#N/A"."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "date" in value:
            return date.fromisoformat(value["date"])
        if "datetime" in value:
            return datetime.fromisoformat(value["datetime"])
        if "error" in value:
            return value["error"]
        raise ValueError(f"unknown cell {value!r}")
    return value


def same(actual: Any, expected: Any) -> bool:
    """Equal cell by cell; numbers within 1e-9, dates by day."""
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(same(a, e) for a, e in zip(actual, expected, strict=True)))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=0, abs_tol=1e-9)
    if isinstance(expected, date):
        day = actual.date() if isinstance(actual, datetime) else actual
        return isinstance(day, date) and day == expected
    return bool(actual == expected)
