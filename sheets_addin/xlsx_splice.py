"""A sync into a workbook package: encours's tabs refreshed in place, every other part left as it was.

Keyed tabs (``Factures``, ``Clients``, ``Relances``, ``À faire``) keep their rows: a row is matched by ID, its
synced, formula and run cells are rewritten and every other cell of it is kept as written.  The
tabs made only of formulas are rewritten whole.  The layout (widths, frozen heading, drop-downs,
print setup) is the same whether the workbook was just created or synced a hundred times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import compress, repeat
from operator import eq, not_
from typing import Any

from encours.connectors.errors import SheetError
from encours.sheets_addin.dashboard import dashboard_cells, factures_refs, params_cells
from encours.sheets_addin.layout import (
    AGING,
    CUSTOMERS,
    DASHBOARD_TAB,
    INVOICES,
    JOURNAL,
    PARAMS_TAB,
    PAYMENT_PLANS,
    TODO,
    CellType,
    Column,
    Kind,
    Tab,
    column_letter,
    legacy_todo,
)
from encours.sheets_addin.marks import parse_text
from encours.sheets_addin.merge import FoundRow, plan_table, restore_columns, restore_key, wanted_keys
from encours.sheets_addin.view import Row, SheetView
from encours.sheets_addin.view_texts import ViewTexts
from encours.sheets_addin.xlsx_aging import write_aging
from encours.sheets_addin.xlsx_append import Appender, NewRow
from encours.sheets_addin.xlsx_cells import cell_style, cell_xml, shared_strings
from encours.sheets_addin.xlsx_layout import (
    KIND_COLORS,
    Context,
    layout_tab,
    scenario_list,
    set_widths,
    workbook_settings,
)
from encours.sheets_addin.xlsx_package import Package, attributes
from encours.sheets_addin.xlsx_people import PeopleChanges
from encours.sheets_addin.xlsx_prints import TabPrints, ids_after, layout_key, plan_known
from encours.sheets_addin.xlsx_rows import (
    _TAB_ORDER,
    RowPlan,
    _aging_customers,
    _customer_updates,
    _invoice_updates,
    _journal_updates,
    _split_ref,
    _todo_updates,
    cell_format,
    column_format,
    find_columns,
)
from encours.sheets_addin.xlsx_sheetxml import EMPTY_SHEET, Sheet
from encours.sheets_addin.xlsx_styles import StyleBook
from encours.sheets_addin.xlsx_trusted import open_sheet


def sync_package(pkg: Package, view: SheetView, bounds: Sequence[int], notes: list[str], *,
                 created: bool = False, kept: Mapping[str, TabPrints] | None = None, texts: ViewTexts | None = None,
                 written: dict[str, tuple[str, dict[str, bytes], dict[str, int] | None, Sheet]] | None = None
                 ) -> PeopleChanges:
    """Write ``view`` into the package's encours tabs (adding those missing); other parts untouched.

    ``kept``: the rows as the last sync wrote them (trusted only for a part still as it was then); ``texts``:
    the view's columns as texts, when already taken (for the view digest);
    ``written``: filled with the rows this sync leaves as encours renders them (tab → layout, prints, the
    row of every ID when no row lacks one, and the part, whose rows' offsets are known once it is saved).
    Returns what it did to the rows people's marks are read from."""
    styles_part = pkg.styles_part()
    if styles_part is None:
        raise SheetError(f"{pkg.path}: the workbook has no styles part (damaged file?)")
    sheets = pkg.sheets()
    shared_part = next((r["Target"] for r in pkg.relationships(pkg.workbook_part())
                        if r.get("Type", "").endswith("/sharedStrings")), None)
    ctx = Context(StyleBook(pkg.read(styles_part)), shared_strings(pkg.text(shared_part) if shared_part else None),
                  notes)
    texts = texts or ViewTexts(view)
    ctx.texts.update({INVOICES.name: texts.invoices, CUSTOMERS.name: texts.customers})
    for name, tab_prints in (kept or {}).items():
        part = tab_prints.part
        if sheets.get(name) == part and part in pkg and pkg.crc(part) == tab_prints.crc \
                and pkg.size(part) == tab_prints.size:
            ctx.kept_rows[name] = tab_prints
    fresh: set[str] = set(_TAB_ORDER) if created else set()
    synced_before = any(name in sheets for name in _TAB_ORDER)  # else: a person's workbook, first sync
    for position, name in enumerate(_TAB_ORDER):
        if name not in sheets:
            if name in (INVOICES.name, CUSTOMERS.name) and synced_before:
                notes.append(f"tab {name!r} was missing: recreated")
            if not created:
                ctx.people.other = True
            order = list(pkg.sheets())
            before = next((order.index(n) for n in _TAB_ORDER[position + 1:] if n in order), None)
            pkg.add_sheet(name, EMPTY_SHEET, before)
            fresh.add(name)
    sheets = pkg.sheets()
    parsed = {name: open_sheet(pkg, sheets[name], ctx.kept_rows.get(name)) for name in _TAB_ORDER}

    inv_positions, inv_last = _update_keyed(parsed[INVOICES.name], INVOICES, view,
                                             _invoice_updates(view, texts.invoices.ids()), {}, ctx)
    inv_letters = {k: column_letter(i) for k, i in inv_positions.items()}
    cust_positions, cust_last = _update_keyed(parsed[CUSTOMERS.name], CUSTOMERS, view, _customer_updates(view),
                                              factures_refs(inv_letters), ctx)
    keyed = {INVOICES.name: (INVOICES, inv_positions, inv_last), CUSTOMERS.name: (CUSTOMERS, cust_positions, cust_last)}
    journal = parsed[JOURNAL.name]
    if view.journal is not None or JOURNAL.name in fresh:
        keyed[JOURNAL.name] = (JOURNAL, *_update_keyed(journal, JOURNAL, view, _journal_updates(view.journal or ()),
                                                       {}, ctx))
    plans = parsed[PAYMENT_PLANS.name]
    if plans.last_row_with_values(ctx.shared) == 0:
        _write_header(plans, PAYMENT_PLANS, ctx)
        keyed[PAYMENT_PLANS.name] = (PAYMENT_PLANS, {c.key: i for i, c in enumerate(PAYMENT_PLANS.columns)}, 1)
    todo = parsed[TODO.name]
    header = todo.values(1, ctx.shared)
    if legacy_todo([header.get(i) for i in range(max(header, default=-1) + 1)]):
        todo.clear_rows()  # the layout before task IDs: rewritten whole, nothing of people's in it
        fresh.add(TODO.name)
    if view.todo is not None or TODO.name in fresh:
        keyed[TODO.name] = (TODO, *_update_keyed(todo, TODO, view, _todo_updates(view.todo or ()), {}, ctx))
    for name, (tab, positions, last) in keyed.items():
        layout_tab(parsed[name], tab, positions, view, ctx, fresh=name in fresh, last=last)
        _filter(pkg, sheets[name], parsed[name], positions, last)

    params = parsed[PARAMS_TAB]
    if not params.values(2, ctx.shared).get(1) and "<f>" not in "".join(params.row(2).cell_map().values()):
        _write_cells(params, params_cells(None, bounds), ctx, percent=False)
        set_widths(params, (30, 16, 60))
    scenario_list(params, view.scenario_names, ctx)

    aging = parsed[AGING.name]
    with_open = texts.invoices.customers_with_open(view.shown_invoice_ids)
    aging_mark = write_aging(aging, _aging_customers(view, with_open), inv_letters, ctx, fresh=AGING.name in fresh,
                             kept=ctx.kept_rows.get(AGING.name))

    board = parsed[DASHBOARD_TAB]
    board.clear_rows()
    board_cells, _charts = dashboard_cells(inv_letters, view.company, opening=view.opening_receivables)
    _write_cells(board, board_cells, ctx, percent=True)
    if DASHBOARD_TAB in fresh:
        set_widths(board, (30, 16, 14))

    changed = False
    for name in _TAB_ORDER:
        if parsed[name].changed():
            pkg.set(sheets[name], parsed[name].chunks)
            changed = True
    if ctx.styles.changed:
        pkg.set(styles_part, ctx.styles.to_bytes())
    if changed:
        workbook_settings(pkg, {name: (1, 1) for name in keyed})
    if written is not None:  # a row something else rewrote since it was rendered is compared next time
        for name, (layout, prints, numbers, ids) in ctx.rows_written.items():
            whole = parsed[name].unparsed_numbers()
            if not whole.issuperset(numbers.values()):
                prints = dict(compress(prints.items(), map(whole.__contains__, map(numbers.__getitem__, prints))))
            written[name] = (layout, prints, ids, parsed[name])
        written[AGING.name] = (aging_mark, {}, None, aging)  # no row kept: the mark of the rows it holds
    return ctx.people


# -- keyed tabs ----------------------------------------------------------------------------------
def _update_keyed(
    sheet: Sheet,
    tab: Tab,
    view: SheetView,
    updates: tuple[Mapping[str, Row], frozenset[str], Mapping[str, Row] | None, Row | None],
    extra: Mapping[str, str],
    ctx: Context,
) -> tuple[dict[str, int], int]:
    """Refresh one keyed tab; returns the 0-based positions of its columns and its last row."""
    known, shown, run, unknown_row = updates
    if sheet.last_row_with_values(ctx.shared) == 0:
        _write_header(sheet, tab, ctx)
    values = sheet.values(1, ctx.shared)
    header = [values.get(i) for i in range(max(values, default=-1) + 1)]
    positions, missing = find_columns(tab, header)
    last_used = max(sheet.last_row_with_values(ctx.shared), 1)
    id_heading = tab.column(tab.id_key).heading
    if tab.id_key not in positions and last_used > 1:
        raise SheetError(f"the ID column is missing: restore the heading {id_heading!r} in row 1",
                         tab=tab.name, row=1, column=id_heading)
    next_col = len(header)
    for column in missing:
        sheet.set_cells(1, {next_col: _header_cell(column, next_col, ctx)})
        positions[column.key] = next_col
        next_col += 1
        if last_used > 1:
            ctx.notes.append(f"tab {tab.name!r}: column {column.heading!r} was missing: added at the end")
            ctx.people.other = True
    append = Appender(tab, positions, extra, ctx)
    layout = layout_key(append.columns)
    kept = ctx.kept_rows.get(tab.name)
    if kept is not None and kept.layout != layout:
        kept = None
    appending = list(compress(known, map(shown.__contains__, known)))
    if kept is not None and kept.found is not None:  # the part as the last sync left it: its IDs are known
        found: list[FoundRow] = []
        merge = plan_known(kept.found, known, appending, last_used)
    else:
        found = _found_rows(sheet, tab, positions, ctx.shared)
        # restore keys only matter for a row whose ID cell was emptied
        wanted = wanted_keys(known, tab, positions) if any(not f.id for f in found) else dict.fromkeys(known, ())
        merge = plan_table(tab, tab.name, found, wanted, appending, last_used)
    ctx.notes.extend(merge.notes)
    if merge.restored:
        ctx.people.other = True
    plan = RowPlan(tab, positions, extra)
    id_index = positions[tab.id_key]
    by_cell = list(merge.unknown)
    # rows as encours last wrote them, if nothing changed: compared whole (a column at a time, as lists)
    matched_keys, matched_numbers = list(merge.matched), list(merge.matched.values())
    flags = list(map(sheet.unparsed_numbers().__contains__, matched_numbers))
    if merge.restored:
        flags = [flag and number not in merge.restored for flag, number in zip(flags, matched_numbers, strict=True)]
    whole_keys, whole_numbers = list(compress(matched_keys, flags)), list(compress(matched_numbers, flags))
    by_cell.extend(compress(zip(matched_keys, matched_numbers, strict=True), map(not_, flags)))
    runs = None if run is None else list(map(run.get, whole_keys, repeat({})))
    marks = append.prints_of(whole_numbers, whole_keys, runs, known)
    before = kept.prints if kept is not None else {}
    prints = dict(zip(whole_keys, marks, strict=True))  # the rows left exactly as encours renders them
    same = list(map(eq, map(before.get, whole_keys), marks))  # its text is what this very render gave last time
    sheet.set_last(compress(whole_numbers, same), append.last)
    to_render: list[NewRow] = [(whole_numbers[i], whole_keys[i], known[whole_keys[i]],
                                None if runs is None else runs[i]) for i in compress(range(len(same)), map(not_, same))]
    keys = {item[0]: item[1] for item in to_render}
    for number, text in append.rows(to_render):
        row = sheet.rows[number]
        if text == row.raw:
            row.last = append.last
        else:  # changed, or a person typed or restyled a cell in it
            by_cell.append((keys[number], number))
            del prints[keys[number]]
    for key, number in by_cell:
        synced = known.get(key, unknown_row)
        values_out = plan.values(number, synced, None if run is None else run.get(key, {}))
        if number in merge.restored:
            values_out[id_index] = key
        _place(sheet, tab, positions, number, values_out, ctx)
    new: list[NewRow] = []
    for key, number in merge.appended:
        run_row = None if run is None else run.get(key, {})
        if number in sheet.rows:  # an emptied row people left formatted: merged cell by cell
            values_out = plan.values(number, known[key], run_row)
            values_out[id_index] = key
            _place(sheet, tab, positions, number, values_out, ctx)
            ctx.people.other = True
        else:
            new.append((number, key, known[key], run_row))
    ctx.people.append(tab.key, [item[1] for item in new])
    if new:
        prints.update(zip((item[1] for item in new), append.prints(new), strict=True))
        for number, text in append.rows(new):
            sheet.add_row(number, text, last=append.last)
    numbers = dict(zip(whole_keys, whole_numbers, strict=True))
    numbers.update((item[1], item[0]) for item in new)
    ctx.rows_written[tab.name] = (layout, prints, numbers, ids_after(found, merge))
    last_used = merge.last_row
    return positions, last_used


def _found_rows(sheet: Sheet, tab: Tab, positions: Mapping[str, int], shared: list[str]) -> list[FoundRow]:
    """The ID cell and restore key of every row below the header (rows unparsed when their ID is there)."""
    id_index = positions[tab.id_key]
    found = []
    ids = dict(sheet.column_values(id_index, shared, letter=column_letter(id_index)))
    restore = restore_columns(tab, positions)
    for number in sorted(sheet.rows):
        if number < 2:
            continue
        key = parse_text(_as_id(ids.get(number)))
        if key:
            found.append(FoundRow(number, key))
            continue
        if restore:
            values = sheet.values(number, shared)
            restore_at = restore_key([_as_id(values.get(c)) for c in restore])
            if restore_at:
                found.append(FoundRow(number, "", restore_at))
    return found


def _as_id(value: Any) -> Any:
    """An ID read back as a number (a person typed 1042) is the text "1042", not "1042.0"."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _place(sheet: Sheet, tab: Tab, positions: Mapping[str, int], number: int, values: Mapping[int, Any],
           ctx: Context) -> None:
    key = (tab.name, tuple(sorted(positions.items())))
    columns = ctx.columns.get(key)
    if columns is None:
        columns = ctx.columns[key] = [
            (i, column_letter(i), column_format(tab.column(k)), ctx.style(column_format(tab.column(k))),
             tab.column(k).kind is Kind.FORMULA)
            for k, i in sorted(positions.items(), key=lambda item: item[1])
        ]
    row = sheet.row(number)
    suffix = str(number)
    rendered: dict[int, str] = {}
    if not row.parsed or not row.cells:
        # a new row, or the fast path of a re-sync: a row whose cells already read as encours would write
        # them is left as it is, unparsed (a person's restyled or retyped cell of encours's: path below)
        fresh = row.parsed
        raw = row.raw
        found = True
        for index, letter, _fmt, style, formula in columns:
            if index in values:
                value = values[index]
                cell = rendered[index] = cell_xml(letter + suffix, value, style if value is not None else 0,
                                                  formula=formula)
                if found and not fresh and cell not in raw:
                    found = False  # the rest still rendered: the path below writes them as they are, as a rule
        if found:
            if fresh and not row.cells:  # kept as its text: a big first write holds no cell objects
                row.raw = f'<row r="{number}">' + "".join(rendered[i] for i in sorted(rendered)) + "</row>"
                row.parsed = False
            elif fresh:
                row.cells.update(rendered)
            return
    cells = row.cell_map()
    for index, letter, fmt, column_style, formula in columns:
        if index not in values:
            continue
        value = values[index]
        old = cells.get(index)
        style = ctx.keep_or(old, fmt) if value is not None else cell_style(old or "")
        same = index in rendered and style == (column_style if value is not None else 0)
        cells[index] = rendered[index] if same else cell_xml(letter + suffix, value, style, formula=formula)


def _header_cell(column: Column, index: int, ctx: Context) -> str:
    return cell_xml(f"{column_letter(index)}1", column.heading, ctx.style(None, True, KIND_COLORS[column.kind]))


def _write_header(sheet: Sheet, tab: Tab, ctx: Context) -> None:
    sheet.set_cells(1, {i: _header_cell(c, i, ctx) for i, c in enumerate(tab.columns)})


def _filter(pkg: Package, part: str, sheet: Sheet, positions: Mapping[str, int], last: int) -> None:
    """The heading's filter covers every row: a Table people made of the range is extended instead."""
    width = column_letter(max(positions.values()))
    for rel in pkg.relationships(part):
        if not rel.get("Type", "").endswith("/table"):
            continue
        xml = pkg.text(rel["Target"])
        tag = re.search(r"<table\b[^>]*>", xml)
        if tag is None:
            continue
        ref = attributes(tag.group(0)).get("ref", "")
        start, _, end = ref.partition(":")
        first_col, first_row = _split_ref(start)
        last_col, _ = _split_ref(end or start)
        if first_row != 1:
            continue
        totals = int(attributes(tag.group(0)).get("totalsRowCount", "0") or 0)
        new_ref = f"{column_letter(first_col)}1:{column_letter(last_col)}{max(last + totals, 2)}"
        if new_ref != ref:
            text = xml.replace(f'ref="{ref}"', f'ref="{new_ref}"', 1)
            filter_ref = f"{column_letter(first_col)}1:{column_letter(last_col)}{max(last, 2)}"
            text = re.sub(r'(<autoFilter\b[^>]*?\bref=")[^"]*(")', rf"\g<1>{filter_ref}\g<2>", text, count=1)
            pkg.set(rel["Target"], text)
        sheet.set_tail_element("autoFilter", None)  # one filter: the table's (a second one is a repair)
        return
    sheet.set_tail_element("autoFilter", f'<autoFilter ref="A1:{width}{last}"/>')


# -- whole tabs ----------------------------------------------------------------------------------
def _write_cells(sheet: Sheet, cells: Sequence[Any], ctx: Context, *, percent: bool) -> None:
    by_row: dict[int, dict[int, str]] = {}
    for spec in cells:
        col, row = _split_ref(spec.ref)
        fmt = "0.0%" if percent and spec.type is CellType.NUMBER else cell_format(spec)
        by_row.setdefault(row, {})[col] = cell_xml(spec.ref, spec.value, ctx.style(fmt, spec.bold), formula=True)
    for row, values in by_row.items():
        sheet.set_cells(row, values)


