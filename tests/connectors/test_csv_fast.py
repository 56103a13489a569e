"""The column reader of the CSV source gives exactly what the row reader gives — same records in the
same order, or the same error naming file, line and column — on odd files and on generated ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encours.connectors.csvfile import CsvConnector, read_invoices, read_payments
from encours.connectors.csvfile.bulk import bulk_invoices
from encours.connectors.csvfile.bulk_customers import bulk_customers
from encours.connectors.csvfile.bulk_payments import bulk_payments
from encours.connectors.csvfile.columnar import built
from encours.connectors.csvfile.columns import CUSTOMER_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS
from encours.connectors.csvfile.records import customers_of_rows, invoices_of_rows, payments_of_rows, read_customers
from encours.connectors.csvfile.table import Table
from encours.connectors.errors import InputError
from encours.connectors.model import Customer, Invoice, Payment

T = TypeVar("T")
PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "csv"

INVOICES_HEADER = "N° facture;Code client;Client;Date facture;Échéance;Montant TTC;Reste dû;Devise;Type;Statut;Email"
PAYMENTS_HEADER = "N° règlement;Code client;Date règlement;Montant;N° facture;Mode de règlement;Devise"
CUSTOMERS = ["Code client;Client;Délai de paiement;Commercial", "C1;Roux SA;45 jours;Léa", "C2;Faure;;"]


def write(path: Path, lines: list[str], *, encoding: str = "utf-8", end: str = "\n", bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (end.join(lines) + end).encode(encoding))
    return path


def customers_of(path: Path | None) -> dict[str, Customer]:
    return read_customers(path) if path is not None else {}


def exact_invoices(path: Path, customers: dict[str, Customer]) -> tuple[list[Invoice], dict[str, Customer]]:
    return invoices_of_rows(Table(path, INVOICE_COLUMNS, what="invoices"), customers, 30)


def outcome(read: Callable[[], T]) -> T | tuple[str, str, str | None, int | None, int]:
    """A read's records, or its error as the user sees it (message, file, line, exit code)."""
    try:
        return read()
    except InputError as error:
        return ("error", str(error), error.file, error.line, error.exit_code)


def same_invoices(path: Path, customers_path: Path | None = None, *, fast: bool = True) -> list[Invoice] | None:
    """The invoices of *path* (``None``: an error), both readers checked to agree; *fast*: whether the
    column reader takes the file."""
    customers = customers_of(customers_path)
    exact = outcome(lambda: exact_invoices(path, customers))
    column = bulk_invoices(Table(path, INVOICE_COLUMNS, what="invoices"), customers, 30)
    assert (column is not None) == fast
    if column is not None:
        assert repr(column) == repr(exact)  # same records, same order, same Decimal digits
    assert outcome(lambda: read_invoices(path, customers, 30)) == exact
    return exact[0] if isinstance(exact[0], list) else None


def same_payments(path: Path, invoices: list[Invoice], *, fast: bool = True) -> list[Payment] | None:
    exact = outcome(lambda: payments_of_rows(Table(path, PAYMENT_COLUMNS, what="payments"), invoices))
    column = bulk_payments(Table(path, PAYMENT_COLUMNS, what="payments"), invoices)
    assert (column is not None) == fast
    if column is not None:
        assert repr(column) == repr(exact)
    assert outcome(lambda: read_payments(path, invoices)) == exact
    return exact if isinstance(exact, list) else None


# -- the test files and odd ones ------------------------------------------------------------------------------
def test_payload_files(tmp_path: Path) -> None:
    invoices = same_invoices(PAYLOADS / "factures_fr.csv", PAYLOADS / "clients_fr.csv")
    assert invoices is not None and len(invoices) == 5
    payments = same_payments(PAYLOADS / "reglements_fr.csv", invoices)
    assert payments is not None and len(payments) == 3
    english = same_invoices(PAYLOADS / "invoices_en.csv")
    assert english is not None
    # No customer column: the column reader still reads it (customers come from the invoices).
    assert len(same_payments(PAYLOADS / "payments_en.csv", english) or ()) == 2


ODD_ROWS = [
    "F1;C1;Roux SA;05/01/2026;04/02/2026;1 234,56 €;1 234,56 €;EUR;Facture;À payer;compta@roux.fr",
    "F2;C1;Roux SA;2026-01-06;;(300,00);12,00-;;;;",
    "F3;C2;Faure;06.01.26;;12,00-;0;EUR;Avoir;Annulée;a@faure.fr",
    "F4;C3;Nouveau client;07/01/2026;;1234,5678;1000,0049;USD;facture;En recouvrement externe;x@nouveau.fr",
    "F5;C3;;08/01/2026 10:30;;100;50;usd;F;partiellement payée;y@nouveau.fr",
    "F6;C3;Autre nom;2026-01-09T08:00;2026-02-09;1.234,50;0,00;£;invoice;paid;x@nouveau.fr",
    "F7;C4;Client € ;20260110;;0;0;CHF;;brouillon;",
    "  F8 ; C4 ; Client € ;10/01/2026; ;\u00a099,99\u00a0;99,99;EUR; ; ;",
]


@pytest.mark.parametrize("separator", [";", ",", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "bom"])
def test_odd_but_regular_files(tmp_path: Path, separator: str, encoding: str) -> None:
    def cut(line: str) -> str:
        fields = line.split(";")
        if separator == ",":
            fields = [f'"{f}"' if "," in f else f for f in fields]
        return separator.join(fields)

    rows = [cut(INVOICES_HEADER), "", *map(cut, ODD_ROWS[:4]), cut(";;;;;;;;;;"), "   ", *map(cut, ODD_ROWS[4:]), ""]
    code = "utf-8" if encoding == "bom" else encoding
    path = write(tmp_path / "factures.csv", rows, encoding=code, end="\r\n", bom=encoding == "bom")
    customers = write(tmp_path / "clients.csv", [cut(line) for line in CUSTOMERS], encoding=code)
    invoices = same_invoices(path, customers)
    assert invoices is not None and [i.id for i in invoices] == [f"F{n}" for n in range(1, 9)]
    due = {i.id: i.due_date for i in invoices}
    assert (due["F1"], due["F2"], due["F5"]) == (date(2026, 2, 4), date(2026, 1, 6), date(2026, 2, 7))
    payments = [
        PAYMENTS_HEADER,
        "R1;C1;10/02/2026;500,00;F1;virement;",
        "R1;C1;10/02/2026;300,00;F2;virement;",
        ";C1;11/02/2026;75,00;;prélèvement;",  # on account, no id: named after its line
        "R3;;12/02/2026;(10,00);F3;Carte bancaire;",
        "R4;C3;13/02/2026;1,2345;F4;;USD",
        "R5;C9;14/02/2026;5;;chèque;GBP",
        ";;;;;;",
        "R6;C2;15/02/2026;7,5;F-UNKNOWN;;",  # an invoice this file does not have: kept as written
    ]
    paid = same_payments(write(tmp_path / "reglements.csv", [cut(line) for line in payments], encoding=code), invoices)
    assert paid is not None and [p.id for p in paid] == ["R1", "reglements:4", "R3", "R4", "R5", "R6"]


def test_ids_and_numbers_and_payments_naming_either(tmp_path: Path) -> None:
    rows = [
        "ID facture;N° facture;Client;Date;Montant TTC;Reste dû;Commercial;Email",
        "i1;F1;Roux;01/01/2026;100;100;Léa;a@roux.fr",
        ";F2;Roux;02/01/2026;50;0;;b@roux.fr",  # no id: the number is the id
        "i3;;Faure;03/01/2026;75;75;;",  # no number: the id is the number
        "F1;F9;Faure;04/01/2026;20;20;Tom;",  # an id that is another invoice's number
        "i5;F9;Vert;05/01/2026;30;30;;",  # a number twice
    ]
    invoices = same_invoices(write(tmp_path / "f.csv", rows))
    assert invoices is not None
    assert [(i.id, i.number, i.salesperson) for i in invoices] == [
        ("i1", "F1", "Léa"), ("F2", "F2", "Léa"), ("i3", "i3", ""), ("F1", "F9", "Tom"), ("i5", "F9", ""),
    ]  # fmt: skip
    payments = [
        "Facture;Date;Montant",
        "F1;10/01/2026;20",  # the id F1 (Faure's), not Roux's number F1
        "F9;11/01/2026;30",  # the last invoice numbered F9
        "i3;12/01/2026;5",
        "F2;13/01/2026;50",
    ]
    paid = same_payments(write(tmp_path / "r.csv", payments), invoices)
    assert paid is not None
    assert [(p.customer_id, p.allocations[0].invoice_id) for p in paid] == [
        ("Faure", "F1"), ("Vert", "i5"), ("Faure", "i3"), ("Roux", "F2"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "rows",
    [
        ["F1;C1;Roux;01/01/2026;10;10", "F2;C1;Roux;02/01/2026;5;0"],  # nothing to strip
        [" F1;C1;Roux;01/01/2026;10;10", "F2;C1;Roux;02/01/2026;5;0 "],  # at the ends of the text
        ["F1 ;C1;Roux;01/01/2026;10;10", "F2;C1; Roux;02/01/2026;5;0"],  # next to a separator
        ["F1\t;C1;Roux;01/01/2026;10;10", "F2;C1;Roux;\t02/01/2026;5;0\t"],  # tabs (other controls are refused)
        ["F1;C1;Roux SA;01/01/2026;1 000;1 000", "F2;C1;Roux SA;02/01/2026;5;0"],  # spaces inside only
    ],
)
def test_white_space_around_fields_is_stripped_as_the_row_reader_strips_it(tmp_path: Path, rows: list[str]) -> None:
    header = "invoice_number;customer_id;customer_name;date;total;remaining"
    invoices = same_invoices(write(tmp_path / "f.csv", [header, *rows]))
    assert [(i.id, i.customer_id, i.issue_date.day, str(i.remaining.amount)) for i in invoices or ()] == [
        ("F1", "C1", 1, "10.00" if "1 000" not in rows[0] else "1000.00"),
        ("F2", "C1", 2, "0.00"),
    ]


def test_quoted_fields_with_separators_and_newlines(tmp_path: Path) -> None:
    header = "invoice_number,customer_id,customer_name,date,total,remaining,label"
    quoted = write(tmp_path / "q.csv", [header, 'A1,K1,"Dupont, Fils & Cie",2026-02-01,"1,234.50",100,"a ""b"""'])
    assert [i.label for i in same_invoices(quoted) or ()] == ['a "b"']
    spanning = write(tmp_path / "n.csv", [header, 'A1,K1,"Dupont\nFils",2026-02-01,10,10,x', "A2,K1,D,2026-02-02,5,5,"])
    # A record over two lines: read by the row reader (line numbers count physical lines).
    assert [i.id for i in same_invoices(spanning, fast=False) or ()] == ["A1", "A2"]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("X9;C1;Roux;31/02/2026;;10;10;;;;", "Date facture"),
        ("X9;C1;Roux;01/02/2026;;dix;10;;;;", "Montant TTC"),
        ("X9;C1;Roux;01/02/2026;;10;20;;;;", "Reste dû"),
        ("X9;C1;Roux;01/02/2026;;-10;5;;Facture;;", "Montant TTC"),
        ("X9;C1;Roux;01/02/2026;;10;10;EURO;;;", "Devise"),
        ("X9;C1;Roux;01/02/2026;;10;10;;Proforma;;", "Type"),
        ("X9;C1;Roux;01/02/2026;;10;10;;;;pas-un-mail", "Email"),
        ("F1;C1;Roux;01/02/2026;;10;10;;;;", "N° facture"),
        (";C1;Roux;01/02/2026;;10;10;;;;", "N° facture"),
        ("X9;;Roux;01/02/2026;;10;10;;;;", "Code client"),
        ("X9;C9;;01/02/2026;;10;10;;;;", "Client"),
        ("X9;C1;Roux;;;10;10;;;;", "Date facture"),
        ("X9;C1;Roux;01/02/2026;;10;10;;;;;x", None),
        ("X9;C1;Roux;01/02/2026;;10;10", None),
    ],
)
def test_a_bad_late_row_is_named_by_its_line(tmp_path: Path, row: str, column: str | None) -> None:
    good = [f"F{n};C{n % 3};Client {n % 3};{1 + n % 28:02d}/01/2026;;{n},50;{n % 7},00;EUR;;;" for n in range(1, 3000)]
    good[0] = "F1;C1;Roux;01/01/2026;;10;10;EUR;;;"
    path = write(tmp_path / "factures.csv", [INVOICES_HEADER, *good, "", row, *good[-3:-1]])
    assert same_invoices(path, fast=False) is None  # an error, the same from both readers
    with pytest.raises(InputError) as caught:
        CsvConnector(path).pull(None)
    assert (caught.value.file, caught.value.line, caught.value.exit_code) == (str(path), 3002, 2)
    if column is not None:
        assert f"column {column!r}" in str(caught.value)


def test_a_bad_late_payment_is_named_by_its_line(tmp_path: Path) -> None:
    invoices = same_invoices(write(tmp_path / "f.csv", [INVOICES_HEADER, "F1;C1;Roux;01/01/2026;;10;10;;;;"])) or []
    rows = [f"R{n};C1;02/01/2026;1;F1;;" for n in range(5000)]
    rows[4321] = "R4321;C1;02/13/2026;1;F1;;"
    path = write(tmp_path / "r.csv", [PAYMENTS_HEADER, *rows])
    assert same_payments(path, invoices, fast=False) is None
    with pytest.raises(InputError) as caught:
        read_payments(path, invoices)
    assert (caught.value.line, "column 'Date règlement'" in str(caught.value)) == (4323, True)


CUSTOMERS_HEADER = "Code client;Client;Email;Langue;SIRET;Délai de paiement;Pays;Mode de règlement;Téléphone"


def same_customers(path: Path, *, fast: bool = True) -> dict[str, Customer] | None:
    exact = outcome(lambda: customers_of_rows(Table(path, CUSTOMER_COLUMNS, what="customers")))
    column = bulk_customers(Table(path, CUSTOMER_COLUMNS, what="customers"))
    assert (column is not None) == fast
    if column is not None:
        assert repr(column) == repr(exact)
    assert outcome(lambda: read_customers(path)) == exact
    return exact if isinstance(exact, dict) else None


def test_customers_files(tmp_path: Path) -> None:
    assert len(same_customers(PAYLOADS / "clients_fr.csv") or {}) == 3
    rows = [
        CUSTOMERS_HEADER,
        "C1;Roux SA;a@roux.fr, b@roux.fr;nl-BE;552 120 222 00013;45 jours;france;Prélèvement;01 23",
        "",
        "C2;Faure;c@faure.fr;Français;552.120.222;30;BE;oui;",
        ";;;;;;;;",
        "C3;Vert;;en_GB;;;;virement;",
    ]
    customers = same_customers(write(tmp_path / "clients.csv", rows, encoding="cp1252", end="\r\n"))
    assert customers is not None
    assert [
        (c.id, c.language, c.siren, c.payment_terms_days, c.country, c.direct_debit) for c in customers.values()
    ] == [
        ("C1", "nl", "552120222", 45, "FR", True),
        ("C2", "fr", "552120222", 30, "BE", True),
        ("C3", "en", "", None, "", False),
    ]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("C1;Doublon;;;;;;;", "Code client"),
        (";Sans code;;;;;;;", "Code client"),
        ("X9;;;;;;;;", "Client"),
        ("X9;X;pas-un-mail;;;;;;", "Email"),
        ("X9;X;;klingon;;;;;", "Langue"),
        ("X9;X;;;12345;;;;", "SIRET"),
        ("X9;X;;;;bientôt;;;", "Délai de paiement"),
    ],
)
def test_a_bad_late_customer_is_named_by_its_line(tmp_path: Path, row: str, column: str) -> None:
    good = [f"C{n};Client {n};c{n}@x.fr;fr;;30;FR;;" for n in range(1, 2000)]
    path = write(tmp_path / "clients.csv", [CUSTOMERS_HEADER, *good, row, *good[-2:-1]])
    assert same_customers(path, fast=False) is None
    with pytest.raises(InputError) as caught:
        read_customers(path)
    assert (caught.value.line, f"column {column!r}" in str(caught.value)) == (2001, True)


# -- generated files ------------------------------------------------------------------------------------------
# Values both readers take; a row now and then gets one of BAD (a value the row reader refuses) or
# is blank or short, so that most files are read by the column reader and some are refused.
CUSTOMER_IDS = ["C1", "C2", "C3", "C4", " C5 "]
NAMES = ["Roux SA", "Faure", "Nouveau", "Client 5"] * 4 + [""]  # "": the known customer's
DATES = ["05/01/2026", "2026-01-06", "06.01.26", "20260107", "1/2/2026", "07/01/2026 10:00"]
DUE_DATES = ["", "", "04/02/2026", "2026-02-28", " "]
AMOUNTS = [  # (total, remaining)
    ("1 234,56", "1 234,56"), ("(300,00)", "12,00-"), ("12,00-", "0"), ("0", "0,00"), ("1.234,5", "34,5"),
    ("1234,5678", "1000,0049"), ("99,99 €", "99,99"), ("-5", "-5"), ("7", "0,001"), ("1,2345", "1,2345"),
]  # fmt: skip
CURRENCIES = ["", "EUR", "€", "usd", "GBP", "$"]
KINDS = ["", "", "Facture", "Avoir", "credit note", "F"]
STATUSES = ["", "À payer", "Annulée", "brouillon", "En recouvrement", "paid", "Partiellement payée"]
EMAILS = ["", "", "a@b.fr", "c@d.fr"]
BAD = [  # (field, value)
    (0, ""), (0, "F1"), (1, ""), (3, "31/02/2026"), (3, ""), (4, "2026-13-01"), (5, "abc"), (5, ""), (5, "1e3"),
    (5, "10000000000000"), (6, "20000"), (6, "-1"), (7, "EURO"), (8, "Proforma"), (10, "pas-un-mail"),
]  # fmt: skip
ODD_LINES = ["", ";;;;;;;;;;", "  ", "X9;C1;Roux;01/01/2026", "X9;C1;;;;;;;;;;;"]


@st.composite
def invoice_rows(draw: st.DrawFn) -> list[str]:
    rows = []
    for n in range(draw(st.integers(1, 14))):
        odd = draw(st.integers(0, 25 * len(BAD)))
        if odd == len(BAD):
            rows.append(draw(st.sampled_from(ODD_LINES)))
            continue
        total, remaining = draw(st.sampled_from(AMOUNTS))
        kind = draw(st.sampled_from(KINDS))
        if total.startswith(("-", "(")) or total.endswith("-"):
            kind = kind if kind in ("", "Avoir") else "avoir"  # a negative total on an invoice is refused
        fields = [
            f"F{n}" if odd != len(BAD) + 1 else f" F{n} ",
            draw(st.sampled_from(CUSTOMER_IDS)),
            draw(st.sampled_from(NAMES)),
            draw(st.sampled_from(DATES)),
            draw(st.sampled_from(DUE_DATES)),
            total,
            remaining,
            draw(st.sampled_from(CURRENCIES)),
            kind,
            draw(st.sampled_from(STATUSES)),
            draw(st.sampled_from(EMAILS)),
        ]
        if odd < len(BAD):
            field, value = BAD[odd]
            fields[field] = value
        rows.append(";".join(fields))
    return rows


PAYMENT_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["R1", "R2", "", "", "R3", "R4"]),
        st.sampled_from(["", "", "", "", "", "C1"]),  # "": the invoice's customer
        st.sampled_from(DATES * 10 + ["31/02/2026"]),
        st.sampled_from([total for total, _ in AMOUNTS] * 5 + ["abc"]),
        st.sampled_from(["F1", "F2", "F3", "F0", " F4 ", "F5", "F1", "F2", "", "F-X"]),
        st.sampled_from(["", "virement", "CB", "Prélèvement"]),
        st.sampled_from(CURRENCIES * 10 + ["EURO"]),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=invoice_rows(), payment_rows=PAYMENT_ROWS)
def test_generated_files_read_the_same(tmp_path: Path, rows: list[str], payment_rows: list[tuple[str, ...]]) -> None:
    customers = write(tmp_path / "clients.csv", CUSTOMERS)
    path = write(tmp_path / "factures.csv", [INVOICES_HEADER, *rows])
    customer_table = customers_of(customers)
    exact = outcome(lambda: exact_invoices(path, customer_table))
    column = bulk_invoices(Table(path, INVOICE_COLUMNS, what="invoices"), customer_table, 30)
    if column is not None:
        assert repr(column) == repr(exact)
    assert outcome(lambda: read_invoices(path, customer_table, 30)) == exact
    invoices = exact[0] if isinstance(exact[0], list) else []
    payments = write(tmp_path / "reglements.csv", [PAYMENTS_HEADER, *(";".join(r) for r in payment_rows)])
    exact_paid = outcome(lambda: payments_of_rows(Table(payments, PAYMENT_COLUMNS, what="payments"), invoices))
    column_paid = bulk_payments(Table(payments, PAYMENT_COLUMNS, what="payments"), invoices)
    if column_paid is not None:
        assert repr(column_paid) == repr(exact_paid)
    assert outcome(lambda: read_payments(payments, invoices)) == exact_paid


# -- records built a field at a time ----------------------------------------------------------------------------
def test_built_records_equal_those_the_constructor_makes() -> None:
    from encours.connectors.model import Allocation, Money

    money = Money(Decimal("12.50"))
    rows = [
        {"id": "P1", "customer_id": "C1", "source": "csv", "date": date(2026, 1, 2), "amount": money},
        {"id": "P2", "customer_id": "C2", "source": "csv", "date": date(2026, 1, 3), "amount": money,
         "allocations": (Allocation("F1", money),), "method": "cheque", "reference": "r"},
    ]  # fmt: skip
    columns = {key: [row.get(key, "" if key != "allocations" else ()) for row in rows] for key in rows[1]}
    made = built(Payment, 2, columns)  # type: ignore[arg-type]
    assert made == [Payment(**row) for row in rows]  # type: ignore[arg-type]
    assert made[0].allocations == () and made[0].method == ""  # fields not given: their defaults
    with pytest.raises(FrozenInstanceError):
        made[0].id = "P9"  # type: ignore[misc]
    with pytest.raises(TypeError, match="__post_init__"):
        built(Invoice, 1, {"id": ["F1"]})  # Invoice checks its currencies: only when told they were
    with pytest.raises(TypeError, match="no values for field 'customer_id'"):
        built(Payment, 1, {"id": ["P1"]})
