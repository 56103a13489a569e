"""FEC source: the *Fichier des Écritures Comptables* every French accounting program exports.

A FEC is the general ledger, one line per entry line, 18 columns (JournalCode … Idevise).  The
receivables live on accounts 411* (CompAuxNum names the customer); invoices and credit notes are
the sales entries that debit or credit 411, payments the other entries that credit it, and the
matching codes (EcritureLet/DateLet) tell which payments and credit notes settle which invoices.
What is still due on an invoice is its debit minus what its matching group settled; a group that
does not balance is a partial match (lower-case codes in most programs), settled oldest first.

Amounts are in the company's currency (EUR); Montantdevise/Idevise give the document currency of
foreign-currency lines, and then ``remaining_company`` keeps the exact EUR figure (a payment is in
that currency too when its lines and the invoices it pays all are).  The file is
parsed whole before anything is returned: a bad line raises :class:`InputError` naming the file and
the line, and nothing is half-read.  :func:`encours.connectors.fec_writer.write_ledger` writes a balanced FEC from a
:class:`Ledger` (used by the round-trip tests and to hand a demo FEC to people).

The way through the package: :mod:`.columns` (the header) → :mod:`.columnar` (the fast reader, a
block of lines at a time) or :mod:`.lines` (the exact reader, a line at a time) fill a
:class:`~.book.Book` (entries and 411 lines) → :mod:`.lettering` (what settles what) →
:mod:`.documents` (the domain model) — :mod:`.reader` runs them, :mod:`.connector` is the source.
"""

from encours.connectors.fec.book import COMPANY_CURRENCY, RECEIVABLE_PREFIX
from encours.connectors.fec.columns import DUE_DATE_COLUMN, DUE_DATE_NAMES, FEC_COLUMNS, format_amount
from encours.connectors.fec.connector import FecConnector
from encours.connectors.fec.documents import SOURCE
from encours.connectors.fec.reader import FecFile, read_fec
from encours.connectors.textfile import decode_text, iter_lines, normalise_name, split_lines

__all__ = [
    "COMPANY_CURRENCY",
    "DUE_DATE_COLUMN",
    "DUE_DATE_NAMES",
    "FEC_COLUMNS",
    "RECEIVABLE_PREFIX",
    "SOURCE",
    "FecConnector",
    "FecFile",
    "decode_text",
    "format_amount",
    "iter_lines",
    "normalise_name",
    "read_fec",
    "split_lines",
]
