"""The words of the documents a customer receives, in each language: headings and captions of the
statement of account and of the letter and formal-notice tables, half-year names and "and" (the
templates carry the sentences; these are the few words the code lays out itself)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

#: Belgian law speaks of interest, not of the French "pénalités" (loi du 2 août 2002).
BELGIAN_FR = {"interest": "Intérêts", "interest_total": "Intérêts de retard"}


LABELS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "number": "N° facture", "date": "Date", "due": "Échéance", "total": "Montant TTC", "remaining": "Reste dû",
        "asked": "Montant réclamé", "interest": "Pénalités", "indemnity": "Indemnité", "statement": "Relevé de compte",
        "statement_of": "Relevé de compte au", "balance": "Solde dû", "credit_note": "Avoir",
        "principal": "Principal restant dû", "interest_total": "Pénalités de retard",
        "indemnity_total": "Indemnités forfaitaires pour frais de recouvrement", "claim": "Total réclamé",
        "qr": "Payer par virement : scannez ce code avec votre application bancaire.", "iban": "IBAN",
        "reference": "Communication", "registered": "Lettre recommandée avec accusé de réception",
        "invoice_file": "facture", "to_pay": "Total à payer", "days_late": "Jours de retard",
        "in_addition": "dues en sus, hors total",
    },
    "nl": {
        "number": "Factuurnr.", "date": "Datum", "due": "Vervaldag", "total": "Bedrag incl. btw",
        "remaining": "Openstaand", "asked": "Gevraagd bedrag", "interest": "Intresten", "indemnity": "Vergoeding",
        "statement": "Rekeninguittreksel", "statement_of": "Rekeninguittreksel op", "balance": "Openstaand saldo",
        "credit_note": "Creditnota", "principal": "Openstaande hoofdsom", "interest_total": "Verwijlintresten",
        "indemnity_total": "Forfaitaire vergoedingen voor invorderingskosten", "claim": "Totaal gevorderd",
        "qr": "Betalen via overschrijving: scan deze code met uw bankapp.", "iban": "IBAN",
        "reference": "Gestructureerde mededeling", "registered": "Aangetekende brief",
        "invoice_file": "factuur", "to_pay": "Totaal te betalen", "days_late": "Dagen te laat",
        "in_addition": "bijkomend, niet in het totaal",
    },
    "en": {
        "number": "Invoice no.", "date": "Date", "due": "Due date", "total": "Amount incl. VAT",
        "remaining": "Outstanding", "asked": "Amount requested", "interest": "Interest", "indemnity": "Indemnity",
        "statement": "Statement of account", "statement_of": "Statement of account as of", "balance": "Balance due",
        "credit_note": "Credit note", "principal": "Principal outstanding", "interest_total": "Late-payment interest",
        "indemnity_total": "Fixed recovery indemnities", "claim": "Total claimed",
        "qr": "Pay by bank transfer: scan this code with your banking app.", "iban": "IBAN",
        "reference": "Payment reference", "registered": "Registered letter with acknowledgement of receipt",
        "invoice_file": "invoice", "to_pay": "Total to pay", "days_late": "Days late",
        "in_addition": "due in addition, not in the total",
    },
}


def half_year_name(start: date, language: str) -> str:
    half = 1 if start.month <= 6 else 2
    if language == "fr":
        return f"{half}{'er' if half == 1 else 'e'} semestre {start.year}"
    if language == "nl":
        return f"{half}e semester {start.year}"
    return f"H{half} {start.year}"


def joined(parts: list[str], language: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    word = {"fr": "et", "nl": "en"}.get(language, "and")
    return f"{', '.join(parts[:-1])} {word} {parts[-1]}"
