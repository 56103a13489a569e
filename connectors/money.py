"""Money: a ``Decimal`` amount with its currency, never a float.  Amounts of different currencies
are never added or compared (:class:`CurrencyMismatchError`); rounding is explicit, half-up to the
cent (:func:`to_cents`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from encours.connectors.parsing import parse_amount

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """Round half-up to the cent, the rounding used everywhere money is shown or compared."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_decimal(text: str | int | float | Decimal, *, what: str = "amount") -> Decimal:
    """:func:`encours.connectors.parsing.parse_amount` (the one amount parser), under its older name."""
    return parse_amount(text, what=what)


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were added or compared."""


#: Upper-case codes already checked by :class:`Money` (a few dozen at most).
_CHECKED_CODES: set[str] = set()


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency (ISO 4217 code)."""

    amount: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if type(self.amount) is not Decimal:
            object.__setattr__(self, "amount", parse_decimal(self.amount))
        if self.currency in _CHECKED_CODES:  # the common case, a code already seen: no more work
            return
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isascii():
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 code")
        if self.currency.isupper():
            _CHECKED_CODES.add(self.currency)
        object.__setattr__(self, "currency", self.currency.upper())

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(Decimal("0"), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def times(self, factor: Decimal) -> Money:
        """Multiply by an exact factor, rounded half-up to the cent."""
        return Money(to_cents(self.amount * factor), self.currency)

    def rounded(self) -> Money:
        return Money(to_cents(self.amount), self.currency)

    def __str__(self) -> str:
        return f"{to_cents(self.amount):.2f} {self.currency}"
