"""The look and guard rails of the Google Sheet, as ``spreadsheets.batchUpdate`` requests: pure.

Frozen header, header colours by column kind, number and date formats, check boxes for the
yes/no columns, a drop-down of scenarios, date validation on the dates people type, conditional
colours for the aging buckets, synced and formula columns protected with a warning, and one filter
view per salesperson.  Ranges are open-ended downwards so that new rows are covered; a signature
stored in the tab's developer metadata says when they must be laid again (columns moved, grid
grown, scenarios or salespeople changed), so an ordinary sync sends none of this.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from encours.sheets_addin.layout import (
    LABEL_CELLS,
    PARAMS_TAB,
    CellType,
    Kind,
    Tab,
    column_letter,
)

FORMAT_KEY = "encours.format"
TAB_KEY = "encours.tab"
PROTECTION_PREFIX = "encours:"
FILTER_PREFIX = "Commercial : "
FORMAT_VERSION = 1

NUMBER_FORMATS: dict[CellType, dict[str, str]] = {
    CellType.DATE: {"type": "DATE", "pattern": "dd/mm/yyyy"},
    CellType.DATETIME: {"type": "DATE_TIME", "pattern": "dd/mm/yyyy hh:mm"},
    CellType.MONEY: {"type": "NUMBER", "pattern": "#,##0.00"},
    CellType.INTEGER: {"type": "NUMBER", "pattern": "0"},
    CellType.NUMBER: {"type": "NUMBER", "pattern": "0.0"},
}


def _rgb(hex_colour: str) -> dict[str, float]:
    return {k: round(int(hex_colour[i:i + 2], 16) / 255, 4) for k, i in (("red", 0), ("green", 2), ("blue", 4))}


KIND_COLOURS = {Kind.SYNCED: "DCE6F1", Kind.FORMULA: "E2EFDA", Kind.USER: "FFF2CC", Kind.RUN: "EDE1F5"}
BUCKET_COLOURS = ("FFF2CC", "FCE4D6", "F8CBAD", "F4B084")  # 1-30 … > 90, as in the workbook


def signature(**parts: Any) -> str:
    text = json.dumps({"v": FORMAT_VERSION, **parts}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def grid_range(sheet_id: int, row0: int | None = None, row1: int | None = None,
               col0: int | None = None, col1: int | None = None) -> dict[str, int]:
    out = {"sheetId": sheet_id}
    for key, value in (("startRowIndex", row0), ("endRowIndex", row1),
                       ("startColumnIndex", col0), ("endColumnIndex", col1)):
        if value is not None:
            out[key] = value
    return out


def table_format(
    tab: Tab,
    sheet_id: int,
    header_row: int,
    positions: Mapping[str, int],
    *,
    scenario_names: Sequence[str],
    new_tab: bool,
) -> list[dict[str, Any]]:
    """Header, formats, validation and conditional colours of a table tab."""
    requests: list[dict[str, Any]] = [{
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": header_row}},
            "fields": "gridProperties.frozenRowCount",
        }
    }]
    body = header_row  # 0-based index of the first row under the header
    for column in tab.columns:
        index = positions.get(column.key)
        if index is None:
            continue
        requests.append({"repeatCell": {
            "range": grid_range(sheet_id, header_row - 1, header_row, index, index + 1),
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True},
                                           "backgroundColor": _rgb(KIND_COLOURS[column.kind])}},
            "fields": "userEnteredFormat(textFormat,backgroundColor)",
        }})
        if new_tab:
            requests.append({"updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": index, "endIndex": index + 1},
                "properties": {"pixelSize": int(column.width * 7)},
                "fields": "pixelSize",
            }})
        fmt = NUMBER_FORMATS.get(column.type)
        if fmt is not None:
            requests.append({"repeatCell": {
                "range": grid_range(sheet_id, body, None, index, index + 1),
                "cell": {"userEnteredFormat": {"numberFormat": fmt}},
                "fields": "userEnteredFormat.numberFormat",
            }})
        rule = _validation(column.type, column.key, column.kind, scenario_names)
        if rule is not None:
            requests.append({"setDataValidation": {"range": grid_range(sheet_id, body, None, index, index + 1),
                                                   "rule": rule}})
    return requests


def _validation(kind: CellType, key: str, column_kind: Kind, scenarios: Sequence[str]) -> dict[str, Any] | None:
    if column_kind is not Kind.USER:
        return None
    if kind is CellType.BOOL:
        return {"condition": {"type": "BOOLEAN"}, "strict": True, "showCustomUi": True}
    if kind is CellType.CHOICE and key == "scenario":
        return {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": n} for n in scenarios]},
                "strict": False, "showCustomUi": True,
                "inputMessage": "Choisissez un scénario de la liste (vide : celui par défaut)."}
    if kind is CellType.DATE:
        return {"condition": {"type": "DATE_IS_VALID"}, "strict": False,
                "inputMessage": "Tapez une date, par exemple 23/11/2026."}
    return None


def bucket_colours(sheet_id: int, header_row: int, bucket_column: int,
                   existing: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Replace encours' colour rules on the aging bucket column (labels follow ``Paramètres``)."""
    requests: list[dict[str, Any]] = []
    for index in range(len(existing) - 1, -1, -1):
        if _is_ours(existing[index]):
            requests.append({"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": index}})
    letter_ref = _a1_col(bucket_column)
    for index, colour in enumerate(BUCKET_COLOURS):
        label = LABEL_CELLS[index + 1].replace("$", "")
        formula = f"=${letter_ref}{header_row + 1}=INDIRECT(\"'{PARAMS_TAB}'!{label}\")"
        requests.append({"addConditionalFormatRule": {"index": 0, "rule": {
            "ranges": [grid_range(sheet_id, header_row, None, bucket_column, bucket_column + 1)],
            "booleanRule": {"condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]},
                            "format": {"backgroundColor": _rgb(colour)}},
        }}})
    return requests


def _is_ours(rule: Mapping[str, Any]) -> bool:
    values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
    return any(f"INDIRECT(\"'{PARAMS_TAB}'!" in str(v.get("userEnteredValue", "")) for v in values)


def _a1_col(index: int) -> str:
    return column_letter(index)


def protections(tab: Tab, sheet_id: int, header_row: int, positions: Mapping[str, int],
                existing: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Synced and formula columns: people get a warning before editing them (never a lock)."""
    requests: list[dict[str, Any]] = [
        {"deleteProtectedRange": {"protectedRangeId": p["protectedRangeId"]}}
        for p in existing if str(p.get("description", "")).startswith(PROTECTION_PREFIX)
    ]
    guarded = sorted(positions[c.key] for c in tab.columns
                     if c.kind in (Kind.SYNCED, Kind.FORMULA) and c.key in positions)
    runs: list[list[int]] = []
    for index in guarded:
        if runs and runs[-1][1] == index:
            runs[-1][1] = index + 1
        else:
            runs.append([index, index + 1])
    for col0, col1 in runs:
        requests.append({"addProtectedRange": {"protectedRange": {
            "range": grid_range(sheet_id, header_row - 1, None, col0, col1),
            "description": f"{PROTECTION_PREFIX} colonnes tenues par encours — corrigez dans la comptabilité",
            "warningOnly": True,
        }}})
    return requests


def filter_views(title: str, sheet_id: int, header_row: int, salesperson_column: int | None, width: int,
                 salespeople: Sequence[str], existing: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One filter view per salesperson (kept, updated, added; removed when they left)."""
    ours = {str(v.get("title", "")): v for v in existing if str(v.get("title", "")).startswith(FILTER_PREFIX)}
    requests: list[dict[str, Any]] = []
    wanted = set()
    if salesperson_column is not None:
        for name in salespeople:
            view_title = f"{FILTER_PREFIX}{name}"
            wanted.add(view_title)
            spec = {
                "title": view_title,
                "range": grid_range(sheet_id, header_row - 1, None, 0, width),
                "filterSpecs": [{"columnIndex": salesperson_column, "filterCriteria": {
                    "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": name}]}}}],
            }
            if view_title in ours:
                spec["filterViewId"] = ours[view_title]["filterViewId"]
                requests.append({"updateFilterView": {"filter": spec, "fields": "range,filterSpecs"}})
            else:
                requests.append({"addFilterView": {"filter": spec}})
    for view_title, view in ours.items():
        if view_title not in wanted:
            requests.append({"deleteFilterView": {"filterId": view["filterViewId"]}})
    return requests


def plain_formats(sheet_id: int, cells: Mapping[tuple[int, int], CellType]) -> list[dict[str, Any]]:
    """Number formats of single cells (0-based row, column) on the tabs made of formulas."""
    requests = []
    for (row, column), kind in sorted(cells.items()):
        fmt = NUMBER_FORMATS.get(kind)
        if fmt is None:
            continue
        requests.append({"repeatCell": {
            "range": grid_range(sheet_id, row, row + 1, column, column + 1),
            "cell": {"userEnteredFormat": {"numberFormat": fmt}},
            "fields": "userEnteredFormat.numberFormat",
        }})
    return requests


def metadata_request(sheet_id: int, key: str, value: str, existing: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Create or update a developer metadata entry on a tab."""
    for meta in existing:
        if meta.get("metadataKey") == key:
            return {"updateDeveloperMetadata": {
                "dataFilters": [{"developerMetadataLookup": {"metadataId": meta["metadataId"]}}],
                "developerMetadata": {"metadataValue": value},
                "fields": "metadataValue",
            }}
    return {"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": key, "metadataValue": value, "location": {"sheetId": sheet_id}, "visibility": "DOCUMENT",
    }}}


def metadata_value(existing: Sequence[Mapping[str, Any]], key: str) -> str | None:
    for meta in existing:
        if meta.get("metadataKey") == key:
            return str(meta.get("metadataValue", ""))
    return None



def _cell_index(ref: str) -> tuple[int, int]:
    """"B11" → (10, 1), 0-based row and column."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return int(ref[len(letters):]) - 1, column - 1


def column_chart(sheet_id: int, title: str, categories: str, values: str, anchor: str) -> dict[str, Any]:
    """A column chart of one series (the aging chart of ``Tableau de bord``), ranges as "A11:A15"."""

    def source(a1: str) -> dict[str, Any]:
        (r0, c0), (r1, c1) = (_cell_index(part) for part in a1.split(":"))
        return {"sourceRange": {"sources": [grid_range(sheet_id, r0, r1 + 1, c0, c1 + 1)]}}

    row, column = _cell_index(anchor)
    return {"addChart": {"chart": {
        "spec": {"title": title, "basicChart": {
            "chartType": "COLUMN", "legendPosition": "NO_LEGEND", "headerCount": 0,
            "axis": [{"position": "BOTTOM_AXIS"}, {"position": "LEFT_AXIS", "title": "EUR"}],
            "domains": [{"domain": source(categories)}],
            "series": [{"series": source(values), "targetAxis": "LEFT_AXIS"}],
        }},
        "position": {"overlayPosition": {"anchorCell": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": column}}},
    }}}
