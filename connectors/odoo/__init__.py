"""Odoo 14 to 19: posted customer invoices and credit notes, instalments, payments, customers.

``client`` speaks Odoo's RPC (JSON-RPC, XML-RPC, JSON-2) with one method per model read;
``mapping`` turns records into the domain model (pure); ``records`` reads and maps them model by
model, quarantining what cannot be mapped; ``connector`` pulls (full, incremental), re-checks
and checks.
"""

from encours.connectors.fields import parse_timestamp
from encours.connectors.odoo.client import (
    PLATFORM,
    OdooClient,
    OdooDatabaseError,
    OdooLoginError,
    OdooRightsError,
    major_version,
)
from encours.connectors.odoo.connector import OdooConnector
from encours.connectors.odoo.cursor import OdooCursor

__all__ = [
    "PLATFORM",
    "OdooClient",
    "OdooConnector",
    "OdooCursor",
    "OdooDatabaseError",
    "OdooLoginError",
    "OdooRightsError",
    "major_version",
    "parse_timestamp",
]
