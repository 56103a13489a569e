"""One merge plan for a keyed sheet table (``Factures``, ``Clients``, ``Relances``): pure, no backend.

People sort, filter, insert and delete rows, so rows are matched by their ID cell, never by position.
The three backends (xlsx file, live Excel, Google Sheets) read the table their own way, hand the
rows found to :func:`plan_table`, and only apply the plan it returns:

- a row whose ID is known keeps its place and is refreshed;
- a row whose ID cell was erased but whose restore key (``N° facture`` + ``ID client``) names
  exactly one wanted row gets its ID back (its comment and other typed cells stay with it);
- an ID on two rows refuses the whole write, naming the tab, the ID and both rows;
- a wanted ID with no row is appended after the last used row;
- a row whose ID the ledger no longer knows is listed as unknown (invoices: marked "Supprimée",
  what people typed in it kept).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from encours.connectors.errors import SheetError
from encours.sheets_addin.layout import Tab
from encours.sheets_addin.marks import parse_text

#: The columns that identify a row when its ID cell was erased, by tab key (all present ones must match).
RESTORE_KEYS: Mapping[str, tuple[str, ...]] = {"invoices": ("number", "customer_id")}

#: What a row gets when the ledger no longer knows its ID (the rest of the row stays as it was).
DELETED: Mapping[str, Any] = {"status": "Supprimée", "remaining": 0, "remaining_eur": 0}


@dataclass(frozen=True)
class FoundRow:
    """One row below the header as read: its sheet row number, ID cell ("" if empty) and restore key."""

    row: int
    id: str
    restore_key: tuple[str, ...] = ()  # the restore columns' text, in RESTORE_KEYS order


@dataclass
class TablePlan:
    """Where each wanted ID lives once the plan is applied (sheet row numbers, 1-based)."""

    matched: dict[str, int] = field(default_factory=dict)  # ID → row, rows already there (restored included)
    restored: dict[int, str] = field(default_factory=dict)  # row → ID to write back in its emptied ID cell
    appended: list[tuple[str, int]] = field(default_factory=list)  # (ID, new row), in order
    unknown: list[tuple[str, int]] = field(default_factory=list)  # (ID, row) the ledger no longer knows
    last_row: int = 1  # last used sheet row once applied
    notes: list[str] = field(default_factory=list)

    def rows(self) -> dict[str, int]:
        """Every wanted ID that has a row once applied → its row."""
        return {**self.matched, **dict(self.appended)}


def restore_key(values: Sequence[Any]) -> tuple[str, ...]:
    """A restore key from cell values as read: () when any part is empty (nothing to restore from)."""
    parts = tuple(parse_text(v) for v in values)
    return parts if parts and all(parts) else ()


def plan_table(
    tab: Tab,
    title: str,
    found: Sequence[FoundRow],
    wanted: Mapping[str, tuple[str, ...]],
    append: Sequence[str],
    last_used: int,
) -> TablePlan:
    """Plan one keyed table.

    ``title``: the tab's name as it is in the sheet (for messages); ``found``: the rows below the
    header; ``wanted``: every ID encours knows → its restore key (() if none); ``append``: the IDs
    that must have a row, in order; ``last_used``: the last sheet row holding anything.
    Raises :class:`SheetError` (nothing planned, nothing written) when an ID is on two rows.
    """
    id_heading = tab.column(tab.id_key).heading
    plan = TablePlan(last_row=max(last_used, 1))
    where: dict[str, int] = {}
    for line in found:
        if not line.id:
            continue
        if line.id in where:
            raise SheetError(
                f"ID {line.id!r} appears twice (rows {where[line.id]} and {line.row}): "
                f"delete or fix one of the two rows (encours wrote nothing)",
                tab=title, row=line.row, column=id_heading,
            )
        where[line.id] = line.row

    by_key: dict[tuple[str, ...], list[str]] = {}
    for key, restore in wanted.items():
        if restore:
            by_key.setdefault(restore, []).append(key)
    claims: dict[str, list[int]] = {}
    for line in found:
        if line.id or not line.restore_key:
            continue
        candidates = by_key.get(line.restore_key, [])
        if len(candidates) == 1 and candidates[0] not in where:
            claims.setdefault(candidates[0], []).append(line.row)
    for key, rows in claims.items():
        if len(rows) != 1:
            plan.notes.append(f"{title}: rows {', '.join(map(str, rows))} lost their {id_heading} and could each be "
                              f"{key!r}: left alone, type the {id_heading} back in the right one")
            continue
        where[key] = rows[0]
        plan.restored[rows[0]] = key
        plan.notes.append(f"{title}: row {rows[0]} had lost its {id_heading}; restored {key!r}")

    for key, row in where.items():
        if key in wanted:
            plan.matched[key] = row
        else:
            plan.unknown.append((key, row))
    for key in append:
        if key in where or key not in wanted:
            continue
        plan.last_row += 1
        plan.appended.append((key, plan.last_row))
        where[key] = plan.last_row
    return plan


def wanted_keys(
    rows: Mapping[str, Mapping[str, Any]], tab: Tab, positions: Mapping[str, int]
) -> dict[str, tuple[str, ...]]:
    """Each wanted row's restore key over the restore columns the sheet has (() when it has none)."""
    columns = [k for k in RESTORE_KEYS.get(tab.key, ()) if k in positions]
    if not columns:
        return {key: () for key in rows}
    return {key: restore_key([row.get(c) for c in columns]) for key, row in rows.items()}


def restore_columns(tab: Tab, positions: Mapping[str, int]) -> list[int]:
    """The 0-based columns to read for each row's restore key (in RESTORE_KEYS order)."""
    return [positions[k] for k in RESTORE_KEYS.get(tab.key, ()) if k in positions]
