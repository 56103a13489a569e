"""The workbook backend, as the accountant opening it would notice."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from encours.connectors.errors import SheetError
from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.sheets_addin.functions import aging_by_customer, bucket_labels
from encours.sheets_addin.layout import CUSTOMERS, INVOICES
from encours.sheets_addin.view import build_view
from encours.sheets_addin.xlsx import WorkbookPathError, XlsxWorkbook
from tests.support.libreoffice import recalculate

INJECTION = '=HYPERLINK("http://evil.example","clic")'


def _headers(ws) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def _rows_by_id(ws, id_heading: str = "ID") -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    headers = _headers(ws)
    out = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        values = {h: row[c - 1] if c - 1 < len(row) else None for h, c in headers.items()}
        if values.get(id_heading):
            out[str(values[id_heading])] = values
    return out


def _with_injection(ledger: Ledger) -> Ledger:
    customers = tuple(
        dataclasses.replace(c, name=INJECTION) if c.id == "C002" else c for c in ledger.customers
    )
    return dataclasses.replace(ledger, customers=customers)


@pytest.fixture()
def workbook(tmp_path: Path, ledger: Ledger, as_of: date) -> Path:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_with_injection(ledger), as_of, company="Atelier Dupont SARL"))
    return path


def test_new_workbook_has_every_tab_and_a_usable_layout(workbook: Path) -> None:
    wb = load_workbook(workbook)
    assert wb.sheetnames[:7] == ["Tableau de bord", "Factures", "Clients", "Balance âgée", "À faire", "Relances",
                                 "Échéanciers"]
    factures = wb["Factures"]
    assert [c.value for c in factures[1]] == INVOICES.headings
    assert factures.freeze_panes == "A2"
    assert factures.auto_filter.ref and factures.auto_filter.ref.startswith("A1:")
    validated = {str(dv.sqref).split(":")[0] for dv in factures.data_validations.dataValidation}
    headers = _headers(factures)
    for heading in ("Scénario", "Litige", "Promesse (date)", "Pause jusqu'au", "À envoyer"):
        letter = factures.cell(row=1, column=headers[heading]).column_letter
        assert f"{letter}2" in validated, heading
    row2 = {h: factures.cell(row=2, column=c) for h, c in headers.items()}
    assert row2["Échéance"].number_format == "DD/MM/YYYY"
    assert row2["Reste dû"].number_format == "#,##0.00"
    assert str(row2["Jours de retard"].value).startswith("=IF(")
    dashboard = wb["Tableau de bord"]
    charts = dashboard._charts  # type: ignore[attr-defined]  # openpyxl's stubs leave out the chart list
    assert isinstance(dashboard, Worksheet) and charts, "the dashboard shows an aging chart"
    assert wb["Balance âgée"].column_dimensions["C"].width >= 12, "amounts are readable, not ###"


def test_ledger_text_is_never_a_formula(workbook: Path) -> None:
    wb = load_workbook(workbook)
    for ws in (wb["Factures"], wb["Clients"], wb["Balance âgée"]):
        cells = [c for row in ws.iter_rows() for c in row if c.value == INJECTION]
        assert cells, ws.title
        assert all(c.data_type == "s" for c in cells), ws.title


def _simulate_people(path: Path) -> dict[str, str]:
    """Type in user columns, sort the rows backwards, delete a row, add a row and a column of one's own."""
    wb = load_workbook(path)
    ws = wb["Factures"]
    headers = _headers(ws)
    ids = [ws.cell(row=r, column=headers["ID"]).value for r in range(2, ws.max_row + 1)]
    typed: dict[str, str] = {}
    for offset, invoice_id in enumerate(ids[:12]):
        row = offset + 2
        comment = f"relancé par téléphone #{offset}"
        ws.cell(row=row, column=headers["Commentaire"], value=comment)
        ws.cell(row=row, column=headers["Litige"], value="Oui" if offset % 3 == 0 else None)
        ws.cell(row=row, column=headers["Promesse (date)"], value=date(2026, 12, 1 + offset))
        typed[str(invoice_id)] = comment
    # sort: reverse every data row (values move with their row, as when people sort)
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=ws.max_row)]
    data.reverse()
    for r, values in enumerate(data, start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)
    # delete the row of the first typed invoice (it is still open: it comes back, without user values)
    victim = next(iter(typed))
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=headers["ID"]).value == victim:
            ws.delete_rows(r)
            break
    typed.pop(victim)
    # a row of one's own in the middle, and a column of one's own at the end
    ws.insert_rows(5)
    ws.cell(row=5, column=headers["Commentaire"], value="ma ligne à moi")
    own = ws.max_column + 1
    ws.cell(row=1, column=own, value="Notes équipe")
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=own, value=f"note {r}")
    clients = wb["Clients"]
    ch = _headers(clients)
    clients.cell(row=2, column=ch["Email relance"], value="paiements@client.fr")
    clients.cell(row=2, column=ch["Bloquer livraisons"], value="Oui")
    wb.save(path)
    return typed


def test_resync_keeps_what_people_typed(workbook: Path, ledger: Ledger, as_of: date) -> None:
    typed = _simulate_people(workbook)
    # the ledger moves on: one typed invoice gets paid, a new invoice appears
    paid_id = next(iter(typed))
    invoices = [
        dataclasses.replace(i, remaining=Money(Decimal(0), i.currency), status=InvoiceStatus.PAID)
        if i.id == paid_id else i
        for i in ledger.invoices
    ]
    new = Invoice("INV-NEW", "F-2026-9999", "C001", "demo", as_of, as_of + timedelta(days=30),
                  Money(Decimal("1234.56")), Money(Decimal("1234.56")))
    later = dataclasses.replace(_with_injection(ledger), invoices=(*invoices, new))
    book = XlsxWorkbook(workbook)
    book.write(build_view(later, as_of + timedelta(days=1)))

    wb = load_workbook(workbook)
    ws = wb["Factures"]
    rows = _rows_by_id(ws)
    for invoice_id, comment in typed.items():
        assert rows[invoice_id]["Commentaire"] == comment, invoice_id
    assert rows[paid_id]["Statut"] == "Payée" and rows[paid_id]["Reste dû"] == 0
    assert rows["INV-NEW"]["Reste dû"] == Decimal("1234.56") or rows["INV-NEW"]["Reste dû"] == 1234.56
    assert list(rows)[-1] == "INV-NEW", "new invoices are added at the end"
    own_rows = [r for r in ws.iter_rows(values_only=True) if "ma ligne à moi" in r]
    assert len(own_rows) == 1 and own_rows[0][_headers(ws)["ID"] - 1] is None
    notes = [ws.cell(row=r, column=_headers(ws)["Notes équipe"]).value for r in range(2, ws.max_row + 1)]
    assert sum(1 for n in notes if n) >= len(typed)
    # formulas point at their own row after the sort
    headers = _headers(ws)
    for r in range(2, 8):
        formula = ws.cell(row=r, column=headers["Jours de retard"]).value
        if ws.cell(row=r, column=headers["ID"]).value:
            assert f"G{r}" in str(formula)
    clients = _rows_by_id(wb["Clients"], "ID client")
    first = next(iter(clients.values()))
    assert first["Email relance"] == "paiements@client.fr" and first["Bloquer livraisons"] == "Oui"
    marks = book.read_marks()
    some = next(i for i in typed)
    assert marks.for_invoice(some).comment == typed[some]


def test_duplicate_ids_stop_the_sync_and_write_nothing(workbook: Path, ledger: Ledger, as_of: date) -> None:
    wb = load_workbook(workbook)
    ws = wb["Factures"]
    ws.cell(row=3, column=1, value=ws.cell(row=2, column=1).value)
    wb.save(workbook)
    before = workbook.read_bytes()
    with pytest.raises(SheetError, match=r"Factures, row 3, column 'ID': ID '.*' appears twice"):
        XlsxWorkbook(workbook).write(build_view(ledger, as_of))
    assert workbook.read_bytes() == before


def test_missing_id_heading_is_explained(workbook: Path, ledger: Ledger, as_of: date) -> None:
    wb = load_workbook(workbook)
    wb["Factures"]["A1"] = "Identifiant ?"
    wb.save(workbook)
    with pytest.raises(SheetError, match="restore the heading 'ID'"):
        XlsxWorkbook(workbook).write(build_view(ledger, as_of))


def test_deleted_tab_and_renamed_column_are_repaired(workbook: Path, ledger: Ledger, as_of: date) -> None:
    wb = load_workbook(workbook)
    del wb["Clients"]
    wb["Factures"].cell(row=1, column=_headers(wb["Factures"])["Statut"], value="État ?")
    wb.save(workbook)
    book = XlsxWorkbook(workbook)
    book.write(build_view(ledger, as_of))
    assert any("Clients" in n for n in book.notes) and any("Statut" in n for n in book.notes)
    wb = load_workbook(workbook)
    assert [c.value for c in wb["Clients"][1]][: len(CUSTOMERS.columns)] == CUSTOMERS.headings
    assert "Statut" in _headers(wb["Factures"])
    assert wb["Balance âgée"].column_dimensions["H"].width >= 12, "rebuilt in place, still readable"


def test_unwritable_path_is_refused_before_anything(tmp_path: Path, ledger: Ledger, as_of: date) -> None:
    with pytest.raises(WorkbookPathError, match="does not exist"):
        XlsxWorkbook(tmp_path / "missing" / "x.xlsx").write(build_view(ledger, as_of))
    with pytest.raises(WorkbookPathError, match=r"\.xlsx"):
        XlsxWorkbook(tmp_path / "x.csv").write(build_view(ledger, as_of))


@pytest.mark.libreoffice
def test_libreoffice_recalculation_matches_python(workbook: Path, ledger: Ledger, as_of: date, tmp_path: Path) -> None:
    wb = load_workbook(workbook)
    wb["Paramètres"]["B2"] = as_of
    wb.save(workbook)
    computed = load_workbook(recalculate(workbook, tmp_path / "recalc"), data_only=True)

    view = build_view(ledger, as_of)
    import pandas as pd

    shown = pd.DataFrame([r for r in view.invoices if r["id"] in view.shown_invoice_ids and r["remaining"]])
    expected = aging_by_customer(shown, as_of)
    aging = computed["Balance âgée"]
    header = [c.value for c in aging[1]]
    assert header[2:7] == bucket_labels()
    seen = 0
    for row in aging.iter_rows(min_row=2, values_only=True):
        if row[0] == "Total" or row[1] not in expected.index:
            continue
        cells = dict(zip(header, row, strict=True))
        for label in [*bucket_labels(), "Total"]:
            value = cells[label]
            assert Decimal(str(value)).quantize(Decimal("0.01")) == expected.loc[row[1], label], (row[1], label)
        assert cells["Non affecté"] == 0  # this ledger has no unallocated credit
        seen += 1
    assert seen == len(expected)
    dashboard = {r[0]: r[1] for r in computed["Tableau de bord"].iter_rows(values_only=True) if r and r[0]}
    total = sum(expected["Total"])
    assert Decimal(str(dashboard["Encours total"])).quantize(Decimal("0.01")) == total
    assert dashboard["> 90"] and Decimal(str(dashboard["> 90"])).quantize(Decimal("0.01")) == sum(expected["> 90"])
    factures = computed["Factures"]
    headers = _headers(factures)
    by_id = {i.id: i for i in ledger.invoices}
    for row in factures.iter_rows(min_row=2, values_only=True):
        invoice = by_id[row[headers["ID"] - 1]]
        days = row[headers["Jours de retard"] - 1]
        if invoice.is_open:
            assert days == (as_of - invoice.effective_due_date()).days
        else:
            assert days in (None, "")


def test_dates_typed_by_people_are_read_back(workbook: Path) -> None:
    wb = load_workbook(workbook)
    ws = wb["Factures"]
    h = _headers(ws)
    first_id = ws.cell(row=2, column=h["ID"]).value
    ws.cell(row=2, column=h["Pause jusqu'au"], value="15/01/2027")
    ws.cell(row=2, column=h["À envoyer"], value="Oui")
    ws.cell(row=3, column=h["Promesse (date)"], value="bientôt")
    wb.save(workbook)
    marks = XlsxWorkbook(workbook).read_marks()
    assert marks.for_invoice(str(first_id)).pause_until == date(2027, 1, 15)
    assert marks.for_invoice(str(first_id)).approve is True
    assert [p.row for p in marks.problems] == [3]
    assert marks.problems[0].column == "Promesse (date)"
    _ = datetime, Customer


def test_a_row_the_ledger_no_longer_knows_is_marked_not_blanked(workbook: Path, ledger: Ledger, as_of: date) -> None:
    first = next(i for i in ledger.invoices if i.is_open)
    XlsxWorkbook(workbook).write(build_view(dataclasses.replace(
        ledger, invoices=tuple(i for i in ledger.invoices if i.id != first.id)), as_of))
    rows = _rows_by_id(load_workbook(workbook)["Factures"])
    assert rows[first.id]["Statut"] == "Supprimée" and rows[first.id]["Reste dû"] == 0
    assert rows[first.id]["N° facture"] == first.number, "the rest of the row is kept"
    params = load_workbook(workbook)["Paramètres"]
    assert all(c.data_type != "f" for c in params["C"] if isinstance(c.value, str) and "Par défaut" in c.value)
