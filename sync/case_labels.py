"""The words of a recovery case file (``encours export-case``), in French like the sheet: the column
headings of its CSV files and statement, and the ``LISEZMOI.txt`` that tells the agency or the
court what the file holds — so :mod:`encours.sync.export_case` only assembles it."""

from __future__ import annotations

#: Headings of each table of the case file.
STATEMENT_HEADINGS = ("N° facture", "Date", "Échéance", "Montant TTC", "Reste dû", "Jours de retard")
STATEMENT_CSV_HEADINGS = ["ID", "N° facture", "Date", "Échéance", "Montant TTC", "Reste dû", "Devise",
                          "Jours de retard"]
INVOICES_CSV_HEADINGS = ["ID", "N° facture", "Type", "Statut", "Date", "Échéance", "Montant TTC", "Reste dû", "Devise",
                         "PDF"]
PAYMENTS_CSV_HEADINGS = ["ID", "Date", "Montant", "Devise", "Moyen", "Référence", "Factures payées"]
HISTORY_CSV_HEADINGS = ["Date et heure", "Statut", "Canal", "Destinataires", "Factures", "Scénario", "Étape", "Motif",
                        "Message-ID", "Référence", "Fichier / réponse du serveur"]
MARKS_CSV_HEADINGS = ["Facture", "Litige", "Promesse (date)", "Pause jusqu'au", "Commentaire"]

#: Short phrases of the case file, by key; ``{placeholders}`` filled by :func:`case_text`.
CASE_TEXT_FR = {
    "credit_note": "Avoir {number}",
    "balance": "Solde dû",
    "place_date": "Le {day:%d/%m/%Y}",
    "statement_title": "Relevé de compte au {day:%d/%m/%Y}",
    "call_planned": "Appel planifié le {day:%d/%m/%Y}\n",
    "recovery_note": "dossier de recouvrement : {file}",
    "yes": "oui",
    "customer_row": "(client)",
}

#: ``LISEZMOI.txt``, line by line (``README_MISSING_FR`` when some PDFs could not be fetched).
README_FR = (
    "Dossier de recouvrement — {customer}",
    "Créancier : {creditor}",
    "Débiteur : {customer} ({customer_id}){siren}",
    "Établi le {day:%d/%m/%Y} à partir de la dernière synchronisation de la comptabilité.",
    "",
    "Solde dû : {balance} sur {open_count} pièce(s) ouverte(s).",
    "",
    "Contenu :",
    "- releve-de-compte.pdf / .csv : relevé de compte des pièces ouvertes, avec les jours de retard ;",
    "- factures/ : {pdfs} facture(s) en PDF et factures.csv (toutes les factures du client) ;",
    "- paiements.csv : paiements reçus et factures réglées ;",
    "- relances/ : {reminders} relance(s) telles qu'envoyées (.eml pour les e-mails, .pdf pour les courriers)"
    " et historique.csv (date, canal, destinataire, statut, Message-ID) ;",
    "- promesses-litiges.csv : promesses de paiement, litiges, pauses et commentaires saisis.",
)
README_SIREN_FR = " — SIREN {siren}"
README_MISSING_FR = ("", "PDF non disponible à la source pour : {missing}.")
README_END_FR = ("", "Le client est désormais « en recouvrement » : les relances amiables sont arrêtées.")


def case_text(key: str, **values: object) -> str:
    """One of :data:`CASE_TEXT_FR`, its placeholders filled."""
    return CASE_TEXT_FR[key].format(**values)
