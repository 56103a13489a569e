"""Errors users act on.  Each message names the file, row, record or key at fault, never a secret.

``exit_code`` follows the CLI contract: 2 for bad usage, configuration or input (nothing done),
1 for a run that finished with some items in error.
"""

from __future__ import annotations


class EncoursError(Exception):
    """Base of every error encours reports to a user."""

    exit_code = 2


class ConfigError(EncoursError):
    """The configuration file is wrong: names the file and the key."""

    def __init__(self, message: str, *, file: str = "", key: str = "") -> None:
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.key = key


class InputError(EncoursError):
    """A source file (FEC, CSV …) is malformed: names the file and the line or record."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None) -> None:
        where = file + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.line = line


class SourceError(EncoursError):
    """An accounting platform failed or answered something encours cannot use.

    Subclasses classify the failure (authentication, permission, rate limit …); the message names
    the platform, the endpoint and, when there is one, the record id.
    """

    exit_code = 1

    def __init__(self, message: str, *, platform: str = "", endpoint: str = "", record: str = "") -> None:
        parts = [p for p in (platform, endpoint, f"record {record}" if record else "") if p]
        super().__init__(f"{' '.join(parts)}: {message}" if parts else message)
        self.platform = platform
        self.endpoint = endpoint
        self.record = record


class SheetError(EncoursError):
    """The sheet cannot be read or written as it is: names the tab, row and column."""

    exit_code = 1

    def __init__(self, message: str, *, tab: str = "", row: int | None = None, column: str = "") -> None:
        parts = [tab]
        if row is not None:
            parts.append(f"row {row}")
        if column:
            parts.append(f"column {column!r}")
        where = ", ".join(p for p in parts if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.tab = tab
        self.row = row
        self.column = column
