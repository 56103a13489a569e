"""The tasks' table (migration ``0500_tasks``), kept apart so :mod:`encours.sync.state` can list it
without importing the task store.  Described in :mod:`encours.sync.task_store`."""

TASKS_MIGRATION: tuple[str, str] = (
    "0500_tasks",
    """
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        natural_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        invoice_ids TEXT NOT NULL DEFAULT '[]',
        due TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT '',
        attempt INTEGER NOT NULL DEFAULT 1,
        row TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'open',
        created_on TEXT NOT NULL,
        closed_on TEXT,
        result TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT '',
        outcome_date TEXT,
        follow_up TEXT NOT NULL DEFAULT '',
        recorded_at TEXT
    );
    CREATE INDEX tasks_status ON tasks (status);
    """,
)
