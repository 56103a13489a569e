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

#: The sentences the plan writes in the sheet — skip details (``Relances``), next actions
#: (``Factures``), reasons attached to an action — by key; ``{placeholders}`` filled by :func:`plan_text`.
PLAN_TEXT_FR = {
    "disputed": "Litige : relances suspendues",
    "paused": "En pause jusqu'au {until:%d/%m/%Y}",
    "promised": "Promesse de paiement au {until:%d/%m/%Y}",
    "direct_debit": "Client en prélèvement : jamais relancé",
    "in_recovery": "Client en recouvrement : relances amiables arrêtées",
    "unknown_customer": "Client {customer_id} inconnu de la source",
    "unknown_customer_next": "Client inconnu : aucune relance",
    "unknown_status": "Statut {status!r} inconnu : jamais relancée",
    "unknown_status_next": "Statut inconnu : aucune relance",
    "unknown_scenario": "Scénario {name!r} inconnu (connus : {known})",
    "covered_by": "Couverte par {credits}",
    "credit_named": "{reference} ({amount})",
    "finished": "{scenario} : scénario terminé",
    "in_credit": "Client créditeur de {credit} : remboursement à vérifier",
    "in_credit_next": "Client créditeur : aucune relance",
    "settled_next": "Soldé par un paiement ou un avoir : aucune relance",
    "covered_by_free": "Échu couvert par {free} non affecté(s) : aucune relance",
    "covered_by_free_next": "Couverte par un paiement non affecté",
    "tomorrow": "{step} — demain (une seule relance par jour)",
    "under_minimum": "{step} : {amount} sous le minimum de {minimum}",
    "invalid_addresses": "adresse(s) invalide(s) ignorée(s) : {addresses}",
    "thanks_without_email": "Remerciement non envoyé : aucune adresse e-mail",
    "no_email_call": "aucune adresse e-mail : appel à la place",
    "no_email_letter": "aucune adresse e-mail : courrier à la place",
    "no_postal_address": "adresse postale inconnue : à compléter sur le courrier",
    "over_ceiling": "{amount} au-dessus du plafond de {ceiling} : à approuver",
}

#: The plan's ``À faire`` rows: what to do, by channel or case, and why.
TODO_TEXT_FR = {
    "call": "Appeler",
    "letter": "Envoyer le courrier",
    "formal_notice": "Envoyer la mise en demeure (recommandé)",
    "approve": "Approuver : {step}",
    "approve_how": "Cocher « À envoyer » sur la facture pour l'envoyer",
    "refund": "Vérifier le remboursement",
    "refund_why": "Client créditeur de {credit} : rembourser ou imputer, jamais relancer",
}


def plan_text(key: str, **values: object) -> str:
    """One of :data:`PLAN_TEXT_FR`, its placeholders filled."""
    return PLAN_TEXT_FR[key].format(**values)


def todo_text(key: str, **values: object) -> str:
    """One of :data:`TODO_TEXT_FR`, its placeholders filled."""
    return TODO_TEXT_FR[key].format(**values)
