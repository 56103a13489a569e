"""The words of the weekly report (French, like the sheet): its title, chart titles, the figures
table, section headings and column headings of the PDF, the call outcomes, the reminders sentence and the note on
method — so :mod:`encours.sync.report_render` only lays them out."""

from __future__ import annotations

#: Short phrases, by key; ``{placeholders}`` filled by :func:`report_text`.
REPORT_TEXT_FR = {
    "title": "Encours clients au {day}{who}",
    "customers": "{count} clients",
    "trend_chart": "Encours et échu, 8 dernières semaines",
    "aging_chart": "Balance âgée (jours de retard)",
    "forecast_chart": "Encaissements attendus par semaine (lundi)",
    "outstanding": "Encours",
    "overdue": "Échu",
    "change": "{arrow} {delta}{rate} sur 7 jours",
    "week_of": "Semaine du {day}",
    "later": "Au-delà",
    "total": "Total",
    "days_late": "{days} j",
    "score": "{score} ({profile})",
    "none": "Aucun.",
    "no_journal": "Aucun journal d'envoi pour l'instant.",
    "risk_link": "{name} : {link}",
    # the figures table: (label, comment)
    "kpi_receivables": "Encours total",
    "kpi_overdue": "Échu",
    "kpi_current": "Non échu",
    "kpi_unallocated": "Non affecté",
    "kpi_unallocated_note": "paiements et avoirs qu'aucune facture n'absorbe, déduits de l'encours",
    "kpi_dso": "DSO",
    "kpi_dso_note": "méthode simple sur {days} jours ; countback {countback}",
    "kpi_best_dso": "DSO au mieux",
    "kpi_best_dso_note": "si tout était payé à l'échéance",
    "kpi_add": "Retard moyen (ADD)",
    "kpi_add_note": "DSO − DSO au mieux",
    "kpi_cei": "CEI",
    "kpi_cei_note": "efficacité du recouvrement sur {days} jours",
    # the reminders sentence ({s}: "s" when the count before it is not 1; {have}: "a" or "ont")
    "sent_week": "{count} relance{s} envoyée{s} ces 7 derniers jours{channels}",
    "channels": " ({channels})",
    "effect": ("Sur les 28 derniers jours, {count} relance{s} {have} rapporté {amount} payés dans les 14 jours "
               "({paid} facture{paid_s})."),
    "reminders": "{week}. {effect}",
}

#: The PDF's sections, in order: heading, and the column headings of its table.
SECTIONS_FR = {
    "kpis": ("Chiffres de la semaine", ("Indicateur", "Valeur", "Commentaire")),
    "forecast": ("Encaissements attendus, 8 prochaines semaines", ("Semaine", "Montant attendu")),
    "aging": ("Balance âgée", ("Tranche", "Montant")),
    "late_payers": ("Les dix plus gros retards", ("Client", "Commercial", "Échu", "Encours", "Retard", "Score")),
    "promises": ("Promesses de paiement attendues cette semaine", ("Date", "Client", "Facture", "Reste dû")),
    "broken": ("Promesses non tenues (7 derniers jours)", ("Date", "Client", "Facture", "Reste dû")),
    "disputes": ("Litiges ouverts", ("Client", "Facture", "Échéance", "Reste dû", "Commentaire")),
    "outcomes": ("Résultats des appels de la semaine", ("Noté le", "Client", "Factures", "Résultat", "Reste dû",
                                                         "Commentaire")),
    "reminders": ("Relances", ()),
    "risks": ("Alertes des registres publics (Sirene, BODACC)", ("Client", "Signal", "Date", "Encours", "À faire")),
    "notes": ("Notes", ()),
}

#: How each outcome recorded in ``À faire`` reads in the report's "Résultats des appels" section.
OUTCOME_TEXT_FR = {
    "promise": "Promesse de paiement",
    "promise_on": "Promesse de paiement au {day:%d/%m/%Y}",
    "dispute": "Litige ouvert",
    "dispute_on": "Litige ouvert",
    "dispute_lifted": "Litige levé",
    "call_back": "À rappeler",
    "call_back_on": "À rappeler le {day:%d/%m/%Y}",
    "unreachable": "Injoignable (essai {attempt})",
    "paid": "Paiement annoncé",
    "paid_on": "Paiement annoncé le {day:%d/%m/%Y}",
    "done": "Appel fait",
    # the summary line above the list: "{count} {word}" joined by ", "
    "summary_promise": "{count} promesse{s}",
    "summary_dispute": "{count} litige{s} ouvert{s}",
    "summary_dispute_lifted": "{count} litige{s} levé{s}",
    "summary_call_back": "{count} rappel{s} convenu{s}",
    "summary_unreachable": "{count} injoignable{s}",
    "summary_paid": "{count} paiement{s} annoncé{s}",
    "summary_done": "{count} appel{s} fait{s} sans autre résultat",
    "summary": "{parts}.",
    "none": "Aucun résultat noté dans « À faire » cette semaine.",
    "settled": "réglé depuis",
}

METHOD_NOTE = (
    "Montants en euros, avoirs déduits. DSO = encours ÷ ventes à crédit de la période × jours ; "
    "DSO au mieux = non échu ÷ ventes × jours ; ADD = DSO − DSO au mieux ; CEI = (encours d'ouverture + ventes "
    "− encours de clôture) ÷ (encours d'ouverture + ventes − non échu de clôture) × 100, ventes de toute la période. "
    "Encaissements attendus : chaque facture à son échéance décalée du retard moyen du client. "
    "Effet des relances : montants payés sur les factures relancées dans les 14 jours suivant une relance "
    "(relances des 28 derniers jours)."
)


def outcome_text(key: str, **values: object) -> str:
    """One of :data:`OUTCOME_TEXT_FR`, its placeholders filled."""
    return OUTCOME_TEXT_FR[key].format(**values)


def report_text(key: str, **values: object) -> str:
    """One of :data:`REPORT_TEXT_FR`, its placeholders filled."""
    return REPORT_TEXT_FR[key].format(**values)
