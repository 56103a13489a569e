"""Amounts and dates written the way each language writes them (fr, nl, en), for templates.

``1234.5 EUR`` → fr ``1 234,50 €``, nl ``€ 1.234,50``, en ``€1,234.50``; dates ``23/11/2026``
(fr, nl: ``23-11-2026``) or ``23 November 2026`` in long form.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import jinja2

from encours.connectors.model import Money, to_cents

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}

MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def _group(digits: str, sep: str) -> str:
    out: list[str] = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return sep.join(out)


def format_money(value: Money | Decimal, language: str = "fr", currency: str = "EUR") -> str:
    """An amount for people: two decimals, the language's separators, the currency symbol."""
    if isinstance(value, Money):
        amount, currency = value.amount, value.currency
    else:
        amount = value
    amount = to_cents(Decimal(amount))
    sign = "-" if amount < 0 else ""
    whole, _, cents = f"{abs(amount):.2f}".partition(".")
    symbol = _SYMBOLS.get(currency, currency)
    if language == "en":
        return f"{sign}{symbol}{_group(whole, ',')}.{cents}" if len(symbol) == 1 else \
            f"{sign}{_group(whole, ',')}.{cents} {symbol}"
    if language == "nl":
        return f"{sign}{symbol} {_group(whole, '.')},{cents}"
    return f"{sign}{_group(whole, NARROW_NBSP)},{cents}{NBSP}{symbol}"


def format_date(value: date | None, language: str = "fr", long: bool = False) -> str:
    if value is None:
        return ""
    if long:
        month = MONTHS.get(language, MONTHS["fr"])[value.month - 1]
        if language == "en":
            return f"{value.day} {month} {value.year}"
        day = "1er" if language == "fr" and value.day == 1 else str(value.day)
        return f"{day} {month} {value.year}"
    if language == "nl":
        return value.strftime("%d-%m-%Y")
    return value.strftime("%d/%m/%Y")


def format_percent(value: Decimal, language: str = "fr") -> str:
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    if language in ("fr", "nl"):
        text = text.replace(".", ",")
    return f"{text}\u00a0%" if language == "fr" else f"{text}%"


_ELIDES = "aeiouyhàâäéèêëîïôöùûüÿæœAEIOUYHÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÆŒ"


def with_de(name: str) -> str:
    """French "de" before a name, elided before a vowel or an h: "d'Ancien", "de Dupont"."""
    name = name.strip()
    return f"d'{name}" if name[:1] in _ELIDES else f"de {name}"


def install_filters(env: jinja2.Environment) -> None:
    """``money``, ``day`` (short date), ``longdate`` and ``percent`` filters; each takes the language.
    ``de`` puts French "de"/"d'" before a name."""
    filters: dict[str, Any] = {
        "de": with_de,
        "money": format_money,
        "day": format_date,
        "longdate": lambda value, language="fr": format_date(value, language, long=True),
        "percent": format_percent,
    }
    env.filters.update(filters)
