"""How the sheet and the run report name channels and the reasons a step is not sent (French: the
sheet speaks French; messages to customers speak the customer's language through the templates)."""

from __future__ import annotations

CHANNEL_LABELS_FR = {
    "email": "e-mail",
    "letter": "courrier",
    "call": "appel",
    "formal_notice": "mise en demeure",
    "thanks": "remerciement",
}

#: Skip reason codes and how the sheet shows them.
REASONS_FR = {
    "paid": "payée",
    "cancelled": "annulée",
    "credited": "annulée par un avoir",
    "deleted": "supprimée à la source",
    "draft": "brouillon",
    "credit_note": "avoir",
    "unknown_status": "statut inconnu à la source : jamais relancée",
    "unknown_customer": "client inconnu",
    "disputed": "litige en cours",
    "paused": "en pause",
    "promised": "promesse de paiement",
    "direct_debit": "client en prélèvement",
    "in_recovery": "client en recouvrement",
    "under_minimum": "montant sous le minimum de l'étape",
    "unknown_scenario": "scénario inconnu",
    "no_contact": "aucune adresse e-mail",
    "finished": "scénario terminé",
    "covered": "couverte par un paiement ou un avoir non affecté",
    "in_credit": "client créditeur : remboursement à vérifier",
}
