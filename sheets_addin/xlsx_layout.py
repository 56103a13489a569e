"""The look of encours's tabs in a workbook package: cell formats, widths, frozen headings,
drop-downs, the bucket colours, print setup — the same on a fresh and on a re-synced workbook.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from encours.sheets_addin.layout import INVOICES, LABEL_CELLS, CellType, Column, Kind, Tab, column_letter, param_ref
from encours.sheets_addin.view import SheetView
from encours.sheets_addin.view_texts import TableTexts
from encours.sheets_addin.xlsx_cells import cell_style, cell_xml
from encours.sheets_addin.xlsx_package import Package, attributes
from encours.sheets_addin.xlsx_people import PeopleChanges
from encours.sheets_addin.xlsx_prints import TabPrints
from encours.sheets_addin.xlsx_rows import _split_ref
from encours.sheets_addin.xlsx_sheetxml import Sheet, validation_xml
from encours.sheets_addin.xlsx_styles import StyleBook

KIND_COLORS = {Kind.SYNCED: "DCE6F1", Kind.FORMULA: "E2EFDA", Kind.USER: "FFF2CC", Kind.RUN: "EDE1F5"}
BUCKET_COLORS = ("FFF2CC", "FCE4D6", "F8CBAD", "F4B084")  # 1-30 … > 90
MAX_ROW = 1048576
#: Where the configured scenario names are listed for the ``Scénario`` drop-downs.
SCENARIO_COLUMN = 4  # E on Paramètres
_HEAD_AFTER_VIEWS = ("sheetFormatPr", "cols", "sheetData")


@dataclass
class Context:
    """One sync's shared state: the styles part, the shared strings, what to tell the user."""

    styles: StyleBook
    shared: list[str]
    notes: list[str] = field(default_factory=list)
    #: What the sync did to the rows people's marks are read from.
    people: PeopleChanges = field(default_factory=PeopleChanges)
    #: Per tab layout: (index, letter, number format, its cell format, formula?) of encours's columns.
    columns: dict[tuple[str, tuple[tuple[str, int], ...]], list[tuple[int, str, str | None, int, bool]]] = field(
        default_factory=dict)
    #: Rows as the last sync wrote them (tab name → prints), trusted: their parts are as encours left them.
    kept_rows: dict[str, TabPrints] = field(default_factory=dict)
    #: Rows this sync leaves as encours renders them: tab name → (layout, ID → print, ID → row of those
    #: rows, ID → row of every ID in the tab or None when a row without ID could still get one).
    rows_written: dict[str, tuple[str, dict[str, bytes], dict[str, int], dict[str, int] | None]] = field(
        default_factory=dict)
    #: Tab name → the view table its synced rows come from, as texts (shared with the view digest).
    texts: dict[str, TableTexts] = field(default_factory=dict)

    def style(self, number_format: str | None, bold: bool = False, fill: str | None = None) -> int:
        return self.styles.xf(number_format, bold, fill)

    def keep_or(self, raw: str | None, number_format: str | None) -> int:
        """A person's format of one of encours's cells is kept while it shows the number as encours would."""
        if raw is not None:
            existing = cell_style(raw)
            formats = self.styles.xf_formats
            if existing < len(formats) and formats[existing] == (number_format or "General"):
                return existing
        return self.style(number_format)


def heading_width(column: Column) -> float:
    """A column wide enough for its heading (and the drop-down arrow of the filter)."""
    return max(column.width, len(column.heading) * 1.1 + 4)


def layout_tab(sheet: Sheet, tab: Tab, positions: Mapping[str, int], view: SheetView, ctx: Context, *, fresh: bool,
            last: int) -> None:
    """Frozen heading and widths (on a tab encours adds), drop-downs and print setup (every sync)."""
    if fresh:
        freeze_views(sheet, "A2")
        widths: dict[int, float] = {positions[c.key]: heading_width(c) for c in tab.columns if c.key in positions}
        set_widths(sheet, [widths.get(i, 10) for i in range(max(widths) + 1)])
    validations = []
    for column in tab.columns:
        if column.kind is not Kind.USER or column.key not in positions:
            continue
        letter = column_letter(positions[column.key])
        area = f"{letter}2:{letter}{MAX_ROW}"
        if column.type is CellType.BOOL:
            validations.append(validation_xml(area, "list", '"Oui,Non"', error="Choisissez Oui ou Non.",
                                              title=column.heading))
        elif column.type is CellType.CHOICE and column.key == "scenario":
            last_name = 1 + max(1, len(view.scenario_names))
            source = param_ref(f"$E$2:$E${last_name}")
            validations.append(validation_xml(area, "list", source, error="Choisissez un scénario de la liste.",
                                              title=column.heading))
        elif column.type is CellType.DATE:
            validations.append(validation_xml(area, "date", "36526", operator="greaterThan",
                                              error="Tapez une date, par exemple 23/11/2026.", title=column.heading))
    if validations:
        _set_validations(sheet, validations)
    if tab is INVOICES and "bucket" in positions and (fresh or "<conditionalFormatting" not in sheet.tail):
        letter = column_letter(positions["bucket"])
        rules = "".join(
            f'<cfRule type="expression" dxfId="{ctx.styles.dxf_fill(color)}" priority="{index + 1}">'
            f"<formula>${letter}2={_xml(param_ref(LABEL_CELLS[index + 1]))}</formula></cfRule>"
            for index, color in enumerate(BUCKET_COLORS)
        )
        block = f'<conditionalFormatting sqref="{letter}2:{letter}{MAX_ROW}">{rules}</conditionalFormatting>'
        sheet.set_tail_element("conditionalFormatting", block)
    page_setup(sheet)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_DV_RE = re.compile(r"<dataValidation\b[^>]*?(?:/>|>.*?</dataValidation>)", re.S)


def _set_validations(sheet: Sheet, ours: Sequence[str]) -> None:
    """encours's drop-downs replace those on the same cells; a person's other validations stay."""
    mine = {attributes(v[: v.find(">") + 1])["sqref"] for v in ours}
    existing = sheet.tail_element("dataValidations") or ""
    attrs_match = re.match(r"<dataValidations\b([^>]*?)/?>", existing)
    attrs = re.sub(r'\s*count="\d*"', "", attrs_match.group(1)) if attrs_match else ""
    kept = [v for v in _DV_RE.findall(existing) if attributes(v[: v.find(">") + 1]).get("sqref") not in mine]
    items = kept + list(ours)
    sheet.set_tail_element("dataValidations", f'<dataValidations count="{len(items)}"{attrs}>{"".join(items)}'
                                              "</dataValidations>")


def scenario_list(sheet: Sheet, names: Sequence[str], ctx: Context) -> None:
    """The configured scenarios on ``Paramètres`` E, refreshed each sync: the drop-downs' source."""
    sheet.set_cells(1, {SCENARIO_COLUMN: cell_xml("E1", "Scénarios", ctx.style(None, True))})
    for offset, name in enumerate(names):
        sheet.set_cells(offset + 2, {SCENARIO_COLUMN: cell_xml(f"E{offset + 2}", name, 0)})
    for number in [n for n in sheet.rows if n > len(names) + 1]:
        sheet.rows[number].cell_map().pop(SCENARIO_COLUMN, None)


def freeze_views(sheet: Sheet, top_left: str) -> None:
    col, row = _split_ref(top_left)
    split = f' xSplit="{col}"' if col else ""
    pane = "bottomRight" if col else "bottomLeft"
    xml = (f'<sheetViews><sheetView workbookViewId="0"><pane{split} ySplit="{row - 1}" topLeftCell="{top_left}" '
           f'activePane="{pane}" state="frozen"/><selection pane="{pane}" activeCell="{top_left}" '
           f'sqref="{top_left}"/></sheetView></sheetViews>')
    sheet.set_head_element("sheetViews", xml, _HEAD_AFTER_VIEWS)


def set_widths(sheet: Sheet, widths: Sequence[float]) -> None:
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths))
    sheet.set_head_element("cols", f"<cols>{cols}</cols>", ("sheetData",))


def page_setup(sheet: Sheet) -> None:
    """Landscape, one page wide (a person's own page setup is kept)."""
    if "<pageSetup" in sheet.tail:
        return
    if "<pageMargins" not in sheet.tail:
        sheet.set_tail_element("pageMargins", '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" '
                                              'header="0.3" footer="0.3"/>')
    sheet.set_tail_element("pageSetup", '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>')
    head = sheet.head
    found_pr = re.search(r"<pageSetUpPr\b[^>]*?/?>", head)
    if found_pr is not None:
        if "fitToPage" not in found_pr.group(0):
            tag = found_pr.group(0)
            sheet.head = head.replace(tag, tag.replace("<pageSetUpPr", '<pageSetUpPr fitToPage="1"', 1), 1)
        return
    found = re.search(r"<sheetPr\b[^>]*?(/?)>", head)
    if found is None:
        at = head.index(">", head.index("<worksheet")) + 1
        sheet.head = head[:at] + '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' + head[at:]
    elif found.group(1):
        sheet.head = head[: found.start()] + found.group(0)[:-2].rstrip() + '><pageSetUpPr fitToPage="1"/></sheetPr>' \
            + head[found.end():]
    else:
        close = head.index("</sheetPr>")
        inner = head[found.end(): close]
        at = found.end() + (inner.find("<outlinePr") if "<outlinePr" in inner else 0)
        if "<outlinePr" in inner:
            outline = re.search(r"<outlinePr\b[^>]*?(?:/>|>.*?</outlinePr>)", inner, re.S)
            at = found.end() + (outline.end() if outline else 0)
        elif "<tabColor" in inner:
            color = re.search(r"<tabColor\b[^>]*?(?:/>|>.*?</tabColor>)", inner, re.S)
            at = found.end() + (color.end() if color else 0)
        sheet.head = head[:at] + '<pageSetUpPr fitToPage="1"/>' + head[at:]


def workbook_settings(pkg: Package, titles: Mapping[str, tuple[int, int]]) -> None:
    """Headings repeated on every printed page; formulas recomputed when the workbook opens."""
    book = pkg.workbook_part()
    text = pkg.text(book)
    order = list(pkg.sheets())
    names = []
    for name, (first, last) in titles.items():
        index = order.index(name)
        if re.search(rf'<definedName\b[^>]*name="_xlnm.Print_Titles"[^>]*localSheetId="{index}"', text) or \
                re.search(rf'<definedName\b[^>]*localSheetId="{index}"[^>]*name="_xlnm.Print_Titles"', text):
            continue
        quoted = name.replace("'", "''")
        names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
                     f"'{_xml(quoted)}'!${first}:${last}</definedName>")
    if names:
        if re.search(r"<definedNames\s*/>", text):
            text = re.sub(r"<definedNames\s*/>", "<definedNames></definedNames>", text, count=1)
        if "</definedNames>" in text:
            text = text.replace("</definedNames>", "".join(names) + "</definedNames>", 1)
        else:
            later = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                     "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")
            positions = [m.start() for n in later for m in [re.search(rf"<{n}\b", text)] if m]
            at = min(positions) if positions else text.rindex("</workbook>")
            text = text[:at] + "<definedNames>" + "".join(names) + "</definedNames>" + text[at:]
    calc = re.search(r"<calcPr\b[^>]*?/?>", text)
    if calc is None:
        later = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")
        positions = [m.start() for n in later for m in [re.search(rf"<{n}\b", text)] if m]
        at = min(positions) if positions else text.rindex("</workbook>")
        text = text[:at] + '<calcPr calcId="191029" fullCalcOnLoad="1"/>' + text[at:]
    elif "fullCalcOnLoad" not in calc.group(0):
        tag = calc.group(0)
        new = tag[:-2].rstrip() + ' fullCalcOnLoad="1"/>' if tag.endswith("/>") else tag[:-1] + ' fullCalcOnLoad="1">'
        text = text.replace(tag, new, 1)
    if text != pkg.text(book):
        pkg.set(book, text)
