"""The French words and sentences a reminder pass writes where people read them: the journal's
reasons (``Relances``), the state of a message, the ``Factures`` run column, the notes of the weekly
report, the sending window, a claim to declare — one table (and :data:`RUN_LINES`, what ``encours run``
prints), so the orchestration code carries none.  The sheet speaks
French; what customers receive speaks their language through the templates."""

from __future__ import annotations

#: How the sheet (``Relances``, ``À faire``) shows each journal state.
STATE_LABELS_FR = {
    "planned": "prévue",
    "sending": "en cours d'envoi",
    "sent": "envoyée",
    "failed": "échec",
    "skipped": "non envoyée",
    "uncertain": "incertaine — à confirmer",
    "recovery": "en recouvrement",
}

#: Sentences of a pass, by key; ``{placeholders}`` filled by :func:`pass_text`.
PASS_TEXT_FR = {
    # why a message was not sent (journal reason, Relances, the pass's summary)
    "recheck_failed": "re-vérification à la source impossible : {error}",
    "closed_at_source": "payée, annulée ou supprimée depuis la dernière synchronisation (vérifié à la source)",
    "closed_count": "{count} facture(s) : {reason}",
    "unrenderable": "message impossible à préparer : {error}",
    "retry_after": "nouvel essai après {at:%d/%m %H:%M}",
    "given_up": "abandonné : à vérifier",
    "held": "{reason} ({when})",
    "stop_requested": "arrêt demandé",
    "source_unreachable": "source injoignable pour la re-vérification : reporté à la prochaine passe",
    # the journal's own reasons
    "interrupted": ("interrompu entre l'envoi et sa confirmation : vérifier la boîte d'envoi ou le serveur, "
                    "puis `encours run --confirm REF sent|not-sent`"),
    "confirmed_sent": "confirmée envoyée{by}",
    "confirmed_not_sent": "confirmée non envoyée{by} : sera renvoyée",
    "confirmed_by": " par {who}",
    # Factures, "Dernière relance"
    "last_reminder": "{day:%d/%m/%Y} — {step} ({channel})",
    "last_reminder_uncertain": " — incertaine, à confirmer",
    # the sending window
    "non_business_day": "jour non ouvré ({reason})",
    "saturday": "samedi",
    "sunday": "dimanche",
    "outside_hours": "hors de la plage d'envoi {start:%H:%M}-{end:%H:%M}",
    "open_until": "plage d'envoi ouverte jusqu'à {end:%H:%M}",
    # the weekly report's notes
    "sheet_missing": "Promesses et litiges non lus : la feuille {path} n'existe pas encore.",
    "sheet_unreadable": "Promesses et litiges non lus : la feuille n'a pas pu être lue ({error}).",
    "no_journal": "Relances : aucun journal d'envoi encore (encours run n'a rien envoyé).",
    "report_subject": "Encours au {day}{who} : {outstanding} dont {overdue} échus",
    "report_company": "société",
    # a customer under collective proceedings (Prochaine action, À faire, the weekly report)
    "claim_next_action": "Déclarer la créance au mandataire judiciaire{before}",
    "claim_todo": "déclarer la créance au mandataire judiciaire{before}",
    "claim_before": " avant le {day}",
    "claim_reason": "{short}{opened}{court} : relances amiables arrêtées — {todo}",
    "claim_opened": " ({day})",
    "claim_court": ", {court}",
    "claim_detail": "{reason} ({currency}) — {link}",
    # the registries' risk signals (sheet notes, sync log)
    "risk_stale": "Signaux des registres périmés pour {count} SIREN : registres injoignables{since}.",
    "risk_stale_since": " (plus ancienne vérification : {day})",
    "risk_unknown": "SIREN inconnus du répertoire des entreprises : {sirens}.",
    "risk_invalid": "SIREN invalides (clients {customers}) : non vérifiés.",
    # encours preview
    "preview_next": "Prochaine action : {action}",
    "preview_skip": "Pas de relance ({target}) : {detail}",
    "preview_automatic": "automatique",
    "preview_approved": "approuvée",
    "preview_waiting": "en attente d'approbation (À envoyer)",
    "preview_planned": "prévue le {planned:%d/%m/%Y} (aperçu au {as_of:%d/%m/%Y})",
    "preview_note": "Note : {note}",
    "preview_nothing": "Aucun message à prévisualiser.",
    # the Excel button's message once the workbook is synchronised
    "button_summary": "{open_invoices} factures ouvertes, encours {outstanding} €, échu {overdue} €",
    "button_title": "encours : synchronisé",
}


#: What ``encours run`` prints and reports (English, like the rest of the command's output; the
#: tab and column names are the sheet's).
RUN_LINES = {
    "pulling": "Pulling from {source}…",
    "reading_sheet": "Reading the sheet…",
    "planning": "Planning the reminders…",
    "sending": "Sending {index}/{count}: {customer} — {step}",
    "would_send": "Would send {index}/{count}: {customer} — {step}",
    "uncertain_send": ("{reference} {customer}: {error}; never resent until confirmed "
                       "(`encours run --confirm REF sent|not-sent`)"),
    "sheet_not_updated": "sheet not updated: {error} — the journal holds what was sent; the next pass writes it",
    "bad_sender": "{sender!r} is not an e-mail address: set the sender of the reminders",
}


def pass_text(key: str, **values: object) -> str:
    """One of :data:`PASS_TEXT_FR`, its placeholders filled."""
    return PASS_TEXT_FR[key].format(**values)


def run_line(key: str, **values: object) -> str:
    """One of :data:`RUN_LINES`, its placeholders filled."""
    return RUN_LINES[key].format(**values)
