"""What the planner decides: the actions due (with their items and recipients), the skips with their
reasons, each invoice's next action, and the keys that make a step happen once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal
from urllib.parse import quote, unquote

from encours.connectors.model import Money
from encours.scenarios.credits import Credit
from encours.scenarios.loader import Step

#: A key of five parts that quote() leaves as they are (the usual ids, steps, dates), joined by "/".
_PLAIN_KEY = re.compile(r"(?:[A-Za-z0-9_.~-]*/){4}[A-Za-z0-9_.~-]*")

#: What a step key is about: one invoice (target = invoice id) or a customer's account (target = customer id).
KeyLevel = Literal["invoice", "account"]


@dataclass(frozen=True, order=True)
class StepKey:
    """What the journal records as done: one step of one scenario for one invoice or account."""

    level: KeyLevel
    target: str  # invoice id | customer id
    scenario: str
    step: str
    cycle: str = ""

    @property
    def id(self) -> str:
        """One-line form, e.g. ``invoice/F-12/standard/reminder_1/`` (parts percent-encoded)."""
        joined = f"{self.level}/{self.target}/{self.scenario}/{self.step}/{self.cycle}"
        if _PLAIN_KEY.fullmatch(joined):  # one match for the five parts (a part holding "/" makes six)
            return joined
        return "/".join(quote(p, safe="") for p in (self.level, self.target, self.scenario, self.step, self.cycle))

    @classmethod
    def parse(cls, text: str) -> StepKey:
        parts = text.split("/")
        if len(parts) != 5 or parts[0] not in ("invoice", "account"):
            raise ValueError(f"{text!r} is not a step key")
        level: KeyLevel = "account" if parts[0] == "account" else "invoice"
        if "%" not in text:  # nothing percent-encoded (the usual ids, steps, dates): the parts as they are
            return cls(level, parts[1], parts[2], parts[3], parts[4])
        target, scenario, step, cycle = (unquote(p) for p in parts[1:])
        return cls(level, target, scenario, step, cycle)

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True)
class Recipients:
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    reply_to: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class ActionItem:
    """One invoice (or one instalment of its payment plan) in an action."""

    invoice_id: str
    number: str
    issue_date: date
    due_date: date  # the instalment's date for a payment plan
    total: Money
    remaining: Money  # what the invoice still owes
    amount: Money  # what this reminder asks for (the overdue instalments for a payment plan)
    cycle: str = ""
    pdf_url: str = ""
    #: A payment plan's instalments this item asks for: (instalment date, part still unpaid);
    #: late interest runs on each from its own date.
    instalments: tuple[tuple[date, Money], ...] = ()


@dataclass(frozen=True)
class PlannedAction:
    customer_id: str
    customer_name: str
    scenario: str
    step: Step
    channel: str  # the step's channel, or the fallback when the customer has no e-mail
    planned_date: date
    currency: str
    amount: Money
    items: tuple[ActionItem, ...]
    step_keys: tuple[StepKey, ...]
    recipients: Recipients
    language: str
    salesperson: str = ""
    needs_approval: bool = False
    approved: bool = False
    reason: str = ""  # why the channel changed or why approval is needed (French, shown in the sheet)
    #: Credits deducted from what the items owe (``amount`` is the net asked): the message names them.
    credits: tuple[Credit, ...] = ()
    gross: Money | None = None  # what the items owe before the credits, when credits were deducted

    @property
    def invoice_ids(self) -> tuple[str, ...]:
        return tuple(item.invoice_id for item in self.items)

    @property
    def sendable(self) -> bool:
        """Goes out in this run: automatic, or approved in the sheet."""
        return not self.needs_approval or self.approved

    @property
    def key(self) -> str:
        """The action's identity: its step keys' ids, sorted and joined (Message-IDs derive from it)."""
        return " ".join(sorted(k.id for k in self.step_keys))


@dataclass(frozen=True)
class Skip:
    target: str  # invoice id (level invoice) or customer id
    customer_id: str
    reason: str  # a code of REASONS_FR
    detail: str  # human, French
    step_key: StepKey | None = None  # the step concerned, when one is
    level: str = "invoice"


@dataclass(frozen=True)
class NextAction:
    label: str
    date: date | None


@dataclass
class Plan:
    as_of: date
    actions: list[PlannedAction] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    next_actions: dict[str, NextAction] = field(default_factory=dict)
    todo: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sendable(self) -> list[PlannedAction]:
        return [a for a in self.actions if a.sendable]

    @property
    def run_columns(self) -> dict[str, dict[str, Any]]:
        """Invoice id → the ``Factures`` run columns ``next_action`` and ``next_action_date``."""
        return {
            invoice_id: {"next_action": nxt.label, "next_action_date": nxt.date}
            for invoice_id, nxt in self.next_actions.items()
        }
