"""Refresh customers' risk signals from the public registries, at most once a week each.

Each SIREN is looked up (company status, then BODACC notices) when its last successful check is
older than ``[risk] max_age_days`` (7 by default); the answer is kept in the state store
(``risk_checks``).  Both APIs are paced within their published limits.  When a registry cannot be
reached the refresh stops asking, keeps the signals it had, and says they are stale — the sync
goes on.

``[risk]`` in encours.toml::

    [risk]
    enabled = true
    sirene_base_url = "https://recherche-entreprises.api.gouv.fr"
    bodacc_base_url = "https://bodacc-datadila.opendatasoft.com"
    max_age_days = 7
    max_lookups = 300        # SIRENs looked up per sync at most; the rest wait for the next one
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from encours.connectors.model import Customer, Ledger
from encours.connectors.registries.bodacc import DEFAULT_BASE_URL as BODACC_URL
from encours.connectors.registries.bodacc import BodaccClient
from encours.connectors.registries.client import RegistryError, RegistryUnavailableError
from encours.connectors.registries.signals import (
    ClaimDeclaration,
    RiskSignal,
    adjust_figures,
    alert_text,
    claim_declarations,
    fr_date,
    registry_signals,
)
from encours.connectors.registries.sirene import DEFAULT_BASE_URL as SIRENE_URL
from encours.connectors.registries.sirene import CompanyRecord, SireneClient, normalise_siren
from encours.scenarios.planner import NextAction, Plan, Skip
from encours.sheets_addin.view import CustomerFigures
from encours.sync.config import Config
from encours.sync.labels import pass_text
from encours.sync.settings import RiskSettings
from encours.sync.state import StateStore
from encours.sync.task_labels import task_action


def risk_settings(config: Config) -> RiskSettings:
    """``[risk]`` of the configuration (every key optional, validated at load)."""
    return config.settings.risk


@dataclass(frozen=True)
class SirenCheck:
    """What the state store holds for one SIREN."""

    siren: str
    checked_at: datetime | None
    known: bool
    company_name: str
    signals: tuple[RiskSignal, ...]
    last_error: str = ""
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class RiskRefresh:
    """The outcome of a refresh: every customer's signals, and what could not be refreshed."""

    signals: dict[str, tuple[RiskSignal, ...]]  # customer id → signals, oldest first
    checks: dict[str, SirenCheck]  # SIREN → stored check
    looked_up: int = 0  # SIRENs asked to the registries this time
    requests: int = 0  # HTTP requests made this time
    stale: tuple[str, ...] = ()  # SIRENs due for a check that could not be refreshed
    unknown: tuple[str, ...] = ()  # SIRENs the company registry does not know
    invalid: tuple[str, ...] = ()  # customer ids whose SIREN is malformed
    errors: tuple[str, ...] = ()
    customer_sirens: dict[str, str] = field(default_factory=dict)

    @property
    def is_stale(self) -> bool:
        return bool(self.stale)

    def notes(self) -> tuple[str, ...]:
        """Lines for the sheet's notes and the sync's log."""
        lines: list[str] = []
        if self.stale:
            oldest = [c.checked_at for s in self.stale if (c := self.checks.get(s)) and c.checked_at]
            since = pass_text("risk_stale_since", day=fr_date(min(oldest).date())) if oldest else ""
            lines.append(pass_text("risk_stale", count=len(self.stale), since=since))
        if self.unknown:
            lines.append(pass_text("risk_unknown", sirens=", ".join(self.unknown)))
        if self.invalid:
            lines.append(pass_text("risk_invalid", customers=", ".join(self.invalid)))
        return tuple(lines)

    def blocked(self) -> dict[str, str]:
        """customer id → why amicable reminders stop (for the scenario planner)."""
        return {cid: claim_reason(declaration) for cid, declaration in claim_declarations(self.signals).items()}


# -- the store ----------------------------------------------------------------------------------
def _load_check(row: Sequence[object]) -> SirenCheck:
    siren, checked_at, known, company, signals, last_error, last_error_at = row
    name = ""
    if isinstance(company, str) and company:
        name = str(json.loads(company).get("name", ""))
    return SirenCheck(
        siren=str(siren),
        checked_at=datetime.fromisoformat(str(checked_at)) if checked_at else None,
        known=bool(known),
        company_name=name,
        signals=tuple(RiskSignal.from_dict(item) for item in json.loads(str(signals or "[]"))),
        last_error=str(last_error or ""),
        last_error_at=datetime.fromisoformat(str(last_error_at)) if last_error_at else None,
    )


def stored_checks(store: StateStore) -> dict[str, SirenCheck]:
    rows = store.db.execute(
        "SELECT siren, checked_at, known, company, signals, last_error, last_error_at FROM risk_checks"
    ).fetchall()
    return {str(row[0]): _load_check(row) for row in rows}


def _save_check(
    store: StateStore, siren: str, now: datetime, company: CompanyRecord | None, signals: Sequence[RiskSignal]
) -> None:
    company_json = None
    if company is not None:
        company_json = json.dumps(
            {
                "name": company.name,
                "active": company.active,
                "created_on": company.created_on.isoformat() if company.created_on else None,
                "closed_on": company.closed_on.isoformat() if company.closed_on else None,
                "legal_form_code": company.legal_form_code,
                "headcount_code": company.headcount_code,
            },
            ensure_ascii=False,
        )
    with store.transaction() as db:
        db.execute(
            "INSERT INTO risk_checks (siren, checked_at, known, company, signals, last_error, last_error_at) "
            "VALUES (?, ?, ?, ?, ?, NULL, NULL) ON CONFLICT (siren) DO UPDATE SET checked_at = excluded.checked_at, "
            "known = excluded.known, company = excluded.company, signals = excluded.signals, "
            "last_error = NULL, last_error_at = NULL",
            (
                siren,
                now.isoformat(),
                1 if company is not None else 0,
                company_json,
                json.dumps([s.to_dict() for s in signals], ensure_ascii=False),
            ),
        )


def _save_error(store: StateStore, siren: str, now: datetime, message: str) -> None:
    with store.transaction() as db:
        db.execute(
            "INSERT INTO risk_checks (siren, last_error, last_error_at) VALUES (?, ?, ?) "
            "ON CONFLICT (siren) DO UPDATE SET last_error = excluded.last_error, "
            "last_error_at = excluded.last_error_at",
            (siren, message, now.isoformat()),
        )


# -- the refresh --------------------------------------------------------------------------------
def customer_sirens(customers: Iterable[Customer]) -> tuple[dict[str, str], list[str]]:
    """customer id → normalised SIREN, and the ids of customers whose SIREN is malformed."""
    sirens: dict[str, str] = {}
    invalid: list[str] = []
    for customer in customers:
        if not customer.siren.strip():
            continue
        siren = normalise_siren(customer.siren)
        if siren:
            sirens[customer.id] = siren
        else:
            invalid.append(customer.id)
    return sirens, invalid


def _due(check: SirenCheck | None, now: datetime, max_age: timedelta) -> bool:
    return check is None or check.checked_at is None or now - check.checked_at >= max_age


def refresh_risk(
    store: StateStore,
    customers: Iterable[Customer],
    settings: RiskSettings,
    *,
    now: datetime,
    sirene: SireneClient | None = None,
    bodacc: BodaccClient | None = None,
) -> RiskRefresh:
    """Look up the SIRENs due for a check, store the answers, return every customer's signals.

    Never raises for a registry failure: an unreachable registry (timeout, connection error,
    5xx, repeated 429) stops the lookups for this run and the SIRENs left are reported stale;
    an unusable answer for one SIREN is recorded in ``errors`` and the others go on.
    """
    sirens, invalid = customer_sirens(customers)
    checks = stored_checks(store)
    max_age = timedelta(days=settings.max_age_days)
    wanted = {s for s in sirens.values() if _due(checks.get(s), now, max_age)} if settings.enabled else set()
    def last_checked(siren: str) -> str:
        check = checks.get(siren)
        return check.checked_at.isoformat() if check is not None and check.checked_at is not None else ""

    due = sorted(wanted, key=lambda s: (last_checked(s), s))
    errors: list[str] = []
    failed: list[str] = []
    looked_up = 0
    requests_before = 0
    if settings.enabled and due:
        sirene = sirene or SireneClient(settings.sirene_base_url or SIRENE_URL, timeout=settings.timeout)
        bodacc = bodacc or BodaccClient(settings.bodacc_base_url or BODACC_URL, timeout=settings.timeout)
        requests_before = sirene.pacer.requests + bodacc.pacer.requests
        for index, siren in enumerate(due):
            if looked_up >= settings.max_lookups:
                break  # the rest waits for the next sync; not stale yet unless already overdue
            looked_up += 1
            try:
                company = sirene.lookup(siren)
                announcements = bodacc.announcements(siren)
            except RegistryUnavailableError as exc:
                message = str(exc)
                errors.append(message)
                _save_error(store, siren, now, message)
                failed.extend(due[index:])
                break
            except RegistryError as exc:
                message = str(exc)
                errors.append(message)
                _save_error(store, siren, now, message)
                failed.append(siren)
                continue
            _save_check(store, siren, now, company, registry_signals(company, announcements, now))
        requests_made = sirene.pacer.requests + bodacc.pacer.requests - requests_before
    else:
        requests_made = 0
    checks = stored_checks(store)
    # Stale: due for a check and not refreshed because a registry failed.
    stale = tuple(sorted(set(failed)))
    unknown = tuple(
        sorted({s for s in sirens.values() if s in checks and checks[s].checked_at and not checks[s].known})
    )
    signals = {cid: checks[s].signals if s in checks else () for cid, s in sirens.items()}
    return RiskRefresh(
        signals={cid: sig for cid, sig in signals.items() if sig},
        checks=checks,
        looked_up=looked_up,
        requests=requests_made,
        stale=stale,
        unknown=unknown,
        invalid=tuple(sorted(invalid)),
        errors=tuple(errors),
        customer_sirens=sirens,
    )


def load_risk(store: StateStore, customers: Iterable[Customer]) -> RiskRefresh:
    """The stored signals, without asking the registries (reports, dry runs)."""
    return refresh_risk(store, customers, RiskSettings(enabled=False), now=datetime(1970, 1, 1, tzinfo=UTC))


def refresh_for_config(
    config: Config, store: StateStore, customers: Iterable[Customer], *, now: datetime
) -> RiskRefresh:
    """:func:`refresh_risk` with the configured ``[risk]`` settings (what the sync calls)."""
    return refresh_risk(store, customers, risk_settings(config), now=now)


# -- what the sync does with them ---------------------------------------------------------------
def apply_risk(
    figures: Mapping[str, CustomerFigures], refresh: RiskRefresh, as_of: date
) -> dict[str, CustomerFigures]:
    """Customer figures with registry signals applied: lowered scores with the reason, and the
    ``Alerte`` text (date and link) — pass the result to ``build_view(figures=...)``."""
    out = dict(figures)
    for customer_id, signals in refresh.signals.items():
        current = out.get(customer_id, CustomerFigures())
        adjusted = adjust_figures(current, signals, as_of)
        alert = alert_text(signals, as_of)
        if alert != getattr(adjusted, "alert", ""):
            adjusted = replace(adjusted, alert=alert)
        out[customer_id] = adjusted
    return out


# -- what the reminder plan does with them ------------------------------------------------------
#: The ``À faire`` action of a customer under proceedings (the run lists these rows as they are).
CLAIM_ACTION = task_action("claim")


def _before(declaration: ClaimDeclaration) -> str:
    return pass_text("claim_before", day=fr_date(declaration.deadline)) if declaration.deadline else ""


def claim_next_action(declaration: ClaimDeclaration) -> str:
    """``Prochaine action`` (and the weekly report's "À faire"): "Déclarer la créance au mandataire
    judiciaire avant le 02/12/2026"."""
    return pass_text("claim_next_action", before=_before(declaration))


def claim_reason(declaration: ClaimDeclaration) -> str:
    """Why amicable reminders stopped, and what to do instead (the planner's skip, ``À faire``)."""
    signal = declaration.signal
    return pass_text("claim_reason", short=signal.short,
                     opened=pass_text("claim_opened", day=fr_date(signal.date)) if signal.date else "",
                     court=pass_text("claim_court", court=signal.court) if signal.court else "",
                     todo=pass_text("claim_todo", before=_before(declaration)))


def with_claim_declarations(plan: Plan, ledger: Ledger, refresh: RiskRefresh) -> Plan:
    """The plan with each open proceeding's customers turned from reminders to claim declaration.

    The planner is called with ``in_recovery`` including :meth:`RiskRefresh.blocked` (so no
    amicable step is planned for them); this replaces their "en recouvrement" next action by
    "Déclarer la créance au mandataire judiciaire avant le …" (the deadline as the action's date)
    and adds one ``À faire`` row per customer with the amount to declare.
    """
    declarations = claim_declarations(refresh.signals)
    if not declarations:
        return plan
    customers = ledger.customer_index()
    next_actions = dict(plan.next_actions)
    skips: list[Skip] = []
    for skip in plan.skips:
        declaration = declarations.get(skip.customer_id)
        if declaration is not None and skip.reason == "in_recovery":
            skip = replace(skip, detail=claim_reason(declaration))
        skips.append(skip)
    todo = list(plan.todo)
    for customer_id, declaration in sorted(declarations.items()):
        invoices = [i for i in ledger.invoices if i.customer_id == customer_id and i.is_open]
        for invoice in invoices:
            if not invoice.is_credit_note:
                next_actions[invoice.id] = NextAction(claim_next_action(declaration), declaration.deadline)
        if not invoices:
            continue
        customer = customers.get(customer_id)
        amounts: dict[str, Decimal] = {}
        for invoice in invoices:
            amounts[invoice.currency] = amounts.get(invoice.currency, Decimal(0)) + invoice.signed_remaining.amount
        for currency, amount in sorted(amounts.items()):
            if amount <= 0:
                continue
            todo.append({
                "salesperson": customer.salesperson if customer else "",
                "date": declaration.deadline or plan.as_of,
                "action": CLAIM_ACTION,
                "customer": customer.name if customer else customer_id,
                "phone": customer.phone if customer else "",
                "invoices": ", ".join(i.number or i.id for i in invoices if not i.is_credit_note),
                "amount": amount,
                "reason": pass_text("claim_detail", reason=claim_reason(declaration), currency=currency,
                                    link=declaration.signal.link).strip(" —"),
            })
    return replace(plan, next_actions=next_actions, skips=skips, todo=todo)
