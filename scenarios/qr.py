"""Payment references and the EPC QR code (SEPA credit transfer) printed on reminders.

- Belgian structured communication (``+++123/4567/89012+++``): 10 digits then a 2-digit check,
  the 10-digit number modulo 97 (97 when the remainder is 0).
- ISO 11649 creditor reference (``RF18 5390 0754 7034``): ``RF`` + 2 check digits + up to 21
  letters or digits; check digits = 98 − (reference + "RF00", letters as 10…35) mod 97.
- EPC QR code (EPC069-12, version 002): the lines ``BCD``, ``002``, ``1`` (UTF-8), ``SCT``, BIC
  (optional in 002), beneficiary name (≤ 70), IBAN, ``EUR`` + amount (0.01 to 999999999.99),
  purpose (empty), structured reference (≤ 35) *or* unstructured remittance (≤ 140), and an
  optional note to the payer (≤ 70); at most 331 bytes; error correction level M.
"""

from __future__ import annotations

import hashlib
import io
import re
from decimal import Decimal

import segno

from encours.connectors.model import to_cents

MAX_PAYLOAD_BYTES = 331


class PaymentReferenceError(ValueError):
    """A reference, IBAN or amount cannot go into a payment QR code (says which and why)."""


def _digits_of(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def belgian_structured(number: int | str) -> str:
    """``+++ddd/dddd/ddddd+++`` for a base number of at most 10 digits."""
    base = _digits_of(str(number))
    if not base or len(base) > 10:
        raise PaymentReferenceError(f"a Belgian structured communication needs 1 to 10 digits, not {number!r}")
    base = base.zfill(10)
    check = int(base) % 97 or 97
    full = f"{base}{check:02d}"
    return f"+++{full[:3]}/{full[3:7]}/{full[7:]}+++"


def is_belgian_structured(text: str) -> bool:
    digits = _digits_of(text)
    if len(digits) != 12:
        return False
    return (int(digits[:10]) % 97 or 97) == int(digits[10:])


def _to_numbers(text: str) -> str:
    return "".join(str(int(c, 36)) for c in text)


def rf_reference(reference: str) -> str:
    """The ISO 11649 reference ``RFkk`` + ``reference`` (letters and digits only, at most 21)."""
    core = re.sub(r"[^A-Za-z0-9]", "", reference).upper()
    if not core or len(core) > 21:
        raise PaymentReferenceError(f"an RF reference needs 1 to 21 letters or digits, not {reference!r}")
    check = 98 - int(_to_numbers(core + "RF00")) % 97
    return f"RF{check:02d}{core}"


def is_rf_reference(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    if not re.fullmatch(r"RF\d{2}[A-Z0-9]{1,21}", compact):
        return False
    return int(_to_numbers(compact[4:] + compact[:4])) % 97 == 1


def format_rf(reference: str) -> str:
    """Groups of four for people: ``RF18 5390 0754 7034``."""
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))


def payment_reference(country: str, key: str, invoice_reference: str = "") -> str:
    """The reference printed on a reminder and in its QR code.

    The source's own reference wins when it is a valid structured communication or RF reference;
    else a Belgian company gets a structured communication and others an RF reference, both
    derived from ``key`` (an invoice number for one invoice, the customer and step for several).
    """
    if invoice_reference:
        if is_belgian_structured(invoice_reference):
            return belgian_structured(_digits_of(invoice_reference)[:10])
        if is_rf_reference(invoice_reference):
            return re.sub(r"\s", "", invoice_reference).upper()
    if country == "BE":
        digits = _digits_of(key)
        if not digits or len(digits) > 10:
            digits = str(int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10**10)
        return belgian_structured(digits)
    core = re.sub(r"[^A-Za-z0-9]", "", key).upper()
    if not core or len(core) > 21:
        core = hashlib.sha256(key.encode()).hexdigest()[:21].upper()
    return rf_reference(core)


def valid_iban(iban: str) -> bool:
    compact = re.sub(r"\s", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact):
        return False
    return int(_to_numbers(compact[4:] + compact[:4])) % 97 == 1


def epc_payload(
    *,
    name: str,
    iban: str,
    amount: Decimal,
    reference: str = "",
    remittance: str = "",
    bic: str = "",
    note: str = "",
) -> str:
    """The text of an EPC QR code (version 002, UTF-8) for a SEPA credit transfer in euros.

    A structured ``reference`` (RF or Belgian structured communication, digits only) and an
    unstructured ``remittance`` are exclusive; the reference wins.
    """
    compact_iban = re.sub(r"\s", "", iban).upper()
    if not valid_iban(compact_iban):
        raise PaymentReferenceError(f"[company] iban {iban!r} is not a valid IBAN")
    value = to_cents(amount)
    if not Decimal("0.01") <= value <= Decimal("999999999.99"):
        raise PaymentReferenceError(f"amount {value} is outside what an EPC QR code can hold")
    beneficiary = re.sub(r"[\r\n]+", " ", name).strip()[:70]
    if not beneficiary:
        raise PaymentReferenceError("the beneficiary name ([company] name) is empty")
    structured = ""
    unstructured = ""
    if reference:
        compact = re.sub(r"\s", "", reference)
        structured = _digits_of(compact) if compact.startswith("+++") else compact.upper()
        if len(structured) > 35:
            raise PaymentReferenceError(f"reference {reference!r} is longer than 35 characters")
    else:
        unstructured = re.sub(r"[\r\n]+", " ", remittance).strip()[:140]
    lines = [
        "BCD",
        "002",
        "1",
        "SCT",
        re.sub(r"\s", "", bic).upper(),
        beneficiary,
        compact_iban,
        f"EUR{value:.2f}",
        "",
        structured,
        unstructured,
        re.sub(r"[\r\n]+", " ", note).strip()[:70],
    ]
    while lines and lines[-1] == "":
        lines.pop()
    payload = "\n".join(lines)
    if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise PaymentReferenceError(f"the QR payload is longer than {MAX_PAYLOAD_BYTES} bytes")
    return payload


def qr_png(payload: str, *, scale: int = 5) -> bytes:
    """A PNG of the QR code (error correction M, as EPC069-12 requires; quiet zone kept)."""
    code = segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
