"""Customers' plans kept between passes: a pass plans again only the customers something happened to
(issue 17, "the plan updated for the invoices and customers that changed or whose planned date arrived").

A customer's plan is a pure function of its book and the dossier's rules on a day, and holds from the
day it was planned until its first crossing (:mod:`encours.scenarios.customer_plan`).  So each pass
that plans keeps, per customer, the digest of the book it planned from (its records' stored texts,
its marks in the sheet, the steps the journal holds as done for it, its approvals used, recovery,
payer profile) together with the rules' digest (scenarios, company settings, encours's own code),
the day planned, the first crossing and the plan (table ``customer_plans``).  The next pass takes a
customer's kept plan when its book has that digest and the day lies before the crossing; every
other customer — a payment arrived, a person typed a promise, a reminder was sent, a step fell
due — is planned again.

A kept plan is never trusted beyond its digest: any difference in what the planner would read, or in
encours's code, plans the customer again; a row that cannot be read is planned again too.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from encours.connectors import codec
from encours.connectors.codec import TextMemo
from encours.scenarios.customer_plan import CustomerBook, CustomerPlan, PlanRules
from encours.sync.state import StateStore
from encours.sync.unchanged import code_stamp

#: Bump when what a kept plan holds, or what its digest covers, changes.
FORMAT = "2"
#: An environment variable that turns kept plans off: every customer planned on every pass.
DISABLE_ENV = "ENCOURS_NO_PLAN_MEMORY"


def rules_digest(rules: PlanRules) -> str:
    """What every customer's plan shares: the scenarios (their steps, not their templates: a plan
    names steps, it renders nothing), the company's settings, the default and profile scenarios, and
    encours's code."""
    parts = (FORMAT, code_stamp(), sorted(rules.scenarios.items()), rules.company, rules.default_scenario,
             sorted(rules.profile_scenarios.items()))
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


def book_digest(book: CustomerBook, texts: TextMemo, rules: str) -> str:
    """The digest of everything the planner reads about the customer: its records by their JSON text
    (the state file's own, for records read from it), the rest by its ``repr``, in a fixed order."""
    text = texts.text
    marks = book.marks
    rest = (book.customer_id, book.paid_on, sorted(book.credited), sorted(marks.invoices.items()),
            sorted(marks.customers.items()), marks.payment_plans, book.done, sorted(book.used_approvals),
            book.in_recovery, book.profile)
    parts = [rules, f"C{len(book.invoices)}:{len(book.held)}", "-" if book.customer is None else text(book.customer),
             *map(text, book.invoices), *map(text, book.held), repr(rest)]
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=20).hexdigest()  # JSON text has no NUL


@dataclass
class _Row:
    book: str
    planned_on: date
    until: date | None
    text: str | None = None
    plan: CustomerPlan | None = None


class PlanMemory:
    """The kept plans of one dossier (:class:`~encours.scenarios.planner.PlanReuse` over its state
    file).  ``kept`` reads them once per store; plans made are kept in memory at once (the pass's
    second plan, after sending, reuses them) and written by :meth:`save`."""

    def __init__(self, store: StateStore, rules: str) -> None:
        """``rules``: :func:`rules_digest` of the rules the plans are made under."""
        self._store = store
        self._rules = rules
        self._rows: dict[str, _Row] | None = None
        self._digests: dict[str, str] = {}  # customer id → digest of the book last asked about
        self._unsaved: set[str] = set()
        self._seen: set[str] = set()
        self.reused = 0
        self.replanned = 0

    def _known(self) -> dict[str, _Row]:
        if self._rows is None:
            self._rows = {cid: _Row(book, date.fromisoformat(on), None if until is None else date.fromisoformat(until),
                                    text)
                          for cid, book, on, until, text in self._store.db.execute(
                              "SELECT customer_id, book, planned_on, until, plan FROM customer_plans")}
        return self._rows

    def kept(self, books: Sequence[CustomerBook], as_of: date) -> Mapping[str, CustomerPlan]:
        rows = self._known()
        texts = self._store.texts
        found: dict[str, CustomerPlan] = {}
        to_decode: list[tuple[str, _Row]] = []
        for book in books:
            digest = book_digest(book, texts, self._rules)
            self._digests[book.customer_id] = digest
            self._seen.add(book.customer_id)
            row = rows.get(book.customer_id)
            if row is None or row.book != digest or row.planned_on > as_of or (row.until is not None
                                                                               and as_of >= row.until):
                continue
            if row.plan is not None:
                found[book.customer_id] = row.plan
            else:
                to_decode.append((book.customer_id, row))
        if to_decode:
            for (customer_id, row), part in zip(to_decode, _decoded([r.text or "" for _, r in to_decode]),
                                                strict=True):
                if part is not None and part.customer_id == customer_id:
                    row.plan = part
                    found[customer_id] = part
        self.reused += len(found)
        return found

    def planned(self, made: Sequence[tuple[CustomerBook, CustomerPlan]]) -> None:
        rows = self._known()
        texts = self._store.texts
        for book, part in made:
            digest = self._digests.get(book.customer_id) or book_digest(book, texts, self._rules)
            rows[book.customer_id] = _Row(digest, part.planned_on, part.until, None, part)
            self._unsaved.add(book.customer_id)
        self.replanned += len(made)

    def save(self) -> None:
        """Write the plans made since the last save (and forget the customers no pass sees any more)."""
        rows = self._known()
        gone = [cid for cid in rows if cid not in self._seen] if self._seen else []
        if not self._unsaved and not gone:
            return
        written = []
        for cid in sorted(self._unsaved):
            row = rows[cid]
            assert row.plan is not None
            written.append((cid, row.book, row.planned_on.isoformat(),
                            None if row.until is None else row.until.isoformat(), codec.dumps(row.plan)))
        with self._store.transaction() as db:
            db.executemany("INSERT INTO customer_plans (customer_id, book, planned_on, until, plan) "
                           "VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET book = excluded.book, "
                           "planned_on = excluded.planned_on, until = excluded.until, plan = excluded.plan", written)
            db.executemany("DELETE FROM customer_plans WHERE customer_id = ?", ((cid,) for cid in gone))
        for cid in gone:
            del rows[cid]
        self._unsaved.clear()


def _decoded(texts: list[str]) -> list[CustomerPlan | None]:
    """Kept plans read back; one that does not read (a damaged row) is None: planned again."""
    try:
        return list(codec.loads_many(CustomerPlan, texts))
    except (ValueError, TypeError, KeyError, json.JSONDecodeError):
        out: list[CustomerPlan | None] = []
        for text in texts:
            try:
                out.append(codec.loads(CustomerPlan, text))
            except (ValueError, TypeError, KeyError):
                out.append(None)
        return out


_MEMORIES: weakref.WeakKeyDictionary[StateStore, dict[str, PlanMemory]] = weakref.WeakKeyDictionary()


def memory_for(store: StateStore, rules: PlanRules) -> PlanMemory:
    """The dossier's kept plans for these rules, one per open store (the pass plans twice when it
    sent something: the second plan reuses what the first made)."""
    memories = _MEMORIES.setdefault(store, {})
    digest = rules_digest(rules)
    if digest not in memories:
        memories[digest] = PlanMemory(store, digest)
    return memories[digest]


def enabled() -> bool:
    """Kept plans are used unless ``ENCOURS_NO_PLAN_MEMORY`` is set (tests comparing with and without)."""
    return not os.environ.get(DISABLE_ENV)
