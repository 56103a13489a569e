"""What people typed, read from a Google Sheet: the marks of ``Factures``, ``Clients``,
``Échéanciers`` and ``À faire`` from the values one read brought, matched by ID under headings found wherever
people moved them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from encours.connectors.errors import SheetError
from encours.sheets_addin.gsheets_plan import find_header
from encours.sheets_addin.layout import CUSTOMERS, INVOICES, PAYMENT_PLANS, TODO, Kind, legacy_todo
from encours.sheets_addin.marks import TASK_HEADINGS, MarkProblem, SheetMarks, marks_from_rows, parse_text


def marks_from_values(values: Mapping[str, list[list[Any]]]) -> SheetMarks:
    """People's marks from the values of ``Factures``, ``Clients`` and ``Échéanciers`` as read
    (``UNFORMATTED_VALUE``): a missing ID heading or a duplicate ID stops the sync, a missing user
    heading is reported as a problem (never read as "no mark anywhere")."""
    tables: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    missing: list[MarkProblem] = []
    for tab in (INVOICES, CUSTOMERS, PAYMENT_PLANS, TODO):
        rows = values.get(tab.name, [])
        if tab is TODO and rows and legacy_todo(rows[0]):
            rows = []  # the layout before task IDs: nothing typed there yet
        header_row, positions = find_header(tab, rows)
        has_data = any(any(v not in (None, "") for v in r) for r in rows[header_row:])
        if has_data and tab.id_key and tab.id_key not in positions:
            heading = tab.column(tab.id_key).heading
            raise SheetError(f"the {heading!r} heading is missing, so what people typed cannot be matched to "
                             f"invoices: put it back above the column of IDs", tab=tab.name, row=header_row,
                             column=heading)
        for column in tab.columns:
            if has_data and column.kind is Kind.USER and column.key not in positions:
                # e.g. "Litige" renamed: say so rather than silently reading "no dispute anywhere"
                missing.append(MarkProblem(tab.name, header_row, column.heading, "",
                                           "heading not found: this column was not read (sync restores it)"))
        records: list[tuple[int, dict[str, Any]]] = []
        seen: dict[str, int] = {}
        for offset, line in enumerate(rows[header_row:]):
            number = header_row + 1 + offset
            if not any(v not in (None, "") for v in line):
                continue
            record = {k: line[i] if i < len(line) else None for k, i in positions.items()}
            if tab.id_key:
                key = parse_text(record.get(tab.id_key))
                if key and key in seen:
                    raise SheetError(
                        f"ID {key!r} appears on rows {seen[key]} and {number}: delete or fix one of them",
                        tab=tab.name, row=number, column=tab.column(tab.id_key).heading)
                if key:
                    seen[key] = number
            records.append((number, record))
        tables[tab.key] = records
    headings = {c.key: c.heading for c in INVOICES.columns + CUSTOMERS.columns + PAYMENT_PLANS.columns}
    marks = marks_from_rows(tables["invoices"], tables["customers"], tables["payment_plans"],
                            headings={**headings, **TASK_HEADINGS}, task_rows=tables["todo"])
    if missing:
        marks = replace(marks, problems=(*missing, *marks.problems))
    return marks
