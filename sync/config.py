"""``encours.toml``: loaded once, validated, with errors naming the file and the key.

Secrets never sit in the file: keys ending in ``_env`` name environment variables, read only when
needed through :meth:`Section.secret`, and never logged.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from encours.connectors.errors import ConfigError
from encours.sync.settings import (
    COUNTRIES,
    LANGUAGES,
    SENDING_MODES,
    SHEET_TYPES,
    SOURCE_TYPES,
    Settings,
    build_settings,
    parse_duration,
    parse_window,
    validate,
)

__all__ = [
    "COUNTRIES", "LANGUAGES", "SENDING_MODES", "SHEET_TYPES", "SOURCE_TYPES", "Config", "Section", "Settings",
    "config_from_mapping", "load_config", "parse_duration", "parse_window", "resolve_path",
]



@dataclass(frozen=True)
class Section:
    """One table of the configuration: its name, its keys, and where it was read from."""

    name: str
    values: Mapping[str, Any]
    file: str
    base_dir: Path
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False, compare=False)

    @property
    def type(self) -> str:
        return str(self.values.get("type", ""))

    def _key(self, key: str) -> str:
        return f"[{self.name}] {key}"

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.values.get(key, default)
        if value is None:
            raise ConfigError("is required", file=self.file, key=self._key(key))
        if not isinstance(value, str):
            raise ConfigError(f"must be text, not {value!r}", file=self.file, key=self._key(key))
        return value

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.values.get(key, default)
        if value is None:
            raise ConfigError("is required", file=self.file, key=self._key(key))
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"must be a whole number, not {value!r}", file=self.file, key=self._key(key))
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.values.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"must be true or false, not {value!r}", file=self.file, key=self._key(key))
        return value

    def path(self, key: str, default: str | None = None) -> Path:
        """A path relative to the configuration file's folder."""
        return resolve_path(self.base_dir, self.text(key, default))

    def secret(self, key: str) -> str:
        """The value of the environment variable named by ``<key>_env``.

        The error names the key and the variable, never a value.
        """
        env_key = key if key.endswith("_env") else f"{key}_env"
        variable = self.values.get(env_key)
        if not variable:
            raise ConfigError(
                "is required: the name of the environment variable that holds this secret",
                file=self.file,
                key=self._key(env_key),
            )
        if not isinstance(variable, str):
            raise ConfigError("must be the name of an environment variable", file=self.file, key=self._key(env_key))
        value = self.environ.get(variable, "")
        if not value:
            raise ConfigError(
                f"environment variable {variable} is not set (named by {env_key})",
                file=self.file,
                key=self._key(env_key),
            )
        return value


def resolve_path(base_dir: Path, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else base_dir / path


@dataclass(frozen=True)
class Config:
    """The whole configuration of one dossier (one company)."""

    file: Path
    company: Section
    source: Section
    sheet: Section
    sending: Section
    scenarios: Section
    schedule: Section
    raw: Mapping[str, Any]
    settings: Settings

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    @property
    def company_name(self) -> str:
        return self.company.text("name", "")

    @property
    def country(self) -> str:
        return self.company.text("country", "FR")

    @property
    def language(self) -> str:
        return self.company.text("language", "fr")

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.company.text("timezone", "Europe/Paris"))

    @property
    def state_path(self) -> Path:
        return self.company.path("state", "encours-state.sqlite")

    @property
    def payment_terms_days(self) -> int:
        return self.company.integer("payment_terms_days", 30)

    @property
    def dossier(self) -> str:
        """A stable name for this company's dossier (journal rows, locks, logs)."""
        return self.company.text("dossier", "") or self.company_name or self.file.stem

    def section(self, name: str) -> Section:
        """Any table of the file, empty when absent (for sections added by later features)."""
        values = self.raw.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError("must be a table", file=str(self.file), key=f"[{name}]")
        return Section(name, values, str(self.file), self.base_dir, self.company.environ)


def _section(raw: Mapping[str, Any], name: str, file: Path, environ: Mapping[str, str]) -> Section:
    values = raw.get(name, {})
    if not isinstance(values, dict):
        raise ConfigError("must be a table", file=str(file), key=f"[{name}]")
    return Section(name, values, str(file), file.parent, environ)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a configuration file; raises :class:`ConfigError` naming file and key."""
    file = Path(path).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such configuration file (run `encours init` to write one)", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot be read: {exc}", file=str(path)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"is not valid TOML: {exc}", file=str(path)) from None
    return config_from_mapping(raw, file, environ)


def config_from_mapping(
    raw: Mapping[str, Any], file: Path, environ: Mapping[str, str] | None = None
) -> Config:
    env = os.environ if environ is None else environ
    validate(raw, str(file))
    config = Config(
        file=file,
        company=_section(raw, "company", file, env),
        source=_section(raw, "source", file, env),
        sheet=_section(raw, "sheet", file, env),
        sending=_section(raw, "sending", file, env),
        scenarios=_section(raw, "scenarios", file, env),
        schedule=_section(raw, "schedule", file, env),
        raw=raw,
        settings=build_settings(raw, file.parent),
    )
    _validate(config)
    return config


def _validate(config: Config) -> None:
    """What :func:`encours.sync.settings.validate` cannot see from the raw values alone."""
    try:
        _ = config.timezone
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{config.company.get('timezone')!r} is not a known time zone (e.g. Europe/Paris)",
            file=str(config.file),
            key="[company] timezone",
        ) from None
