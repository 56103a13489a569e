"""CSV source: invoices (and optionally payments and customers) exported from any program.

Each file has a header line; columns are found by name, French or English (``N° facture`` or
``invoice_number``), in any order, extra columns ignored.  Separator ``,`` ``;`` or tab, decimal
comma or dot, dates ISO (2026-01-31) or French (31/01/2026), UTF-8 (with or without BOM) or
Windows-1252.  The column tables (:mod:`.columns`) are the reference; ``docs/formats.md`` shows them to users.
A missing required column or a bad value raises :class:`InputError` naming the file, the line and
the column; nothing is returned until every file has been read whole.

Each file is read a column at a time when it is regular (:mod:`.columnar`, :mod:`.bulk`,
:mod:`.bulk_payments`, :mod:`.bulk_customers`): each distinct value parsed once.  Any other file, or
one holding a value that is refused, is read row by row (:mod:`.records`), which names the line;
both give the same records.
"""

from encours.connectors.csvfile.columns import (
    CUSTOMER_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    SOURCE,
    Column,
)
from encours.connectors.csvfile.connector import CsvConnector
from encours.connectors.csvfile.records import read_customers, read_invoices, read_payments

__all__ = [
    "CUSTOMER_COLUMNS",
    "INVOICE_COLUMNS",
    "PAYMENT_COLUMNS",
    "SOURCE",
    "Column",
    "CsvConnector",
    "read_customers",
    "read_invoices",
    "read_payments",
]
