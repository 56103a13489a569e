"""The tabs and columns of the encours sheet — the same in xlsx, live Excel and Google Sheets.

Every column has a *kind*:

- ``synced``: written by encours from the source, on every sync;
- ``formula``: a live native formula, recomputed by the spreadsheet (``formula`` holds a template,
  see :func:`render_formula`);
- ``user`` ("yours"): typed by people; encours reads it and never overwrites it;
- ``run``: written by the reminder run (next action, last reminder).

Rows are matched by the tab's ID column, never by position.  Headings are French; code uses
the English ``key``.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from encours.connectors.errors import SheetError


class Kind(enum.StrEnum):
    SYNCED = "synced"
    FORMULA = "formula"
    USER = "user"
    RUN = "run"


class CellType(enum.StrEnum):
    TEXT = "text"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    NUMBER = "number"
    BOOL = "bool"  # a check box / "Oui" drop-down
    CHOICE = "choice"  # a drop-down list


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: Kind
    type: CellType = CellType.TEXT
    width: float = 14
    formula: str = ""
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Tab:
    key: str
    name: str
    columns: tuple[Column, ...]
    id_key: str = ""  # the column that identifies a row ("" for tabs rebuilt whole)

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(f"{self.name} has no column {key!r}")

    def keys(self, *kinds: Kind) -> list[str]:
        return [c.key for c in self.columns if not kinds or c.kind in kinds]

    @property
    def headings(self) -> list[str]:
        return [c.heading for c in self.columns]

    def by_heading(self) -> dict[str, Column]:
        return {normalise_heading(c.heading): c for c in self.columns}


def normalise_heading(text: object) -> str:
    """Headings are matched without case, accents-preserving, spaces folded."""
    return re.sub(r"\s+", " ", str(text or "")).strip().casefold()


class HeadingError(SheetError):
    """A people's column cannot be found for sure under a changed heading; nothing was written or sent."""


def _near(wanted: str, found: str) -> bool:
    """``Litige (oui/non)``, ``Litiges``, ``Commentaire interne`` are near ``Litige``/``Commentaire``."""
    if re.match(re.escape(wanted) + r"(?![\w'])", found):
        return True
    return difflib.SequenceMatcher(None, wanted, found).ratio() >= 0.85


def match_headings(tab: Tab, header: Sequence[object]) -> dict[str, int]:
    """Positions (0-based) of the tab's columns in a header row — the one heading matcher of every backend.

    Exact headings (normalised) first, first occurrence wins.  A people's column (``user``) not
    found is recognised under a changed heading near its name (``Litige (oui/non)``) when one
    unknown heading is; when none is near but an unknown heading stands where the column was
    (right after its layout neighbour), or when several are near, :class:`HeadingError` names it:
    its marks are never silently read as empty.
    """
    wanted = tab.by_heading()
    texts = [normalise_heading(v) for v in header]
    positions: dict[str, int] = {}
    for index, text in enumerate(texts):
        column = wanted.get(text)
        if column is not None and column.key not in positions:
            positions[column.key] = index
    claimed = set(positions.values())
    unknown = {i: t for i, t in enumerate(texts) if t and i not in claimed and t not in wanted}
    for order, column in enumerate(tab.columns):
        if column.kind is not Kind.USER or column.key in positions:
            continue
        name = normalise_heading(column.heading)
        near = [i for i, t in unknown.items() if _near(name, t)]
        if len(near) == 1:
            positions[column.key] = near[0]
            del unknown[near[0]]
            continue
        if len(near) > 1:
            raise HeadingError(f"{tab.name}: the column « {column.heading} » is not there and several headings look "
                               f"like it ({', '.join(repr(str(header[i])) for i in near)}): rename the right one "
                               f"back to « {column.heading} »")
        before = next((positions[c.key] for c in reversed(tab.columns[:order]) if c.key in positions), None)
        spot = 0 if before is None else before + 1
        if spot in unknown:
            raise HeadingError(f"{tab.name}: the column « {column.heading} » is not there and column "
                               f"{column_letter(spot)} is headed {str(header[spot])!r} where it was: rename it back "
                               f"to « {column.heading} » so that what people typed in it is read")
    return positions


YES = "Oui"
NO = "Non"
BUCKET_LABELS = ("Non échu", "1-30", "31-60", "61-90", "> 90")

#: Where the parameters live: the as-of date (TODAY() unless someone types a date) and the
#: aging bounds.  Formulas refer to these cells absolutely.
PARAMS_TAB = "Paramètres"
AS_OF_CELL = "$B$2"
BOUND_CELLS = ("$B$3", "$B$4", "$B$5")
LABEL_CELLS = ("$B$7", "$B$8", "$B$9", "$B$10", "$B$11")
#: The first day of each bucket (ascending), beside its label: ``Tranche`` is a LOOKUP over them.
LOWER_CELLS = ("$C$7", "$C$8", "$C$9", "$C$10", "$C$11")


def param_ref(cell: str) -> str:
    return f"'{PARAMS_TAB}'!{cell}"


_AS_OF = param_ref(AS_OF_CELL)

#: Days past due, only while something remains due (a paid invoice has no delay to show).
#: Unallocated credits have no ``Échéance``, hence no days and no bucket: ``Balance âgée`` shows
#: them apart (``Non affecté``).
DAYS_LATE_FORMULA = '=IF(AND(ISNUMBER({due_date}{row}),N({remaining}{row})<>0),{as_of}-{due_date}{row},"")'.replace(
    "{as_of}", _AS_OF
)
#: The bucket of the days past due: the label of the last bucket whose first day is ≤ the days.
BUCKET_FORMULA = (
    '=IF(ISNUMBER({days_late}{row}),LOOKUP({days_late}{row},'
    + param_ref(f"{LOWER_CELLS[0]}:{LOWER_CELLS[-1]}")
    + ","
    + param_ref(f"{LABEL_CELLS[0]}:{LABEL_CELLS[-1]}")
    + '),"")'
)

INVOICES = Tab(
    key="invoices",
    name="Factures",
    id_key="id",
    columns=(
        Column("id", "ID", Kind.SYNCED, width=16),
        Column("number", "N° facture", Kind.SYNCED, width=16),
        Column("customer", "Client", Kind.SYNCED, width=30),
        Column("customer_id", "ID client", Kind.SYNCED, width=14),
        Column("salesperson", "Commercial", Kind.SYNCED, width=16),
        Column("issue_date", "Date", Kind.SYNCED, CellType.DATE, width=12),
        Column("due_date", "Échéance", Kind.SYNCED, CellType.DATE, width=12),
        Column("total", "Montant TTC", Kind.SYNCED, CellType.MONEY, width=14),
        Column("remaining", "Reste dû", Kind.SYNCED, CellType.MONEY, width=14),
        Column("currency", "Devise", Kind.SYNCED, width=8),
        Column("remaining_eur", "Reste dû (EUR)", Kind.SYNCED, CellType.MONEY, width=14,
               help="Reste dû converti dans la devise de la société ; la balance âgée additionne ces montants."),
        Column("status", "Statut", Kind.SYNCED, width=18),
        Column("days_late", "Jours de retard", Kind.FORMULA, CellType.INTEGER, width=10, formula=DAYS_LATE_FORMULA),
        Column("bucket", "Tranche", Kind.FORMULA, width=10, formula=BUCKET_FORMULA),
        Column("scenario", "Scénario", Kind.USER, CellType.CHOICE, width=12),
        Column("dispute", "Litige", Kind.USER, CellType.BOOL, width=8),
        Column("promise_date", "Promesse (date)", Kind.USER, CellType.DATE, width=12),
        Column("pause_until", "Pause jusqu'au", Kind.USER, CellType.DATE, width=12),
        Column("comment", "Commentaire", Kind.USER, width=30),
        Column("approve", "À envoyer", Kind.USER, CellType.BOOL, width=10),
        Column("next_action", "Prochaine action", Kind.RUN, width=24),
        Column("next_action_date", "Date prochaine action", Kind.RUN, CellType.DATE, width=12),
        Column("last_reminder", "Dernière relance", Kind.RUN, width=24),
    ),
)


def _customer_sum(bucket_filter: str) -> str:
    """SUMIFS over Factures' EUR remaining for the row's customer (and optionally a bucket)."""
    return "=SUMIFS({inv_remaining_eur},{inv_customer_id},{id}{row}" + bucket_filter + ")"


CUSTOMERS = Tab(
    key="customers",
    name="Clients",
    id_key="id",
    columns=(
        Column("id", "ID client", Kind.SYNCED, width=14),
        Column("name", "Client", Kind.SYNCED, width=30),
        Column("email", "Email", Kind.SYNCED, width=28),
        Column("phone", "Téléphone", Kind.SYNCED, width=16),
        Column("salesperson", "Commercial", Kind.SYNCED, width=16),
        Column("siren", "SIREN", Kind.SYNCED, width=12),
        Column("language", "Langue", Kind.SYNCED, width=7),
        Column("outstanding", "Encours", Kind.FORMULA, CellType.MONEY, formula=_customer_sum("")),
        Column("overdue", "Échu", Kind.FORMULA, CellType.MONEY,
               formula=_customer_sum(',{inv_days_late},">0"'),
               help="Échu brut : ce que disent les factures (ou échéances) en retard. Les paiements et avoirs "
                    "non affectés à une facture sont déduits dans Encours (et dans « Non affecté » de la "
                    "balance âgée) ; les relances ne réclament que le net."),
        Column("avg_delay", "Retard moyen (j)", Kind.SYNCED, CellType.NUMBER, width=10,
               help="Moyenne, pondérée par les montants, de (date de paiement − échéance) sur les factures payées."),
        Column("score", "Score", Kind.SYNCED, CellType.INTEGER, width=8),
        Column("profile", "Profil", Kind.SYNCED, width=8),
        Column("score_reason", "Explication du score", Kind.SYNCED, width=40),
        Column("alert", "Alerte", Kind.SYNCED, width=40,
               help="Registres publics (Sirene, BODACC) : société cessée ou procédure collective, date, lien."),
        Column("scenario", "Scénario", Kind.USER, CellType.CHOICE, width=12),
        Column("reminder_email", "Email relance", Kind.USER, width=28),
        Column("block_deliveries", "Bloquer livraisons", Kind.USER, CellType.BOOL, width=10),
        Column("comment", "Commentaire", Kind.USER, width=30),
        Column("direct_debit", "Prélèvement", Kind.USER, CellType.BOOL, width=10,
               help="Oui : le client paie par prélèvement (sources qui ne le disent pas) ; il n'est jamais relancé."),
        Column("postal_address", "Adresse postale", Kind.USER, width=36,
               help="Pour les courriers, quand la source n'a pas d'adresse (FEC, CSV)."),
    ),
)

#: ``Balance âgée``'s column of what is to the customers' credit and not aged (negative).
UNALLOCATED_LABEL = "Non affecté"

AGING = Tab(
    key="aging",
    name="Balance âgée",
    columns=(
        Column("customer", "Client", Kind.SYNCED, width=30),
        Column("customer_id", "ID client", Kind.SYNCED, width=14),
        *(
            Column(f"bucket_{i}", label, Kind.FORMULA, CellType.MONEY)
            for i, label in enumerate(BUCKET_LABELS)
        ),
        Column("unallocated", UNALLOCATED_LABEL, Kind.FORMULA, CellType.MONEY),
        Column("total", "Total", Kind.FORMULA, CellType.MONEY),
    ),
)

JOURNAL = Tab(
    key="journal",
    name="Relances",
    id_key="id",
    columns=(
        Column("id", "ID", Kind.RUN, width=10),
        Column("at", "Date et heure", Kind.RUN, CellType.DATETIME, width=18),
        Column("customer", "Client", Kind.RUN, width=28),
        Column("invoices", "Factures", Kind.RUN, width=24),
        Column("scenario", "Scénario", Kind.RUN, width=12),
        Column("step", "Étape", Kind.RUN, width=16),
        Column("channel", "Canal", Kind.RUN, width=12),
        Column("recipient", "Destinataire", Kind.RUN, width=28),
        Column("status", "Statut", Kind.RUN, width=12),
        Column("reason", "Motif", Kind.RUN, width=30),
        Column("message", "Message / fichier", Kind.RUN, width=40),
    ),
)

TODO = Tab(
    key="todo",
    name="À faire",
    id_key="id",
    columns=(
        Column("id", "ID", Kind.RUN, width=9),
        Column("salesperson", "Commercial", Kind.RUN, width=16),
        Column("date", "Date", Kind.RUN, CellType.DATE, width=12),
        Column("action", "Action", Kind.RUN, width=24),
        Column("customer", "Client", Kind.RUN, width=28),
        Column("phone", "Téléphone", Kind.RUN, width=16),
        Column("invoices", "Factures", Kind.RUN, width=24),
        Column("amount", "Montant", Kind.RUN, CellType.MONEY),
        Column("reason", "Détail", Kind.RUN, width=40),
        Column("done", "Fait", Kind.USER, CellType.BOOL, width=8,
               help="Tick (Oui) once the task is done: encours records the Résultat at its next pass."),
        Column("result", "Résultat", Kind.USER, width=28,
               help="promesse 15/12/2026 · litige · rappeler le 05/12/2026 · injoignable · payé (le 02/12/2026)"),
        Column("follow_up", "Suivi", Kind.RUN, width=44,
               help="What encours recorded, or why it could not read the Résultat."),
    ),
)


def legacy_todo(header: Sequence[object]) -> bool:
    """An ``À faire`` tab of the layout before tasks had an ID (all run columns, rewritten whole):
    nothing people typed lives there, so a backend clears it and lays the new one out."""
    texts = {normalise_heading(v) for v in header if v not in (None, "")}
    return bool(texts) and normalise_heading("ID") not in texts and normalise_heading("Action") in texts


PAYMENT_PLANS = Tab(
    key="payment_plans",
    name="Échéanciers",
    columns=(
        Column("invoice_id", "ID facture", Kind.USER, width=16),
        Column("date", "Date échéance", Kind.USER, CellType.DATE, width=12),
        Column("amount", "Montant", Kind.USER, CellType.MONEY),
        Column("comment", "Commentaire", Kind.USER, width=30),
    ),
)

DASHBOARD_TAB = "Tableau de bord"

#: Every tab, in the order they appear in a new sheet.
TABS: tuple[Tab, ...] = (INVOICES, CUSTOMERS, AGING, JOURNAL, TODO, PAYMENT_PLANS)
TAB_ORDER = (DASHBOARD_TAB, INVOICES.name, CUSTOMERS.name, AGING.name, TODO.name, JOURNAL.name,
             PAYMENT_PLANS.name, PARAMS_TAB)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def render_formula(template: str, letters: Mapping[str, str], row: int, extra: Mapping[str, str] | None = None) -> str:
    """Fill a formula template: ``{key}`` → that column's letter in this tab, ``{row}`` → row."""
    values: dict[str, str] = {"row": str(row), **letters, **(extra or {})}
    return template.format_map(values)


def whole_column(tab: str, letter: str) -> str:
    """An absolute whole-column reference understood by Excel, LibreOffice and Google Sheets."""
    return f"'{tab}'!${letter}:${letter}"
