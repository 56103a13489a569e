"""Paginators and the one paging loop with its repeated-token guard."""

from __future__ import annotations

from typing import Any

import pytest

from encours.connectors.pages import CursorPaginator, NextLinkPaginator, OffsetPaginator, PageRequest, paginate
from encours.connectors.source_errors import MalformedResponseError


def run(pages: dict[str, Any], paginator: Any, params: dict[str, Any]) -> tuple[list[Any], list[PageRequest]]:
    sent: list[PageRequest] = []

    def fetch(request: PageRequest) -> Any:
        sent.append(request)
        return pages[request.token]

    items = [
        item
        for page in paginate(fetch, paginator, "/things", params, platform="p", endpoint="GET /things")
        for item in page
    ]
    return items, sent


def test_cursor_pages_resend_filter_and_sort() -> None:
    pages = {
        "": {"items": [1, 2], "has_more": True, "next_cursor": "c2"},
        "c2": {"items": [3], "has_more": True, "next_cursor": "c3"},
        "c3": {"items": [], "has_more": False, "next_cursor": None},
    }
    items, sent = run(pages, CursorPaginator(limit=2), {"filter": "[]", "sort": "id"})
    assert items == [1, 2, 3]
    assert [r.params for r in sent] == [
        {"filter": "[]", "sort": "id", "limit": 2},
        {"filter": "[]", "sort": "id", "limit": 2, "cursor": "c2"},
        {"filter": "[]", "sort": "id", "limit": 2, "cursor": "c3"},
    ]


def test_a_repeated_cursor_is_an_error_not_a_loop() -> None:
    pages = {
        "": {"items": [1], "has_more": True, "next_cursor": "A"},
        "A": {"items": [2], "has_more": True, "next_cursor": "B"},
        "B": {"items": [3], "has_more": True, "next_cursor": "A"},
    }
    with pytest.raises(MalformedResponseError, match="p GET /things: page 3 handed back a page token already used"):
        run(pages, CursorPaginator(), {})


def test_a_page_without_items_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="no 'items' field"):
        run({"": {"data": []}}, CursorPaginator(), {})


def test_next_links_keep_the_query() -> None:
    pages = {
        "": {"$items": ["a"], "$next": "/sales_invoices?page=2&items_per_page=200"},
        "/sales_invoices?[('attributes', 'all'), ('items_per_page', '200'), ('page', '2')]": {
            "$items": ["b"],
            "$next": None,
        },
    }
    items, sent = run(pages, NextLinkPaginator(), {"attributes": "all"})
    assert items == ["a", "b"]
    assert sent[1].params == {"attributes": "all", "items_per_page": "200", "page": "2"}


def test_offset_pages_stop_on_a_short_page() -> None:
    pages = {"0": [1, 2], "2": [3, 4], "4": [5]}
    items, sent = run(pages, OffsetPaginator(limit=2), {"order": "id asc"})
    assert items == [1, 2, 3, 4, 5]
    assert [r.params["offset"] for r in sent] == [0, 2, 4]


def test_max_pages_guard() -> None:
    pages = {str(i): [i] for i in range(0, 10)}
    with pytest.raises(MalformedResponseError, match="more than 3 pages"):
        list(
            paginate(
                lambda r: pages[r.token], OffsetPaginator(limit=1), "/x", {}, platform="p", endpoint="e", max_pages=3
            )
        )
