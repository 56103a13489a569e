"""A workbook people shaped in Excel survives a sync: macros, tables, spilling formulas, shapes, charts.

The workbooks are built with xlsxwriter (which writes these parts as Excel does); the macro is
the VBA project of the xlwings quick-start workbook (xlwings is a dependency of encours).
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlwings
from lxml import etree
from openpyxl import load_workbook

from encours.connectors.model import Invoice, Ledger, Money
from encours.sheets_addin.layout import INVOICES
from encours.sheets_addin.view import build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sheets_addin.xlsx_package import Package, WorkbookChangedError
from tests.support.libreoffice import recalculate

xlsxwriter = pytest.importorskip("xlsxwriter")

MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def _vba_project() -> bytes:
    quickstart = Path(xlwings.__file__).parent / "quickstart.xlsm"
    with zipfile.ZipFile(quickstart) as package:
        return package.read("xl/vbaProject.bin")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def _shaped_workbook(path: Path, invoice_ids: list[str]) -> None:
    """``Factures`` formatted as an Excel Table with a few typed marks; a tab of one's own with a
    spilling formula, a chart, a text box, a button, a sparkline, a data bar and a validation."""
    book = xlsxwriter.Workbook(str(path))
    book.add_vba_project(io.BytesIO(_vba_project()), is_stream=True)
    factures = book.add_worksheet("Factures")
    headings = INVOICES.headings
    data = []
    for number, invoice_id in enumerate(invoice_ids):
        row: list[object] = [None] * len(headings)
        row[0] = invoice_id
        row[headings.index("Litige")] = "Oui" if number == 0 else None
        row[headings.index("Commentaire")] = f"appelé le {number + 1}/11"
        data.append(row)
    factures.add_table(0, 0, len(data), len(headings) - 1, {
        "name": "MesFactures", "data": data, "columns": [{"header": h} for h in headings],
    })
    own = len(headings)  # a column of one's own right of the table, spilling over the IDs
    factures.write(0, own, "Longueur ID")
    factures.write_dynamic_array_formula(1, own, len(data), own, f"=LEN(A2:A{len(data) + 1})")
    amount = xlsxwriter.utility.xl_col_to_name(headings.index("Montant TTC"))
    factures.conditional_format(f"{amount}2:{amount}1000", {"type": "data_bar", "bar_solid": True})
    mine = book.add_worksheet("Mon suivi")
    mine.write_row("A1", ["Mois", "Encaissé"])
    for number, amount in enumerate((1200, 800, 1500, 950), start=2):
        mine.write(f"A{number}", f"M{number - 1}")
        mine.write(f"B{number}", amount)
    mine.write_dynamic_array_formula("D2:D5", "=B2:B5*2")  # spills in Excel 365 (LibreOffice 7: an array)
    mine.write("F1", "Total")
    mine.write_formula("F2", "=SUM(B2:B5)")
    mine.data_validation("B2:B5", {"validate": "integer", "criteria": ">=", "value": 0})
    mine.conditional_format("B2:B5", {"type": "data_bar", "bar_solid": True})
    mine.add_sparkline("G2", {"range": "'Mon suivi'!B2:B5"})
    mine.insert_textbox("H4", "Relancer les gros clients d'abord", {"width": 220, "height": 60})
    mine.insert_button("H9", {"macro": "SampleCall", "caption": "Synchroniser", "width": 120, "height": 30})
    chart = book.add_chart({"type": "column"})
    chart.add_series({"categories": "='Mon suivi'!$A$2:$A$5", "values": "='Mon suivi'!$B$2:$B$5"})
    mine.insert_chart("D10", chart)
    book.close()


def _xml_parts_are_well_formed(parts: dict[str, bytes]) -> None:
    for name, data in parts.items():
        if name.endswith((".xml", ".rels", ".vml")):
            etree.fromstring(data, etree.XMLParser(recover=False))


def test_a_shaped_macro_workbook_keeps_every_part_through_two_syncs(
    tmp_path: Path, ledger: Ledger, as_of: date
) -> None:
    view = build_view(ledger, as_of, company="Atelier Dupont SARL")
    shown = sorted(view.shown_invoice_ids)
    path = tmp_path / "suivi.xlsm"
    _shaped_workbook(path, shown[:3])
    before = _parts(path)

    XlsxWorkbook(path).write(view)
    new = Invoice("INV-NEW", "F-2026-9999", "C001", "demo", as_of, as_of + timedelta(days=30),
                  Money(Decimal("1234.56")), Money(Decimal("1234.56")))
    later = dataclasses.replace(ledger, invoices=(*ledger.invoices, new))
    XlsxWorkbook(path).write(build_view(later, as_of, company="Atelier Dupont SARL"))
    after = _parts(path)
    _xml_parts_are_well_formed(after)

    # the macro, its content type, and every part people made are there, byte for byte
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert MACRO_TYPE in after["[Content_Types].xml"].decode()
    ours = {"xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "[Content_Types].xml", "xl/tables/table1.xml"}
    kept = [name for name in before if name not in ours]
    assert any(n.startswith("xl/drawings/") for n in kept) and any(n.startswith("xl/charts/") for n in kept)
    assert "xl/metadata.xml" in kept, "the dynamic-array metadata is part of what must stay"
    for name in kept:
        assert after[name] == before[name], name
    own_tab = after["xl/worksheets/sheet2.xml"].decode()
    assert 'cm="1"' in own_tab and "<x14:sparklineGroups" in own_tab and "<x14:dataBar" in own_tab

    # on encours's own tab: the person's spilling formula and extended data bar are still there
    factures = after["xl/worksheets/sheet1.xml"].decode()
    assert factures.count('cm="1"') == 1 and "<x14:dataBar" in factures
    # the table is extended to every invoice row, and the tab has no second filter
    assert "<autoFilter" not in factures
    table = after["xl/tables/table1.xml"].decode()
    rows = len(view.shown_invoice_ids) + 1  # the new invoice appended after the three typed rows
    last = re.search(r'<table\b[^>]*\bref="A1:([A-Z]+)(\d+)"', table)
    assert last is not None and int(last.group(2)) == rows + 1
    assert re.search(rf'<autoFilter ref="A1:{last.group(1)}{rows + 1}"', table)

    # still a workbook Excel's libraries open, with what people typed in place
    wb = load_workbook(path, keep_vba=True)
    assert wb.sheetnames[:2] == ["Tableau de bord", "Factures"] and "Mon suivi" in wb.sheetnames
    ws = wb["Factures"]
    header = [c.value for c in ws[1]]
    by_id = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert set(by_id) == view.shown_invoice_ids | {"INV-NEW"}
    assert by_id[shown[0]][header.index("Litige")] == "Oui"
    assert by_id[shown[1]][header.index("Commentaire")] == "appelé le 2/11"
    assert ws.tables["MesFactures"].ref == f"A1:{last.group(1)}{rows + 1}"

    # and LibreOffice computes it: encours's formulas and the person's spilling formula
    computed = load_workbook(recalculate(path, tmp_path / "lo"), data_only=True)
    mine = computed["Mon suivi"]
    assert [mine[f"D{r}"].value for r in range(2, 6)] == [2400, 1600, 3000, 1900]
    assert mine["F2"].value == 4450
    late = computed["Factures"]
    header = [c.value for c in late[1]]
    spill = header.index("Longueur ID")
    assert [r[spill] for r in late.iter_rows(min_row=2, max_row=4, values_only=True)] == [len(i) for i in shown[:3]]
    days = [r[header.index("Jours de retard")] for r in late.iter_rows(min_row=2, values_only=True) if r[0]]
    assert any(isinstance(d, (int, float)) and d > 0 for d in days)


def test_a_sync_with_nothing_new_leaves_the_file_untouched(tmp_path: Path, ledger: Ledger, as_of: date) -> None:
    path = tmp_path / "encours.xlsx"
    view = build_view(ledger, as_of)
    XlsxWorkbook(path).write(view)
    XlsxWorkbook(path).write(view)  # the second write settles what the first could not know (a table, styles)
    stamp = path.stat().st_mtime_ns, path.read_bytes()
    XlsxWorkbook(path).write(view)
    assert (path.stat().st_mtime_ns, path.read_bytes()) == stamp


def _type_comment(path: Path, invoice_id: str, text: str) -> None:
    """A person types a comment and saves (openpyxl stands for Excel here)."""
    wb = load_workbook(path)
    ws = wb["Factures"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == invoice_id:
            row[header.index("Commentaire")].value = text
    wb.save(path)


def test_a_save_during_the_sync_is_kept_and_merged(
    tmp_path: Path, ledger: Ledger, as_of: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "encours.xlsx"
    view = build_view(ledger, as_of)
    XlsxWorkbook(path).write(view)
    target = sorted(view.shown_invoice_ids)[0]
    saves = iter(["rappelé lundi"])
    real_save = Package.save

    def save_then_person_saves(self: Package, out: Path, **options: Any) -> None:
        real_save(self, out, **options)
        text = next(saves, None)
        if text is not None:  # the person's Ctrl+S lands between encours's read and its replace
            _type_comment(path, target, text)

    monkeypatch.setattr(Package, "save", save_then_person_saves)
    new = Invoice("INV-NEW", "F-2026-9999", "C001", "demo", as_of, as_of + timedelta(days=30),
                  Money(Decimal("99.00")), Money(Decimal("99.00")))
    XlsxWorkbook(path).write(build_view(dataclasses.replace(ledger, invoices=(*ledger.invoices, new)), as_of))
    ws = load_workbook(path)["Factures"]
    header = [c.value for c in ws[1]]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows[target][header.index("Commentaire")] == "rappelé lundi", "the person's save was lost"
    assert "INV-NEW" in rows, "the sync was not merged into the person's save"


def test_a_person_saving_all_the_time_stops_the_sync_not_their_work(
    tmp_path: Path, ledger: Ledger, as_of: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "encours.xlsx"
    view = build_view(ledger, as_of)
    XlsxWorkbook(path).write(view)
    target = sorted(view.shown_invoice_ids)[0]
    real_save = Package.save
    count = iter(range(100))

    def save_then_person_saves(self: Package, out: Path, **options: Any) -> None:
        real_save(self, out, **options)
        _type_comment(path, target, f"version {next(count)}")

    monkeypatch.setattr(Package, "save", save_then_person_saves)
    new = Invoice("INV-NEW", "F-2026-9999", "C001", "demo", as_of, as_of + timedelta(days=30),
                  Money(Decimal("99.00")), Money(Decimal("99.00")))
    later = build_view(dataclasses.replace(ledger, invoices=(*ledger.invoices, new)), as_of)
    with pytest.raises(WorkbookChangedError, match="saved by someone"):
        XlsxWorkbook(path).write(later)
    monkeypatch.undo()
    saved = path.read_bytes()
    ws = load_workbook(io.BytesIO(saved))["Factures"]
    header = [c.value for c in ws[1]]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows[target][header.index("Commentaire")] == "version 1", "the person's last save is the file"
    assert "INV-NEW" not in rows
    assert not list(tmp_path.glob(".~*")), "no temporary file left behind"


def _look(path: Path) -> dict[str, object]:
    """What a person sees of the layout: formats of formula cells, drop-down, print setup, widths."""
    wb = load_workbook(path)
    board, factures = wb["Tableau de bord"], wb["Factures"]
    header = {c.value: c.column_letter for c in factures[1]}
    scenario = next(dv for dv in factures.data_validations.dataValidation
                    if str(dv.sqref).startswith(f"{header['Scénario']}2"))
    source = scenario.formula1
    sheet, _, cells = source.partition("!")
    first, _, last = cells.replace("$", "").partition(":")
    listed = [wb[sheet.strip("'")][f"{first[0]}{r}"].value for r in range(int(first[1:]), int(last[1:]) + 1)]
    narrow = [h for h, letter in header.items()
              if (factures.column_dimensions[letter].width or 0) < len(str(h)) + 2]
    return {
        "date": board["B2"].number_format, "share": board["B7"].number_format,
        "total": board["B4"].number_format, "days": factures[f"{header['Jours de retard']}2"].number_format,
        "aging": wb["Balance âgée"]["C2"].number_format,
        "orientation": factures.page_setup.orientation, "fit": factures.sheet_properties.pageSetUpPr.fitToPage,
        "fit_width": factures.page_setup.fitToWidth, "titles": factures.print_title_rows,
        "scenarios": listed, "narrow": narrow,
    }


def test_fresh_and_resynced_workbooks_look_the_same(tmp_path: Path, ledger: Ledger, as_of: date) -> None:
    names = ("standard", "gentle", "firm", "Relance douce, puis ferme", *(f"scénario client n°{i}" for i in range(30)))
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(dataclasses.replace(build_view(ledger, as_of), scenario_names=names))
    fresh = _look(path)
    assert fresh["date"] == "DD/MM/YYYY" and fresh["share"] == "0.0%", "the dashboard shows a date and a %"
    assert "€" in str(fresh["total"]) and "€" in str(fresh["aging"])
    assert fresh["days"] == "0"
    assert (fresh["orientation"], fresh["fit"], fresh["fit_width"], fresh["titles"]) == ("landscape", True, 1, "$1:$1")
    assert fresh["scenarios"] == list(names), "every configured scenario, a comma in a name included"
    assert len(",".join(names)) > 255, "a list longer than Excel's 255-character literal limit"
    assert fresh["narrow"] == []

    shorter = ("standard", "ferme")
    XlsxWorkbook(path).write(dataclasses.replace(build_view(ledger, as_of + timedelta(days=1)),
                                                 scenario_names=shorter))
    again = _look(path)
    assert again["scenarios"] == list(shorter), "the drop-down follows the configuration at each sync"
    assert {k: v for k, v in again.items() if k != "scenarios"} == {k: v for k, v in fresh.items() if k != "scenarios"}
    computed = load_workbook(recalculate(path, tmp_path / "lo"), data_only=True)
    assert [computed["Paramètres"][f"E{r}"].value for r in (2, 3, 4)] == ["standard", "ferme", None]


def test_marks_read_the_same_from_a_workbook_another_program_saved(
    tmp_path: Path, ledger: Ledger, as_of: date
) -> None:
    path = tmp_path / "encours.xlsx"
    view = build_view(ledger, as_of)
    XlsxWorkbook(path).write(view)
    wb = load_workbook(path)
    ws = wb["Factures"]
    header = [c.value for c in ws[1]]
    ids = sorted(view.shown_invoice_ids)[:4]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == ids[0]:
            row[header.index("Promesse (date)")].value = date(2026, 12, 15)
            row[header.index("Litige")].value = "Oui"
        if row[0].value == ids[1]:
            row[header.index("Commentaire")].value = "appelé, rappeler vendredi"
            row[header.index("Scénario")].value = "firm"
        if row[0].value == ids[2]:
            row[header.index("Pause jusqu'au")].value = "31/01/2027"
            row[header.index("À envoyer")].value = "Oui"
    wb.save(path)
    by_openpyxl = XlsxWorkbook(path).read_marks()
    resaved = recalculate(path, tmp_path / "lo")  # LibreOffice's own writer: shared strings, its own styles
    by_libreoffice = XlsxWorkbook(resaved).read_marks()
    assert by_openpyxl == by_libreoffice
    first, second, third = (by_openpyxl.for_invoice(i) for i in ids[:3])
    assert first.dispute and first.promise_date == date(2026, 12, 15)
    assert second.comment == "appelé, rappeler vendredi" and second.scenario == "firm"
    assert third.pause_until == date(2027, 1, 31) and third.approve


def test_a_new_xlsm_is_a_macro_enabled_workbook(tmp_path: Path, ledger: Ledger, as_of: date) -> None:
    path = tmp_path / "encours.xlsm"
    XlsxWorkbook(path).write(build_view(ledger, as_of))
    types = _parts(path)["[Content_Types].xml"].decode()
    assert MACRO_TYPE in types, "Excel refuses an .xlsm whose workbook is not declared macro-enabled"
    assert load_workbook(path, keep_vba=True)["Factures"].max_row > 1
