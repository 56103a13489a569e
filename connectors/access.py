"""What ``encours check`` asks each endpoint: one small read, and the answer in the platform's words.

A connector lists the endpoints its sync and its re-check use; :func:`probe` calls each once and
turns a refusal into the role or scope that is missing, so that a token that would pass a cheap
credentials check but fail the third incremental sync is found on the first day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from encours.connectors.errors import SourceError
from encours.connectors.source_errors import AuthenticationError, NotFoundError, PermissionDeniedError


@dataclass(frozen=True)
class EndpointCheck:
    """One endpoint's answer to ``encours check``: ``ok``, or why not and what would fix it."""

    endpoint: str
    ok: bool
    why: str = ""

    def line(self) -> str:
        if self.ok:
            return f"{self.endpoint}: OK" + (f" ({self.why})" if self.why else "")
        return f"{self.endpoint}: {self.why}"


def probe(endpoint: str, call: Callable[[], Any], *, needs: str, missing_ok: bool = False) -> EndpointCheck:
    """Call ``call`` once; a 403 says ``needs`` (the role or scope, as the platform names it).

    ``missing_ok``: a 404 is an answer (the probe asked for a record that may be gone), not a failure.
    """
    try:
        call()
    except PermissionDeniedError as exc:
        return EndpointCheck(endpoint, False, f"refused (403): needs {needs} — {detail_of(exc)}")
    except AuthenticationError as exc:
        return EndpointCheck(endpoint, False, f"credentials refused (401) — {detail_of(exc)}")
    except NotFoundError as exc:
        if missing_ok:
            return EndpointCheck(endpoint, True)
        return EndpointCheck(endpoint, False, f"not found (404) — {detail_of(exc)}")
    except SourceError as exc:
        return EndpointCheck(endpoint, False, detail_of(exc))
    return EndpointCheck(endpoint, True)


def detail_of(error: SourceError) -> str:
    """The message without the "platform endpoint" prefix (the line already names the endpoint)."""
    text = str(error)
    return text.partition(": ")[2] or text
