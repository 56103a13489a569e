import json
import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encours.connectors.demo import demo_ledger
from encours.connectors.model import Customer, Delta, Invoice, InvoiceStatus, Ledger, Money
from encours.sync.state import StateError, StateStore


def _invoice(number: str, remaining: str = "100.00") -> Invoice:
    return Invoice(f"I{number}", number, "C1", "t", date(2026, 1, 1), date(2026, 2, 1), Money(Decimal("100.00")),
                   Money(Decimal(remaining)))


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore(path) as store:
        first = store.applied_migrations()
    with StateStore(path) as store:
        assert store.applied_migrations() == first
        assert first[0] == "0001_core"


def test_incremental_delta_merges_and_deletions_close(tmp_path: Path) -> None:
    with StateStore(tmp_path / "s.sqlite") as store:
        with store.transaction():
            store.apply_delta(Delta(customers=(Customer("C1", "ACME", "t"),), invoices=(_invoice("1"), _invoice("2"))))
        with store.transaction():
            store.apply_delta(Delta(invoices=(_invoice("1", "40.00"),), deleted_invoice_ids=("I2",), full=False))
        ledger = store.ledger()
        by_id = {i.id: i for i in ledger.invoices}
        assert by_id["I1"].remaining.amount == Decimal("40.00")
        assert by_id["I2"].status is InvoiceStatus.DELETED and by_id["I2"].remaining.amount == 0


def test_full_delta_closes_what_disappeared(tmp_path: Path) -> None:
    with StateStore(tmp_path / "s.sqlite") as store:
        with store.transaction():
            store.apply_delta(Delta(customers=(Customer("C1", "ACME", "t"),), invoices=(_invoice("1"), _invoice("2"))))
        with store.transaction():
            store.apply_delta(Delta(customers=(Customer("C1", "ACME", "t"),), invoices=(_invoice("1"),)))
        assert store.invoice("I2").status is InvoiceStatus.DELETED  # type: ignore[union-attr]


def test_failed_transaction_leaves_ledger_and_cursor_as_they_were(tmp_path: Path) -> None:
    with StateStore(tmp_path / "s.sqlite") as store:
        with store.transaction():
            store.apply_delta(Delta(invoices=(_invoice("1"),)))
            store.set_sync_mark("demo", "c1", datetime(2026, 1, 1, tzinfo=UTC))
        with pytest.raises(RuntimeError), store.transaction():
            store.apply_delta(Delta(invoices=(_invoice("1", "0.00"),), full=False))
            store.set_sync_mark("demo", "c2", datetime(2026, 1, 2, tzinfo=UTC))
            raise RuntimeError("sheet write failed")
        assert store.sync_mark("demo").cursor == "c1"  # type: ignore[union-attr]
        assert store.invoice("I1").remaining.amount == Decimal("100.00")  # type: ignore[union-attr]


def test_cache_put_is_durable_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with StateStore(path) as store:
        store.cache().put("sage", "refresh_token", "rotated-1")
        # another process (another connection) sees it immediately
        other = sqlite3.connect(path)
        assert other.execute("SELECT value FROM cache").fetchone() == ("rotated-1",)
        other.close()


def test_a_corrupted_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match=str(path)):
        StateStore(path)


def test_a_locked_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with (
        StateStore(path) as first,
        StateStore(path, timeout=0.1) as second,
        first.transaction(),
        pytest.raises(StateError, match="locked"),
        second.transaction(),
    ):
        pass


# -- one definition of "apply a delta": the store persists exactly what Ledger.apply computes -----------
def _delta_strategy(source: Ledger) -> st.SearchStrategy[Delta]:
    invoices = st.lists(st.sampled_from(source.invoices), max_size=12, unique_by=lambda i: i.id)
    customers = st.lists(st.sampled_from(source.customers), max_size=6, unique_by=lambda c: c.id)
    payments = st.lists(st.sampled_from(source.payments), max_size=8, unique_by=lambda p: p.id)
    ids = st.lists(st.sampled_from([i.id for i in source.invoices] + ["unknown"]), max_size=4, unique=True)
    customer_ids = st.lists(st.sampled_from([c.id for c in source.customers]), max_size=2, unique=True)
    payment_ids = st.lists(st.sampled_from([p.id for p in source.payments] + ["gone"]), max_size=3, unique=True)
    # Customers the source cannot read now, as their invoices name them: never over a stored one.
    stand_ins = st.lists(st.sampled_from(source.customers), max_size=3, unique_by=lambda c: c.id).map(
        lambda cs: tuple(Customer(c.id, f"named by an invoice: {c.name}", c.source) for c in cs))
    return st.builds(
        lambda c, i, p, di, dc, dp, full, si: Delta(tuple(c), tuple(i), tuple(p), tuple(di), tuple(dc), tuple(dp),
                                                    full=full, cursor="x", stand_in_customers=si),
        customers, invoices, payments, ids, customer_ids, payment_ids, st.booleans(), stand_ins,
    )


_DEMO = demo_ledger(date(2026, 11, 23))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_delta_strategy(_DEMO), second=_delta_strategy(_DEMO))
def test_the_store_holds_what_ledger_apply_computes(tmp_path_factory: pytest.TempPathFactory, first: Delta,
                                                    second: Delta) -> None:
    path = tmp_path_factory.mktemp("apply") / "state.sqlite"
    expected = Ledger((), ())
    with StateStore(path) as store:
        for delta in (first, second):
            with store.transaction():
                store.apply_delta(delta)
            expected = expected.apply(delta)
            assert store.ledger() == expected


def test_unallocated_credits_are_stored_merged_and_replaced(tmp_path: Path) -> None:
    from encours.connectors.model import CreditKind, UnallocatedCredit

    def credit(cid: str, amount: str) -> UnallocatedCredit:
        return UnallocatedCredit(cid, "C1", "t", date(2026, 3, 1), Money(Decimal(amount)), CreditKind.OPENING_BALANCE)

    with StateStore(tmp_path / "s.sqlite") as store:
        with store.transaction():
            store.apply_delta(Delta(customers=(Customer("C1", "ACME", "t"),), invoices=(_invoice("1"),),
                                    credits=(credit("P1", "30.00"), credit("P2", "0.01"))))
        with store.transaction():
            store.apply_delta(Delta(credits=(credit("P1", "29.99"),), deleted_credit_ids=("P2",), full=False))
        assert store.ledger().balances() == {("C1", "EUR"): Money(Decimal("70.01"))}
        with store.transaction():
            store.apply_delta(Delta(customers=(Customer("C1", "ACME", "t"),), invoices=(_invoice("1"),)))
        assert store.ledger().credits == ()


def test_the_ledger_generation_moves_with_every_change_and_only_then(tmp_path: Path) -> None:
    with StateStore(tmp_path / "s.sqlite") as store:
        assert store.ledger_generation() == 0
        with store.transaction():
            store.apply_delta(Delta(customers=(Customer("C1", "ACME", "t"),), invoices=(_invoice("1"),), cursor="a"))
        assert store.ledger_generation() == 1
        with store.transaction():  # a pull that found nothing new only moves the cursor
            store.apply_delta(Delta(full=False, cursor="b"))
        assert store.ledger_generation() == 1
        with store.transaction():
            store.apply_delta(Delta(invoices=(_invoice("1", "40.00"),), full=False, cursor="c"))
        assert store.ledger_generation() == 2


def test_the_stored_ledger_reads_back_records_stored_by_older_versions(tmp_path: Path) -> None:
    """Rows written before a field existed (or with a field since removed) still decode: missing
    fields take their default, unknown ones are ignored."""
    with StateStore(tmp_path / "s.sqlite") as store:
        with store.transaction():
            store.apply_delta(Delta(customers=(Customer("C1", "ACME", "t"),), invoices=(_invoice("1"), _invoice("2"))))
        row = store.db.execute("SELECT data FROM invoices WHERE id = 'I2'").fetchone()[0]
        old = json.loads(row)
        del old["payment_reference"], old["extra"]
        old["retired_field"] = "x"
        store.db.execute("UPDATE invoices SET data = ? WHERE id = 'I2'", (json.dumps(old),))
        by_id = {i.id: i for i in store.ledger().invoices}
        assert by_id["I2"] == _invoice("2") and by_id["I1"] == _invoice("1")


def _full_pull(remaining: dict[str, str], payments: tuple[str, ...], credits: tuple[str, ...]) -> Delta:
    from encours.connectors.model import Payment, UnallocatedCredit

    return Delta(
        customers=(Customer("C1", "ACME", "t"),),
        invoices=tuple(_invoice(n, remaining.get(n, "100.00")) for n in (f"{i:03d}" for i in range(300))),
        payments=tuple(Payment(p, "C1", "t", date(2026, 3, 1), Money(Decimal("10.00"))) for p in payments),
        credits=tuple(UnallocatedCredit(c, "C1", "t", date(2026, 3, 2), Money(Decimal("5.00"))) for c in credits),
    )


def test_a_full_pull_rewrites_only_what_changed_and_reads_back_as_pulled(tmp_path: Path) -> None:
    """A file source lists every record again on each change: only the changed rows are written,
    and the stored ledger is exactly the one a store that took the pull from scratch holds."""
    with StateStore(tmp_path / "s.sqlite") as store:
        with store.transaction():
            store.apply_delta(_full_pull({}, ("P1", "P2"), ("U1", "U2")))
        again = _full_pull({"007": "40.00"}, ("P2", "P3"), ("U2",))
        before = store._db.total_changes
        with store.transaction():
            store.apply_delta(again)
        written = store._db.total_changes - before
        # one invoice changed, one payment gone and one new, one credit gone, the generation counter
        assert written == 5, written
        with StateStore(tmp_path / "fresh.sqlite") as fresh:
            with fresh.transaction():
                fresh.apply_delta(again)
            assert store.ledger() == fresh.ledger()
        assert {p.id for p in store.ledger().payments} == {"P2", "P3"}
        assert [c.id for c in store.ledger().credits] == ["U2"]
        assert store.invoice("I007").remaining.amount == Decimal("40.00")  # type: ignore[union-attr]


def test_the_ledger_merged_with_a_full_pull_decodes_only_what_it_keeps(tmp_path: Path) -> None:
    """The pass's ledger after a full pull (every record listed again) is the stored ledger with the
    pull merged — built without decoding what the pull replaces, and equal to the slow way, on random
    stores and pulls: invoices gone (closed), customers no longer listed but still invoiced (kept),
    payments and credits replaced."""
    import random

    from encours.connectors.model import Payment, UnallocatedCredit

    def pull(rng: random.Random) -> Delta:
        customers = tuple(Customer(f"C{c}", f"Client {c} {rng.randint(0, 2)}", "t")
                          for c in range(6) if rng.random() < 0.7)
        invoices = tuple(Invoice(f"I{n:02d}", f"F{n}", f"C{rng.randrange(6)}", "t", date(2026, 1, 1 + n % 28),
                                 date(2026, 2, 1), Money(Decimal("100.00")),
                                 Money(Decimal(rng.choice(["100.00", "40.00", "0.00"]))))
                         for n in range(40) if rng.random() < 0.8)
        payments = tuple(Payment(f"P{n}", f"C{rng.randrange(6)}", "t", date(2026, 3, 1), Money(Decimal("10.00")))
                         for n in range(8) if rng.random() < 0.6)
        credits = tuple(UnallocatedCredit(f"U{n}", f"C{rng.randrange(6)}", "t", date(2026, 3, 2),
                                          Money(Decimal("5.00"))) for n in range(5) if rng.random() < 0.6)
        return Delta(customers=customers, invoices=invoices, payments=payments, credits=credits)

    for seed in range(25):
        rng = random.Random(seed)
        with StateStore(tmp_path / f"s{seed}.sqlite") as store:
            for _ in range(rng.randint(1, 3)):
                with store.transaction():
                    store.apply_delta(pull(rng))
            after = pull(rng)
            expected = store.ledger().apply(after)
            assert store.merged_ledger(after) == expected, seed
            incremental = Delta(invoices=after.invoices[:3], deleted_invoice_ids=("I01",), full=False)
            assert store.merged_ledger(incremental) == store.ledger().apply(incremental)
            with store.transaction():
                store.apply_delta(after)
            assert store.ledger() == expected, seed  # what is stored is what the pass worked on
