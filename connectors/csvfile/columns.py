"""The columns the CSV source understands, the words it reads in them, and their accepted header names.

These tables are the reference; ``docs/formats.md`` shows them to users (a test keeps both in step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from encours.connectors.model import InvoiceStatus

SOURCE = "csv"


@dataclass(frozen=True, slots=True)
class Column:
    """A column encours understands: its key, and the header names accepted for it (any case/accents)."""

    key: str
    names: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        return self.names[0]


INVOICE_COLUMNS = (
    Column("id", ("invoice_id", "ID", "ID facture", "identifiant", "id_facture")),
    Column(
        "number",
        (
            "invoice_number",
            "N° facture",
            "numéro de facture",
            "numéro facture",
            "no facture",
            "num facture",
            "number",
            "numéro",
            "facture",
            "invoice",
            "invoice no",
            "référence",
            "pièce",
        ),
    ),
    Column(
        "customer_id",
        (
            "customer_id",
            "ID client",
            "code client",
            "numéro client",
            "n° client",
            "compte client",
            "client_id",
            "customer code",
            "customer number",
        ),
    ),
    Column(
        "customer_name",
        ("customer_name", "Client", "nom client", "nom du client", "raison sociale", "customer", "client name"),
        required=True,
    ),
    Column(
        "date",
        ("date", "Date facture", "date de facture", "date d'émission", "issue_date", "invoice_date", "date pièce"),
        required=True,
    ),
    Column("due_date", ("due_date", "Échéance", "date d'échéance", "date échéance", "date limite de paiement")),
    Column(
        "total",
        ("total", "Montant TTC", "total TTC", "montant", "amount", "total_amount", "amount incl. tax"),
        required=True,
    ),
    Column(
        "remaining",
        (
            "remaining",
            "Reste dû",
            "reste à payer",
            "restant dû",
            "solde",
            "solde dû",
            "montant restant",
            "amount_due",
            "balance",
            "balance due",
            "outstanding",
        ),
        required=True,
    ),
    Column("currency", ("currency", "Devise", "currency_code")),
    # the remaining amount in euros of an invoice in another currency (never a rate: which way a rate is
    # quoted, EUR per unit or units per EUR, a file does not say)
    Column("remaining_eur", ("remaining_eur", "Reste dû (EUR)", "reste dû EUR", "contre-valeur",
                             "contre-valeur EUR", "amount_due_eur", "solde EUR")),
    Column("kind", ("type", "type de document", "document_type", "kind", "nature")),
    Column("status", ("status", "Statut", "état")),
    Column("salesperson", ("salesperson", "Commercial", "vendeur", "représentant", "sales_rep")),
    Column("email", ("email", "e-mail", "courriel", "mail", "email client", "adresse email", "customer_email")),
    Column("pdf_url", ("pdf_url", "lien PDF", "PDF", "url PDF", "pdf link")),
    Column("label", ("label", "libellé", "objet", "description")),
)

PAYMENT_COLUMNS = (
    Column("id", ("payment_id", "ID", "ID règlement", "ID paiement", "N° règlement", "identifiant")),
    Column(
        "customer_id",
        ("customer_id", "ID client", "code client", "numéro client", "n° client", "compte client", "client_id"),
    ),
    Column(
        "date",
        ("date", "Date règlement", "date de règlement", "date paiement", "date de paiement", "payment_date"),
        required=True,
    ),
    Column("amount", ("amount", "Montant", "montant réglé", "montant payé", "paid_amount"), required=True),
    Column(
        "invoice",
        ("invoice_id", "Facture", "N° facture", "ID facture", "numéro de facture", "invoice", "invoice_number"),
    ),
    Column("currency", ("currency", "Devise")),
    Column(
        "method", ("method", "Mode de règlement", "mode de paiement", "moyen de paiement", "payment_method", "mode")
    ),
    Column("reference", ("reference", "Référence", "libellé", "ref")),
)

CUSTOMER_COLUMNS = (
    Column(
        "id",
        ("customer_id", "ID client", "code client", "numéro client", "n° client", "ID", "compte client"),
        required=True,
    ),
    Column("name", ("name", "Client", "nom", "raison sociale", "customer_name", "nom client"), required=True),
    Column("email", ("email", "emails", "e-mail", "courriel", "mail", "adresse email")),
    Column("phone", ("phone", "Téléphone", "tél", "tel", "telephone number")),
    Column("language", ("language", "Langue", "lang")),
    Column("siren", ("siren", "SIREN", "siret", "n° siren")),
    Column("vat_number", ("vat_number", "N° TVA", "TVA intracommunautaire", "numéro de TVA", "vat", "TVA")),
    Column("salesperson", ("salesperson", "Commercial", "vendeur", "représentant", "sales_rep")),
    Column("salesperson_email", ("salesperson_email", "Email commercial", "e-mail commercial")),
    Column(
        "payment_terms_days",
        (
            "payment_terms_days",
            "Délai de paiement",
            "délai de paiement (jours)",
            "conditions de paiement",
            "payment terms",
            "terms",
        ),
    ),
    Column("country", ("country", "Pays")),
    Column("reference", ("reference", "Référence", "ref client")),
    Column("address", ("address", "Adresse postale", "adresse", "postal_address", "adresse de facturation")),
    Column(
        "payment_method",
        ("payment_method", "Mode de règlement", "mode de paiement", "moyen de paiement", "prélèvement"),
    ),
)

CREDIT_WORDS = {"avoir", "av", "creditnote", "credit", "cn", "notedecredit", "creditnota", "refund"}
INVOICE_WORDS = {"facture", "fa", "f", "invoice", "inv", "factuur"}
STATUS_WORDS: dict[InvoiceStatus | None, set[str]] = {
    # None: an ordinary issued invoice, open, partly paid or paid as its amounts say.
    None: {
        "open",
        "unpaid",
        "due",
        "overdue",
        "late",
        "sent",
        "issued",
        "pending",
        "posted",
        "finalized",
        "finalised",
        "paid",
        "partiallypaid",
        "partial",
        "apayer",
        "impayee",
        "impaye",
        "enretard",
        "emise",
        "envoyee",
        "validee",
        "ouverte",
        "enattente",
        "nonpayee",
        "nonreglee",
        "echue",
        "payee",
        "paye",
        "reglee",
        "regle",
        "soldee",
        "partiellementpayee",
        "partiellementreglee",
        "paiementpartiel",
        "acquittee",
    },
    InvoiceStatus.CANCELLED: {"cancelled", "canceled", "void", "voided", "annulee", "annule", "avoiree"},
    InvoiceStatus.DRAFT: {"draft", "brouillon"},
}
LANGUAGES = {
    "fr": "fr", "french": "fr", "francais": "fr",
    "nl": "nl", "dutch": "nl", "neerlandais": "nl", "nederlands": "nl", "vlaams": "nl",
    "en": "en", "english": "en", "anglais": "en",
}  # fmt: skip
METHODS = {
    "virement": "transfer", "transfer": "transfer", "banktransfer": "transfer", "vir": "transfer", "sepa": "transfer",
    "cheque": "cheque", "check": "cheque", "chq": "cheque",
    "prelevement": "direct_debit", "directdebit": "direct_debit", "prlv": "direct_debit",
    "carte": "card", "cartebancaire": "card", "cb": "card", "card": "card",
    "especes": "cash", "cash": "cash", "lcr": "bill_of_exchange", "effet": "bill_of_exchange",
}  # fmt: skip
CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "CHF": "CHF"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
