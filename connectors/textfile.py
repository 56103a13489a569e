"""Text exports (FEC, CSV): decoding the bytes, splitting the lines, comparing column names, and
what a source read whole from its files answers.

Shared by the FEC and CSV sources so that both refuse the same bad bytes with the same words,
count lines the way editors do, and describe and re-check a ledger the same way.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator, Sequence

from encours.connectors.errors import ConfigError, InputError
from encours.connectors.model import Invoice, Ledger

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Every byte but the C0 controls (tab, LF and CR excepted) and DEL: deleting them leaves only those.
_NOT_C0 = bytes(b for b in range(256) if not ((b < 0x20 and b not in (0x09, 0x0A, 0x0D)) or b == 0x7F))
#: Every byte but 0x80–0x9f: the C1 controls of the ISO-8859 encodings.
_NOT_C1 = bytes(b for b in range(256) if not 0x80 <= b <= 0x9F)
#: U+0080–U+009F written in UTF-8.
_UTF8_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "iso-8859-15": "ISO-8859-15", "cp1252": "Windows-1252"}


def normalise_name(text: str) -> str:
    """A column name reduced for comparison: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _may_hold_controls(data: bytes, encoding: str) -> bool:
    """False when the bytes surely decode to no control character (checked on the bytes: fast).

    C0 controls and DEL are single ASCII bytes in every encoding read here; C1 controls are
    ``\\xc2\\x80``–``\\xc2\\x9f`` in UTF-8, bytes 0x80–0x9f in ISO-8859, never in Windows-1252
    (those bytes are letters or not decodable there).  Other encodings: the decoded text decides.
    """
    if data.translate(None, _NOT_C0):
        return True
    codec = codecs.lookup(encoding).name
    if codec in ("utf-8", "utf-8-sig"):
        return _UTF8_C1.search(data) is not None
    if codec == "cp1252":
        return False
    if codec.startswith("iso8859") or codec == "latin-1":
        return bool(data.translate(None, _NOT_C1))
    return True


def decode_text(
    data: bytes, *, file: str, encodings: Sequence[str], forced: str | None = None, hint: str = ""
) -> tuple[str, str]:
    """Decode a text export, trying *encodings* in order (or only *forced*); returns (text, encoding).

    A later encoding is tried only when the bytes are not valid in the earlier one.  Text holding
    control characters (NUL, C1 controls …) is not text in that encoding either.  Raises
    :class:`InputError` naming the line where the last encoding tried failed.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 text: export or save it as UTF-8", file=file, line=1)
    candidates = [forced] if forced else list(encodings)
    bad: tuple[int, int] | None = None  # (line, byte) where the last candidate tried failed
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise ConfigError(
                f"unknown encoding {encoding!r} (try utf-8, iso-8859-15 or cp1252)", key="[source] encoding"
            ) from None
        except UnicodeDecodeError as exc:
            bad = (data.count(b"\n", 0, exc.start) + 1, data[exc.start])
            continue
        control = _CONTROL.search(text) if _may_hold_controls(data, encoding) else None
        if control is None:
            return text, encoding
        bad = (_line_of(text, control.start()), ord(control.group()))
    assert bad is not None
    line, byte = bad
    names = [_ENCODING_NAMES.get(c.lower(), c) for c in candidates]
    what = f"neither {' nor '.join(names)}" if len(names) > 1 else f"not {names[0]}"
    raise InputError(f"is {what} text: byte 0x{byte:02x} cannot be read{hint}", file=file, line=line)


def split_lines(text: str) -> list[str]:
    """Physical lines, whatever the line ends (LF, CRLF or CR), so that line numbers match editors.

    A text holding LF ends splits on LF only (a CR before it is dropped, a lone CR stays in its
    line); a text with CR alone splits on CR.  No empty line is made after the last line end.
    """
    if "\n" in text and (text.endswith(("\n", "\r")) or not text[-1].isspace()):
        # One pass, right when it broke at the LFs (with their CR) and nowhere else (a lone CR,
        # U+2028 …): then it gives as many lines as there are LFs.
        lines = text.splitlines()
        if len(lines) == text.count("\n") + (not text.endswith("\n")):
            return lines
    ended_by_cr = "\r" in text and "\n" in text and text.endswith("\r")  # the last line by CR alone
    if "\r" in text:
        text = text.replace("\r\n", "\n") if "\n" in text else text.replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    elif ended_by_cr:
        lines[-1] = lines[-1][:-1]
    return lines


def iter_lines(text: str) -> Iterator[str]:
    """:func:`split_lines`, one line at a time."""
    return iter(split_lines(text))


def ledger_counts(ledger: Ledger) -> str:
    """What ``encours check`` says a file holds: "12 customers, 40 documents, 31 payments"."""
    return f"{len(ledger.customers)} customers, {len(ledger.invoices)} documents, {len(ledger.payments)} payments"


def invoices_by_id(ledger: Ledger, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
    """The invoices asked for as *ledger* (the files read again) has them now; ``None`` when gone."""
    index = {invoice.id: invoice for invoice in ledger.invoices}
    return {invoice_id: index.get(invoice_id) for invoice_id in invoice_ids}
