"""How the sheet names the model's invoice statuses and kinds of unallocated credit (French: the
sheet speaks French).  Kept beside the model so every layer reads one table; the model itself
carries no words."""

from __future__ import annotations

from encours.connectors.records import CreditKind, InvoiceStatus

#: How the sheet shows each status (French by default).
STATUS_LABELS_FR = {
    InvoiceStatus.DRAFT: "Brouillon",
    InvoiceStatus.OPEN: "À payer",
    InvoiceStatus.PARTIALLY_PAID: "Partiellement payée",
    InvoiceStatus.PAID: "Payée",
    InvoiceStatus.CANCELLED: "Annulée",
    InvoiceStatus.DELETED: "Supprimée",
    InvoiceStatus.UNKNOWN: "Inconnu",
}


#: How the sheet's ``Statut`` names each kind of unallocated credit.
CREDIT_LABELS_FR = {
    CreditKind.PAYMENT_ON_ACCOUNT: "Paiement non affecté",
    CreditKind.CREDIT_NOTE: "Avoir non imputé",
    CreditKind.OPENING_BALANCE: "Solde créditeur reporté",
    CreditKind.OTHER: "Crédit non affecté",
}

#: How the sheet's ``Statut`` composes a status with what the row is (a credit note, one instalment,
#: an invoice split into instalment rows); ``{placeholders}`` filled by :func:`status_text`.
STATUS_TEXT_FR = {
    "credit_note": "Avoir — {status}",
    "instalment": "{status} — échéance {number}/{count}",
    "split": "Échelonnée en {parts} échéances (lignes {invoice}#1 à #{parts})",
}


def status_text(key: str, **values: object) -> str:
    """One of :data:`STATUS_TEXT_FR`, its placeholders filled."""
    return STATUS_TEXT_FR[key].format(**values)
