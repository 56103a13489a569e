"""The state file's schema: the named migrations, applied in order, each once (by
:class:`encours.sync.state.StateStore`).  The journal's and the tasks' tables are described with
their code (:mod:`encours.sync.journal_schema`, :mod:`encours.sync.task_schema`) and listed here in
the order they shipped."""

from __future__ import annotations

from encours.sync.journal_schema import JOURNAL_MIGRATION, JOURNAL_WALL_CLOCK_MIGRATION
from encours.sync.task_schema import TASKS_MIGRATION

#: Named migrations, applied in this order, each once, each in a transaction with its record.
#: Add new ones at the end with a new name; never edit one that has shipped.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_core",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE cursors (
            source TEXT PRIMARY KEY,
            cursor TEXT NOT NULL,
            synced_at TEXT NOT NULL
        );
        CREATE TABLE customers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE invoices (
            id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            status TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX invoices_customer ON invoices (customer_id);
        CREATE TABLE payments (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, data TEXT NOT NULL);
        CREATE TABLE cache (
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (namespace, key)
        );
        """,
    ),
    (
        "0300_risk_signals",
        """
        CREATE TABLE risk_checks (
            siren TEXT PRIMARY KEY,
            checked_at TEXT,
            known INTEGER NOT NULL DEFAULT 0,
            company TEXT,
            signals TEXT NOT NULL DEFAULT '[]',
            last_error TEXT,
            last_error_at TEXT
        );
        """,
    ),
    JOURNAL_MIGRATION,
    (
        "0301_report_sends",
        """
        CREATE TABLE report_sends (
            week TEXT NOT NULL,
            audience TEXT NOT NULL,
            recipients TEXT NOT NULL,
            message_id TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (week, audience)
        );
        """,
    ),
    JOURNAL_WALL_CLOCK_MIGRATION,
    (
        "0400_unallocated_credits",
        """
        CREATE TABLE credits (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, data TEXT NOT NULL);
        """,
    ),
    TASKS_MIGRATION,
    (
        "0500_customer_plans",
        # What a pass keeps of each customer's plan (encours.sync.plan_memory): a digest of the book it
        # was planned from, the day it was planned on, the first day it may change, the plan itself.
        """
        CREATE TABLE customer_plans (
            customer_id TEXT PRIMARY KEY,
            book TEXT NOT NULL,
            planned_on TEXT NOT NULL,
            until TEXT,
            plan TEXT NOT NULL
        );
        """,
    ),
]
