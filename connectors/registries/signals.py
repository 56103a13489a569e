"""Registry answers → :class:`RiskSignal`, and what encours does with them.

A signal is one fact about a customer's company: it is active or ceased (Sirene), a collective
proceeding was opened or changed (safeguard, receivership, liquidation), its business was sold,
or it was struck off the register (BODACC).  From the signals of a customer come:

- the ``Alerte`` text of the ``Clients`` tab (:func:`alert_text`);
- a lower payer score with its explanation (:func:`adjust_figures`);
- the customers whose amicable reminders must stop because a proceeding is open
  (:func:`blocked_customers`): the creditor must declare its claim to the court-appointed
  representative within two months of the opening judgment's BODACC publication
  (Code de commerce R622-24), and may no longer be paid by the debtor for earlier debts (L622-7).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from encours.connectors.registries.bodacc import Announcement
from encours.connectors.registries.sirene import CompanyRecord

Day = date  # the field RiskSignal.date shadows the type name inside the class body


class SignalKind(enum.StrEnum):
    ACTIVE = "active"
    CEASED = "ceased"
    SAFEGUARD = "safeguard"
    RECEIVERSHIP = "receivership"
    LIQUIDATION = "liquidation"
    SALE = "sale"
    CLOSURE = "closure"


#: How the sheet and the report name each kind.
KIND_LABELS = {
    SignalKind.ACTIVE: "Active",
    SignalKind.CEASED: "Entreprise cessée",
    SignalKind.SAFEGUARD: "Procédure de sauvegarde",
    SignalKind.RECEIVERSHIP: "Redressement judiciaire",
    SignalKind.LIQUIDATION: "Liquidation judiciaire",
    SignalKind.SALE: "Vente du fonds",
    SignalKind.CLOSURE: "Radiation du RCS",
}

PROCEEDINGS = (SignalKind.SAFEGUARD, SignalKind.RECEIVERSHIP, SignalKind.LIQUIDATION)

#: Highest payer score a customer keeps under each signal, and the profile it falls to at least.
SCORE_CAPS: dict[SignalKind, tuple[int, str]] = {
    SignalKind.LIQUIDATION: (0, "D"),
    SignalKind.RECEIVERSHIP: (15, "D"),
    SignalKind.CEASED: (10, "D"),
    SignalKind.CLOSURE: (20, "D"),
    SignalKind.SAFEGUARD: (30, "C"),
    SignalKind.SALE: (50, "C"),
}
PROFILE_ORDER = ("A", "B", "C", "D")

#: A business sale matters to creditors for a while (opposition to the price within ten days of the
#: publication, L141-14); after this many days it no longer shows as an alert.
SALE_ALERT_DAYS = 90
#: Time to declare a claim after the opening judgment's publication in the BODACC (R622-24).
CLAIM_MONTHS = 2


@dataclass(frozen=True)
class RiskSignal:
    """One fact from a public registry about a company (a customer's SIREN).

    ``date`` is the judgment's or event's date when known, else the publication date;
    ``published_on`` the BODACC publication (start of the claim-declaration period);
    ``ended`` is true for a proceeding that closed with the debts settled (plan carried out).
    """

    siren: str
    kind: SignalKind
    date: Day | None
    label: str
    link: str
    fetched_at: datetime
    source: str = ""  # "sirene" | "bodacc"
    court: str = ""
    published_on: Day | None = None
    opening: bool = False  # an opening (or conversion) judgment: starts a claim period
    ended: bool = False

    @property
    def short(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "siren": self.siren,
            "kind": self.kind.value,
            "date": self.date.isoformat() if self.date else None,
            "label": self.label,
            "link": self.link,
            "fetched_at": self.fetched_at.isoformat(),
            "source": self.source,
            "court": self.court,
            "published_on": self.published_on.isoformat() if self.published_on else None,
            "opening": self.opening,
            "ended": self.ended,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskSignal:
        return cls(
            siren=str(data["siren"]),
            kind=SignalKind(data["kind"]),
            date=date.fromisoformat(data["date"]) if data.get("date") else None,
            label=str(data.get("label", "")),
            link=str(data.get("link", "")),
            fetched_at=datetime.fromisoformat(data["fetched_at"]),
            source=str(data.get("source", "")),
            court=str(data.get("court", "")),
            published_on=date.fromisoformat(data["published_on"]) if data.get("published_on") else None,
            opening=bool(data.get("opening", False)),
            ended=bool(data.get("ended", False)),
        )


def fr_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


# -- from registry answers ----------------------------------------------------------------------
def company_signals(company: CompanyRecord, fetched_at: datetime) -> list[RiskSignal]:
    """The Sirene status as one signal: active (with its profile) or ceased (with the date)."""
    details = ", ".join(
        part
        for part in (
            company.legal_form,
            company.headcount,
            f"créée le {fr_date(company.created_on)}" if company.created_on else "",
        )
        if part
    )
    if company.active:
        return [
            RiskSignal(company.siren, SignalKind.ACTIVE, company.created_on,
                       "Active" + (f" ({details})" if details else ""), company.link, fetched_at, "sirene")
        ]
    return [
        RiskSignal(
            company.siren,
            SignalKind.CEASED,
            company.closed_on,
            "Entreprise cessée" + (f" le {fr_date(company.closed_on)}" if company.closed_on else "")
            + " (répertoire Sirene)",
            company.link,
            fetched_at,
            "sirene",
        )
    ]


def _proceeding_kind(text: str) -> SignalKind | None:
    if "liquidation" in text or "rétablissement professionnel" in text:
        return SignalKind.LIQUIDATION
    if "redressement" in text:
        return SignalKind.RECEIVERSHIP
    if "sauvegarde" in text:
        return SignalKind.SAFEGUARD
    return None


def announcement_signal(announcement: Announcement, fetched_at: datetime) -> RiskSignal | None:
    """A BODACC notice as a signal, or ``None`` for notices that say nothing about risk
    (registrations, ordinary changes, filed accounts, cancellation notices)."""
    if announcement.cancels:
        return None
    family = announcement.family.casefold()
    family_label = announcement.family_label.casefold()

    def make(kind: SignalKind, label: str, *, opening: bool = False, ended: bool = False) -> RiskSignal:
        return RiskSignal(
            siren=announcement.siren,
            kind=kind,
            date=announcement.judgment_date or announcement.published_on,
            label=label,
            link=announcement.url,
            fetched_at=fetched_at,
            source="bodacc",
            court=announcement.court,
            published_on=announcement.published_on,
            opening=opening,
            ended=ended,
        )

    if family == "collective" or "procédure" in family_label:
        text = " ".join(
            (announcement.judgment_nature, announcement.judgment_family, announcement.judgment_text)
        ).casefold()
        kind = _proceeding_kind(text)
        if kind is None:
            return None
        opening = any(word in text for word in ("ouverture", "prononçant la liquidation", "conversion"))
        ended = "extinction du passif" in text or ("clôture" in text and kind is not SignalKind.LIQUIDATION)
        label = announcement.judgment_nature or KIND_LABELS[kind]
        return make(kind, label, opening=opening, ended=ended)
    if family == "vente" or "vente" in family_label:
        return make(SignalKind.SALE, "Vente du fonds publiée au BODACC")
    if family == "radiation" or "radiation" in family_label:
        return make(SignalKind.CLOSURE, "Radiation du RCS publiée au BODACC")
    return None


def registry_signals(
    company: CompanyRecord | None, announcements: Iterable[Announcement], fetched_at: datetime
) -> list[RiskSignal]:
    """Every signal for one SIREN, oldest first."""
    signals = company_signals(company, fetched_at) if company is not None else []
    for announcement in announcements:
        signal = announcement_signal(announcement, fetched_at)
        if signal is not None:
            signals.append(signal)
    return sorted(signals, key=_order)


def _order(signal: RiskSignal) -> tuple[date, int]:
    return (signal.date or signal.published_on or date.min, 0 if signal.kind is SignalKind.ACTIVE else 1)


# -- what the signals mean ----------------------------------------------------------------------
def open_proceeding(signals: Sequence[RiskSignal]) -> RiskSignal | None:
    """The latest proceeding judgment when the proceeding is not over, else ``None``."""
    proceedings = sorted((s for s in signals if s.kind in PROCEEDINGS), key=_order)
    if not proceedings or proceedings[-1].ended:
        return None
    return proceedings[-1]


def headline(signals: Sequence[RiskSignal], as_of: date) -> RiskSignal | None:
    """The one signal a person must see first, or ``None`` when there is nothing to worry about."""
    proceeding = open_proceeding(signals)
    if proceeding is not None:
        return proceeding
    for kind in (SignalKind.CEASED, SignalKind.CLOSURE):
        found = [s for s in signals if s.kind is kind]
        if found:
            return sorted(found, key=_order)[-1]
    sales = [
        s for s in signals
        if s.kind is SignalKind.SALE and s.date is not None and (as_of - s.date).days <= SALE_ALERT_DAYS
    ]
    return sorted(sales, key=_order)[-1] if sales else None


def alert_text(signals: Sequence[RiskSignal], as_of: date) -> str:
    """The ``Alerte`` cell: what, when, and the link to the notice ("" when all is well)."""
    signal = headline(signals, as_of)
    if signal is None:
        return ""
    label = signal.label
    if not label.casefold().startswith(signal.short.casefold()):
        label = f"{signal.short} ({label[:1].lower()}{label[1:]})"
    parts = [label]
    if signal.date:
        parts.append(fr_date(signal.date))
    if signal.link:
        parts.append(signal.link)
    return " — ".join(parts)


def claim_deadline(signals: Sequence[RiskSignal]) -> date | None:
    """Last day to declare a claim: two months after the latest opening judgment's publication."""
    openings = [s for s in signals if s.kind in PROCEEDINGS and s.opening and (s.published_on or s.date)]
    if not openings:
        return None
    latest = max(openings, key=lambda s: s.published_on or s.date or date.min)
    start = latest.published_on or latest.date
    assert start is not None
    return add_months(start, CLAIM_MONTHS)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


@dataclass(frozen=True)
class ClaimDeclaration:
    """Why a customer's amicable reminders stop, and what to do instead."""

    customer_id: str
    signal: RiskSignal
    deadline: date | None

    @property
    def reason(self) -> str:
        opened = f" ({fr_date(self.signal.date)})" if self.signal.date else ""
        court = f", {self.signal.court}" if self.signal.court else ""
        todo = "déclarer la créance au mandataire judiciaire"
        if self.deadline is not None:
            todo += f" avant le {fr_date(self.deadline)}"
        return f"{self.signal.short}{opened}{court} : relances amiables arrêtées — {todo}"

    @property
    def next_action(self) -> str:
        """The text for ``Prochaine action``."""
        text = "Déclarer la créance au mandataire judiciaire"
        return text + (f" avant le {fr_date(self.deadline)}" if self.deadline else "")


def claim_declarations(signals_by_customer: Mapping[str, Sequence[RiskSignal]]) -> dict[str, ClaimDeclaration]:
    """Customers under an open collective proceeding, with the claim deadline."""
    out: dict[str, ClaimDeclaration] = {}
    for customer_id, signals in signals_by_customer.items():
        proceeding = open_proceeding(signals)
        if proceeding is not None:
            out[customer_id] = ClaimDeclaration(customer_id, proceeding, claim_deadline(signals))
    return out


def blocked_customers(signals_by_customer: Mapping[str, Sequence[RiskSignal]]) -> dict[str, str]:
    """customer id → why amicable reminders must stop (an open safeguard, receivership or liquidation).

    The scenario planner takes this as an input: no amicable step for these customers; their next
    action is declaring the claim (the reason says so, with the deadline).
    """
    return {cid: declaration.reason for cid, declaration in claim_declarations(signals_by_customer).items()}


def adjust_figures(figures: Any, signals: Sequence[RiskSignal], as_of: date) -> Any:
    """Lower a customer's payer score under a registry signal and say why in ``reason``.

    ``figures`` is a :class:`encours.sheets_addin.view.CustomerFigures` (any frozen dataclass with
    ``score``, ``profile`` and ``reason``); the same object comes back when nothing applies.  A
    customer without a score (too little history) gets the cap as its score.
    """
    signal = headline(signals, as_of)
    if signal is None or signal.kind not in SCORE_CAPS:
        return figures
    cap, floor_profile = SCORE_CAPS[signal.kind]
    score = cap if figures.score is None else min(int(figures.score), cap)
    profile = figures.profile or floor_profile
    if profile not in PROFILE_ORDER or PROFILE_ORDER.index(profile) < PROFILE_ORDER.index(floor_profile):
        profile = floor_profile
    when = f" le {fr_date(signal.date)}" if signal.date else ""
    source = "BODACC" if signal.source == "bodacc" else "répertoire Sirene"
    why = f"{signal.short}{when} ({source}) : score plafonné à {cap}"
    reason = f"{why}. {figures.reason}" if figures.reason else why
    return replace(figures, score=score, profile=profile, reason=reason)


def risk_lines(signals_by_customer: Mapping[str, Sequence[RiskSignal]], as_of: date) -> dict[str, RiskSignal]:
    """customer id → its headline signal, for the customers that have one (the report's list)."""
    out: dict[str, RiskSignal] = {}
    for customer_id, signals in signals_by_customer.items():
        signal = headline(signals, as_of)
        if signal is not None:
            out[customer_id] = signal
    return out


__all__ = [
    "KIND_LABELS",
    "ClaimDeclaration",
    "RiskSignal",
    "SignalKind",
    "adjust_figures",
    "alert_text",
    "announcement_signal",
    "blocked_customers",
    "claim_deadline",
    "claim_declarations",
    "company_signals",
    "headline",
    "open_proceeding",
    "registry_signals",
    "risk_lines",
]
