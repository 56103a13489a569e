"""Payment references and the EPC QR code follow their standards (EPC069-12, ISO 11649, Belgian OGM)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import segno

from encours.scenarios.qr import (
    PaymentReferenceError,
    belgian_structured,
    epc_payload,
    is_belgian_structured,
    is_rf_reference,
    payment_reference,
    qr_png,
    rf_reference,
    valid_iban,
)

IBAN = "FR7630006000011234567890189"


def test_belgian_structured_communication_has_its_modulo_97_check() -> None:
    assert belgian_structured("0108068171") == "+++010/8068/17183+++"
    # a remainder of 0 is written 97
    assert belgian_structured(str(97 * 12345)).endswith("97+++")
    assert is_belgian_structured("+++010/8068/17183+++")
    assert not is_belgian_structured("+++010/8068/17184+++")
    with pytest.raises(PaymentReferenceError):
        belgian_structured("12345678901")


def test_iso_11649_reference() -> None:
    assert rf_reference("5390 0754 7034") == "RF18539007547034"
    assert is_rf_reference("RF18 5390 0754 7034")
    assert not is_rf_reference("RF19 5390 0754 7034")
    for core in ("F2026001", "C12261123", "A"):
        assert is_rf_reference(rf_reference(core))


def test_payment_reference_keeps_a_valid_source_reference_else_derives_one() -> None:
    assert payment_reference("FR", "F-2026-001", "RF18 5390 0754 7034") == "RF18539007547034"
    assert payment_reference("BE", "F-2026-001", "+++010/8068/17183+++") == "+++010/8068/17183+++"
    derived_be = payment_reference("BE", "F-2026-001")
    assert is_belgian_structured(derived_be) and derived_be == belgian_structured("2026001")
    assert payment_reference("FR", "F-2026-001") == rf_reference("F2026001")
    assert payment_reference("FR", "F-2026-001") == payment_reference("FR", "F-2026-001")  # stable
    assert is_rf_reference(payment_reference("FR", "a very long customer key with spaces 123456"))


def test_epc_payload_lines_follow_epc069_12_version_002() -> None:
    payload = epc_payload(name="Atelier Dupont SARL", iban="FR76 3000 6000 0112 3456 7890 189", bic="BNPAFRPP",
                          amount=Decimal("1259.975"), reference="RF18 5390 0754 7034")
    lines = payload.split("\n")
    assert lines[0] == "BCD"  # service tag
    assert lines[1] == "002"  # version
    assert lines[2] == "1"  # character set UTF-8
    assert lines[3] == "SCT"  # SEPA credit transfer
    assert lines[4] == "BNPAFRPP"
    assert lines[5] == "Atelier Dupont SARL"
    assert lines[6] == IBAN
    assert lines[7] == "EUR1259.98"  # rounded half-up to the cent, dot separator, no thousands
    assert lines[8] == ""  # purpose
    assert lines[9] == "RF18539007547034"  # structured reference
    assert len(lines) == 10  # no unstructured remittance when a reference is given; trailing empties dropped
    assert len(payload.encode("utf-8")) <= 331


def test_epc_payload_with_a_belgian_communication_and_free_text() -> None:
    structured = epc_payload(name="Dupont", iban="BE68539007547034", amount=Decimal("10"),
                             reference="+++010/8068/17183+++")
    assert structured.split("\n")[9] == "010806817183"
    free = epc_payload(name="Dupont", iban="BE68539007547034", amount=Decimal("10"), remittance="Facture\r\nF-1")
    lines = free.split("\n")
    assert lines[4] == "" and lines[9] == "" and lines[10] == "Facture F-1"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"iban": "FR7630006000011234567890188"}, "IBAN"),
    ({"amount": Decimal("0")}, "amount"),
    ({"amount": Decimal("1000000000")}, "amount"),
    ({"name": ""}, "name"),
])
def test_epc_payload_refuses_what_a_bank_app_would_refuse(kwargs: dict[str, object], words: str) -> None:
    values: dict[str, object] = {"name": "Dupont", "iban": IBAN, "amount": Decimal("10")}
    values.update(kwargs)
    with pytest.raises(PaymentReferenceError, match=words):
        epc_payload(**values)  # type: ignore[arg-type]


def test_iban_check() -> None:
    assert valid_iban(IBAN) and valid_iban("BE68 5390 0754 7034")
    assert not valid_iban("BE68 5390 0754 7035")


def test_the_png_is_the_qr_code_of_the_payload_at_error_level_m() -> None:
    import matplotlib.image as mpimg

    payload = epc_payload(name="Dupont", iban=IBAN, amount=Decimal("99.99"), reference="RF18539007547034")
    png = qr_png(payload, scale=4)
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    expected = segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")
    assert expected.error == "M"
    border, scale = 4, 4
    size = len(expected.matrix)
    for row in range(size):
        for col in range(size):
            y, x = (border + row) * scale + scale // 2, (border + col) * scale + scale // 2
            value = pixels[y, x]
            dark = float(value if pixels.ndim == 2 else value[0]) < 0.5
            assert dark == bool(expected.matrix[row][col]), (row, col)
