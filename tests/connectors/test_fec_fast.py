"""The fast FEC reader (column by column) gives exactly what the exact line reader gives, and a bad
line is still named — whether it sits in the first block of lines or in a later one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encours.connectors.errors import InputError
from encours.connectors.fec import FecConnector, read_fec
from encours.connectors.fec import columnar as columnar_module
from encours.connectors.fec.book import Book, amount_of
from encours.connectors.fec.columnar import ColumnReader
from encours.connectors.fec.columns import read_header
from encours.connectors.fec.lines import LineReader
from encours.connectors.parsing import parse_amount
from encours.connectors.textfile import decode_text, split_lines

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "fec"
TAB_BOM = PAYLOADS / "ventes_2026_tab_utf8_bom.txt"


def sample_lines() -> list[str]:
    return TAB_BOM.read_text(encoding="utf-8-sig").splitlines()


def with_field(line: str, column: int, value: str, separator: str = "\t") -> str:
    fields = line.split(separator)
    fields[column] = value
    return separator.join(fields)


def view(book: Book) -> dict[str, Any]:
    """What a reader puts in a book, comparable with ==."""
    items = [
        (i.line, i.journal, i.entry, i.customer, i.debit, str(i.amount), i.letter, i.day, i.entry_date,
         i.piece_ref, i.label, i.currency, str(i.currency_amount), i.due_date, str(i.open))
        for i in book.items
    ]  # fmt: skip
    entries = {key: (e.journal, e.number, e.first_line, e.debit, e.credit, e.kinds, e.label)
               for key, e in book.entries.items()}  # fmt: skip
    return {"items": items, "entries": entries, "journals": book.journal_labels, "names": book.customer_names}


def both_readers(lines: list[str], block: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Book, Book, int]:
    """(fast book, exact book, lines the fast pass read) for a FEC given as its lines, header first."""
    monkeypatch.setattr(columnar_module, "BLOCK", block)
    separator, columns = read_header(lines[0], file="FEC.txt", line=1, due_date_column=None)
    fast, exact = Book("FEC.txt"), Book("FEC.txt")
    reader = ColumnReader(fast, columns, separator)
    reader.read(lines[1:], 2)
    LineReader(exact, columns, separator).read(lines[1:], 2)
    return fast, exact, reader.fast_lines


# -- amounts: the fast path and the one amount parser agree --------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["1234,56", "-0,5", "1234.5", "0", "0,00", "-0,00", "00012,30", "9999999999999,99", "12,345",
     "1 234,56", "(12,00)", "12,00-", "1.234,56", "1,234.56", "12.", ".5", "+5", "1\u202f234,56", "١٢٣,٤٥"],
)  # fmt: skip
def test_amount_fast_path_agrees_with_the_amount_parser(text: str) -> None:
    fast = amount_of(text)
    exact = parse_amount(text)
    assert fast is not None and str(fast) == str(exact)  # same value and same number of decimals


@pytest.mark.parametrize("text", ["1000,OO", "1,2,3", "12 34,5,6", "-", "", "10000000000000,00", "1e5", "NaN"])
def test_not_amounts_for_both(text: str) -> None:
    assert amount_of(text) is None
    with pytest.raises(ValueError):
        parse_amount(text)


# -- whole files: the same book, block by block ---------------------------------------------------------------
def test_a_regular_file_is_read_by_the_fast_path_and_gives_the_exact_book(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = sample_lines()
    fast, exact, fast_lines = both_readers(lines, 5, monkeypatch)
    assert fast_lines == len(lines) - 1  # every block went the fast way: the comparison is not vacuous
    assert view(fast) == view(exact)
    assert len(fast.items) == 10 and fast.customer_names["C002"] == "Boulangerie Marchand"


def odd_lines() -> list[str]:
    """The sample with what real exports do: odd amounts, padded fields, a quoted line, a blank line,
    a trailing separator, a foreign-currency line, empty piece dates."""
    lines = sample_lines()
    lines[1] = with_field(lines[1], 11, "480,0")
    lines[2] = with_field(lines[2], 12, "480.00")
    lines[3] = with_field(with_field(lines[3], 11, "1 200,00"), 4, " 411000 ")
    lines[5] = with_field(lines[5], 12, "200")
    lines[6] = '"' + lines[6].replace("\t", '"\t"') + '"'
    lines[7] = with_field(lines[7], 10, "Facture\u00a0FA-002 ")
    lines.insert(9, "")
    lines[12] = with_field(with_field(lines[12], 16, "1 500,25"), 17, "usd")
    lines[14] = lines[14] + "\t"
    lines[15] = with_field(lines[15], 9, "")
    return lines


@pytest.mark.parametrize("block", [1, 3, 4, 7, 100])
def test_odd_lines_give_the_same_book_whatever_the_blocks(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, exact, fast_lines = both_readers(odd_lines(), block, monkeypatch)
    assert view(fast) == view(exact)
    if block == 4:
        assert 0 < fast_lines < len(odd_lines()) - 1  # some blocks fast, the odd ones line by line


def test_padded_fields_and_no_break_spaces_are_stripped_by_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = sample_lines()
    lines[1:] = [line.replace("\t", " \t").replace("Clients", "\u00a0Clients") for line in lines[1:]]
    fast, exact, fast_lines = both_readers(lines, 1000, monkeypatch)
    assert fast_lines == len(lines) - 1
    assert view(fast) == view(exact)
    assert fast.items[0].customer == "C001" and fast.items[0].amount == Decimal("480.00")


amount_texts = st.builds(
    lambda cents, style: style.format(sign="-" if cents < 0 else "", units=abs(cents) // 100, cents=abs(cents) % 100),
    st.integers(-10**9, 10**9),
    st.sampled_from(["{sign}{units},{cents:02d}", "{sign}{units}.{cents:02d}", "{sign}{units:,}.{cents:02d}",
                     "{sign}{units}", "({units},{cents:02d})", "{units},{cents:02d}{sign}", "{sign}{units},{cents}"]),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(amount_texts, min_size=4, max_size=4), block=st.integers(1, 30))
def test_any_amounts_give_the_same_book(amounts: list[str], block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = sample_lines()
    for n, text in enumerate(amounts):
        lines[3 + 2 * n] = with_field(lines[3 + 2 * n], 11 + n % 2, text.replace(",", " ", 1) if n == 3 else text)
    fast, exact, _ = both_readers(lines, block, monkeypatch)
    assert view(fast) == view(exact)


# -- bad lines are named, in the first block or a later one ----------------------------------------------------
def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "column", "value", "words"),
    [
        (3, 12, "1000,OO", ["Credit", "1000,OO", "not an amount"]),
        (20, 11, "12345678901234567,00", ["Debit", "beyond the largest amount"]),
        (22, 3, "20261341", ["EcritureDate", "20261341", "YYYYMMDD"]),
        (25, 3, "", ["EcritureDate is empty"]),
        (26, 14, "2026-13-01", ["DateLet", "2026-13-01"]),
        (24, 17, "EU", ["Idevise", "'EU'", "currency code"]),
    ],
)
@pytest.mark.parametrize("block", [4, 4_096])
def test_a_bad_value_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: int, column: int, value: str, words: list[str], block: int
) -> None:
    monkeypatch.setattr(columnar_module, "BLOCK", block)
    lines = sample_lines()
    lines[line - 1] = with_field(lines[line - 1], column, value)
    path = write(tmp_path / "FEC.txt", lines)
    with pytest.raises(InputError) as caught:
        FecConnector(path).pull(None)
    assert caught.value.line == line and caught.value.file == str(path)
    assert str(caught.value).startswith(f"{path}, line {line}: ")
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("block", [4, 4_096])
def test_a_short_line_in_a_later_block_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(columnar_module, "BLOCK", block)
    lines = sample_lines()
    lines[17] = lines[17].rsplit("\t", 2)[0]
    with pytest.raises(InputError) as caught:
        read_fec(write(tmp_path / "FEC.txt", lines))
    assert caught.value.line == 18 and "17 columns where the header has 19" in str(caught.value)


def test_a_bad_sense_in_the_cash_basis_variant_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar_module, "BLOCK", 3)
    lines = []
    for n, line in enumerate(sample_lines()):
        fields = line.split("\t")
        if n == 0:
            amount, sense = "Montant", "Sens"
        else:
            debit = fields[11] != "0,00"
            amount, sense = (fields[11] if debit else fields[12]), ("D" if debit else "C")
        lines.append("\t".join([*fields[:11], amount, sense, *fields[13:]]))
    good = read_fec(write(tmp_path / "good.txt", lines))
    assert good.ledger == read_fec(TAB_BOM).ledger  # the variant reads as the standard does
    lines[9] = with_field(lines[9], 12, "X")
    with pytest.raises(InputError) as caught:
        read_fec(write(tmp_path / "bad.txt", lines))
    assert caught.value.line == 10 and "Sens 'X' is neither D nor C" in str(caught.value)


def test_a_c1_control_character_in_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    lines = sample_lines()
    lines[4] = lines[4].replace("Prestations", "Presta\u0085tions")
    with pytest.raises(InputError) as caught:
        read_fec(write(tmp_path / "FEC.txt", lines), encoding="utf-8")
    assert caught.value.line == 5 and "not UTF-8 text: byte 0x85" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("a\nb\n", ["a", "b"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\rb\r", ["a", "b"]),
        ("a\r\r\nb", ["a\r", "b"]),  # one CR is the line end's; the other stays, as an editor shows it
        ("a\rb\nc", ["a\rb", "c"]),  # a lone CR among LF line ends is not a line end
        ("\n\na", ["", "", "a"]),
        ("a\nb\r", ["a", "b"]),
        ("a\u2028b\r\nc\x0cd\n", ["a\u2028b", "c\x0cd"]),  # not line ends in a FEC or a CSV
        ("", []),
    ],
)
def test_lines_are_split_as_editors_count_them(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines


def lines_one_by_one(text: str) -> list[str]:
    """The line splitting encours did before, a line at a time: the reference for :func:`split_lines`."""
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")
    lines, start = [], 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        lines.append(line[:-1] if line.endswith("\r") else line)
        start = end + 1
    return lines


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", " ", "\t", "\n", "\r", "\r\n", "\x0c", "\x1c", "\x85", "\u2028"])))
def test_lines_are_split_as_before_whatever_the_line_ends(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert split_lines(text) == lines_one_by_one(text)


def test_decoding_finds_controls_on_the_bytes_as_on_the_text() -> None:
    for data, encoding in [("é\u0085".encode(), "utf-8"), (b"a\x85", "iso-8859-15"), (b"a\x1fb", "cp1252")]:
        with pytest.raises(InputError):
            decode_text(data, file="f", encodings=(encoding,))
    assert decode_text("é\u00a0€".encode(), file="f", encodings=("utf-8",)) == ("é\u00a0€", "utf-8")
    assert decode_text("’".encode("cp1252"), file="f", encodings=("cp1252",)) == ("’", "cp1252")
