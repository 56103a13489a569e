"""The Excel custom functions (xlwings wrappers) as Excel calls them, on Linux."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from encours.sheets_addin import cells, udfs

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_module_imports_without_windows_only_modules() -> None:
    code = (
        "import sys, encours.sheets_addin.udfs; "
        "bad = {'pythoncom', 'pywintypes', 'win32com'} & set(sys.modules); print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "set()"


def test_every_function_is_exposed_with_help_and_the_same_names_as_apps_script() -> None:
    exposed = {name for name, obj in inspect.getmembers(udfs, inspect.isfunction) if name.startswith("ENCOURS_")}
    assert exposed == set(cells.FUNCTIONS)
    for name in exposed:
        function = getattr(udfs, name)
        assert function.__doc__ and len(function.__doc__.strip()) > 20, name
        # no type hints: xlwings would read them as converters
        parameters = inspect.signature(function).parameters.values()
        assert not any(p.annotation is not inspect.Parameter.empty for p in parameters)
    code = (ROOT / "sheets_addin" / "apps_script" / "Code.gs").read_text(encoding="utf-8")
    in_apps_script = set(re.findall(r"^function (ENCOURS_\w+)\(", code, flags=re.MULTILINE))
    assert in_apps_script == exposed
    assert code.count("@customfunction") == len(exposed)


def test_a_whole_column_spills_one_array_and_bad_cells_stay_in_their_cell() -> None:
    as_of = datetime(2026, 11, 23)
    column = [[datetime(2026, 11, 1)], ["31/10/2026"], [None], ["#N/A"], [45000.0], [as_of]]
    result = udfs.ENCOURS_JOURS_RETARD(column, as_of)
    assert result == [[22], ["#ENCOURS: due date is not a date"], ["#ENCOURS: due date is empty"],
                      ["#ENCOURS: due date is an error value (#N/A)"], [(date(2026, 11, 23) - date(2023, 3, 15)).days],
                      [0]]
    buckets = udfs.ENCOURS_TRANCHE(column, as_of)
    assert buckets[0] == ["1-30"] and buckets[5] == ["Non échu"] and buckets[1][0].startswith("#ENCOURS")


def test_one_cell_gives_a_plain_value_and_the_as_of_date_defaults_to_today() -> None:
    yesterday = date.today() - timedelta(days=1)
    assert udfs.ENCOURS_JOURS_RETARD([[yesterday]]) == 1
    assert udfs.ENCOURS_TRANCHE([[yesterday]], None, [[10], [20], [30]]) == "1-10"


def test_interest_and_indemnity_for_a_column_of_invoices() -> None:
    amounts = [[1000.0], [-200.0], ["abc"]]
    dues = [[date(2025, 6, 15)]] * 3
    paid = [[date(2025, 7, 15)], [date(2025, 7, 15)], [date(2025, 7, 15)]]
    assert udfs.ENCOURS_INTERETS(amounts, dues, paid, "FR") == [[10.40], [0.0], ["#ENCOURS: amount is not a number"]]
    assert udfs.ENCOURS_INDEMNITE(amounts, dues, paid) == [[40.0], [0.0], ["#ENCOURS: amount is not a number"]]


def test_score_over_a_customer_column() -> None:
    as_of = date(2026, 11, 23)
    customers = [["A"]] * 4 + [["B"]]
    dues = [[as_of - timedelta(days=30 * i)] for i in range(1, 6)]
    amounts = [[100.0]] * 5
    paid = [[as_of - timedelta(days=30 * i - 1)] for i in range(1, 5)] + [[None]]
    scores = udfs.ENCOURS_SCORE([["A"], ["B"], [None]], customers, dues, amounts, paid, as_of)
    profiles = udfs.ENCOURS_PROFIL([["A"], ["B"], [None]], customers, dues, amounts, paid, as_of)
    assert scores[0][0] < 100 and scores[2] == [""]
    assert profiles[1] == ["C"]  # no payment yet and everything overdue: neutral 60 − 15


def test_kpi_functions() -> None:
    assert udfs.ENCOURS_DSO_COUNTBACK(212000, [[100000], [80000], [70000]]) == 73.7
    assert udfs.ENCOURS_DSO(150000, 300000, 90) == 45.0
    assert udfs.ENCOURS_CEI(50000, 100000, 30000, 30000) == 100.0
    forecast = udfs.ENCOURS_PREVISION([[date(2026, 11, 30)]], [[500.0]], [[7.0]], date(2026, 11, 23), 3)
    assert forecast == [[date(2026, 11, 23), 0.0], [date(2026, 11, 30), 0.0], [date(2026, 12, 7), 500.0], ["", 0.0]]


def test_reloading_the_module_is_harmless() -> None:
    # Excel re-imports UDF modules when "Import Functions" is pressed
    importlib.reload(udfs)
    assert udfs.ENCOURS_DSO(1, 1, 1) == 1.0


def test_functions_whose_as_of_may_be_omitted_are_volatile_so_they_follow_the_day() -> None:
    """An omitted as-of date is today: without ``volatile=True`` Excel keeps yesterday's figures."""
    import ast

    tree = ast.parse((ROOT / "sheets_addin" / "udfs.py").read_text(encoding="utf-8"))
    checked = 0
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("ENCOURS_"):
            continue
        declared = next(d for d in node.decorator_list if isinstance(d, ast.Call) and ast.unparse(d.func) == "xw.func")
        volatile = any(k.arg == "volatile" and ast.literal_eval(k.value) is True for k in declared.keywords)
        takes_as_of = "as_of" in [a.arg for a in node.args.args]
        assert volatile == takes_as_of, node.name
        checked += takes_as_of
    assert checked >= 9
