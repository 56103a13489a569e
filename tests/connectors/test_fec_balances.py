"""FEC books as real exports have them: every customer's balance is the sum of its 411 lines.

Each test writes a small book with one trait of real exports (opening entries carried from a
year whose lettering is not in the file, payments not lettered yet, partial lettering, no
lettering at all, a constant EcritureNum, foreign currencies with 4-decimal rates) and checks
what a user sees: the balance per customer, which items stay open, and what the sync says.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from encours.connectors.fec import FEC_COLUMNS, FecConnector, read_fec
from encours.connectors.model import CreditKind, Ledger
from encours.sheets_addin.view import build_view

HEADER = "\t".join(FEC_COLUMNS)


def line(journal: str, entry: str, day: str, account: str, aux: str, piece: str, debit: str, credit: str,
         letter: str = "", *, label: str = "", amount_fx: str = "", currency: str = "") -> str:
    name = {"C1": "Alpha SARL", "C2": "Bravo SAS", "C3": "Charlie", "": ""}.get(aux, aux)
    return "\t".join([
        journal, {"VE": "Ventes", "BQ": "Banque", "AN": "A nouveaux", "OD": "Opérations diverses"}[journal],
        entry, day, account, "Clients" if account.startswith("411") else "Autre", aux, name, piece, day,
        label or f"{journal} {piece}", debit, credit, letter, day if letter else "", day, amount_fx, currency,
    ])


def sale(entry: str, day: str, aux: str, piece: str, amount: str, letter: str = "") -> list[str]:
    return [line("VE", entry, day, "411000", aux, piece, amount, "0", letter),
            line("VE", entry, day, "706000", "", piece, "0", amount)]


def receipt(entry: str, day: str, aux: str, piece: str, amount: str, letter: str = "") -> list[str]:
    return [line("BQ", entry, day, "411000", aux, piece, "0", amount, letter, label=f"VIR {aux}"),
            line("BQ", entry, day, "512000", "", piece, amount, "0")]


def book(tmp_path: Path, *rows: list[str] | str) -> Path:
    lines = [HEADER]
    for row in rows:
        lines.extend([row] if isinstance(row, str) else row)
    path = tmp_path / "FEC.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sum_of_411(path: Path) -> dict[str, Decimal]:
    """The balance of each customer's 411 lines, read from the file with nothing of encours."""
    out: dict[str, Decimal] = {}
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    for raw in rows:
        f = raw.split("\t")
        if f[4].startswith("411"):
            net = Decimal(f[11].replace(",", ".") or 0) - Decimal(f[12].replace(",", ".") or 0)
            out[f[6]] = out.get(f[6], Decimal(0)) + net
    return {k: v for k, v in out.items() if v}


def balances(ledger: Ledger) -> dict[str, Decimal]:
    """Company-currency balance per customer from what encours shows (invoices and credits)."""
    out: dict[str, Decimal] = {}
    for inv in ledger.open_invoices():
        amount = inv.remaining_company.amount if inv.remaining_company else inv.remaining.amount
        out[inv.customer_id] = out.get(inv.customer_id, Decimal(0)) + inv.sign * amount
    for credit in ledger.unallocated_credits():
        amount = credit.amount_company.amount if credit.amount_company else credit.amount.amount
        out[credit.customer_id] = out.get(credit.customer_id, Decimal(0)) - amount
    return {k: v for k, v in out.items() if v}


def test_unlettered_and_partly_lettered_payments_are_unallocated_credits(tmp_path: Path) -> None:
    path = book(
        tmp_path,
        sale("1", "20260105", "C1", "F-1", "1200,00", "A"),
        sale("2", "20260110", "C1", "F-2", "300,00"),
        receipt("3", "20260205", "C1", "VIR-1", "1000,00", "A"),  # partial lettering: 200 left on F-1
        receipt("4", "20260210", "C1", "VIR-2", "450,00"),  # not lettered yet
        sale("5", "20260110", "C2", "F-3", "80,00"),
        receipt("6", "20260301", "C2", "VIR-3", "100,00"),  # more than owed: the customer is in credit
    )
    fec = read_fec(path)
    ledger = fec.ledger
    assert balances(ledger) == sum_of_411(path) == {"C1": Decimal("50.00"), "C2": Decimal("-20.00")}
    open_ = {i.id: i.remaining.amount for i in ledger.open_invoices()}
    assert open_ == {"F-1": Decimal("200.00"), "F-2": Decimal("300.00"), "F-3": Decimal("80.00")}
    credits = {c.reference: (c.amount.amount, c.kind) for c in ledger.unallocated_credits()}
    assert credits == {"VIR-2": (Decimal("450.00"), CreditKind.PAYMENT_ON_ACCOUNT),
                       "VIR-3": (Decimal("100.00"), CreditKind.PAYMENT_ON_ACCOUNT)}
    assert any("Bravo SAS" in note and "without lettering" in note for note in fec.notes)


def test_an_unbalanced_lettering_group_leaves_its_excess_credit_unallocated(tmp_path: Path) -> None:
    path = book(tmp_path, sale("1", "20260105", "C1", "F-1", "100,00", "B"),
                receipt("2", "20260205", "C1", "VIR-1", "130,00", "B"))
    ledger = read_fec(path).ledger
    assert ledger.open_invoices() == []
    (credit,) = ledger.unallocated_credits()
    assert credit.amount.amount == Decimal("30.00") and "lettrage B incomplet" in credit.label
    assert balances(ledger) == sum_of_411(path) == {"C1": Decimal("-30.00")}


def test_opening_entries_whose_settlement_was_lettered_last_year_net_to_the_true_balance(tmp_path: Path) -> None:
    # Last year's 411 carried forward as one debit and one credit line per customer, lettered with
    # last year's codes (their partners are not in this file); this year: one new invoice.
    path = book(
        tmp_path,
        line("AN", "1", "20260101", "411000", "C1", "AN-2026", "119763,00", "0", "ZZ"),
        line("AN", "1", "20260101", "411000", "C1", "AN-2026", "0", "67246,00", "ZY"),
        line("AN", "1", "20260101", "411000", "C2", "AN-2026", "500,00", "0", "ZX"),
        line("AN", "1", "20260101", "411000", "C2", "AN-2026", "0", "500,00", "ZW"),
        line("AN", "1", "20260101", "890000", "", "AN-2026", "0", "52517,00"),
        line("AN", "1", "20260101", "411000", "C3", "AN-2026", "0", "42,10"),
        line("AN", "1", "20260101", "890000", "", "AN-2026", "42,10", "0"),
        sale("2", "20260303", "C2", "F-9", "60,00", "AA"),
    )
    ledger = read_fec(path).ledger
    assert balances(ledger) == sum_of_411(path) == {"C1": Decimal("52517.00"), "C2": Decimal("60.00"),
                                                    "C3": Decimal("-42.10")}
    # Bravo's opening lines settle each other: only this year's invoice is open, nothing 1,655 days late.
    assert [i.id for i in ledger.open_invoices() if i.customer_id == "C2"] == ["F-9"]
    (carried,) = [i for i in ledger.open_invoices() if i.customer_id == "C1"]
    assert carried.remaining.amount == Decimal("52517.00")
    (credit,) = ledger.unallocated_credits()
    assert (credit.customer_id, credit.kind, credit.amount.amount) == ("C3", CreditKind.OPENING_BALANCE,
                                                                       Decimal("42.10"))


def test_a_book_without_any_lettering_settles_oldest_first_and_says_so_per_customer(tmp_path: Path) -> None:
    path = book(
        tmp_path,
        sale("1", "20260105", "C1", "F-1", "100,00"),
        sale("2", "20260205", "C1", "F-2", "100,00"),
        sale("3", "20260305", "C1", "F-3", "100,00"),
        receipt("4", "20260310", "C1", "VIR-1", "150,00"),
        sale("5", "20260105", "C3", "F-4", "10,00"),
    )
    fec = read_fec(path)
    open_ = {i.id: i.remaining.amount for i in fec.ledger.open_invoices()}
    assert open_ == {"F-2": Decimal("50.00"), "F-3": Decimal("100.00"), "F-4": Decimal("10.00")}
    assert fec.ledger.unallocated_credits() == []
    (note,) = fec.notes
    assert "no lettering at all" in note and "Alpha SARL" in note and "Charlie" not in note
    delta = FecConnector(path).pull(None)
    assert delta.notes == fec.notes and len(delta.credits) == 0


def test_a_constant_entry_number_groups_entries_by_journal_date_and_piece(tmp_path: Path) -> None:
    # Every line says EcritureNum 0: without regrouping the bank journal would be one entry
    # touching sales and the receipt would be taken for a credit note.
    path = book(
        tmp_path,
        sale("0", "20260105", "C1", "F-1", "100,00", "A"),
        sale("0", "20260106", "C2", "F-2", "70,00"),
        receipt("0", "20260205", "C1", "VIR-1", "100,00", "A"),
        receipt("0", "20260206", "C2", "VIR-2", "20,00"),
        receipt("0", "20260206", "C2", "VIR-3", "5,00"),
    )
    fec = read_fec(path)
    assert balances(fec.ledger) == sum_of_411(path)
    assert {i.id: i.remaining.amount for i in fec.ledger.open_invoices()} == {"F-2": Decimal("70.00")}
    assert sorted(c.reference for c in fec.ledger.unallocated_credits()) == ["VIR-2", "VIR-3"]
    assert any("grouped by journal, date and piece" in n for n in fec.notes)


def test_a_foreign_currency_payment_on_account_keeps_its_currency_and_euro_value(tmp_path: Path) -> None:
    path = book(
        tmp_path,
        [line("VE", "1", "20260105", "411000", "C1", "F-1", "921,66", "0", "", amount_fx="1000,00", currency="USD"),
         line("VE", "1", "20260105", "706000", "", "F-1", "0", "921,66")],
        [line("BQ", "2", "20260205", "411000", "C1", "VIR-1", "0", "460,83", "", amount_fx="500,00", currency="USD"),
         line("BQ", "2", "20260205", "512000", "", "VIR-1", "460,83", "0")],
        sale("3", "20260105", "C2", "F-2", "10,00", "A"),  # the book is lettered: VIR-1 is not yet
        receipt("4", "20260106", "C2", "VIR-2", "10,00", "A"),
    )
    ledger = read_fec(path).ledger
    assert balances(ledger) == sum_of_411(path) == {"C1": Decimal("460.83")}
    (credit,) = ledger.unallocated_credits()
    assert credit.amount.currency == "USD" and credit.amount.amount == Decimal("500.00")
    assert credit.amount_company is not None and credit.amount_company.amount == Decimal("460.83")


@st.composite
def books(draw: st.DrawFn) -> list[list[str] | str]:
    rows: list[list[str] | str] = []
    letters = ["", "", "A", "B", "C"]
    for n in range(draw(st.integers(1, 12))):
        aux = draw(st.sampled_from(["C1", "C2", "C3"]))
        amount = f"{draw(st.integers(1, 10**8)) / 100:.2f}".replace(".", ",")
        day = f"2026{draw(st.integers(1, 12)):02d}{draw(st.integers(1, 28)):02d}"
        letter = draw(st.sampled_from(letters))
        kind = draw(st.sampled_from(["sale", "receipt", "an-debit", "an-credit"]))
        if kind == "sale":
            rows.append(sale(str(n), day, aux, f"F-{n}", amount, letter))
        elif kind == "receipt":
            rows.append(receipt(str(n), day, aux, f"R-{n}", amount, letter))
        else:
            debit, credit = (amount, "0") if kind == "an-debit" else ("0", amount)
            rows.append([line("AN", str(n), "20260101", "411000", aux, f"AN-{n}", debit, credit, letter),
                         line("AN", str(n), "20260101", "890000", "", f"AN-{n}", credit, debit)])
    return rows


@settings(max_examples=120, deadline=None)
@given(books())
def test_any_book_shows_each_customers_411_balance_to_the_cent(rows: list[list[str] | str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = book(Path(folder), *rows)
        ledger = read_fec(path).ledger
        expected = sum_of_411(path)
        assert balances(ledger) == expected
        # … and the sheet: the rows a sync writes add up, per customer, to the same figure
        view = build_view(ledger, date(2026, 12, 31))
        sheet: dict[str, Decimal] = {}
        for row in view.invoices:
            if row["id"] in view.shown_invoice_ids:
                sheet[row["customer_id"]] = sheet.get(row["customer_id"], Decimal(0)) + row["remaining_eur"]
        assert {k: v for k, v in sheet.items() if v} == expected


def test_a_customer_paying_by_direct_debit_is_marked_until_a_debit_is_rejected(tmp_path: Path) -> None:
    def debit(entry: str, day: str, aux: str, piece: str, amount: str) -> list[str]:
        return [line("BQ", entry, day, "411000", aux, piece, "0", amount, label=f"PRLV SEPA {aux}"),
                line("BQ", entry, day, "512000", "", piece, amount, "0", label=f"PRLV SEPA {aux}")]

    def rejected(entry: str, day: str, aux: str, piece: str, amount: str) -> list[str]:
        return [line("BQ", entry, day, "411000", aux, piece, amount, "0", label=f"Rejet PRLV {aux}"),
                line("BQ", entry, day, "512000", "", piece, "0", amount, label=f"Rejet PRLV {aux}")]

    path = book(
        tmp_path,
        sale("1", "20260105", "C1", "F-1", "100,00", "A"), debit("2", "20260205", "C1", "P-1", "100,00"),
        sale("3", "20260305", "C1", "F-2", "100,00"),
        sale("4", "20260105", "C2", "F-3", "80,00", "B"), debit("5", "20260205", "C2", "P-2", "80,00"),
        sale("6", "20260305", "C2", "F-4", "80,00"), rejected("7", "20260310", "C2", "R-1", "80,00"),
        sale("8", "20260105", "C3", "F-5", "50,00", "C"), receipt("9", "20260205", "C3", "V-1", "50,00", "C"),
    )
    customers = {c.id: c for c in read_fec(path).ledger.customers}
    assert customers["C1"].direct_debit  # paid by PRLV: the next invoice will be debited, never reminded
    assert not customers["C2"].direct_debit  # its last debit was rejected: reminded
    assert not customers["C3"].direct_debit  # pays by transfer
