"""Native workbook formulas, recalculated by LibreOffice, against the Python reference functions.

The workbook is written by the real backend (``XlsxWorkbook``) from ledgers made of the shared
vectors (``tests/vectors/native.json``) and from the demo ledger; LibreOffice computes every
formula; the values must equal what ``encours.sheets_addin.functions`` and the vectors say:
Jours de retard, Tranche, Clients (Encours, Échu), Balance âgée, and the dashboard totals and
KPIs (DSO simple and countback, best possible DSO, ADD, CEI).
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vector_cases import load

from encours.connectors.demo import demo_ledger
from encours.connectors.model import Customer, DocumentKind, Invoice, InvoiceStatus, Ledger, Money
from encours.sheets_addin.functions import aging_bucket, ledger_kpis
from encours.sheets_addin.view import build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from tests.support.computed import check_kpis, dashboard, money, rows_of
from tests.support.libreoffice import recalculate

pytestmark = pytest.mark.libreoffice


def _ledger(case: dict[str, Any]) -> Ledger:
    as_of = date.fromisoformat(case["as_of"])
    customers = tuple(Customer(c, f"Client {c}", "vectors") for c in case["customers"])
    invoices = []
    for row in case["invoices"]:
        amount = Decimal(str(row["remaining"]))
        due = date.fromisoformat(row["due_date"])
        eur = row["remaining_eur"]
        money = Money(abs(amount), row["currency"])
        invoices.append(
            Invoice(
                id=row["id"], number=row["id"].replace("INV", "F"), customer_id=row["customer_id"], source="vectors",
                issue_date=min(due - timedelta(days=30), as_of), due_date=due, total=money, remaining=money,
                kind=DocumentKind.CREDIT_NOTE if amount < 0 else DocumentKind.INVOICE, status=InvoiceStatus.OPEN,
                remaining_company=None if eur is None or row["currency"] == "EUR" else Money(abs(Decimal(str(eur)))),
            )
        )
    return Ledger(customers, tuple(invoices))


def _recalculated(ledger: Ledger, as_of: date, folder: Path) -> Any:
    """Write the workbook as a sync would, freeze its as-of date, put the sync's opening receivables."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(ledger, as_of, company="Parité"))
    wb = load_workbook(path)
    wb["Paramètres"]["B2"] = as_of
    wb["Tableau de bord"]["B28"] = float(ledger_kpis(ledger, as_of).opening)
    wb.save(path)
    return load_workbook(recalculate(path, folder / "recalc"), data_only=True)


@pytest.mark.parametrize("case", load("native"), ids=lambda c: c["name"])
def test_native_formulas_match_the_vectors(case: dict[str, Any], tmp_path: Path) -> None:
    as_of = date.fromisoformat(case["as_of"])
    ledger = _ledger(case)
    wb = _recalculated(ledger, as_of, tmp_path)

    seen = 0
    for row in rows_of(wb["Factures"]):
        expected_days = case["days_late"][row["ID"]]
        assert row["Jours de retard"] == expected_days, row["ID"]
        assert row["Tranche"] == aging_bucket(expected_days), row["ID"]
        seen += 1
    assert seen == len(case["invoices"])

    clients = {row["ID client"]: row for row in rows_of(wb["Clients"])}
    for customer, expected in case["expected"].items():
        assert money(clients[customer]["Encours"]) == money(expected["Total"]), customer
        assert money(clients[customer]["Échu"]) == money(expected["Échu"]), customer

    aging = {row["ID client"]: row for row in rows_of(wb["Balance âgée"]) if row.get("ID client")}
    for customer, expected in case["expected"].items():
        if customer not in aging:
            assert all(v == 0 for v in expected.values()), customer
            continue
        for label in ("Non échu", "1-30", "31-60", "61-90", "> 90", "Total"):
            assert money(aging[customer][label]) == money(expected[label]), (customer, label)
    check_kpis(wb, ledger, as_of)


def test_dashboard_kpis_of_the_demo_ledger_match_python(tmp_path: Path) -> None:
    as_of = date(2026, 11, 23)
    ledger = demo_ledger(as_of)
    wb = _recalculated(ledger, as_of, tmp_path)
    check_kpis(wb, ledger, as_of)
    board = dashboard(wb)
    assert board["CEI (%)"] not in (None, "") and board["DSO simple (jours)"] not in (None, "")
