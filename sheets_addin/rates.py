"""Late-payment interest and the fixed recovery indemnity, France and Belgium (B2B).

The rates come from a dated table shipped in ``sheets_addin/data/rates.toml`` — one entry per
half-year — which a user file may extend or override (:func:`load_rates`).

- France (Code de commerce L441-10): the ECB main refinancing rate + 10 points; for the first
  half-year the rate in force on 1 January, for the second the rate on 1 July.  A contract may
  set another rate but never below 3 × the legal interest rate (``contract_rate`` is floored).
- Belgium (law of 2 August 2002): the ECB rate + 8 points rounded up to the next half point,
  published per half-year (the published figure wins when the table has it).
- Both: a fixed €40 indemnity per late invoice (France D441-5, not subject to VAT).

Computation (the choices, stated): interest runs from the day after the due date up to and
including the payment date (or the as-of date while unpaid), on the amount including VAT rounded
to the cent; the period is split by half-year, each part at its half-year's rate, on a 365-day
year (leap years included); the exact sum is rounded once, half-up to the cent.  Credit notes
and negative amounts bear no interest.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from encours.connectors.model import CENT, to_cents

#: The fixed recovery indemnity per late invoice, in EUR (France D441-5; Belgium law of 2 August 2002).
RECOVERY_INDEMNITY = Decimal("40.00")
COUNTRIES = ("FR", "BE")
YEAR_DAYS = 365
#: Rates are held as integers of 1/10,000 of a percent (4 decimals of a percent) for exact maths.
RATE_SCALE = 10_000
_FR_POINTS = Decimal("10")
_BE_POINTS = Decimal("8")
_HALF = Decimal("0.5")


class RateTableError(ValueError):
    """The rate table (shipped or the user's) cannot be read; the message names the file and entry."""


@dataclass(frozen=True)
class HalfYearRate:
    """The reference rates of one half-year (``start`` is 1 January or 1 July)."""

    start: date
    ecb: Decimal
    legal_fr: Decimal | None = None
    fr_override: Decimal | None = None
    be_override: Decimal | None = None
    carried_forward: bool = False

    @property
    def end(self) -> date:
        """The last day of the half-year."""
        if self.start.month == 1:
            return date(self.start.year, 6, 30)
        return date(self.start.year, 12, 31)

    @property
    def label(self) -> str:
        return f"{'S1' if self.start.month == 1 else 'S2'} {self.start.year}"

    def statutory(self, country: str) -> Decimal:
        """The default late-payment rate (% per year) of this half-year in ``country``."""
        if country == "FR":
            return self.fr_override if self.fr_override is not None else self.ecb + _FR_POINTS
        if country == "BE":
            if self.be_override is not None:
                return self.be_override
            rounded = ((self.ecb + _BE_POINTS) / _HALF).to_integral_value(rounding=ROUND_CEILING) * _HALF
            return rounded.quantize(CENT)
        raise ValueError(f"late-payment interest: country {country!r} is not one of {', '.join(COUNTRIES)}")

    def floor(self, country: str) -> Decimal | None:
        """The lowest rate a contract may set: 3 × the legal interest rate in France, none in Belgium."""
        if country == "FR" and self.legal_fr is not None:
            return 3 * self.legal_fr
        return None


@dataclass(frozen=True)
class RateTable:
    half_years: tuple[HalfYearRate, ...]
    source: str = "shipped table"

    def __post_init__(self) -> None:
        if not self.half_years:
            raise RateTableError(f"{self.source}: the rate table is empty")

    def for_day(self, day: date) -> HalfYearRate:
        """The half-year holding ``day``; after the table's end the last one is carried forward."""
        start = half_year_start(day)
        chosen: HalfYearRate | None = None
        for entry in self.half_years:
            if entry.start == start:
                return entry
            if entry.start < start:
                chosen = entry
        if chosen is None:
            first = self.half_years[0]
            raise RateTableError(
                f"{self.source}: no late-payment rate for {day.isoformat()} "
                f"(the table starts {first.start.isoformat()})"
            )
        return replace(chosen, start=start, carried_forward=True)


def half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def _decimal(value: Any, where: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise RateTableError(f"{where}: {value!r} is not a rate") from None
    if not result.is_finite() or result < 0 or result != result.quantize(Decimal("0.0001")):
        raise RateTableError(f"{where}: {value!r} is not a rate in % with at most 4 decimals")
    return result


def _parse_table(data: Mapping[str, Any], source: str) -> dict[date, HalfYearRate]:
    entries = data.get("half_year", [])
    if not isinstance(entries, list):
        raise RateTableError(f"{source}: [[half_year]] must be a list of tables")
    result: dict[date, HalfYearRate] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: half_year #{number}"
        start = entry.get("start")
        if not isinstance(start, date) or start.day != 1 or start.month not in (1, 7):
            raise RateTableError(f"{where}: start must be a date, 1 January or 1 July (got {start!r})")
        if "ecb" not in entry:
            raise RateTableError(f"{where}: ecb (the ECB main refinancing rate, %) is missing")
        optional = {k: _decimal(entry[k], f"{where}: {k}") for k in ("legal_fr", "fr", "be") if k in entry}
        result[start] = HalfYearRate(
            start=start,
            ecb=_decimal(entry["ecb"], f"{where}: ecb"),
            legal_fr=optional.get("legal_fr"),
            fr_override=optional.get("fr"),
            be_override=optional.get("be"),
            carried_forward=bool(entry.get("carried_forward", False)),
        )
    return result


def load_rates(user_file: Path | None = None) -> RateTable:
    """The shipped table, with the half-years of ``user_file`` (same format) replacing or adding entries."""
    shipped = resources.files("encours.sheets_addin").joinpath("data/rates.toml").read_text(encoding="utf-8")
    table = _parse_table(tomllib.loads(shipped), "sheets_addin/data/rates.toml")
    source = "shipped table"
    if user_file is not None:
        try:
            text = Path(user_file).read_text(encoding="utf-8")
            user = tomllib.loads(text)
        except OSError as exc:
            raise RateTableError(f"{user_file}: cannot read the rate table ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise RateTableError(f"{user_file}: not valid TOML ({exc})") from None
        table.update(_parse_table(user, str(user_file)))
        source = f"shipped table + {user_file}"
    return RateTable(tuple(table[k] for k in sorted(table)), source)


_DEFAULT: RateTable | None = None
#: An environment variable naming a user rate file, for callers without a configuration (the
#: Excel functions); the sync installs ``[interest] rates_file`` with :func:`use_rates_file`.
RATES_FILE_ENV = "ENCOURS_RATES_FILE"


def default_rates() -> RateTable:
    """The table used when none is passed: the shipped one, plus the user's file when one is set."""
    global _DEFAULT
    if _DEFAULT is None:
        user = os.environ.get(RATES_FILE_ENV, "").strip()
        _DEFAULT = load_rates(Path(user) if user else None)
    return _DEFAULT


def use_rates_file(user_file: Path | None) -> RateTable:
    """Make the shipped table + ``user_file`` the default for every later computation."""
    global _DEFAULT
    _DEFAULT = load_rates(user_file)
    return _DEFAULT


@dataclass(frozen=True)
class InterestPart:
    """One half-year slice of an interest period."""

    start: date  # first day bearing interest in this slice
    end: date  # last day (inclusive)
    days: int
    rate: Decimal  # % per year
    carried_forward: bool


@dataclass(frozen=True)
class LateInterest:
    amount: Decimal  # the base, rounded to the cent
    interest: Decimal  # rounded half-up to the cent
    indemnity: Decimal  # €40 when late, else 0
    days: int
    parts: tuple[InterestPart, ...]

    @property
    def carried_forward(self) -> bool:
        """True when a rate was not yet published and the previous half-year's rate was used."""
        return any(p.carried_forward for p in self.parts)


def interest_parts(
    due: date,
    paid_on: date,
    country: str = "FR",
    *,
    rates: RateTable | None = None,
    contract_rate: Decimal | None = None,
) -> tuple[InterestPart, ...]:
    """The days from the day after ``due`` to ``paid_on`` inclusive, split by half-year, each with its rate."""
    country = country.upper()
    if country not in COUNTRIES:
        raise ValueError(f"late-payment interest: country {country!r} is not one of {', '.join(COUNTRIES)}")
    table = rates or default_rates()
    parts: list[InterestPart] = []
    day = due + timedelta(days=1)
    while day <= paid_on:
        entry = table.for_day(day)
        end = min(entry.end, paid_on)
        rate = entry.statutory(country)
        if contract_rate is not None:
            floor = entry.floor(country)
            rate = contract_rate if floor is None else max(contract_rate, floor)
        parts.append(InterestPart(day, end, (end - day).days + 1, rate, entry.carried_forward))
        day = end + timedelta(days=1)
    return tuple(parts)


def _round_half_up_div(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) half away from zero for numerator ≥ 0, in exact integers."""
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)


def late_interest(
    amount: Decimal,
    due: date,
    paid_on: date,
    country: str = "FR",
    *,
    rates: RateTable | None = None,
    contract_rate: Decimal | None = None,
) -> LateInterest:
    """Late-payment interest and indemnity on ``amount`` (incl. VAT) due on ``due``, paid on ``paid_on``.

    Interest = Σ over half-year parts of amount × rate × days ÷ 365, rounded once half-up to the
    cent.  ``paid_on`` is the payment date, or the as-of date for an invoice still unpaid.
    """
    base = to_cents(amount)
    parts = interest_parts(due, paid_on, country, rates=rates, contract_rate=contract_rate)
    days = sum(p.days for p in parts)
    if base <= 0 or days <= 0:
        return LateInterest(base, Decimal("0.00"), Decimal("0.00"), max(days, 0), parts)
    cents = int(base / CENT)
    numerator = sum(cents * int(p.rate * RATE_SCALE) * p.days for p in parts)
    interest_cents = _round_half_up_div(numerator, 100 * RATE_SCALE * YEAR_DAYS)
    return LateInterest(base, Decimal(interest_cents) * CENT, RECOVERY_INDEMNITY, days, parts)


def recovery_indemnity(amount: Decimal, due: date, paid_on: date) -> Decimal:
    """€40 per invoice paid (or still unpaid at ``paid_on``) after its due date; 0 otherwise or for credit notes."""
    return RECOVERY_INDEMNITY if amount > 0 and paid_on > due else Decimal("0.00")


def rate_rows(table: RateTable | None = None, countries: Sequence[str] = COUNTRIES) -> list[dict[str, Any]]:
    """The table as plain rows (for the docs, the Apps Script copy and the tests)."""
    rows = []
    for entry in (table or default_rates()).half_years:
        row: dict[str, Any] = {"start": entry.start.isoformat(), "ecb": str(entry.ecb)}
        for country in countries:
            row[country.lower()] = str(entry.statutory(country))
        row["legal_fr"] = None if entry.legal_fr is None else str(entry.legal_fr)
        row["carried_forward"] = entry.carried_forward
        rows.append(row)
    return rows
