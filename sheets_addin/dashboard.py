"""The tabs made only of formulas — ``Paramètres``, ``Balance âgée``, ``Tableau de bord`` — as
backend-neutral cell lists, so that the workbook, live Excel and Google Sheets show the same thing.

Every figure is a native formula over ``Factures`` (SUMIFS, COUNT, SUM: understood alike by Excel,
LibreOffice 7.4 and Google Sheets), so it stays right when people edit amounts or dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from encours.connectors.model import CREDIT_LABELS_FR
from encours.sheets_addin.functions import DEFAULT_BOUNDS
from encours.sheets_addin.layout import (
    AGING,
    AS_OF_CELL,
    BOUND_CELLS,
    BUCKET_LABELS,
    INVOICES,
    LABEL_CELLS,
    LOWER_CELLS,
    UNALLOCATED_LABEL,
    CellType,
    column_letter,
    param_ref,
    whole_column,
)


@dataclass(frozen=True)
class Cell:
    """One cell of a formula tab: ``value`` is a formula when it is text starting with "="."""

    ref: str  # "B4"
    value: object
    type: CellType = CellType.TEXT
    bold: bool = False


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart: categories and values as ranges of the tab it sits on."""

    title: str
    categories: str  # "A11:A15"
    values: str  # "B11:B15"
    anchor: str  # "D3"


def factures_refs(letters: Mapping[str, str]) -> dict[str, str]:
    """``inv_<key>`` → whole-column reference into Factures, for every Factures column found."""
    return {f"inv_{key}": whole_column(INVOICES.name, letter) for key, letter in letters.items()}


def invoice_letters(positions: Mapping[str, int] | None = None) -> dict[str, str]:
    """Column letters of Factures: the layout's order, or the positions found in a sheet (0-based)."""
    if positions is None:
        positions = {c.key: i for i, c in enumerate(INVOICES.columns)}
    return {key: column_letter(index) for key, index in positions.items()}


def params_cells(as_of: date | None = None, bounds: Sequence[int] = DEFAULT_BOUNDS) -> list[Cell]:
    """The parameters tab: the as-of date (TODAY() unless a date is given) and the aging bounds."""
    if len(bounds) != 3:
        raise ValueError("the workbook's aging has three bounds (e.g. 30, 60, 90)")
    b1, b2, b3 = (c.replace("$", "") for c in BOUND_CELLS)
    cells = [
        Cell("A1", "Paramètre", bold=True),
        Cell("B1", "Valeur", bold=True),
        Cell("C1", "Aide", bold=True),
        Cell("A2", "Date d'arrêté"),
        Cell(AS_OF_CELL.replace("$", ""), as_of if as_of else "=TODAY()", CellType.DATE),
        Cell("C2", "Par défaut la date du jour (=TODAY()) ; tapez une date pour figer la balance à cette date."),
        Cell("A3", "Borne 1 (jours)"),
        Cell(b1, bounds[0], CellType.INTEGER),
        Cell("A4", "Borne 2 (jours)"),
        Cell(b2, bounds[1], CellType.INTEGER),
        Cell("A5", "Borne 3 (jours)"),
        Cell(b3, bounds[2], CellType.INTEGER),
        Cell("C3", "Les tranches de la balance âgée suivent ces bornes."),
        Cell("C4", "Ne modifiez pas les cellules calculées ci-dessous."),
        Cell("A6", "Tranches", bold=True),
    ]
    label_formulas = (
        f'="{BUCKET_LABELS[0]}"',
        f'="1-"&{b1}',
        f'=({b1}+1)&"-"&{b2}',
        f'=({b2}+1)&"-"&{b3}',
        f'="> "&{b3}',
    )
    lower_formulas: tuple[object, ...] = (-100000, 1, f"={b1}+1", f"={b2}+1", f"={b3}+1")
    cells.append(Cell("C6", "Dès (jours de retard)", bold=True))
    for index, (cell, formula) in enumerate(zip(LABEL_CELLS, label_formulas, strict=True)):
        cells.append(Cell(f"A{7 + index}", f"Tranche {index + 1}"))
        cells.append(Cell(cell.replace("$", ""), formula))
        cells.append(Cell(LOWER_CELLS[index].replace("$", ""), lower_formulas[index], CellType.INTEGER))
    return cells


#: Where a customer's row number goes in :func:`aging_layout`'s formulas.
AGING_ROW = "{row}"


def aging_layout(letters: Mapping[str, str], customers: int) -> tuple[list[object], list[str], list[object]]:
    """``Balance âgée`` as its header, the formulas of a customer's row (its number: ``AGING_ROW``) and its total row.

    Criteria are written ``"="&label``: a bare "> 90" would be read by SUMIFS as "greater than 90".

    Bucket headings are formulas over ``Paramètres`` so that they follow the bounds; each figure
    is a SUMIFS of ``Reste dû (EUR)`` by customer and bucket.
    """
    refs = factures_refs(letters)
    amount, customer, bucket = refs["inv_remaining_eur"], refs["inv_customer_id"], refs["inv_bucket"]
    header: list[object] = [AGING.columns[0].heading, AGING.columns[1].heading]
    header += [f"={param_ref(c)}" for c in LABEL_CELLS]
    header += [UNALLOCATED_LABEL, "Total"]
    first_bucket, last_bucket = column_letter(2), column_letter(2 + len(LABEL_CELLS) - 1)
    total_letter = column_letter(2 + len(LABEL_CELLS) + 1)
    row = AGING_ROW
    formulas = [f'=SUMIFS({amount},{customer},$B{row},{bucket},"="&{column_letter(2 + index)}$1)'
                for index in range(len(LABEL_CELLS))]
    # Not aged: credits and credit notes (no days late, so no bucket) = the rest of the total.
    formulas.append(f"={total_letter}{row}-SUM({first_bucket}{row}:{last_bucket}{row})")
    formulas.append(f"=SUMIFS({amount},{customer},$B{row})")
    last = customers + 1
    total: list[object] = ["Total", ""]
    for index in range(len(LABEL_CELLS) + 2):
        letter = column_letter(2 + index)
        total.append(f"=SUM({letter}2:{letter}{last})" if customers else 0)
    return header, formulas, total


def aging_rows(customers: Sequence[tuple[str, str]], letters: Mapping[str, str]) -> list[list[object]]:
    """``Balance âgée``: header, one row per (customer id, name), and a total row (see :func:`aging_layout`)."""
    header, formulas, total = aging_layout(letters, len(customers))
    rows: list[list[object]] = [header]
    for offset, (customer_id, name) in enumerate(customers):
        row = str(offset + 2)
        rows.append([name, customer_id, *(formula.replace(AGING_ROW, row) for formula in formulas)])
    rows.append(total)
    return rows


def dashboard_cells(
    letters: Mapping[str, str], company: str = "", *, opening: Decimal | None = None
) -> tuple[list[Cell], list[ChartSpec]]:
    """``Tableau de bord``: totals, overdue, open invoices, aging by bucket and its chart, KPIs.

    ``opening``: the receivables at the start of the KPI period, which the sheet cannot know (it
    holds no payment history): computed by the sync (``functions.ledger_kpis(...).opening``);
    without it the CEI stays empty.
    """
    refs = factures_refs(letters)
    amount, days, bucket = refs["inv_remaining_eur"], refs["inv_days_late"], refs["inv_bucket"]
    as_of = param_ref(AS_OF_CELL)
    cells = [
        Cell("A1", f"Tableau de bord — {company}" if company else "Tableau de bord", bold=True),
        Cell("A2", "Arrêté au"),
        Cell("B2", f"={as_of}", CellType.DATE),
        Cell("A4", "Encours total", bold=True),
        Cell("B4", f"=SUM({amount})", CellType.MONEY, bold=True),
        Cell("A5", "Échu"),
        Cell("B5", f'=SUMIFS({amount},{days},">0")', CellType.MONEY),
        Cell("A6", "Non échu"),
        Cell("B6", f'=SUMIFS({amount},{days},"<=0")', CellType.MONEY),
        Cell("A9", f"{UNALLOCATED_LABEL} (paiements et avoirs)"),
        Cell("B9", "=B4-B5-B6", CellType.MONEY),
        Cell("A7", "Part échue"),
        Cell("B7", "=IF(B4=0,0,B5/B4)", CellType.NUMBER),
        Cell("A8", "Factures et avoirs ouverts"),
        Cell("B8", f"=COUNT({days})", CellType.INTEGER),
        Cell("A10", "Balance âgée", bold=True),
        Cell("B10", "Montant (EUR)", bold=True),
    ]
    for index, label_cell in enumerate(LABEL_CELLS):
        row = 11 + index
        cells.append(Cell(f"A{row}", f"={param_ref(label_cell)}"))
        cells.append(Cell(f"B{row}", f'=SUMIFS({amount},{bucket},"="&A{row})', CellType.MONEY))
    cells.append(Cell("A16", UNALLOCATED_LABEL))
    cells.append(Cell("B16", "=B9", CellType.MONEY))
    cells.append(Cell("A17", "Total", bold=True))
    cells.append(Cell("B17", "=SUM(B11:B16)", CellType.MONEY, bold=True))
    cells += kpi_cells(letters, opening)
    charts = [ChartSpec("Balance âgée (EUR)", "A11:A15", "B11:B15", "D3")]
    return cells, charts


#: The KPI period of the dashboard, in days, cut in 30-day months for the countback DSO.
KPI_PERIOD_DAYS = 90
KPI_MONTH_DAYS = 30


def kpi_cells(letters: Mapping[str, str], opening: Decimal | None = None) -> list[Cell]:
    """DSO (simple and countback), best possible DSO, ADD and CEI as native formulas over ``Factures``.

    The same definitions and choices as :func:`encours.sheets_addin.functions.receivables_kpis`: the
    period is the 90 days ending on the as-of date; receivables are ``Reste dû (EUR)`` (B4, not
    yet due: B6); credit sales are the invoices and credit notes in EUR issued in the period,
    deleted ones left out; days rounded to 0.1 (ROUND, half away from zero).  Only IF, AND,
    ISNUMBER, MAX, ROUND and SUMIFS: Excel, LibreOffice 7.4 and Google Sheets alike.
    """
    refs = factures_refs(letters)
    total, issued = refs["inv_total"], refs["inv_issue_date"]
    currency, status = refs["inv_currency"], refs["inv_status"]
    as_of = param_ref(AS_OF_CELL)
    # Sales are documents: the rows of unallocated credits (payments on account…) are not.
    not_credits = "".join(f',{status},"<>{label}"' for label in CREDIT_LABELS_FR.values())
    live = f'{currency},"EUR",{status},"<>Supprimée",{status},"<>Avoir — supprimée"{not_credits}'

    def sales(newest: str, oldest: str) -> str:
        return f'SUMIFS({total},{live},{issued},">"&({as_of}-{oldest}),{issued},"<="&({as_of}-{newest}))'

    m = KPI_MONTH_DAYS
    countback = (
        f"=IF(B4<=0,0,IF(B4<=B21,ROUND(B4/B21*{m},1),IF(B4<=B21+B22,ROUND({m}+(B4-B21)/B22*{m},1),"
        f"IF(B4<=B21+B22+B23,ROUND({2 * m}+(B4-B21-B22)/B23*{m},1),{3 * m}))))"
    )
    return [
        Cell("A18", "Indicateurs", bold=True),
        Cell("B18", "Valeur", bold=True),
        Cell("A19", "Période (jours)"),
        Cell("B19", KPI_PERIOD_DAYS, CellType.INTEGER),
        Cell("A20", "Ventes à crédit de la période (EUR)"),
        Cell("B20", "=" + sales("0", "B19"), CellType.MONEY),
        Cell("A21", f"Ventes j-{m} à j"),
        Cell("B21", f"=MAX(0,{sales('0', str(m))})", CellType.MONEY),
        Cell("A22", f"Ventes j-{2 * m} à j-{m}"),
        Cell("B22", f"=MAX(0,{sales(str(m), str(2 * m))})", CellType.MONEY),
        Cell("A23", f"Ventes j-{3 * m} à j-{2 * m}"),
        Cell("B23", f"=MAX(0,{sales(str(2 * m), str(3 * m))})", CellType.MONEY),
        Cell("A24", "DSO simple (jours)", bold=True),
        Cell("B24", '=IF(B20>0,ROUND(B4/B20*B19,1),"")', bold=True),
        Cell("A25", "DSO par épuisement (jours)"),
        Cell("B25", countback),
        Cell("A26", "Meilleur DSO possible (jours)"),
        Cell("B26", '=IF(B20>0,ROUND(B6/B20*B19,1),"")'),
        Cell("A27", "ADD, retard moyen (jours)"),
        Cell("B27", '=IF(B20>0,ROUND((B4-B6)/B20*B19,1),"")'),
        Cell("A28", "Encours en début de période"),
        Cell("B28", opening, CellType.MONEY),
        Cell("A29", "CEI (%)"),
        Cell("B29", '=IF(AND(ISNUMBER(B28),B28+B20-B6>0),ROUND((B28+B20-B4)/(B28+B20-B6)*100,1),"")'),
        Cell("A31", "DSO = encours ÷ ventes × jours ; meilleur DSO = non échu ÷ ventes × jours ; ADD = DSO − meilleur "
                    "DSO ; CEI = (début + ventes − encours) ÷ (début + ventes − non échu) × 100, ventes de toute la "
                    "période ; ventes = factures et avoirs en EUR émis sur la période."),
    ]

