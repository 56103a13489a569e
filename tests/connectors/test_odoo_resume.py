"""Odoo full pulls that resume: the stand-in drops the connection mid-pull; the next pull asks only
for what was left (and, ids only, what is gone or changed since), and gives what an uninterrupted
pull gives — even with invoices created, deleted and paid between the two tries."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.connectors.checkpoint import NAMESPACE
from encours.connectors.model import Delta
from encours.connectors.odoo import OdooCursor
from encours.connectors.source_errors import ServerError
from encours.sync.cli import main
from encours.sync.state import StateStore
from tests.conftest import write_config
from tests.support.odoo_server import DB, KEY, LOGIN, Call, FakeOdoo, connector, running


def move(odoo: FakeOdoo, ident: int) -> dict[str, Any]:
    return next(r for r in odoo.models["account.move"] if r["id"] == ident)


def domain_of(call: Call) -> list[Any]:
    """The domain of a call, whatever the protocol (positional, or named in JSON-2)."""
    kwargs = call[2]
    return [list(t) for t in (kwargs["args"][0] if kwargs["args"] else kwargs["domain"])]


def searches_after(odoo: FakeOdoo, model: str) -> list[int]:
    """The ``id >`` of each paged read of ``model``."""
    return [next(v for f, op, v in domain_of(c) if f == "id" and op == ">")
            for c in odoo.calls if c[:2] == (model, "search_read") and any(
                f == "id" and op == ">" for f, op, _ in domain_of(c))]


def moves_page_after(after: int) -> Any:
    def matches(call: Call) -> bool:
        return call[:2] == ("account.move", "search_read") and ["id", ">", after] in domain_of(call)
    return matches


#: When the changes between the two tries are written (after the first try began), the same for
#: the dossier cut off and the one pulled in one go.
CHANGED_AT = (datetime.now(UTC) + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")


def meanwhile(odoo: FakeOdoo) -> None:
    """Between the two tries: invoice 2 (a kept page) deleted, invoice 1 (a kept page) paid in full,
    and a new invoice 20 posted (beyond where the pull stopped)."""
    now = CHANGED_AT
    odoo.models["account.move"] = [m for m in odoo.models["account.move"] if m["id"] != 2]
    move(odoo, 1).update(payment_state="paid", amount_residual=0.0, amount_residual_signed=0.0, write_date=now)
    for line in odoo.models["account.move.line"]:
        if line.get("move_id", [None])[0] == 1:
            line.update(amount_residual=0.0, amount_residual_currency=0.0, reconciled=True)
    new = copy.deepcopy(move(odoo, 4))
    new.update(id=20, name="INV/2026/00020", write_date=now)
    odoo.models["account.move"].append(new)
    lines = [copy.deepcopy(line) for line in odoo.models["account.move.line"] if line.get("move_id", [None])[0] == 4]
    for n, line in enumerate(lines):
        line.update(id=700 + n, move_id=[20, "INV/2026/00020"])
    odoo.models["account.move.line"] += lines


def ledger_of(delta: Delta) -> tuple[Any, ...]:
    return (sorted(delta.invoices, key=lambda i: i.id), sorted(delta.payments, key=lambda p: p.id),
            sorted(delta.customers, key=lambda c: c.id), sorted(delta.credits, key=lambda c: c.id))


@pytest.fixture()
def odoo() -> Iterator[tuple[FakeOdoo, str]]:
    fake = FakeOdoo(16)
    with running(fake) as url:
        yield fake, url


@pytest.mark.parametrize(("version", "protocol"), [(16, "jsonrpc"), (16, "xmlrpc"), (19, "jsonrpc")])
def test_a_full_pull_cut_mid_way_resumes_where_it_stopped_and_equals_an_uninterrupted_one(
    tmp_path: Path, version: int, protocol: str
) -> None:
    fake = FakeOdoo(version)
    with running(fake) as url:
        _cut_and_resumed(fake, url, tmp_path, protocol)


def _cut_and_resumed(fake: FakeOdoo, url: str, tmp_path: Path, protocol: str) -> None:
    with StateStore(tmp_path / "cut.sqlite") as cut:
        fake.cut_from(moves_page_after(4))  # pages [1, 2] and [3, 4] read, then the connection drops
        with pytest.raises(ServerError, match="could not connect"):
            connector(url, cache=cut.cache(), page_size=2, protocol=protocol).pull(None)
        assert searches_after(fake, "account.move") == [0, 2]
        assert cut.cache().get(NAMESPACE, "odoo") is not None  # the progress is in the state store

        meanwhile(fake)
        fake.restore()
        fake.calls.clear()
        resumed = connector(url, cache=cut.cache(), page_size=2, protocol=protocol).pull(None)
        again = list(fake.calls)
        assert cut.cache().get(NAMESPACE, "odoo") is None  # done: the next full pull starts afresh

    # Only what was left: the invoices after 4 (19 and the new 20), never pages [1, 2] and [3, 4] again.
    fake.calls = again
    assert searches_after(fake, "account.move")[0] == 4
    read_lines_of = {i for c in again if c[:2] == ("account.move.line", "search_read")
                     for f, op, v in domain_of(c) if f == "move_id" and op == "in" for i in v}
    assert read_lines_of == {1, 5, 18, 19, 20}  # 1: paid meanwhile, read again; 3 and 4 kept as they were
    searched = [domain_of(c) for c in again if c[:2] == ("account.move", "search")]
    assert len(searched) == 2 and all(["id", "<=", 4] in d for d in searched)  # ids only

    fresh = FakeOdoo(fake.major)
    meanwhile(fresh)
    with running(fresh) as fresh_url, StateStore(tmp_path / "whole.sqlite") as whole:
        straight = connector(fresh_url, cache=whole.cache(), page_size=2, protocol=protocol).pull(None)
    assert ledger_of(resumed) == ledger_of(straight)
    numbers = {i.number: i for i in resumed.invoices}
    assert "INV/2026/00002" not in numbers and "INV/2026/00020" in numbers
    assert not numbers["INV/2026/00001"].is_open  # paid while the pull was interrupted
    before, after = OdooCursor.loads(resumed.cursor), OdooCursor.loads(straight.cursor)
    assert before is not None and after is not None and before.known_ids == after.known_ids


def test_an_interruption_while_reading_customers_resumes_with_the_customers_only(
    odoo: tuple[FakeOdoo, str], tmp_path: Path
) -> None:
    fake, url = odoo
    with StateStore(tmp_path / "cut.sqlite") as cut:
        fake.cut_from(lambda call: call[:2] == ("res.partner", "search_read"))
        with pytest.raises(ServerError):
            connector(url, cache=cut.cache()).pull(None)
        fake.restore()
        fake.calls.clear()
        resumed = connector(url, cache=cut.cache()).pull(None)
    assert searches_after(fake, "account.move") == [19]  # past the last invoice kept: nothing new
    lines_of_invoices = [c for c in fake.calls if c[:2] == ("account.move.line", "search_read")
                         and any(f == "move_id" for f, _, _ in domain_of(c))]
    assert lines_of_invoices == []  # every invoice's lines were kept
    assert any(c[:2] == ("res.partner", "search_read") for c in fake.calls)
    with StateStore(tmp_path / "whole.sqlite") as whole:
        assert ledger_of(resumed) == ledger_of(connector(url, cache=whole.cache()).pull(None))


def test_after_a_full_pull_that_ended_the_next_one_reads_everything_afresh(
    odoo: tuple[FakeOdoo, str], tmp_path: Path
) -> None:
    fake, url = odoo
    with StateStore(tmp_path / "state.sqlite") as store:
        connector(url, cache=store.cache(), page_size=2).pull(None)
        fake.calls.clear()
        connector(url, cache=store.cache(), page_size=2).pull(None)  # --full again: from the first page
    assert searches_after(fake, "account.move") == [0, 2, 4, 18]
    assert not [c for c in fake.calls if c[1] == "search"]  # nothing kept: nothing to check


def sheet(path: Path) -> list[tuple[Any, ...]]:
    book = load_workbook(path)
    rows: list[tuple[Any, ...]] = []
    for tab in ("Factures", "Clients"):
        rows += [tuple(r) for r in book[tab].iter_rows(values_only=True)]
    return rows


@pytest.mark.slow  # the HTTP layer's real back-off before the first sync gives up
def test_encours_sync_cut_off_then_run_again_gives_the_sheet_of_an_uninterrupted_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENCOURS_ODOO_KEY", KEY)
    source = 'type = "odoo"\nurl = "{url}"\ndatabase = "' + DB + '"\nlogin = "' + LOGIN + '"\n' \
             'api_key_env = "ENCOURS_ODOO_KEY"'
    fake = FakeOdoo(16)
    with running(fake) as url:
        (tmp_path / "cut").mkdir()
        config = write_config(tmp_path / "cut", source=source.format(url=url))
        fake.cut_from(lambda call: call[:2] == ("res.partner", "search_read"))
        assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-23"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("encours: error: ") and "could not connect" in err
        assert not (tmp_path / "cut" / "encours.xlsx").exists()  # a failed sync writes nothing
        meanwhile(fake)
        fake.restore()
        fake.calls.clear()
        assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-23"]) == 0
        reads = [domain_of(c) for c in fake.calls if c[:2] == ("account.move", "search_read")]
        assert reads[0] == [["id", "in", [1]]]  # the invoices were kept: only the one paid meanwhile again,
        assert searches_after(fake, "account.move") == [19] and len(reads) == 2  # and those created since
    fresh = FakeOdoo(16)
    meanwhile(fresh)
    with running(fresh) as url:
        (tmp_path / "whole").mkdir()
        config = write_config(tmp_path / "whole", source=source.format(url=url))
        assert main(["-q", "sync", "-c", str(config), "--as-of", "2026-11-23"]) == 0
    assert sheet(tmp_path / "cut" / "encours.xlsx") == sheet(tmp_path / "whole" / "encours.xlsx")
