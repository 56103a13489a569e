"""The one dossier pipeline: assemble a dossier's state once, derive its plan once.

``encours sync``, ``run``, ``preview``, ``report`` and ``export-case`` all see a dossier through
:func:`assemble` — the stored ledger with the pulled changes applied (:meth:`Ledger.apply`), what
people marked in the sheet, the scores with their disputes and broken promises, the registry
risk, the scenarios, the sender and the journal — and plan through :func:`plan_for`.  So a
preview shows what the run would send (a customer in receivership gets no reminder in either),
and the sheet, the report and the zip handed to an agency agree on every figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from encours.connectors.memory import without_cycle_collection
from encours.connectors.model import Delta, Invoice, Ledger
from encours.connectors.quarantine import Hold, source_holds
from encours.scenarios.company import CompanySettings
from encours.scenarios.customer_plan import PlanRules
from encours.scenarios.planner import Plan, plan
from encours.scenarios.setup import ScenarioSetup
from encours.sheets_addin.functions import ReceivablesKpis, sync_figures
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import CustomerFigures
from encours.sync.company import company_settings, scenarios_for
from encours.sync.config import Config
from encours.sync.journal import Journal
from encours.sync.plan_memory import enabled as plans_kept
from encours.sync.plan_memory import memory_for
from encours.sync.redact import secret_values
from encours.sync.risk import RiskRefresh, apply_risk, load_risk, refresh_for_config, with_claim_declarations
from encours.sync.source_holds import with_source_holds
from encours.sync.state import StateStore
from encours.sync.task_book import TaskBook, held_marks, read_book, relabel
from encours.sync.task_store import TaskStore


class Refetcher(Protocol):
    def refetch_invoice(self, invoice_id: str) -> Invoice | None: ...


@dataclass(frozen=True)
class DossierState:
    """Everything a pass knows about one dossier at ``as_of`` — assembled once, read by every command."""

    config: Config
    as_of: date
    now: datetime
    source: str
    delta: Delta
    ledger: Ledger
    marks: SheetMarks
    figures: dict[str, CustomerFigures]  # scores, delays, registry alerts
    kpis: ReceivablesKpis
    risk: RiskRefresh
    journal: Journal
    #: Reminders held while a record of the source cannot be read (customer, payment …).
    holds: tuple[Hold, ...] = ()
    #: ``À faire``: every task, what people ticked ``Fait`` on (read, not yet stored) and what it holds;
    #: ``marks`` above already carries those holds (a promise, a dispute, a payment announced).
    tasks: TaskBook = field(default_factory=lambda: TaskBook([]))
    #: The state file it was read from (its customers' kept plans: :mod:`encours.sync.plan_memory`).
    store: StateStore | None = None

    @property
    def setup(self) -> ScenarioSetup:
        """The dossier's scenarios (loaded and checked once per process: a sync that plans nothing
        never pays for rendering every template)."""
        return scenarios_for(self.config)

    @property
    def company(self) -> CompanySettings:
        return company_settings(self.config)

    @property
    def profiles(self) -> dict[str, str]:
        """customer id → payer profile, for the scenario each customer follows — only customers with
        enough payment history: the others follow ``[scenarios] default``."""
        return {cid: f.profile for cid, f in self.figures.items() if f.profile and f.enough_history}


def mark_counts(ledger: Ledger, marks: SheetMarks | None, as_of: date) -> tuple[dict[str, int], dict[str, int]]:
    """Per customer: open invoices people marked disputed (``Litige``), and broken promises
    (a ``Promesse (date)`` already past with the invoice still open) — inputs of the payer score."""
    disputes: dict[str, int] = {}
    broken: dict[str, int] = {}
    if marks is None:
        return disputes, broken
    for invoice in ledger.invoices:
        mark = marks.invoices.get(invoice.id)
        if mark is None or not invoice.is_open:
            continue
        if mark.dispute:
            disputes[invoice.customer_id] = disputes.get(invoice.customer_id, 0) + 1
        if mark.promise_date is not None and mark.promise_date < as_of:
            broken[invoice.customer_id] = broken.get(invoice.customer_id, 0) + 1
    return disputes, broken


def figures_and_kpis(
    ledger: Ledger, as_of: date, *, marks: SheetMarks | None = None, default_terms: int = 30
) -> tuple[dict[str, CustomerFigures], ReceivablesKpis]:
    """Scores, delays and the dashboard KPIs, the ledger's frames built once."""
    disputes, broken = mark_counts(ledger, marks, as_of)
    return sync_figures(ledger, as_of, disputes=disputes, broken_promises=broken, default_terms=default_terms)


@without_cycle_collection  # the ledger, its figures and tasks all live on: nothing for the collector
def assemble(
    config: Config,
    store: StateStore,
    *,
    as_of: date,
    now: datetime,
    marks: SheetMarks,
    delta: Delta | None = None,
    source: str = "",
    refresh_risk: bool = False,
) -> DossierState:
    """The dossier's state: the stored ledger with ``delta`` applied (nothing committed), ``marks``
    read from the sheet (with what people finished in ``À faire`` understood — not stored — and what it
    holds), figures, risk (asked of the registries only when ``refresh_risk``), the
    scenarios, the sender and the journal.  ``delta=None``: the ledger as last synced."""
    changes = delta if delta is not None else Delta(full=False)
    ledger = store.merged_ledger(changes)
    tasks = read_book(TaskStore(store).all(), marks, as_of, now)
    marks = held_marks(marks, tasks.holds)
    risk = (refresh_for_config(config, store, ledger.customers, now=now) if refresh_risk
            else load_risk(store, ledger.customers))
    figures, kpis = figures_and_kpis(ledger, as_of, marks=marks, default_terms=config.payment_terms_days)
    journal = Journal(store, config.dossier, secrets=secret_values(config.raw, config.company.environ),
                      tz=config.timezone)
    return DossierState(
        config=config, as_of=as_of, now=now, source=source, delta=changes, ledger=ledger, marks=marks,
        figures=apply_risk(figures, risk, as_of), kpis=kpis, risk=risk, journal=journal, tasks=tasks,
        holds=source_holds(store.cache(), config.source.type), store=store,
    )


@without_cycle_collection  # every invoice's candidate and skip lives on in the plan
def plan_for(state: DossierState, *, day: date | None = None, used_approvals: Iterable[str] | None = None,
             keep: bool = False) -> Plan:
    """The plan of the dossier on ``day`` (default: its as-of date).

    Customers in collection or under insolvency proceedings get no amicable reminder: a
    proceeding's next action is declaring the claim to the administrator, with its deadline.
    A customer whose payment, allocation, credit note or own record the source could not map gets
    nothing in that currency until it maps (:mod:`encours.sync.source_holds`).

    Customers nothing happened to keep the plan a pass made before (:mod:`encours.sync.plan_memory`);
    ``keep``: the plans made now are written to the state file for the next pass.
    """
    journal = state.journal
    in_recovery = set(journal.in_recovery()) | set(state.risk.blocked())
    used = set(journal.used_approvals() if used_approvals is None else used_approvals)
    setup = state.setup
    rules = PlanRules(setup.scenarios, state.company, setup.default, setup.profile_scenarios)
    memory = memory_for(state.store, rules) if state.store is not None and plans_kept() else None
    the_plan = plan(
        state.ledger, state.marks, setup.scenarios, day or state.as_of,
        done=journal.done(), company=state.company, profiles=state.profiles,
        profile_scenarios=setup.profile_scenarios, default_scenario=setup.default,
        in_recovery=in_recovery, used_approvals=used, reuse=memory,
    )
    if memory is not None and keep:
        memory.save()
    return relabel(with_source_holds(with_claim_declarations(the_plan, state.ledger, state.risk), state.ledger,
                                     state.holds), state.tasks)


def refetch(
    connector: object, invoice_ids: Iterable[str], known: Mapping[str, Invoice] | None = None
) -> dict[str, Invoice | None]:
    """The invoices as the source has them now — in one or a few requests when the connector reads
    in batches (``refetch_invoices``), else one by one.  An id the source no longer knows maps to None.

    A batch answer may name ids ``unchanged`` since the pass's own pull (Sage, which cannot filter
    by id, asks what changed since): those are the pass's ``known`` copy; without it, None."""
    ids = list(dict.fromkeys(invoice_ids))
    if not ids:
        return {}
    batch = getattr(connector, "refetch_invoices", None)
    if callable(batch):
        answer = batch(ids)
        found: dict[str, Invoice | None] = dict(answer)
        unchanged: frozenset[str] = getattr(answer, "unchanged", frozenset())
        return {i: found[i] if i in found else (known or {}).get(i) if i in unchanged else None for i in ids}
    single: Refetcher = connector  # type: ignore[assignment]
    return {i: single.refetch_invoice(i) for i in ids}
