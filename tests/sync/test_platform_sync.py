"""`encours sync` from Pennylane end to end: workbook written, cursor kept, deletions close rows,
and a pull that fails leaves the workbook and the cursor as they were."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import responses

from encours.connectors.errors import SourceError
from encours.connectors.model import InvoiceStatus
from encours.sync.config import Config, load_config
from encours.sync.pull import sync
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "pennylane"
BASE = "https://pennylane.test/api/external/v2"
AS_OF = date(2026, 11, 23)


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def config(folder: Path) -> Config:
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\n\n'
        f'[source]\ntype = "pennylane"\ntoken_env = "PL_TOKEN"\nbase_url = "{BASE}"\n\n'
        '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n[risk]\nenabled = false\n',
        encoding="utf-8",
    )
    return load_config(path, environ={"PL_TOKEN": "pl-sync-token-1234"})


def serve_full() -> None:
    responses.get(f"{BASE}/customers", json=dict(payload("customers_page1.json"), has_more=False))
    responses.get(f"{BASE}/transactions", json=payload("transactions_unmatched.json"))
    responses.get(f"{BASE}/customer_invoices", json=dict(payload("invoices_page2.json"), has_more=False))
    for cid in (42, 57, 63):
        responses.get(f"{BASE}/customers/{cid}/contacts", json=payload("contacts_empty.json"))


@responses.activate
def test_sync_then_incremental_delete_closes_the_row(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    serve_full()
    summary = sync(cfg, as_of=AS_OF, now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert summary.full and (tmp_path / "encours.xlsx").exists()
    with StateStore(cfg.state_path) as store:
        mark = store.sync_mark("pennylane")
        assert mark is not None
        assert store.invoice("1006") is not None and store.invoice("1006").status is InvoiceStatus.UNKNOWN  # type: ignore[union-attr]

    responses.reset()
    responses.get(f"{BASE}/changelogs/customer_invoices", json=payload("changelog_invoices_page2.json"))
    responses.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/transactions", json=payload("changelog_empty.json"))
    second = sync(cfg, as_of=AS_OF, now=datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert not second.full
    with StateStore(cfg.state_path) as store:
        closed = store.invoice("1006")
        assert closed is not None and closed.status is InvoiceStatus.DELETED and closed.remaining.amount == 0
        assert store.sync_mark("pennylane").cursor != mark.cursor  # type: ignore[union-attr]


@responses.activate
def test_a_pull_that_fails_leaves_workbook_and_cursor_as_they_were(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    serve_full()
    sync(cfg, as_of=AS_OF, now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    before = (tmp_path / "encours.xlsx").read_bytes()
    with StateStore(cfg.state_path) as store:
        cursor = store.sync_mark("pennylane").cursor  # type: ignore[union-attr]

    responses.reset()
    responses.get(f"{BASE}/changelogs/customer_invoices", json=payload("changelog_invoices_page2.json"))
    responses.get(f"{BASE}/changelogs/customers", json=payload("changelog_empty.json"))
    responses.get(f"{BASE}/changelogs/transactions", body="<html><body>502 Bad Gateway</body></html>", status=200)
    with pytest.raises(SourceError, match=r"pennylane GET /changelogs/transactions: .*HTML page"):
        sync(cfg, as_of=AS_OF, now=datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert (tmp_path / "encours.xlsx").read_bytes() == before
    with StateStore(cfg.state_path) as store:
        assert store.sync_mark("pennylane").cursor == cursor  # type: ignore[union-attr]
        assert store.invoice("1006").status is InvoiceStatus.UNKNOWN  # type: ignore[union-attr]
