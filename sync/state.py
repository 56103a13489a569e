"""The state store: one SQLite file per dossier, with named migrations.

It holds the ledger as last synced (so that an incremental pull can be merged), the source
cursor and the time of the last successful sync, a durable key/value cache lent to connectors
(payment details, rotated OAuth refresh tokens), and — from the reminder features on — the
journal.  The ledger and the cursor change in one transaction that commits only after the sheet
was written (:meth:`StateStore.sync_transaction`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from encours.connectors import codec
from encours.connectors.errors import EncoursError
from encours.connectors.model import (
    Customer,
    Delta,
    Invoice,
    InvoiceStatus,
    Ledger,
    Money,
    Payment,
    UnallocatedCredit,
)
from encours.sync.journal_schema import JOURNAL_MIGRATION


class StateError(EncoursError):
    """The state file cannot be opened, is corrupted or is locked by another process."""

    exit_code = 2


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
    (
        "0400_unallocated_credits",
        """
        CREATE TABLE credits (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, data TEXT NOT NULL);
        """,
    ),
]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncMark:
    source: str
    cursor: str
    synced_at: datetime


class StateStore:
    """A connection to the dossier's state file.  Use as a context manager or call close()."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: the state file cannot be used ({exc})") from None
        except OSError as exc:
            raise StateError(f"{self.path}: the state file cannot be created ({exc})") from None

    # -- life cycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db(self) -> sqlite3.Connection:
        """The raw connection, for the modules that own a table (journal, registries)."""
        return self._db

    def _migrate(self) -> None:
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in self._db.execute("SELECT name FROM migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.transaction():
                for statement in _statements(sql):
                    self._db.execute(statement)
                self._db.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, utcnow().isoformat())
                )

    def applied_migrations(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT name FROM migrations ORDER BY rowid")]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block raises (nested blocks join)."""
        if self._db.in_transaction:
            yield self._db
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StateError(f"{self.path}: the state file is locked by another process ({exc})") from None
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    # -- cursor -------------------------------------------------------------------------------
    def sync_mark(self, source: str) -> SyncMark | None:
        row = self._db.execute("SELECT cursor, synced_at FROM cursors WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        return SyncMark(source, row[0], datetime.fromisoformat(row[1]))

    def set_sync_mark(self, source: str, cursor: str, synced_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO cursors (source, cursor, synced_at) VALUES (?, ?, ?) "
            "ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, synced_at = excluded.synced_at",
            (source, cursor, synced_at.isoformat()),
        )

    # -- ledger -------------------------------------------------------------------------------
    def apply_delta(self, delta: Delta) -> None:
        """Merge a pull into the stored ledger (call inside :meth:`transaction`).

        A full delta replaces the ledger: invoices it no longer lists are marked deleted (their
        rows in the sheet are closed, not removed), customers and payments it no longer lists
        are dropped.
        """
        db = self._db
        if delta.full:
            keep = {i.id for i in delta.invoices}
            gone = [row[0] for row in db.execute("SELECT id FROM invoices") if row[0] not in keep]
            self._close_invoices(gone)
            db.execute("DELETE FROM payments")
            db.execute("DELETE FROM credits")
            listed_customers = {c.id for c in delta.customers}
            still_used = {row[0] for row in db.execute("SELECT DISTINCT customer_id FROM invoices")}
            for (cid,) in db.execute("SELECT id FROM customers").fetchall():
                if cid not in listed_customers and cid not in still_used:
                    db.execute("DELETE FROM customers WHERE id = ?", (cid,))
        db.executemany(
            "INSERT INTO customers (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            ((c.id, codec.dumps(c)) for c in delta.customers),
        )
        db.executemany(
            "INSERT INTO invoices (id, customer_id, status, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, "
            "status = excluded.status, data = excluded.data",
            ((i.id, i.customer_id, i.status.value, codec.dumps(i)) for i in delta.invoices),
        )
        db.executemany(
            "INSERT INTO payments (id, customer_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, data = excluded.data",
            ((p.id, p.customer_id, codec.dumps(p)) for p in delta.payments),
        )
        if delta.credits_complete and not delta.full:
            db.execute("DELETE FROM credits")
        db.executemany(
            "INSERT INTO credits (id, customer_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, data = excluded.data",
            ((c.id, c.customer_id, codec.dumps(c)) for c in delta.credits),
        )
        db.executemany("DELETE FROM credits WHERE id = ?", ((cid,) for cid in delta.deleted_credit_ids))
        self._close_invoices(delta.deleted_invoice_ids)
        db.executemany("DELETE FROM payments WHERE id = ?", ((pid,) for pid in delta.deleted_payment_ids))
        db.executemany("DELETE FROM customers WHERE id = ?", ((cid,) for cid in delta.deleted_customer_ids))

    def _close_invoices(self, ids: Iterable[str]) -> None:
        for invoice_id in ids:
            row = self._db.execute("SELECT data FROM invoices WHERE id = ?", (invoice_id,)).fetchone()
            if row is None:
                continue
            invoice = codec.loads(Invoice, row[0])
            closed = invoice.with_changes(status=InvoiceStatus.DELETED, remaining=Money.zero(invoice.currency))
            self._db.execute(
                "UPDATE invoices SET status = ?, data = ? WHERE id = ?",
                (closed.status.value, codec.dumps(closed), invoice_id),
            )

    def ledger(self) -> Ledger:
        db = self._db
        customers = tuple(codec.loads(Customer, r[0]) for r in db.execute("SELECT data FROM customers ORDER BY id"))
        invoices = tuple(codec.loads(Invoice, r[0]) for r in db.execute("SELECT data FROM invoices ORDER BY id"))
        payments = tuple(codec.loads(Payment, r[0]) for r in db.execute("SELECT data FROM payments ORDER BY id"))
        credits = tuple(
            codec.loads(UnallocatedCredit, r[0]) for r in db.execute("SELECT data FROM credits ORDER BY id")
        )
        return Ledger(customers, invoices, payments, credits)

    def invoice(self, invoice_id: str) -> Invoice | None:
        row = self._db.execute("SELECT data FROM invoices WHERE id = ?", (invoice_id,)).fetchone()
        return None if row is None else codec.loads(Invoice, row[0])

    # -- cache lent to connectors -------------------------------------------------------------
    def cache(self) -> StoreCache:
        return StoreCache(self)


class StoreCache:
    """:class:`encours.connectors.base.Cache` over the ``cache`` table; each put commits at once."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def get(self, namespace: str, key: str) -> str | None:
        row = self._store.db.execute(
            "SELECT value FROM cache WHERE namespace = ? AND key = ?", (namespace, key)
        ).fetchone()
        return None if row is None else str(row[0])

    def put(self, namespace: str, key: str, value: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO cache (namespace, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (namespace, key, value, utcnow().isoformat()),
            )

    def put_many(self, namespace: str, items: Iterable[tuple[str, str]]) -> None:
        """Several puts in one commit (connectors caching thousands of payment details)."""
        stamp = utcnow().isoformat()
        with self._store.transaction() as db:
            db.executemany(
                "INSERT INTO cache (namespace, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                ((namespace, key, value, stamp) for key, value in items),
            )

    def delete(self, namespace: str, key: str) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM cache WHERE namespace = ? AND key = ?", (namespace, key))


def _statements(sql: str) -> list[str]:
    """The statements of a migration; a trigger's body keeps its own semicolons."""
    out: list[str] = []
    current = ""
    for piece in sql.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                out.append(current.strip())
            current = ""
    if current.strip(" \n;"):
        out.append(current.strip())
    return out
