"""The journal: states, exactly-once guards, crash recovery, confirmation, append-only history."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from encours.connectors.model import Money
from encours.scenarios.planner import StepKey
from encours.sync.journal import MAX_ATTEMPTS, Dispatch, Journal, JournalError, State, reference_for
from encours.sync.state import StateStore

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _dispatch(*targets: str, step: str = "reminder_1") -> Dispatch:
    keys = tuple(StepKey("invoice", t, "standard", step) for t in targets)
    return Dispatch(keys, "C1", "Garage Faure", "standard", step, "email", targets,
                    tuple(f"F-{t}" for t in targets), Money(Decimal("120.00"), "EUR"), ("compta@garage-faure.fr",),
                    date(2026, 11, 20))


@pytest.fixture()
def journal(tmp_path: Path) -> Journal:
    return Journal(StateStore(tmp_path / "state.sqlite"), "atelier")


def test_sending_then_sent_makes_the_keys_done(journal: Journal) -> None:
    d = _dispatch("I1", "I2")
    journal.plan([d], NOW)
    assert {e.state for e in journal.entries()} == {State.PLANNED}
    ref = journal.begin(d, NOW, message_id="<m1@x>", content=b"raw", filename="m1.eml")
    assert ref == reference_for("atelier", d.action_key)
    assert {e.state for e in journal.entries()} == {State.SENDING}
    journal.sent(d, NOW + timedelta(seconds=2), artifact="250 OK")
    done = journal.done()
    assert set(done) == set(d.keys) and set(done.values()) == {date(2026, 11, 23)}
    assert journal.message_content("<m1@x>") == ("m1.eml", b"raw")
    with pytest.raises(JournalError, match="already sent"):
        journal.begin(d, NOW, message_id="<m1@x>")


def test_a_crash_between_sending_and_sent_leaves_an_uncertain_row_until_a_person_confirms(journal: Journal) -> None:
    d = _dispatch("I1")
    ref = journal.begin(d, NOW, message_id="<m1@x>")
    # the process dies here; the next pass starts with recover()
    uncertain = journal.recover(NOW + timedelta(minutes=15))
    assert [e.state for e in uncertain] == [State.UNCERTAIN]
    assert set(journal.done()) == set(d.keys), "uncertain keys are never planned again by themselves"
    with pytest.raises(JournalError):
        journal.begin(d, NOW, message_id="<m1@x>")
    journal.confirm(ref, sent=False, now=NOW + timedelta(hours=1), who="claire")
    entry = journal.entry(d.keys[0])
    assert entry is not None and entry.state is State.FAILED and entry.attempts == 0 and entry.retry_at is None
    assert journal.done() == {}
    assert journal.blocked(NOW + timedelta(hours=1)) == {}, "not-sent: sent again at the next pass"
    journal.begin(d, NOW + timedelta(hours=2), message_id="<m1@x>")
    journal.sent(d, NOW + timedelta(hours=2))
    states = [e.state for e in journal.events()]
    assert states == ["sending", "uncertain", "failed", "sending", "sent"]


def test_confirm_sent_by_message_id_and_unknown_reference(journal: Journal) -> None:
    d = _dispatch("I1")
    journal.begin(d, NOW, message_id="<m1@x>")
    journal.recover(NOW)
    journal.confirm("<m1@x>", sent=True, now=NOW + timedelta(days=1))
    entry = journal.entry(d.keys[0])
    assert entry is not None and entry.state is State.SENT
    assert journal.done()[d.keys[0]] == date(2026, 11, 23), "dated when it left, not when confirmed"
    with pytest.raises(JournalError, match="R-nothing"):
        journal.confirm("R-nothing", sent=True, now=NOW)
    with pytest.raises(JournalError, match="only an uncertain or failed"):
        journal.confirm("<m1@x>", sent=False, now=NOW)


def test_failures_wait_longer_each_time_then_stop(journal: Journal) -> None:
    d = _dispatch("I1")
    now = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert d.keys[0] not in journal.blocked(now)
        journal.begin(d, now, message_id="<m1@x>")
        journal.failed(d, now, "SMTP 451 try again later")
        entry = journal.entry(d.keys[0])
        assert entry is not None and entry.attempts == attempt and entry.reason == "SMTP 451 try again later"
        assert d.keys[0] in journal.blocked(now + timedelta(minutes=1))
        assert entry.retry_at is not None
        now = entry.retry_at
    assert d.keys[0] in journal.blocked(now + timedelta(days=30)), "given up after MAX_ATTEMPTS: a person decides"


def test_a_skip_is_recorded_once_and_never_over_a_sent_key(journal: Journal) -> None:
    d = _dispatch("I1", "I2")
    journal.begin(_dispatch("I2"), NOW, message_id="<m2@x>")
    journal.sent(_dispatch("I2"), NOW)
    for _ in range(3):
        journal.skipped(d, NOW, "payée depuis la dernière synchronisation")
    assert [e.state for e in journal.events()].count("skipped") == 1
    i1, i2 = journal.entry(d.keys[0]), journal.entry(d.keys[1])
    assert i1 is not None and i1.state is State.SKIPPED and i2 is not None and i2.state is State.SENT


def test_history_is_append_only(journal: Journal, tmp_path: Path) -> None:
    d = _dispatch("I1")
    journal.begin(d, NOW, message_id="<m1@x>")
    journal.sent(d, NOW)
    db = sqlite3.connect(tmp_path / "state.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE journal_events SET state = 'failed'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM journal_events")


def test_secrets_are_redacted_from_reasons(tmp_path: Path) -> None:
    journal = Journal(StateStore(tmp_path / "s.sqlite"), "d", secrets=["hunter2-smtp-password"])
    d = _dispatch("I1")
    journal.begin(d, NOW, message_id="<m@x>")
    journal.failed(d, NOW, "535 authentication failed for hunter2-smtp-password")
    dump = "\n".join(str(r) for r in journal.db.execute("SELECT * FROM journal_events"))
    assert "hunter2" not in dump and "***" in dump


def test_recovery_and_approvals(journal: Journal) -> None:
    assert journal.mark_recovery("C1", "Garage Faure", NOW, "dossier transmis")
    assert not journal.mark_recovery("C1", "Garage Faure", NOW)
    assert journal.in_recovery() == {"C1"}
    d = _dispatch("I1")
    journal.begin(d, NOW, message_id="<m@x>")
    journal.sent(d, NOW, approvals=["I1"])
    assert journal.used_approvals() == {"I1"}
    journal.forget_approvals(["I1"])
    assert journal.used_approvals() == set()
    assert [e.state for e in journal.events(visible_only=True)] == ["recovery", "sent"]


def test_entries_read_back_typed_amount_key_and_history(journal: Journal) -> None:
    d = _dispatch("I1", "I2", step="reminder_2")
    journal.begin(d, NOW, message_id="<m@x>")
    journal.sent(d, NOW)
    entry = journal.entry(d.keys[0])
    assert entry is not None
    assert entry.amount == Money(Decimal("120.00"), "EUR") and entry.currency == "EUR"
    assert (entry.key, entry.scenario, entry.step) == (d.keys[0], "standard", "reminder_2")
    assert [e.keys for e in journal.events()] == [d.keys, d.keys], "the history names the step keys it changed"
    skip = Dispatch((StepKey("invoice", "I9", "standard", "reminder_1"),), "C1", "Garage Faure", "standard",
                    "reminder_1", "", ("I9",), ("F-I9",), None, (), date(2026, 11, 20))
    journal.skipped(skip, NOW, "payée depuis la synchronisation")
    skipped = journal.entry(skip.keys[0])
    assert skipped is not None and skipped.amount is None and skipped.currency == ""


def test_a_state_file_written_before_typed_entries_reads_the_same(tmp_path: Path) -> None:
    """Amounts were always stored as exact decimal text beside their currency: rows written by an
    earlier encours (a message in CHF with an amount of more than two decimals, a skip without an
    amount) read back as Money / None, and a new send is refused over the old sent key."""
    path = tmp_path / "state.sqlite"
    StateStore(path).close()
    db = sqlite3.connect(path)
    columns = ("dossier, key, level, target, scenario, step, cycle, customer_id, customer_name, invoice_ids, "
               "invoice_numbers, amount, currency, channel, recipients, reference, message_id, state, reason, "
               "planned_date, created_at, updated_at, sent_at")
    at = NOW.isoformat()
    old_rows = [
        ("atelier", "invoice/I1/standard/reminder_1/", "invoice", "I1", "standard", "reminder_1", "", "C1", "Garage",
         '["I1"]', "F-1", "1234.505", "CHF", "email", "a@b.example", "R-0123456789", "<m@x>", "sent", "",
         "2026-11-20", at, at, at),
        ("atelier", "invoice/I2/standard/reminder_1/", "invoice", "I2", "standard", "reminder_1", "", "C1", "Garage",
         '["I2"]', "F-2", "", "", "", "", "R-abcdefabcd", "", "skipped", "payée", "2026-11-20", at, at, None),
    ]
    with db:
        db.executemany(f"INSERT INTO journal ({columns}) VALUES ({', '.join('?' * 23)})", old_rows)
    db.close()
    journal = Journal(StateStore(path), "atelier")
    by_target = {e.key.target: e for e in journal.entries()}
    assert by_target["I1"].amount == Money(Decimal("1234.505"), "CHF") and by_target["I1"].step == "reminder_1"
    assert by_target["I2"].amount is None and by_target["I2"].state is State.SKIPPED
    assert StepKey("invoice", "I1", "standard", "reminder_1") in journal.done()
    with pytest.raises(JournalError, match="already sent"):
        journal.begin(_dispatch("I1"), NOW, message_id="<again@x>")


def test_a_dispatch_whose_keys_belong_to_another_step_is_refused() -> None:
    with pytest.raises(ValueError, match="invoice/I1/standard/reminder_2/ are not of standard/reminder_1"):
        Dispatch((StepKey("invoice", "I1", "standard", "reminder_2"),), "C1", "Garage Faure", "standard",
                 "reminder_1", "email", ("I1",), ("F-I1",), None, (), date(2026, 11, 20))
