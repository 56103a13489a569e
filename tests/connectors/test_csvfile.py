"""The CSV source: French and English exports, and the errors a user sees when a file is not right."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from encours.connectors.csvfile import CsvConnector
from encours.connectors.errors import InputError
from encours.connectors.model import Allocation, DocumentKind, InvoiceStatus, Money

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "csv"
FACTURES = PAYLOADS / "factures_fr.csv"
CLIENTS = PAYLOADS / "clients_fr.csv"
REGLEMENTS = PAYLOADS / "reglements_fr.csv"
INVOICES_EN = PAYLOADS / "invoices_en.csv"
PAYMENTS_EN = PAYLOADS / "payments_en.csv"


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def french_lines() -> list[str]:
    return FACTURES.read_bytes().decode("cp1252").splitlines()


def write(path: Path, lines: list[str], encoding: str = "cp1252") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_french_export_semicolons_decimal_comma_cp1252() -> None:
    connector = CsvConnector(FACTURES, payments_path=REGLEMENTS, customers_path=CLIENTS, payment_terms_days=30)
    delta = connector.pull(None)
    invoices = {i.id: i for i in delta.invoices}
    first = invoices["FA-2026-001"]
    assert (first.total, first.remaining, first.status) == (eur("1200.00"), eur("700.00"), InvoiceStatus.PARTIALLY_PAID)
    assert (first.issue_date, first.due_date) == (date(2026, 1, 5), date(2026, 2, 4))
    assert first.pdf_url == "https://factures.example/FA-2026-001.pdf"
    assert first.salesperson == "Claire Martin"
    # No due date in the file: the customer's own terms (45 days in the customers file) apply.
    assert invoices["FA-2026-002"].due_date == date(2026, 2, 24)
    credit_note = invoices["AV-2026-001"]
    assert credit_note.kind is DocumentKind.CREDIT_NOTE
    assert credit_note.signed_remaining == eur("-120.00")
    assert invoices["FA-2026-003"].currency == "EUR"  # written "€"
    assert invoices["FA-2026-004"].status is InvoiceStatus.CANCELLED  # "Annulée"
    assert invoices["FA-2026-004"].source_status == "Annulée"

    customers = {c.id: c for c in delta.customers}
    sge = customers["C001"]
    assert sge.name == "Société Générale d'Électricité"
    assert (sge.siren, sge.language, sge.email) == ("552120222", "fr", "compta@sge.fr")
    assert customers["C002"].emails == ("contact@boulangerie-marchand.fr", "gerant@boulangerie-marchand.fr")
    assert customers["C003"].language == "nl"

    payments = {p.id: p for p in delta.payments}
    assert payments["R-001"].allocations == (Allocation("FA-2026-001", eur("500.00")),)
    assert payments["R-001"].method == "transfer"
    assert payments["R-002"].method == "cheque"
    assert payments["R-003"].unallocated == eur("100.00")


def test_english_export_commas_decimal_dot_utf8_bom() -> None:
    delta = CsvConnector(INVOICES_EN, payments_path=PAYMENTS_EN, payment_terms_days=30).pull(None)
    invoices = {i.id: i for i in delta.invoices}
    gbp = invoices["INV-100"]
    assert (gbp.total, gbp.remaining) == (Money(Decimal("1234.50"), "GBP"), Money(Decimal("1134.50"), "GBP"))
    # A negative total without a type column is a credit note; no due date: the default terms.
    refund = invoices["INV-101"]
    assert (refund.kind, refund.total, refund.remaining) == (DocumentKind.CREDIT_NOTE, eur("150.00"), eur("150.00"))
    assert invoices["INV-102"].status is InvoiceStatus.PAID
    names = {c.id: c.name for c in delta.customers}
    assert names == {"K1": "Harper & Stone Ltd", "K2": "Dupont, Fils & Cie"}
    payments = {p.id: p for p in delta.payments}
    # Two rows with the same payment id are one payment allocated to two invoices; the customer
    # comes from the invoice when the payments file has no customer column.
    assert payments["P-1"].customer_id == "K2"
    assert payments["P-1"].amount == eur("1280.00")
    assert [a.invoice_id for a in payments["P-1"].allocations] == ["INV-102", "INV-103"]
    assert payments["P-2"].amount == Money(Decimal("100.00"), "GBP")


def test_cursor_check_refetch(tmp_path: Path) -> None:
    copy = write(tmp_path / "factures.csv", french_lines())
    connector = CsvConnector(copy)
    first = connector.pull(None)
    assert first.full and connector.pull(first.cursor).cursor == first.cursor
    info = connector.check()
    assert (info.source, info.organisation, info.open_invoices) == ("csv", "factures.csv", 4)
    lines = french_lines()
    lines[2] = lines[2].replace("600,00;600,00", "600,00;0,00")
    write(copy, lines)
    assert connector.pull(first.cursor).cursor != first.cursor
    refetched = connector.refetch_invoice("FA-2026-002")
    assert refetched is not None and refetched.status is InvoiceStatus.PAID
    assert connector.refetch_invoice("nope") is None
    both = connector.refetch_invoices(["FA-2026-002", "nope"])
    assert both["FA-2026-002"] == refetched and both["nope"] is None


def test_unchanged_files_bring_nothing_to_apply(tmp_path: Path) -> None:
    copy = write(tmp_path / "factures.csv", french_lines())
    first = CsvConnector(copy).pull(None)
    again = CsvConnector(copy).pull(first.cursor)
    assert first.full and not again.full and again.cursor == first.cursor
    assert (again.invoices, again.payments, again.customers) == ((), (), ())
    assert CsvConnector(copy, payment_terms_days=60).pull(first.cursor).full  # other settings: read again


# -- bad input -------------------------------------------------------------------------------------------
def expect_error(connector: CsvConnector) -> InputError:
    with pytest.raises(InputError) as caught:
        connector.pull(None)
    assert caught.value.exit_code == 2
    return caught.value


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    lines = [";".join(f for i, f in enumerate(line.split(";")) if i != 6) for line in french_lines()]  # no "Reste dû"
    path = write(tmp_path / "sans-reste.csv", lines)
    error = expect_error(CsvConnector(path))
    assert error.file == str(path) and error.line == 1
    assert "'remaining'" in str(error) and "'Reste dû'" in str(error)
    assert str(error).startswith(f"{path}, line 1: ")


def test_missing_customer_column_in_customers_file(tmp_path: Path) -> None:
    path = write(tmp_path / "clients.csv", ["Client;Email", "Boulangerie;a@b.fr"])
    error = expect_error(CsvConnector(FACTURES, customers_path=path))
    assert error.file == str(path)
    assert "'customer_id'" in str(error)


def test_bad_date_names_file_line_and_column(tmp_path: Path) -> None:
    lines = french_lines()
    lines[3] = lines[3].replace("20/01/2026;;", "20/01/2026;31/02/2026;")
    path = write(tmp_path / "dates.csv", lines)
    error = expect_error(CsvConnector(path))
    assert (error.file, error.line) == (str(path), 4)
    assert "column 'Échéance'" in str(error) and "'31/02/2026'" in str(error)


def test_bad_amount_names_file_line_and_column(tmp_path: Path) -> None:
    lines = french_lines()
    lines[5] = lines[5].replace("360,00", "trois cents")
    path = write(tmp_path / "montants.csv", lines)
    error = expect_error(CsvConnector(path))
    assert (error.line, error.file) == (6, str(path))
    assert "column 'Montant TTC'" in str(error)


def test_bad_payment_line(tmp_path: Path) -> None:
    path = write(tmp_path / "reglements.csv", ["N° règlement;Code client;Date règlement;Montant", "R1;C001;hier;10,00"])
    error = expect_error(CsvConnector(FACTURES, payments_path=path))
    assert (error.file, error.line) == (str(path), 2)
    assert "column 'Date règlement'" in str(error)


def test_bytes_neither_utf8_nor_cp1252(tmp_path: Path) -> None:
    raw = FACTURES.read_bytes().replace(b"Verhoeven", b"Verho\x81ven", 1)  # 0x81: undefined in both
    path = tmp_path / "abime.csv"
    path.write_bytes(raw)
    error = expect_error(CsvConnector(path))
    assert (error.file, error.line) == (str(path), 5)
    assert "neither UTF-8 nor Windows-1252" in str(error)


def test_unquoted_decimal_comma_in_comma_separated_file(tmp_path: Path) -> None:
    lines = ["invoice_number,customer_id,customer_name,date,total,remaining", "F1,C1,Roux,2026-01-02,12,50,12,50"]
    path = write(tmp_path / "comma.csv", lines, encoding="utf-8")
    error = expect_error(CsvConnector(path))
    assert (error.file, error.line) == (str(path), 2)
    assert "quoted" in str(error)


def test_duplicate_invoice_and_unknown_type(tmp_path: Path) -> None:
    lines = french_lines()
    duplicate = write(tmp_path / "doublon.csv", [*lines, lines[1]])
    error = expect_error(CsvConnector(duplicate))
    assert error.line == 7 and "already on line 2" in str(error)
    lines[3] = lines[3].replace(";Avoir;", ";Proforma;")
    unknown = write(tmp_path / "type.csv", lines)
    error = expect_error(CsvConnector(unknown))
    assert error.line == 4 and "column 'Type'" in str(error)


def test_unknown_status_word_is_shown_but_never_reminded(tmp_path: Path) -> None:
    lines = french_lines()
    lines[2] = lines[2].replace("À payer", "En recouvrement externe")
    path = write(tmp_path / "statut.csv", lines)
    invoice = {i.id: i for i in CsvConnector(path).pull(None).invoices}["FA-2026-002"]
    assert invoice.status is InvoiceStatus.UNKNOWN
    assert invoice.source_status == "En recouvrement externe"
    assert not invoice.is_open


def test_formats_doc_lists_every_column_encours_reads() -> None:
    from encours.connectors.csvfile import CUSTOMER_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS
    from encours.connectors.fec import DUE_DATE_NAMES, FEC_COLUMNS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text(encoding="utf-8")
    for column in (*INVOICE_COLUMNS, *PAYMENT_COLUMNS, *CUSTOMER_COLUMNS):
        assert f"`{column.label}`" in doc, column.label
    for name in (*FEC_COLUMNS, *DUE_DATE_NAMES):
        assert f"`{name}`" in doc, name


def test_payment_of_another_customers_invoice(tmp_path: Path) -> None:
    lines = REGLEMENTS.read_bytes().decode("cp1252").splitlines()
    lines[1] = lines[1].replace("R-001;C001", "R-001;C002")
    path = write(tmp_path / "reglements.csv", lines)
    error = expect_error(CsvConnector(FACTURES, payments_path=path))
    assert (error.file, error.line) == (str(path), 2)
    assert "column 'N° facture'" in str(error) and "'C001'" in str(error)


def test_export_without_customer_ids_uses_names(tmp_path: Path) -> None:
    lines = [
        "Numéro;Client;Date;Date d'échéance;Montant TTC;Reste à payer",
        "F-77;Garage Faure;12/02/2026;14/03/2026;1 080,00;1 080,00",
        "F-78;Garage Faure;19/02/2026;21/03/2026;540,00;0,00",
    ]
    delta = CsvConnector(write(tmp_path / "export.csv", lines)).pull(None)
    assert [(c.id, c.name) for c in delta.customers] == [("Garage Faure", "Garage Faure")]
    assert [(i.id, i.customer_id, i.status) for i in delta.invoices] == [
        ("F-77", "Garage Faure", InvoiceStatus.OPEN),
        ("F-78", "Garage Faure", InvoiceStatus.PAID),
    ]


def test_excel_sep_line_and_accounting_negatives(tmp_path: Path) -> None:
    lines = [
        "sep=;",
        "N° facture;Code client;Client;Date facture;Montant TTC;Reste dû",
        "AV-9;C1;Roux;02.03.2026;(84,00);84,00-",
    ]
    path = write(tmp_path / "excel.csv", lines)
    (credit_note,) = CsvConnector(path, payment_terms_days=30).pull(None).invoices
    assert (credit_note.kind, credit_note.total, credit_note.remaining) == (
        DocumentKind.CREDIT_NOTE,
        eur("84.00"),
        eur("84.00"),
    )
    assert (credit_note.issue_date, credit_note.due_date) == (date(2026, 3, 2), date(2026, 3, 2))
    lines[2] = lines[2].replace("02.03.2026", "2026-13-02")
    error = expect_error(CsvConnector(write(tmp_path / "excel.csv", lines)))
    assert error.line == 3 and "column 'Date facture'" in str(error)
