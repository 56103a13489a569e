"""The FEC's header: its 18 standard columns, the names programs write instead, the separator."""

from __future__ import annotations

from decimal import Decimal

from encours.connectors.errors import InputError
from encours.connectors.textfile import normalise_name

#: The 18 columns of the standard (article A47 A-1 of the Livre des procédures fiscales), in order.
FEC_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
#: The extra column the FEC writer adds, and the names recognised without configuration.
DUE_DATE_COLUMN = "DateEcheance"
DUE_DATE_NAMES = ("DateEcheance", "EcheanceDate", "Echeance", "DateEch", "DateDEcheance", "DueDate")

#: Header names some programs write instead of the standard ones (normalised: lower case, no accents).
_HEADER_VARIANTS = {
    "journallibelle": "journallib",
    "comptelibelle": "comptelib",
    "compauxlibelle": "compauxlib",
    "ecriturelibelle": "ecriturelib",
    "ecriturelettrage": "ecriturelet",
    "datelettrage": "datelet",
    "datevalidation": "validdate",
    "montantendevise": "montantdevise",
    "devise": "idevise",
}


class Columns:
    """Where each standard column sits in the header, and which variant of amounts the file uses."""

    def __init__(self, names: list[str], *, file: str, line: int, due_date_column: str | None) -> None:
        index = {
            _HEADER_VARIANTS.get(normalise_name(name), normalise_name(name)): position
            for position, name in reversed(list(enumerate(names)))
        }
        required = [name for name in FEC_COLUMNS if name not in ("Debit", "Credit")]
        # The cash-basis variant of the standard writes Montant + Sens instead of Debit + Credit.
        self.signed = "debit" not in index and "credit" not in index and "montant" in index and "sens" in index
        if not self.signed:
            required[11:11] = ["Debit", "Credit"]
        missing = [name for name in required if normalise_name(name) not in index]
        if missing:
            raise InputError(
                f"the header lacks the FEC column(s) {', '.join(missing)} "
                f"(a FEC starts with a header line naming the 18 columns {FEC_COLUMNS[0]} … {FEC_COLUMNS[-1]})",
                file=file,
                line=line,
            )
        self.at = {name: index[normalise_name(name)] for name in required}
        if self.signed:
            self.at["Montant"] = index["montant"]
            self.at["Sens"] = index["sens"]
        self.width = len(names)
        self.due: int | None = None
        self.due_name: str | None = None
        if due_date_column:
            key = normalise_name(due_date_column)
            if key not in index:
                raise InputError(
                    f"the due-date column {due_date_column!r} (source due_date_column) is not in the header",
                    file=file,
                    line=line,
                )
            self.due, self.due_name = index[key], due_date_column
        else:
            for name in DUE_DATE_NAMES:
                if normalise_name(name) in index:
                    self.due = index[normalise_name(name)]
                    self.due_name = names[self.due].strip()
                    break


def read_header(header: str, *, file: str, line: int, due_date_column: str | None) -> tuple[str, Columns]:
    """The separator and the columns of a header line."""
    separator = detect_separator(header, file=file, line=line)
    names = header.split(separator)
    while names and not names[-1].strip():
        names.pop()
    columns = Columns([n.strip().strip('"') for n in names], file=file, line=line, due_date_column=due_date_column)
    return separator, columns


def detect_separator(header: str, *, file: str, line: int) -> str:
    tabs, pipes = header.count("\t"), header.count("|")
    if tabs == 0 and pipes == 0:
        # Not the standard, but some tools write "FEC-compatible" files with ';': read them too.
        if header.count(";") >= len(FEC_COLUMNS) - 1:
            return ";"
        found = next((sep for sep in (";", ",") if header.count(sep) >= 10), None)
        extra = f" (this header is separated by {found!r})" if found else ""
        raise InputError(f"the header is not separated by tabs or '|' as a FEC must be{extra}", file=file, line=line)
    return "\t" if tabs >= pipes else "|"


def unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1].strip()
    return value


def format_amount(value: Decimal) -> str:
    """An amount as a FEC writes it: two decimals, decimal comma."""
    return f"{value:.2f}".replace(".", ",")
