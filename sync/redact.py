"""Keep secrets out of every log line: values of the environment variables the configuration
names (``*_env`` keys) are replaced by ``***`` in all log records, whatever logger emits them,
also URL-encoded or base64-encoded (see :func:`encours.connectors.source_errors.secret_forms`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from encours.connectors.source_errors import redact_values
from encours.sync.config import Config

_SECRETS: set[str] = set()


def named_variables(raw: Mapping[str, Any]) -> set[str]:
    """The environment variables the settings name: the value of every ``*_env`` key, at any depth."""
    found: set[str] = set()
    for key, value in raw.items():
        if isinstance(value, Mapping):
            found |= named_variables(value)
        elif key.endswith("_env") and isinstance(value, str):
            found.add(value)
    return found


def secret_values(raw: Mapping[str, Any], environ: Mapping[str, str]) -> set[str]:
    """Every value of an environment variable named by a ``*_env`` key, at any depth."""
    return {secret for secret in (environ.get(name, "") for name in named_variables(raw)) if len(secret) >= 4}


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Secrets removed in every form an echoing server could give them back (plain, URL-encoded,
    JSON-escaped, base64)."""
    return redact_values(text, _SECRETS if secrets is None else secrets)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def install_redaction(config: Config, environ: Mapping[str, str] | None = None) -> None:
    """Register the config's secrets and make every handler of the root logger redact them."""
    _SECRETS.update(secret_values(config.raw, os.environ if environ is None else environ))
    root = logging.getLogger()
    for handler in root.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    if _FILTER not in root.filters:
        root.addFilter(_FILTER)
