"""The state store: one SQLite file per dossier, with named migrations.

It holds the ledger as last synced (so that an incremental pull can be merged), the source
cursor and the time of the last successful sync, a durable key/value cache lent to connectors
(payment details, rotated OAuth refresh tokens), and — from the reminder features on — the
journal.  The ledger and the cursor change in one transaction that commits only after the sheet
was written (:meth:`StateStore.sync_transaction`).
"""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from encours.connectors import codec
from encours.connectors.errors import EncoursError
from encours.connectors.memory import without_cycle_collection
from encours.connectors.model import Customer, Delta, Invoice, Ledger, Payment, UnallocatedCredit, stale_payments
from encours.sync.state_schema import MIGRATIONS

_R = TypeVar("_R")
#: From this many records of a table in one pull, the stored table is read whole to compare them.
_WHOLE_TABLE_FROM = 2000


class StateError(EncoursError):
    """The state file cannot be opened, is corrupted or is locked by another process."""

    exit_code = 2


class StateOwnerError(StateError):
    """The state file belongs to another dossier (company or source); nothing was read or written."""


class DiskFullError(EncoursError):
    """The disk holding the state file is full: the transaction was rolled back, nothing half-written."""

    exit_code = 1


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL) or an OSError ENOSPC / EDQUOT."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.DatabaseError) and "disk is full" in str(exc)


def _no_space_left(path: Path) -> bool:
    """SQLite reports a full disk while opening a WAL database as a mere "disk I/O error"."""
    try:
        return shutil.disk_usage(path.parent).free < 256 * 1024
    except OSError:
        return False


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncMark:
    source: str
    cursor: str
    synced_at: datetime


class StateStore:
    """A connection to the dossier's state file.  Use as a context manager or call close()."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0, owner: tuple[str, str] | None = None) -> None:
        """``owner`` (dossier, source) is recorded in a new state file and must match an existing one."""
        self.path = Path(path)
        #: the JSON text of each ledger record met this pass (read with it, or written once for it)
        self.texts = codec.TextMemo()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            if owner is not None:
                self._claim(*owner)
        except StateError:
            self.close()
            raise
        except (sqlite3.DatabaseError, OSError) as exc:
            if is_disk_full(exc) or _no_space_left(self.path):
                raise DiskFullError(f"{self.path}: the disk is full ({exc}); nothing was changed") from None
            if isinstance(exc, OSError):
                raise StateError(f"{self.path}: the state file cannot be created ({exc})") from None
            raise StateError(f"{self.path}: the state file cannot be used ({exc})") from None

    # -- life cycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self.texts.clear()
        if getattr(self, "_db", None) is not None:
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

    def _claim(self, dossier: str, source: str) -> None:
        """One state file, one dossier: two companies sharing a file would close each other's invoices."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'owner'").fetchone()
        if row is None:
            with self.transaction():
                self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('owner', ?)",
                                 (json.dumps({"dossier": dossier, "source": source}),))
            return
        owner = json.loads(row[0])
        if (owner.get("dossier"), owner.get("source")) != (dossier, source):
            raise StateOwnerError(
                f"{self.path} belongs to dossier {owner.get('dossier')!r} (source {owner.get('source')!r}), not to "
                f"{dossier!r} (source {source!r}): give each dossier its own state file ([company] state = …); "
                "nothing was read or written"
            )

    def owner(self) -> tuple[str, str] | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'owner'").fetchone()
        if row is None:
            return None
        owner = json.loads(row[0])
        return str(owner.get("dossier", "")), str(owner.get("source", ""))

    def has_synced(self) -> bool:
        """True once a sync or pass has committed a cursor: the dossier has a sheet people may have marked."""
        return self._db.execute("SELECT 1 FROM cursors LIMIT 1").fetchone() is not None

    def open_invoice_count(self) -> int:
        return int(self._db.execute(
            "SELECT COUNT(*) FROM invoices WHERE status IN ('open', 'partially_paid')").fetchone()[0])

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
            if is_disk_full(exc):
                raise DiskFullError(f"{self.path}: the disk is full ({exc}); nothing was changed") from None
            raise StateError(f"{self.path}: the state file is locked by another process ({exc})") from None
        try:
            yield self._db
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError) and is_disk_full(exc):
                raise DiskFullError(f"{self.path}: the disk is full ({exc}); this step was rolled back, "
                                    "nothing half-written — free some space and run again") from None
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if is_disk_full(exc):
                    raise DiskFullError(f"{self.path}: the disk is full ({exc}); this step was rolled back, "
                                        "nothing half-written — free some space and run again") from None
                raise

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
    @without_cycle_collection  # each record's row encoded and compared: nothing for the collector
    def apply_delta(self, delta: Delta) -> None:
        """Merge a pull into the stored ledger (call inside :meth:`transaction`).

        A full delta replaces the ledger: invoices it no longer lists are marked deleted (their
        rows in the sheet are closed, not removed), customers and payments it no longer lists
        are dropped.
        """
        db = self._db
        if changes_ledger(delta):
            db.execute("INSERT INTO meta (key, value) VALUES ('ledger_generation', '1') "
                       "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        if delta.full:
            keep = {i.id for i in delta.invoices}
            gone = [row[0] for row in db.execute("SELECT id FROM invoices") if row[0] not in keep]
            self._close_invoices(gone)
            for table, listed in (("payments", {p.id for p in delta.payments}),
                                  ("credits", {c.id for c in delta.credits})):
                db.executemany(f"DELETE FROM {table} WHERE id = ?",  # fixed names
                               [(rid,) for (rid,) in db.execute(f"SELECT id FROM {table}") if rid not in listed])
            listed_customers = {c.id for c in delta.customers}
            still_used = {row[0] for row in db.execute("SELECT DISTINCT customer_id FROM invoices")}
            for (cid,) in db.execute("SELECT id FROM customers").fetchall():
                if cid not in listed_customers and cid not in still_used:
                    db.execute("DELETE FROM customers WHERE id = ?", (cid,))
        db.executemany(
            "INSERT INTO customers (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            self._changed_rows("customers", delta.customers, lambda c: (c.id,)),
        )
        db.executemany(  # a customer the source cannot read now: never over one stored before
            "INSERT INTO customers (id, data) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            ((c.id, codec.dumps(c)) for c in delta.stand_in_customers),
        )
        db.executemany(
            "INSERT INTO invoices (id, customer_id, status, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, "
            "status = excluded.status, data = excluded.data",
            self._changed_rows("invoices", delta.invoices, lambda i: (i.id, i.customer_id, i.status.value)),
        )
        db.executemany(
            "INSERT INTO payments (id, customer_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, data = excluded.data",
            self._changed_rows("payments", delta.payments, lambda p: (p.id, p.customer_id)),
        )
        if delta.credits_complete and not delta.full:
            db.execute("DELETE FROM credits")
        db.executemany(
            "INSERT INTO credits (id, customer_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, data = excluded.data",
            self._changed_rows("credits", delta.credits, lambda c: (c.id, c.customer_id)),
        )
        db.executemany("DELETE FROM credits WHERE id = ?", ((cid,) for cid in delta.deleted_credit_ids))
        self._close_invoices(delta.deleted_invoice_ids)
        db.executemany("DELETE FROM payments WHERE id = ?", ((pid,) for pid in delta.deleted_payment_ids))
        if delta.payments_of and not delta.full:
            whose = sorted({i.customer_id for i in delta.invoices if i.id in set(delta.payments_of)})
            rows = [r for cid in whose for r in db.execute("SELECT data FROM payments WHERE customer_id = ?", (cid,))]
            stored = (codec.loads(Payment, r[0]) for r in rows)
            db.executemany("DELETE FROM payments WHERE id = ?", ((pid,) for pid in stale_payments(stored, delta)))
        db.executemany("DELETE FROM customers WHERE id = ?", ((cid,) for cid in delta.deleted_customer_ids))

    def _changed_rows(self, table: str, records: Sequence[_R], key: Callable[[_R], tuple[str, ...]]
                      ) -> list[tuple[str, ...]]:
        """The rows of ``records`` whose stored text differs (or that are not stored yet): ``key`` gives
        a row's leading columns (its id first), its data comes last.

        A full pull of a file source lists every record again though only a few changed: compared
        with what is stored, the others are not written again (a pass costs what changed)."""
        text = self.texts.text
        rows = [(*key(r), text(r)) for r in records]
        if len(rows) >= _WHOLE_TABLE_FROM:
            stored = dict(self._db.execute(f"SELECT id, data FROM {table}"))  # fixed names
        else:  # a few records (an incremental pull): looked up by id, the table not read
            stored = {}
            for start in range(0, len(rows), 500):
                ids = [row[0] for row in rows[start:start + 500]]
                stored.update(self._db.execute(
                    f"SELECT id, data FROM {table} WHERE id IN ({','.join('?' * len(ids))})", ids))
        return [row for row in rows if stored.get(row[0]) != row[-1]]

    def _close_invoices(self, ids: Iterable[str]) -> None:
        for invoice_id in ids:
            row = self._db.execute("SELECT data FROM invoices WHERE id = ?", (invoice_id,)).fetchone()
            if row is None:
                continue
            closed = codec.loads(Invoice, row[0]).closed()
            self._db.execute(
                "UPDATE invoices SET status = ?, data = ? WHERE id = ?",
                (closed.status.value, codec.dumps(closed), invoice_id),
            )

    def ledger_generation(self) -> int:
        """How many changes were applied to the stored ledger: an unchanged number, an unchanged ledger."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'ledger_generation'").fetchone()
        return 0 if row is None else int(row[0])

    @without_cycle_collection  # a ledger's records all stay: nothing for the collector to walk
    def ledger(self) -> Ledger:
        """The ledger as last synced: one query per table, each table parsed in one piece."""
        def table(cls: type[_R], name: str) -> tuple[_R, ...]:
            texts = [r[0] for r in self._db.execute(f"SELECT data FROM {name} ORDER BY id")]  # fixed names
            return self._decoded(cls, texts)

        return Ledger(table(Customer, "customers"), table(Invoice, "invoices"), table(Payment, "payments"),
                      table(UnallocatedCredit, "credits"))

    @without_cycle_collection
    def merged_ledger(self, delta: Delta) -> Ledger:
        """The stored ledger with ``delta`` merged, as :meth:`apply_delta` will store it.

        A full pull (a file source's, after any change) lists every record again: the stored
        payments and credits it replaces and the stored invoices it lists are not decoded, only those
        it no longer lists (to be closed) — the pass after a change to a big export does not decode
        the whole stored ledger only to drop it."""
        if not delta.full:
            return self.ledger().apply(delta)
        listed = {i.id for i in delta.invoices}
        db = self._db
        unlisted = [data for iid, data in db.execute("SELECT id, data FROM invoices ORDER BY id") if iid not in listed]
        invoiced = {row[0] for row in db.execute("SELECT DISTINCT customer_id FROM invoices")}
        customers = self._decoded(Customer, [r[0] for r in db.execute("SELECT data FROM customers ORDER BY id")])
        stored = Ledger(customers, self._decoded(Invoice, unlisted), (), ())
        return stored.apply(delta, invoiced=invoiced)

    def _decoded(self, cls: type[_R], texts: list[str]) -> tuple[_R, ...]:
        """Records decoded from their stored texts, each text kept for it (:attr:`texts`)."""
        records = tuple(codec.loads_many(cls, texts))
        self.texts.remember(records, texts)
        return records

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


def changes_ledger(delta: Delta) -> bool:
    """Does applying ``delta`` change anything (a pull with nothing new only moves the cursor)?"""
    return bool(delta.full or delta.customers or delta.stand_in_customers or delta.invoices or delta.payments
                or delta.credits
                or delta.deleted_invoice_ids or delta.deleted_payment_ids or delta.deleted_customer_ids
                or delta.deleted_credit_ids or delta.payments_of or delta.credits_complete)


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
