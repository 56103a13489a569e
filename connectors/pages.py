"""Paging as small objects, and one loop that refuses to go round in circles.

A paginator knows three things about a listing: the first request, the items of an answer, and
the next request (or ``None``).  :func:`paginate` runs the loop for every platform: it resends the
caller's filters on every page (a Pennylane cursor does not carry them), stops on the last page,
and raises when a platform hands back a page token it already gave (an endless loop otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from encours.connectors.fields import parse_timestamp
from encours.connectors.source_errors import MalformedResponseError


def record_list(body: Any) -> list[Any]:
    """A page whose body is the list of records itself (Odoo's JSON-RPC reads)."""
    if not isinstance(body, list):
        raise ValueError(f"expected a list of records, got a {type(body).__name__}")
    return body


@dataclass(frozen=True)
class PageRequest:
    """One page to fetch: a path (or absolute URL) and its query parameters."""

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    token: str = ""  # what identifies this page (cursor, URL, offset) for the repeat guard


class Paginator(Protocol):
    def first(self, path: str, params: Mapping[str, Any]) -> PageRequest: ...

    def items(self, body: Any) -> list[Any]: ...

    def next(self, current: PageRequest, body: Any, items: list[Any]) -> PageRequest | None: ...


def _require(body: Any, key: str, kind: type) -> Any:
    if not isinstance(body, dict) or key not in body:
        raise ValueError(f"the answer has no {key!r} field")
    value = body[key]
    if not isinstance(value, kind):
        raise ValueError(f"{key!r} is a {type(value).__name__}, not a {kind.__name__}")
    return value


@dataclass(frozen=True)
class CursorPaginator:
    """``{"items", "has_more", "next_cursor"}`` answers, ``cursor`` + ``limit`` query (Pennylane)."""

    limit: int = 100
    cursor_param: str = "cursor"
    limit_param: str = "limit"

    def first(self, path: str, params: Mapping[str, Any]) -> PageRequest:
        return PageRequest(path, {**params, self.limit_param: self.limit}, "")

    def items(self, body: Any) -> list[Any]:
        return list(_require(body, "items", list))

    def next(self, current: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        has_more = body.get("has_more") if isinstance(body, dict) else None
        cursor = body.get("next_cursor") if isinstance(body, dict) else None
        if not has_more or not cursor:
            return None
        if not isinstance(cursor, str):
            raise ValueError(f"'next_cursor' is a {type(cursor).__name__}, not text")
        # Filters and sort are not carried by the cursor: resend every original parameter.
        return PageRequest(current.path, {**current.params, self.cursor_param: cursor}, cursor)


@dataclass(frozen=True)
class NextLinkPaginator:
    """Answers that link the next page (Sage ``$next``, ``$items``); the link keeps its query."""

    items_key: str = "$items"
    next_key: str = "$next"
    page_size_param: str = "items_per_page"
    page_size: int = 200

    def first(self, path: str, params: Mapping[str, Any]) -> PageRequest:
        return PageRequest(path, {**params, self.page_size_param: self.page_size}, "")

    def items(self, body: Any) -> list[Any]:
        return list(_require(body, self.items_key, list))

    def next(self, current: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        link = body.get(self.next_key) if isinstance(body, dict) else None
        if not link:
            return None
        if not isinstance(link, str):
            raise ValueError(f"{self.next_key!r} is a {type(link).__name__}, not a link")
        parts = urlsplit(link)
        linked = dict(parse_qsl(parts.query, keep_blank_values=True))
        # The link normally repeats the query; anything it dropped is put back.
        params = {**current.params, **linked}
        path = link.split("?", 1)[0]
        token = f"{parts.path}?{sorted(params.items())}"
        return PageRequest(path, params, token)


@dataclass(frozen=True)
class OffsetPaginator:
    """``offset`` + ``limit``; the last page is the first one shorter than ``limit`` (Odoo)."""

    limit: int = 500

    def first(self, path: str, params: Mapping[str, Any]) -> PageRequest:
        return PageRequest(path, {**params, "offset": 0, "limit": self.limit}, "0")

    def items(self, body: Any) -> list[Any]:
        return record_list(body)

    def next(self, current: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        if len(items) < self.limit:
            return None
        offset = int(current.params.get("offset", 0)) + len(items)
        return PageRequest(current.path, {**current.params, "offset": offset}, str(offset))


def paginate(
    fetch: Callable[[PageRequest], Any],
    paginator: Paginator,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    platform: str,
    endpoint: str,
    max_pages: int = 1_000_000,
) -> Iterator[list[Any]]:
    """Yield the items of each page until the last one.

    ``fetch`` sends one :class:`PageRequest` and returns the decoded body.  A page token seen
    before, or more than ``max_pages`` pages, raises :class:`MalformedResponseError`.
    """
    first = paginator.first(path, params or {})
    for items, _ in walk(fetch, paginator, first, platform=platform, endpoint=endpoint, max_pages=max_pages):
        yield items


def walk(
    fetch: Callable[[PageRequest], Any],
    paginator: Paginator,
    request: PageRequest | None,
    *,
    platform: str,
    endpoint: str,
    max_pages: int = 1_000_000,
) -> Iterator[tuple[list[Any], PageRequest | None]]:
    """Each page's items with the request for the page after it (``None`` after the last one),
    starting from any page: a full pull resumes from the request it saved (see checkpoint)."""
    seen: set[str] = set()
    pages = 0
    while request is not None:
        pages += 1
        if pages > max_pages:
            raise MalformedResponseError(
                f"more than {max_pages} pages: stopped to avoid an endless listing",
                platform=platform,
                endpoint=endpoint,
            )
        body = fetch(request)
        try:
            items = paginator.items(body)
            following = paginator.next(request, body, items)
        except ValueError as exc:
            raise MalformedResponseError(
                f"page {pages} cannot be read: {exc}", platform=platform, endpoint=endpoint
            ) from None
        if following is not None:
            if following.token in seen or following.token == request.token:
                raise MalformedResponseError(
                    f"page {pages} handed back a page token already used ({following.token[:60]!r}): "
                    "stopped instead of looping forever",
                    platform=platform,
                    endpoint=endpoint,
                )
            seen.add(request.token)
        yield items, following
        request = following


@dataclass(frozen=True)
class SinceCursor:
    """An incremental sync's bookmark: changes since this moment (JSON; opaque outside its connector)."""

    since: datetime

    def dumps(self) -> str:
        return json.dumps({"v": 1, "since": self.since.isoformat()})

    @classmethod
    def loads(cls, text: str) -> SinceCursor | None:
        """The cursor, or None when the text is not one (the caller then pulls in full)."""
        try:
            return cls(parse_timestamp(str(json.loads(text)["since"])))
        except (ValueError, KeyError, TypeError):
            return None
