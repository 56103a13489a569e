"""The sheet adds up to the ledger: unallocated credits and instalments on every backend.

Each customer's balance is computed here independently of encours' own sums (open invoices minus
open credit notes minus unallocated credits, straight from the records), then compared with what
LibreOffice computes in the workbook, with the rows the Google Sheets backend writes, and — over
generated ledgers — with the view's rows.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_sheets_server import FakeSheetsServer

from encours.connectors.model import (
    CreditKind,
    Customer,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Ledger,
    Money,
    UnallocatedCredit,
)
from encours.sheets_addin.functions import ledger_kpis
from encours.sheets_addin.gsheets import GoogleSheet
from encours.sheets_addin.view import build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from tests.support.computed import check_kpis, dashboard, recalculated
from tests.support.libreoffice import recalculate

AS_OF = date(2026, 11, 20)
CENT = Decimal("0.01")


def _eur(text: str) -> Money:
    return Money(Decimal(text))


def _book() -> Ledger:
    """Four customers: one in credit, one settled by a payment on account, one with instalments."""
    people = tuple(Customer(f"C{i}", name, "t") for i, name in enumerate(("Alpha", "Bravo", "Charlie", "Delta")))
    plan = (
        Installment(date(2026, 8, 1), _eur("400.00"), _eur("0.00")),
        Installment(date(2026, 10, 1), _eur("400.00"), _eur("150.00")),
        Installment(date(2026, 12, 1), _eur("400.00"), _eur("400.00")),
    )
    invoices = (
        Invoice("I1", "F-1", "C0", "t", date(2026, 6, 1), date(2026, 7, 1), _eur("1000.00"), _eur("1000.00")),
        Invoice("I2", "F-2", "C1", "t", date(2026, 9, 1), date(2026, 10, 1), _eur("250.40"), _eur("250.40")),
        Invoice("I3", "F-3", "C2", "t", date(2026, 7, 1), date(2026, 12, 1), _eur("1200.00"), _eur("550.00"),
                status=InvoiceStatus.PARTIALLY_PAID, installments=plan),
        Invoice("A1", "AV-1", "C3", "t", date(2026, 9, 1), None, _eur("80.00"), _eur("80.00"),
                kind=DocumentKind.CREDIT_NOTE),
        Invoice("I4", "F-4", "C3", "t", date(2026, 11, 1), date(2026, 12, 1), _eur("99.99"), _eur("99.99")),
    )
    credits = (
        UnallocatedCredit("pay-1", "C0", "t", date(2026, 10, 3), _eur("1300.55"), reference="VIR ALPHA"),
        UnallocatedCredit("pay-2", "C1", "t", date(2026, 11, 2), _eur("250.40"), reference="VIR BRAVO"),
        UnallocatedCredit("an-1", "C3", "t", date(2026, 1, 1), _eur("19.99"), CreditKind.OPENING_BALANCE),
        UnallocatedCredit("av-9", "C2", "t", date(2026, 9, 9), Money(Decimal("10.00"), "USD"),
                          CreditKind.CREDIT_NOTE, amount_company=_eur("9.13")),
    )
    return Ledger(people, invoices, (), credits)


def _balances_eur(ledger: Ledger) -> dict[str, Decimal]:
    """Independent: per customer, open invoices − open credit notes − credits, in EUR."""
    out: dict[str, Decimal] = {}
    for inv in ledger.invoices:
        if inv.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
            amount = inv.remaining.amount if inv.currency == "EUR" else inv.remaining_company.amount  # type: ignore[union-attr]
            out[inv.customer_id] = out.get(inv.customer_id, Decimal(0)) + (
                -amount if inv.kind is DocumentKind.CREDIT_NOTE else amount)
    for credit in ledger.credits:
        amount = credit.amount.amount if credit.currency == "EUR" else credit.amount_company.amount  # type: ignore[union-attr]
        out[credit.customer_id] = out.get(credit.customer_id, Decimal(0)) - amount
    return {k: v.quantize(CENT) for k, v in out.items()}


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _rows(ws: Any) -> list[dict[str, Any]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=False)) for row in ws.iter_rows(min_row=2, values_only=True) if any(row)]


@pytest.mark.libreoffice
def test_the_workbook_recalculated_by_libreoffice_equals_each_customers_ledger_balance(tmp_path: Path) -> None:
    ledger = _book()
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(ledger, AS_OF))
    wb = load_workbook(path)
    wb["Paramètres"]["B2"] = AS_OF
    wb.save(path)
    wb = load_workbook(recalculate(path, tmp_path / "recalc"), data_only=True)
    expected = _balances_eur(ledger)
    assert expected == {"C0": Decimal("-300.55"), "C1": Decimal("0.00"), "C2": Decimal("540.87"),
                        "C3": Decimal("0.00")}

    factures = _rows(wb["Factures"])
    credit_rows = {r["ID"]: r for r in factures if str(r["Statut"]).startswith(("Paiement", "Avoir non", "Solde"))}
    assert credit_rows["pay-1"]["Statut"] == "Paiement non affecté" and _money(credit_rows["pay-1"]["Reste dû"]) < 0
    assert credit_rows["an-1"]["Statut"] == "Solde créditeur reporté"
    assert credit_rows["av-9"]["Statut"] == "Avoir non imputé"
    assert credit_rows["pay-1"]["Jours de retard"] in (None, "") and credit_rows["pay-1"]["Tranche"] in (None, "")
    # one row per open instalment, same number, each aged from its own due date
    instalments = sorted((r for r in factures if r["N° facture"] == "F-3"), key=lambda r: r["ID"])
    assert [(r["ID"], _money(r["Reste dû"]), r["Jours de retard"]) for r in instalments] == [
        ("I3#2", Decimal("150.00"), 50), ("I3#3", Decimal("400.00"), -11)]

    clients = {r["ID client"]: r for r in _rows(wb["Clients"])}
    for customer, balance in expected.items():
        assert _money(clients[customer]["Encours"]) == balance, customer
    assert _money(clients["C2"]["Échu"]) == Decimal("150.00")  # the late instalment only

    aging = {r["ID client"]: r for r in _rows(wb["Balance âgée"]) if r.get("ID client")}
    for customer, balance in expected.items():
        row = aging[customer]
        assert _money(row["Total"]) == balance, customer
        buckets = sum((_money(row[k]) for k in ("Non échu", "1-30", "31-60", "61-90", "> 90")), Decimal(0))
        assert buckets + _money(row["Non affecté"]) == balance, customer
    assert _money(aging["C0"]["Non affecté"]) == Decimal("-1300.55")
    assert _money(aging["C0"]["> 90"]) == Decimal("1000.00")
    total_row = next(r for r in _rows(wb["Balance âgée"]) if r["Client"] == "Total")
    assert _money(total_row["Total"]) == sum(expected.values())
    assert _money(total_row["Non affecté"]) == Decimal("-1580.07")
    board = {r[0]: r[1] for r in wb["Tableau de bord"].iter_rows(values_only=True) if r and r[0]}
    assert _money(board["Encours total"]) == sum(expected.values())
    assert _money(board["Total"]) == sum(expected.values())
    assert _money(board["Non affecté"]) == Decimal("-1580.07")


def test_google_sheets_rows_add_up_to_each_customers_ledger_balance() -> None:
    ledger = _book()
    with FakeSheetsServer() as server:
        GoogleSheet("sheet-1", api_base_url=server.base_url, rng=random.Random(3)).write(build_view(ledger, AS_OF))
        records = server.records("Factures")
        header = server.grid("Balance âgée")[0]
    sums: dict[str, Decimal] = {}
    for record in records:
        if record.get("ID") and record.get("Reste dû (EUR)") not in (None, ""):
            sums[record["ID client"]] = sums.get(record["ID client"], Decimal(0)) + _money(record["Reste dû (EUR)"])
    assert sums == _balances_eur(ledger)
    assert "Non affecté" in header
    assert {r["ID"] for r in records if r.get("ID")} >= {"pay-1", "pay-2", "an-1", "av-9", "I3#2", "I3#3"}


@st.composite
def ledgers(draw: st.DrawFn) -> Ledger:
    n_customers = draw(st.integers(1, 4))
    people = tuple(Customer(f"C{i}", f"Client {i}", "t") for i in range(n_customers))
    cents = st.integers(1, 10_000_000)
    invoices = []
    for n in range(draw(st.integers(0, 8))):
        customer = f"C{draw(st.integers(0, n_customers - 1))}"
        issued = AS_OF - timedelta(days=draw(st.integers(0, 700)))
        parts = [Decimal(c) / 100 for c in draw(st.lists(cents, min_size=1, max_size=4))]
        left = [p if draw(st.booleans()) else Decimal(0) for p in parts]
        plan = tuple(Installment(issued + timedelta(days=30 * (k + 1)), Money(p), Money(r))
                     for k, (p, r) in enumerate(zip(parts, left, strict=True))) if len(parts) > 1 else ()
        remaining = sum(left, Decimal(0))
        kind = DocumentKind.CREDIT_NOTE if draw(st.integers(0, 5)) == 0 else DocumentKind.INVOICE
        status = InvoiceStatus.OPEN if remaining else InvoiceStatus.PAID
        invoices.append(Invoice(f"I{n}", f"F-{n}", customer, "t", issued, issued + timedelta(days=30),
                                Money(sum(parts, Decimal(0))), Money(remaining), kind=kind, status=status,
                                installments=plan if kind is DocumentKind.INVOICE else ()))
    credits = []
    for n in range(draw(st.integers(0, 5))):
        customer = f"C{draw(st.integers(0, n_customers - 1))}"
        credits.append(UnallocatedCredit(f"cr-{n}", customer, "t", AS_OF - timedelta(days=draw(st.integers(0, 900))),
                                         Money(Decimal(draw(cents)) / 100), draw(st.sampled_from(list(CreditKind)))))
    return Ledger(people, tuple(invoices), (), tuple(credits))


@settings(max_examples=150, deadline=None)
@given(ledgers())
def test_per_customer_the_sheet_rows_equal_the_ledger_balance(ledger: Ledger) -> None:
    view = build_view(ledger, AS_OF)
    sums: dict[str, Decimal] = {}
    for row in view.invoices:
        if row["id"] in view.shown_invoice_ids:
            sums[row["customer_id"]] = sums.get(row["customer_id"], Decimal(0)) + row["remaining_eur"]
    expected = _balances_eur(ledger)
    assert {k: v for k, v in sums.items() if v} == {k: v for k, v in expected.items() if v}
    for row in view.invoices:  # nothing shown twice, nothing lost
        assert sum(1 for r in view.invoices if r["id"] == row["id"]) == 1


def test_direct_debit_and_postal_address_typed_on_clients_are_read_back(tmp_path: Path) -> None:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_book(), AS_OF))
    wb = load_workbook(path)
    ws = wb["Clients"]
    header = {c.value: c.column for c in ws[1] if isinstance(c, Cell)}
    rows = {ws.cell(row=r, column=header["ID client"]).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row=rows["C1"], column=header["Prélèvement"], value="Oui")
    ws.cell(row=rows["C2"], column=header["Adresse postale"], value="3 rue des Lilas, 69003 Lyon")
    wb.save(path)
    marks = XlsxWorkbook(path).read_marks()
    assert marks.for_customer("C1").direct_debit and not marks.for_customer("C2").direct_debit
    assert marks.for_customer("C2").postal_address == "3 rue des Lilas, 69003 Lyon"


def test_marks_typed_on_an_instalment_row_hold_for_the_invoice_and_run_columns_land_on_it() -> None:
    from encours.sheets_addin.marks import marks_from_rows

    marks = marks_from_rows(
        [(2, {"id": "I3#2", "dispute": "Oui", "approve": "Oui"}), (3, {"id": "I3#3", "pause_until": "31/12/2026"}),
         (4, {"id": "I1", "approve": "Oui"})], [])
    folded = marks.for_invoice("I3")
    assert folded.dispute and folded.pause_until == date(2026, 12, 31)
    assert not folded.approve  # one instalment row not approved: the invoice is not
    assert marks.for_invoice("I1").approve
    view = build_view(_book(), AS_OF, run={"I3": {"next_action": "Relance 1"}})
    assert view.run is not None and view.run["I3#2"] == {"next_action": "Relance 1"}


def test_a_customer_owing_in_dollars_and_paid_on_account_in_euros_is_not_said_in_credit() -> None:
    from encours.sheets_addin.view import ledger_notes

    usd = Invoice("U1", "F-U1", "C0", "t", date(2026, 1, 25), date(2026, 2, 25), Money(Decimal("1000"), "USD"),
                  Money(Decimal("1000"), "USD"), remaining_company=_eur("920.00"))
    on_account = UnallocatedCredit("pay-9", "C0", "t", date(2026, 2, 20), _eur("100.00"))
    in_credit = UnallocatedCredit("pay-8", "C1", "t", date(2026, 2, 20), _eur("12.30"))
    notes = ledger_notes(Ledger((Customer("C0", "Harper", "t"), Customer("C1", "Bravo", "t")), (usd,), (),
                                (on_account, in_credit)))
    assert notes[0].endswith("2, total 112.30 EUR")
    assert notes[1].endswith("1: Bravo (12.30 EUR)")


def test_a_sheet_row_kept_from_before_an_invoice_was_split_is_refreshed_to_nothing_due() -> None:
    view = build_view(_book(), AS_OF)
    rows = {r["id"]: r for r in view.invoices}
    assert "I3" not in view.shown_invoice_ids  # never added …
    assert rows["I3"]["remaining"] == 0 and rows["I3"]["total"] == 0  # … and an old row adds nothing
    assert rows["I3"]["status"] == "Échelonnée en 3 échéances (lignes I3#1 à #3)"
    assert rows["I3#2"]["status"] == "Partiellement payée — échéance 2/3"
    assert rows["A1"]["status"] == "Avoir — À payer"


@pytest.mark.libreoffice
def test_dashboard_kpis_count_credits_as_receivables_not_as_sales(tmp_path: Path) -> None:
    """A payment on account lowers what is owed (and the CEI's opening when it is older than the
    period), never the period's credit sales: DSO, ADD and CEI equal the Python reference."""
    ledger = _book()
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(ledger, AS_OF))
    kpis = ledger_kpis(ledger, AS_OF)
    wb = recalculated(path, AS_OF, kpis.opening, tmp_path)
    # independent: EUR documents issued in the 90 days up to 20/11 (start 22/08 excluded):
    # F-2 250.40, AV-1 −80.00, F-4 99.99 — the payments on account of 03/10 and 02/11 are not sales
    assert kpis.credit_sales == Decimal("270.39")
    # owed on documents issued before the start (F-1 1000, F-3 550) less the opening credit of 01/01
    assert kpis.opening == Decimal("1530.01")
    assert kpis.receivables == sum(_balances_eur(ledger).values())
    assert kpis.overdue == Decimal("1320.40") and kpis.unallocated == Decimal("-1580.07")
    check_kpis(wb, ledger, AS_OF)
    board = dashboard(wb)
    assert _money(board["Ventes à crédit de la période (EUR)"]) == Decimal("270.39")
