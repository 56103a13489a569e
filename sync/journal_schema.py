"""The journal's tables (migration ``0200_journal``), kept apart so :mod:`encours.sync.state` can list it
without importing the journal (:mod:`encours.sync.journal`).

- ``journal`` — one row per (dossier, step key): the key's current state, the message that
  carries it (``message_id``, ``reference``), recipients, attempts.  ``StepKey.id`` of the
  planner is the key.  The weekly report reads ``sent_at``, ``customer_id``, ``invoice_ids``,
  ``channel`` and ``state`` from it.
- ``journal_events`` — append-only history of every state change, one row per message (all the
  keys a message carries change together).  Triggers refuse UPDATE and DELETE: the history is
  auditable.  The ``Relances`` tab mirrors it.
- ``journal_messages`` — the exact bytes of each message sent (the .eml, or the letter's PDF),
  so that a case file can prove what was sent.
- ``approvals_used`` — invoices whose ``À envoyer`` tick already approved a step (the planner's
  ``used_approvals``), forgotten when the tick is cleared.
- ``recovery`` — customers handed to a collection agency or a court (``en recouvrement``).
"""

JOURNAL_MIGRATION: tuple[str, str] = (
    "0200_journal",
    """
    CREATE TABLE journal (
        dossier TEXT NOT NULL,
        key TEXT NOT NULL,
        level TEXT NOT NULL,
        target TEXT NOT NULL,
        scenario TEXT NOT NULL,
        step TEXT NOT NULL,
        cycle TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        customer_name TEXT NOT NULL DEFAULT '',
        invoice_ids TEXT NOT NULL DEFAULT '[]',
        invoice_numbers TEXT NOT NULL DEFAULT '',
        amount TEXT NOT NULL DEFAULT '',
        currency TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL DEFAULT '',
        recipients TEXT NOT NULL DEFAULT '',
        reference TEXT NOT NULL DEFAULT '',
        message_id TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        artifact TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        retry_at TEXT,
        planned_date TEXT,
        sending_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (dossier, key)
    );
    CREATE INDEX journal_state ON journal (dossier, state);
    CREATE INDEX journal_reference ON journal (dossier, reference);
    CREATE TABLE journal_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        dossier TEXT NOT NULL,
        at TEXT NOT NULL,
        reference TEXT NOT NULL,
        keys TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        customer_name TEXT NOT NULL DEFAULT '',
        invoices TEXT NOT NULL DEFAULT '',
        scenario TEXT NOT NULL DEFAULT '',
        step TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL DEFAULT '',
        recipients TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        message_id TEXT NOT NULL DEFAULT '',
        artifact TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX journal_events_customer ON journal_events (dossier, customer_id);
    CREATE TRIGGER journal_events_no_update BEFORE UPDATE ON journal_events
    BEGIN SELECT RAISE(ABORT, 'journal history is append-only'); END;
    CREATE TRIGGER journal_events_no_delete BEFORE DELETE ON journal_events
    BEGIN SELECT RAISE(ABORT, 'journal history is append-only'); END;
    CREATE TABLE journal_messages (
        dossier TEXT NOT NULL,
        message_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        channel TEXT NOT NULL,
        filename TEXT NOT NULL,
        content BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (dossier, message_id)
    );
    CREATE TABLE approvals_used (
        dossier TEXT NOT NULL,
        invoice_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (dossier, invoice_id)
    );
    CREATE TABLE recovery (
        dossier TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        since TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (dossier, customer_id)
    )
    """,
)

#: The wall-clock time each history line was written (``at`` is the pass's clock: its as-of day).
JOURNAL_WALL_CLOCK_MIGRATION: tuple[str, str] = (
    "0201_journal_wall_clock",
    "ALTER TABLE journal_events ADD COLUMN recorded_at TEXT",
)
