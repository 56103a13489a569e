"""Finding encours's tabs in a Google spreadsheet: by title (compared as Google compares them,
without case), else by encours's tag on a tab people renamed; the requests that rename a tab
back, recreate a missing one and tag each — with a note for the sync summary."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from encours.sheets_addin import gsheets_format as fmt
from encours.sheets_addin.gsheets_tabs import Located, SheetInfo
from encours.sheets_addin.layout import (
    AGING,
    CUSTOMERS,
    DASHBOARD_TAB,
    INVOICES,
    JOURNAL,
    PARAMS_TAB,
    PAYMENT_PLANS,
    TAB_ORDER,
    TODO,
    Tab,
)

TAB_KEYS = {DASHBOARD_TAB: "dashboard", PARAMS_TAB: "params",
            **{t.name: t.key for t in (INVOICES, CUSTOMERS, AGING, JOURNAL, TODO, PAYMENT_PLANS)}}

_TABS: dict[str, Tab] = {t.name: t for t in (INVOICES, CUSTOMERS, AGING, JOURNAL, TODO, PAYMENT_PLANS)}


def _new_sheet_id(name: str, used: set[int]) -> int:
    candidate = zlib.crc32(name.encode("utf-8")) % 2_000_000_000 + 1
    while candidate in used:
        candidate += 1
    return candidate


def locate_tabs(meta: Mapping[str, Any]) -> tuple[dict[str, Located], list[str], list[dict[str, Any]]]:
    """Find each tab by title, else by encours' tag (a tab people renamed); plan the missing ones."""
    infos = [SheetInfo.parse(s) for s in meta.get("sheets", [])]
    by_title = {i.title: i for i in infos}
    for one in infos:  # Google compares titles without case: "clients" is the tab "Clients"
        by_title.setdefault(one.title.casefold(), one)
    by_tag = {fmt.metadata_value(i.metadata, fmt.TAB_KEY): i for i in infos}
    used_ids = {i.sheet_id for i in infos}
    had_ours = any(name in by_title for name in TAB_ORDER) or any(k for k in by_tag if k)
    located: dict[str, Located] = {}
    notes: list[str] = []
    structure: list[dict[str, Any]] = []
    for name in TAB_ORDER:
        key = TAB_KEYS[name]
        info = by_title.get(name) or by_title.get(name.casefold())
        if info is not None and info.title != name:
            structure.append({"updateSheetProperties": {"properties": {"sheetId": info.sheet_id, "title": name},
                                                        "fields": "title"}})
            notes.append(f"tab {info.title!r} is encours's {name!r} (Google ignores case): renamed {name!r}")
            located[name] = Located(name, info, info.sheet_id, renamed_from=info.title)
        elif info is None and key in by_tag and by_tag[key].title not in TAB_ORDER:
            info = by_tag[key]
            structure.append({"updateSheetProperties": {"properties": {"sheetId": info.sheet_id, "title": name},
                                                        "fields": "title"}})
            notes.append(f"tab {name!r} had been renamed {info.title!r}: renamed back")
            located[name] = Located(name, info, info.sheet_id, renamed_from=info.title)
        elif info is None:
            sheet_id = _new_sheet_id(name, used_ids)
            used_ids.add(sheet_id)
            tab = _TABS.get(name)
            structure.append({"addSheet": {"properties": {
                "sheetId": sheet_id, "title": name,
                "gridProperties": {"rowCount": 1000, "columnCount": max(26, len(tab.columns) if tab else 0)},
            }}})
            if had_ours:
                notes.append(f"tab {name!r} was missing: recreated")
            located[name] = Located(name, None, sheet_id)
        else:
            located[name] = Located(name, info, info.sheet_id)
        current = located[name]
        if current.info is None or fmt.metadata_value(current.info.metadata, fmt.TAB_KEY) is None:
            structure.append(fmt.metadata_request(current.sheet_id, fmt.TAB_KEY, key, []))
    return located, notes, structure
