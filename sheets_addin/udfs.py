# mypy: disable-error-code="no-untyped-def,no-untyped-call"
"""Excel custom functions (xlwings): ``=ENCOURS_JOURS_RETARD(F2:F500; 'Paramètres'!B2)`` and friends.

Thin wrappers over :mod:`encours.sheets_addin.cells`; the maths is in :mod:`encours.sheets_addin.functions`.
Each function takes a single cell or a whole column and returns one array that spills (one call
per column, not one per cell).  A bad cell answers ``#ENCOURS: …`` in its own cell only.

Names: ``ENCOURS_…`` with an underscore — xlwings declares UDFs through VBA, whose names cannot hold
a dot (the same names as in Google Sheets).  The parameters carry no type hints on purpose: xlwings
reads hints as converters.  This module imports on Linux and macOS (``xw.func`` only attaches
metadata there); Excel calls it on Windows only (xlwings UDFs need Windows), with the key
``"UDF MODULES","encours.sheets_addin.udfs"`` in ``xlwings.conf`` (see docs/custom-functions.md).
"""

from __future__ import annotations

from datetime import date

import xlwings as xw

from encours.sheets_addin import cells

_RANGE = {"ndim": 2, "err_to_str": True}
_VALUE = {"err_to_str": True}


def _spill(result):
    """A 1×1 answer as a plain value (older Excel without dynamic arrays shows it as is)."""
    if isinstance(result, list) and len(result) == 1 and isinstance(result[0], list) and len(result[0]) == 1:
        return result[0][0]
    return result


def _today(as_of):
    """An omitted as-of date means today, like TODAY(): the functions taking one are declared volatile,
    so Excel recomputes them at every recalculation (opening the workbook the next day included)."""
    return date.today() if as_of is None or as_of == "" else as_of


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@xw.arg("due", doc="Échéance : une cellule ou une colonne de dates", **_RANGE)
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
def ENCOURS_JOURS_RETARD(due, as_of=None):
    """Jours de retard = date d'arrêté − échéance (négatif : pas encore échu)."""
    return _spill(cells.jours_retard(due, _today(as_of)))


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@xw.arg("due", doc="Échéance : une cellule ou une colonne de dates", **_RANGE)
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
@xw.arg("bounds", doc="Bornes des tranches, par défaut 30, 60, 90", **_RANGE)
def ENCOURS_TRANCHE(due, as_of=None, bounds=None):
    """Tranche de la balance âgée : Non échu, 1-30, 31-60, 61-90, > 90 (bornes modifiables)."""
    return _spill(cells.tranche(due, _today(as_of), bounds))


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@xw.arg("amount", doc="Montant TTC", **_RANGE)
@xw.arg("due", doc="Échéance", **_RANGE)
@xw.arg("paid_on", doc="Date de paiement (vide : impayée à la date d'arrêté)", **_RANGE)
@xw.arg("country", doc="FR (BCE + 10 points) ou BE (BCE + 8 points arrondi au demi-point supérieur)", **_VALUE)
@xw.arg("as_of", doc="Date d'arrêté pour les factures impayées (vide : aujourd'hui)", **_VALUE)
def ENCOURS_INTERETS(amount, due, paid_on=None, country="FR", as_of=None):
    """Pénalités de retard, par semestre au taux légal (table datée), arrondies au centime."""
    return _spill(cells.interets(amount, due, paid_on, country, _today(as_of)))


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@xw.arg("amount", doc="Montant TTC", **_RANGE)
@xw.arg("due", doc="Échéance", **_RANGE)
@xw.arg("paid_on", doc="Date de paiement (vide : impayée)", **_RANGE)
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
def ENCOURS_INDEMNITE(amount, due, paid_on=None, as_of=None):
    """Indemnité forfaitaire de recouvrement : 40 € par facture payée (ou impayée) après l'échéance."""
    return _spill(cells.indemnite(amount, due, paid_on, _today(as_of)))


_HISTORY_ARGS = (
    ("customer", "ID client : une cellule ou la colonne du tableau Clients"),
    ("customers", "Historique : colonne des ID client des lignes"),
    ("dues", "Historique : colonne des échéances"),
    ("amounts", "Historique : colonne des montants"),
    ("paid_on", "Historique : colonne des dates de paiement (vide : encore dû)"),
)


def _history(f):
    for name, doc in reversed(_HISTORY_ARGS):
        f = xw.arg(name, doc=doc, **_RANGE)(f)
    return f


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@_history
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
@xw.arg("disputes", doc="Nombre de litiges par client (optionnel)", **_RANGE)
@xw.arg("broken_promises", doc="Nombre de promesses non tenues par client (optionnel)", **_RANGE)
def ENCOURS_SCORE(customer, customers, dues, amounts, paid_on, as_of=None, disputes=None, broken_promises=None):
    """Score de paiement 0–100 : fréquence, ampleur et montant des retards, tendance, échu, litiges, promesses."""
    return _spill(cells.score(customer, customers, dues, amounts, paid_on, _today(as_of), disputes, broken_promises))


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@_history
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
@xw.arg("disputes", doc="Nombre de litiges par client (optionnel)", **_RANGE)
@xw.arg("broken_promises", doc="Nombre de promesses non tenues par client (optionnel)", **_RANGE)
def ENCOURS_PROFIL(customer, customers, dues, amounts, paid_on, as_of=None, disputes=None, broken_promises=None):
    """Profil de payeur : A (bon payeur) ≥ 80, B ≥ 60, C ≥ 40, D (risque élevé)."""
    return _spill(cells.profil(customer, customers, dues, amounts, paid_on, _today(as_of), disputes, broken_promises))


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@_history
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
@xw.arg("disputes", doc="Nombre de litiges par client (optionnel)", **_RANGE)
@xw.arg("broken_promises", doc="Nombre de promesses non tenues par client (optionnel)", **_RANGE)
def ENCOURS_SCORE_EXPLICATION(customer, customers, dues, amounts, paid_on, as_of=None, disputes=None,
                              broken_promises=None):
    """Ce qui a fait le score, en une ligne."""
    return _spill(cells.score_explication(customer, customers, dues, amounts, paid_on, _today(as_of), disputes,
                                          broken_promises))


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@_history
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
def ENCOURS_RETARD_MOYEN(customer, customers, dues, amounts, paid_on, as_of=None):
    """Retard moyen de paiement : moyenne pondérée par les montants de (date de paiement − échéance)."""
    return _spill(cells.retard_moyen(customer, customers, dues, amounts, paid_on, _today(as_of)))


@xw.func(category="encours")
@xw.arg("receivables", doc="Encours total", **_VALUE)
@xw.arg("credit_sales", doc="Ventes à crédit de la période", **_VALUE)
@xw.arg("days", doc="Jours de la période", **_VALUE)
def ENCOURS_DSO(receivables, credit_sales, days):
    """DSO simple = encours ÷ ventes à crédit de la période × jours de la période."""
    return cells.dso(receivables, credit_sales, days)


@xw.func(category="encours")
@xw.arg("receivables", doc="Encours total", **_VALUE)
@xw.arg("monthly_sales", doc="Ventes par mois, le plus récent d'abord", **_RANGE)
@xw.arg("month_days", doc="Jours par mois (30 par défaut)", **_VALUE)
def ENCOURS_DSO_COUNTBACK(receivables, monthly_sales, month_days=None):
    """DSO par épuisement : on remonte mois par mois en consommant les ventes jusqu'à épuiser l'encours."""
    return cells.dso_countback(receivables, monthly_sales, month_days)


@xw.func(category="encours")
@xw.arg("current", doc="Encours non échu", **_VALUE)
@xw.arg("credit_sales", doc="Ventes à crédit de la période", **_VALUE)
@xw.arg("days", doc="Jours de la période", **_VALUE)
def ENCOURS_DSO_OPTIMAL(current, credit_sales, days):
    """Meilleur DSO possible = encours non échu ÷ ventes à crédit × jours."""
    return cells.dso_optimal(current, credit_sales, days)


@xw.func(category="encours")
@xw.arg("receivables", doc="Encours total", **_VALUE)
@xw.arg("current", doc="Encours non échu", **_VALUE)
@xw.arg("credit_sales", doc="Ventes à crédit de la période", **_VALUE)
@xw.arg("days", doc="Jours de la période", **_VALUE)
def ENCOURS_ADD(receivables, current, credit_sales, days):
    """ADD (retard moyen des créances) = DSO − meilleur DSO possible."""
    return cells.add(receivables, current, credit_sales, days)


@xw.func(category="encours")
@xw.arg("opening", doc="Encours en début de période", **_VALUE)
@xw.arg("credit_sales", doc="Ventes à crédit de la période", **_VALUE)
@xw.arg("closing", doc="Encours total en fin de période", **_VALUE)
@xw.arg("current", doc="Encours non échu en fin de période", **_VALUE)
def ENCOURS_CEI(opening, credit_sales, closing, current):
    """CEI = (encours début + ventes − encours fin) ÷ (encours début + ventes − non échu fin) × 100."""
    return cells.cei(opening, credit_sales, closing, current)


@xw.func(category="encours", volatile=True)  # an omitted as_of is today: recomputed each day
@xw.arg("dues", doc="Échéances des factures ouvertes", **_RANGE)
@xw.arg("amounts", doc="Restes dus", **_RANGE)
@xw.arg("delays", doc="Retard moyen du client de chaque ligne (vide : 0)", **_RANGE)
@xw.arg("as_of", doc="Date d'arrêté (vide : aujourd'hui)", **_VALUE)
@xw.arg("weeks", doc="Nombre de semaines (13 par défaut)", **_VALUE)
def ENCOURS_PREVISION(dues, amounts, delays=None, as_of=None, weeks=None):
    """Prévision d'encaissements par semaine : chaque facture attendue à son échéance + le retard moyen du client."""
    return cells.prevision(dues, amounts, delays, _today(as_of), weeks)

