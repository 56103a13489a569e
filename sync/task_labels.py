"""The French words of ``À faire`` (the sheet speaks French): what each task asks, its ``Détail``,
its ``Suivi``, what an outcome typed in ``Résultat`` does, why a ``Résultat`` was not understood,
and the run report's lines about them — one table, so :mod:`encours.sync.tasks`,
:mod:`encours.sync.task_book` and :mod:`encours.sync.task_outcomes` carry no sentence.

What people *type* in ``Résultat`` (keywords, month names) is parsing data, not output: it lives
in :mod:`encours.sync.result_words`."""

from __future__ import annotations

#: ``Action`` of each kind of task encours opens (the plan's own rows carry theirs).
TASK_ACTIONS_FR = {
    "call": "Appeler",
    "letter": "Poster le courrier",
    "formal_notice": "Envoyer la mise en demeure (recommandé)",
    "call_back": "Rappeler",
    "call_again": "Rappeler (nouvel essai)",
    "dispute": "Suivre le litige",
    "paid_check": "Vérifier le paiement annoncé",
    "confirm": "Confirmer l'envoi {reference}",
    "failed": "Vérifier l'échec d'envoi {reference}",
    "claim": "Déclarer la créance",
}

#: How each outcome of a ``Résultat`` reads in ``Suivi`` and the run report (by outcome kind).
OUTCOME_LABELS_FR = {
    "done": "fait",
    "promise": "promesse de paiement",
    "dispute": "litige",
    "call_back": "à rappeler",
    "unreachable": "injoignable",
    "paid": "paiement annoncé",
    "note": "note",
}

#: The word between an outcome and its date: "promesse de paiement au 15/12/2026", "à rappeler le …".
OUTCOME_DATE_LINKS_FR = {"promise": "au", "call_back": "le", "paid": "le"}
DATE_LINK_FR = "le"  # any other outcome with a date

#: What the ``Résultat`` column accepts, for the messages that say it was not understood.
ACCEPTED_FR = ("« promesse 15/12/2026 », « litige », « rappeler le 05/12/2026 », « injoignable », "
               "« payé » ou « payé le 02/12/2026 »")

#: Where an outcome's ``Suivi`` names the task it opened (replaced by its ID once it has one).
FOLLOW_MARK = "{follow}"

#: Sentences of ``À faire``, by key; ``{placeholders}`` filled by :func:`task_text`.
TASK_TEXT_FR = {
    # Détail of the tasks encours opens
    "call_detail": "{step} — à dire : {amount} dus sur {invoices} ; {so_far}",
    "posted_detail": "{step} — {artifact}",
    "none_before": "aucune relance envoyée avant",
    "sent_before": "{count} relance(s) déjà envoyée(s), la dernière le {day:%d/%m/%Y} ({step})",
    "confirm_detail": ("{step} : interrompu pendant l'envoi à {to}. Chercher le Message-ID {message_id} dans la "
                       "boîte d'envoi ou le journal du serveur, puis `encours run --confirm {reference} sent` "
                       "(parti) ou `not-sent` (à renvoyer)"),
    "no_message_id": "(aucun)",
    "failed_detail": ("{step} : {reason} — après correction, `encours run --confirm {reference} not-sent` "
                      "pour renvoyer"),
    "with_reason": "{what} — {reason}",
    "paid_said": " (payé le {day:%d/%m/%Y} selon le client)",
    "paid_check_detail": ("Paiement annoncé{said} ({task}, noté le {noted:%d/%m/%Y}) mais toujours dû au "
                          "{as_of:%d/%m/%Y} : les relances ont repris — rappeler le client"),
    "dispute_detail": ("Litige signalé le {day:%d/%m/%Y} ({task}) : aucune relance tant que cette ligne n'est pas "
                       "cochée Fait — la cocher quand le litige est levé"),
    "call_back_detail": "Rappel convenu le {day:%d/%m/%Y} ({task}) — {reason}",
    "call_again_detail": "Essai {attempt}/{attempts}, injoignable le {day:%d/%m/%Y} ({task}) — {reason}",
    # Suivi
    "resolved": "Plus rien à faire (réglé le {day:%d/%m/%Y})",
    "not_recorded": "Résultat non enregistré : {why}",
    "recorded_when_done": "« {result} » sera enregistré quand « Fait » sera coché",
    "dispute_open": "Litige en cours : aucune relance sur ces factures tant que « Fait » n'est pas coché",
    "invoices_settled": "Factures réglées depuis : plus rien à réclamer — cocher « Fait »",
    "recorded": "Enregistré le {day:%d/%m/%Y} : {what}",
    # what an outcome does (the end of "Enregistré le …")
    "promise_holds": ("{outcome} — aucune relance d'ici là ; le {day:%d/%m/%Y}, si rien n'est payé, la relance "
                      "« promesse non tenue »"),
    "dispute_holds": "litige — relances arrêtées pour ces factures jusqu'à « Fait » sur {follow} « Suivre le litige »",
    "call_back_planned": "{outcome} — un nouvel appel est prévu ce jour-là",
    "unreachable_last": "injoignable ({attempt}e essai) — pas de nouvel appel, le scénario continue",
    "unreachable_again": "injoignable — nouvel essai le {day:%d/%m/%Y} ; le scénario continue",
    "paid_holds": ("{outcome} — relances suspendues jusqu'au {until:%d/%m/%Y} ; elles reprennent si le paiement "
                   "n'arrive pas"),
    "dispute_lifted": "litige levé ({outcome}) — les relances reprennent",
    "outcome_on": "{outcome} {link} {day:%d/%m/%Y}",
    "note": "note : {text}",
    # Prochaine action of an invoice an outcome holds (Factures)
    "held_by_dispute": "Litige ({task}{since}, À faire) : relances suspendues jusqu'à « Fait » sur {task}",
    "dispute_since": " du {day:%d/%m/%Y}",
    "held_by_payment": "Paiement annoncé ({task}) : relances suspendues jusqu'au {until:%d/%m/%Y}",
    "held_by_promise": "{label} ({task})",
    # why a Résultat was not understood
    "not_understood": "« {raw} » n'est pas compris : écrire {accepted}",
    "promise_without_date": "« {raw} » : une promesse a besoin de sa date (p. ex. « promesse 15/12/2026 »)",
    "promise_past": "« {raw} » : la date promise ({day:%d/%m/%Y}) est déjà passée",
    "call_back_without_date": "« {raw} » : dire quand rappeler (p. ex. « rappeler le 05/12/2026 »)",
    "call_back_past": "« {raw} » : la date de rappel ({day:%d/%m/%Y}) est déjà passée",
    "paid_too_old": "« {raw} » : la date de paiement ({day:%d/%m/%Y}) est trop ancienne",
    "not_a_date": "{day:02d}/{month:02d}{year} n'est pas une date",
}

#: The run report's lines about ``À faire`` (English, like the rest of the command's output; the
#: tab and column names are the sheet's).
TASK_REPORT_LINES = {
    "recorded": "À faire: {task} {customer} — {follow_up}",
    "not_recorded": "À faire row {row} ({task}{who}): Résultat not recorded — {why}",
}


def task_text(key: str, **values: object) -> str:
    """One of :data:`TASK_TEXT_FR`, its placeholders filled."""
    return TASK_TEXT_FR[key].format(**values)


def task_action(kind: str, **values: object) -> str:
    """The ``Action`` of a task of ``kind`` (:data:`TASK_ACTIONS_FR`), its placeholders filled."""
    return TASK_ACTIONS_FR[kind].format(**values)


def task_report_line(key: str, **values: object) -> str:
    """One of :data:`TASK_REPORT_LINES`, its placeholders filled."""
    return TASK_REPORT_LINES[key].format(**values)
