"""Every key ``encours.toml`` may hold, checked once at load, and the typed settings built from them.

A key nobody reads is a key somebody mistyped: an unknown section or key is an error naming the
file, the key and the closest valid name (``[report] dya`` → "did you mean day?").  Every value
is checked for its type and range here, so that ``encours check`` refuses a bad file before a
pull and the daemon never discovers ``[report] day = "mondya"`` on its weekly step.

The typed sections (:class:`Settings`) are frozen and built once per load; modules read them
instead of parsing raw values again.  Platform-specific keys of ``[source]`` and ``[sheet]`` are
validated here too and read by the module that opens that platform.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from encours.connectors.errors import ConfigError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SOURCE_TYPES = ("pennylane", "sage", "odoo", "fec", "csv", "demo")
SHEET_TYPES = ("xlsx", "excel", "gsheets")
SENDING_MODES = ("outbox", "smtp")
COUNTRIES = ("FR", "BE")
LANGUAGES = ("fr", "nl", "en")
SMTP_SECURITY = ("starttls", "ssl", "none")
ODOO_PROTOCOLS = ("jsonrpc", "xmlrpc")
GOOGLE_AUTH = ("service_account", "oauth", "token", "none", "anonymous")  # none/anonymous: a local server only

Check = Callable[[Any], str | None]  # None when the value is right, else what is wrong


# -- value checks -----------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be text, not {value!r}"


def _whole(minimum: int = 0) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, not {value!r}"
        return None if value >= minimum else f"must be at least {minimum}, not {value}"

    return check


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {value!r}"


def _choice(*allowed: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    return check


def _url(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an http(s) URL, not {value!r}"
    return None if value.startswith(("http://", "https://")) else f"{value!r} is not an http(s) URL"


def _secure_url(value: Any) -> str | None:
    """The address of a platform that receives credentials: cleartext ``http://`` only to this machine."""
    problem = _url(value)
    if problem:
        return problem
    host = urlsplit(value).hostname or ""
    if value.startswith("http://") and host not in ("localhost", "::1") and not host.startswith("127."):
        return (f"cleartext http:// to {host or 'an unnamed host'} would send the credentials unencrypted: "
                "use https:// (http:// is accepted only for a server on this machine)")
    return None


def _env(value: Any) -> str | None:
    """An ``*_env`` key names an environment variable; a secret written in its place is refused."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return "must be the name of an environment variable (letters, digits, _), never the secret itself"
    return None


def _texts(value: Any) -> str | None:
    if isinstance(value, str):
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return "must be a list of text values"


def _duration(value: Any) -> str | None:
    if not isinstance(value, str) or not _DURATION.match(value):
        return f"{value!r} is not a duration such as 30s, 15m, 2h or 1d"
    return None if parse_duration(value) > 0 else "must be longer than zero"


def _window(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"{value!r} is not a window such as 08:30-18:00"
    try:
        parse_window(value)
    except ConfigError as exc:
        return str(exc)
    return None


def _day(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().casefold() in DAYS:
        return None
    return f"{value!r} is not a day of the week ({', '.join(DAYS)})"


def _bounds(value: Any) -> str | None:
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(b, int) and not isinstance(b, bool) for b in value)
        and 0 < value[0] < value[1] < value[2]
    ):
        return None
    return "must be three rising numbers of days, e.g. [30, 60, 90]"


def _percent(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return f"must be a percentage, not {value!r}"
    try:
        float(value)
    except ValueError:
        return f"must be a percentage, not {value!r}"
    return None


def _ints(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        return None
    return "must be a list of whole numbers"


def _profiles(value: Any) -> str | None:
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return None
    return 'must be a table: profile = "scenario"'


# -- the schema ---------------------------------------------------------------------------------------
COMPANY: dict[str, Check] = {
    "name": _text, "dossier": _text, "country": _choice(*COUNTRIES), "timezone": _text,
    "language": _choice(*LANGUAGES), "iban": _text, "bic": _text, "state": _text,
    "payment_terms_days": _whole(0), "formal_notice_days": _whole(1), "interest_rate": _percent,
    "address": _text, "email": _text, "phone": _text, "signature": _text, "siren": _text, "vat_number": _text,
}
_HTTP: dict[str, Check] = {"base_url": _secure_url}
SOURCE_BY_TYPE: dict[str, dict[str, Check]] = {
    "pennylane": {**_HTTP, "token_env": _env, "currency": _text, "scoring_window_days": _whole(1),
                  "contacts": _flag},
    "sage": {**_HTTP, "client_id_env": _env, "client_secret_env": _env, "business_id": _text,
             "auth_url": _url, "token_url": _url, "redirect_port": _whole(0), "scope": _text,
             "requests_per_minute": _whole(1)},
    "odoo": {"url": _secure_url, "database": _text, "login": _text, "api_key_env": _env, "company_id": _whole(1),
             "company_ids": _ints, "version": _text, "protocol": _choice(*ODOO_PROTOCOLS)},
    "fec": {"path": _text, "due_date_column": _text, "encoding": _text},
    "csv": {"path": _text, "payments": _text, "customers": _text, "encoding": _text},
    "demo": {"seed": _whole(0), "ledger": _text},
}
_WORKBOOK: dict[str, Check] = {"path": _text, "aging_bounds": _bounds}
SHEET_BY_TYPE: dict[str, dict[str, Check]] = {
    "xlsx": _WORKBOOK,
    "excel": _WORKBOOK,
    "gsheets": {"aging_bounds": _bounds, "spreadsheet_id": _text, "api_base_url": _url, "auth": _choice(*GOOGLE_AUTH),
                "credentials_env": _env, "token_env": _env, "oauth_client_file": _text, "oauth_token_file": _text,
                "requests_per_minute": _whole(1)},
}
SENDING: dict[str, Check] = {
    "mode": _choice(*SENDING_MODES), "outbox": _text, "window": _window, "every_day": _flag,
    "from": _text, "reply_to": _text, "bcc": _text, "cc_salesperson": _flag,
    # smtp
    "host": _text, "port": _whole(1), "security": _choice(*SMTP_SECURITY), "user": _text, "user_env": _env,
    "password_env": _env, "timeout": _whole(1),
}
SCENARIOS: dict[str, Check] = {"default": _text, "dir": _text, "profiles": _profiles}
SCHEDULE: dict[str, Check] = {"every": _duration, "heartbeat": _text}
REPORT: dict[str, Check] = {"day": _day, "recipients": _texts, "per_salesperson": _flag}
RISK: dict[str, Check] = {
    "enabled": _flag, "max_age_days": _whole(1), "max_lookups": _whole(1), "timeout_seconds": _whole(1),
    "sirene_base_url": _url, "bodacc_base_url": _url,
}
#: Sections whose keys do not depend on a type.
SECTIONS: dict[str, dict[str, Check]] = {
    "company": COMPANY, "sending": SENDING, "scenarios": SCENARIOS, "schedule": SCHEDULE,
    "report": REPORT, "risk": RISK,
}
ALL_SECTIONS = ("company", "source", "sheet", "sending", "scenarios", "schedule", "report", "risk")


def _closest(word: str, known: list[str]) -> str:
    match = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" — did you mean {match[0]}?" if match else f" (known: {', '.join(sorted(known))})"


def _check_table(name: str, values: Mapping[str, Any], keys: Mapping[str, Check], file: str,
                 other_types: Mapping[str, Mapping[str, Check]] | None = None, kind: str = "") -> None:
    for key, value in values.items():
        if name == "scenarios" and key == "profiles":
            problem = _profiles(value)
            if problem:
                raise ConfigError(problem, file=file, key="[scenarios.profiles]")
            continue
        check = keys.get(key)
        if check is None:
            owners = [t for t, table in (other_types or {}).items() if key in table]
            if owners and kind:
                where = f"is not a key of a {kind} {name} (it belongs to {', '.join(owners)})"
                raise ConfigError(where, file=file, key=f"[{name}] {key}")
            raise ConfigError("is not a known key" + _closest(key, list(keys)), file=file, key=f"[{name}] {key}")
        problem = check(value)
        if problem:
            raise ConfigError(problem, file=file, key=f"[{name}] {key}")


def validate(raw: Mapping[str, Any], file: str) -> None:
    """Refuse unknown sections and keys and wrong values; the error names file, key and the fix."""
    for name, values in raw.items():
        if name not in ALL_SECTIONS:
            if not isinstance(values, dict):
                raise ConfigError("is not a known key at the top of the file: keys belong to a [section]"
                                  + _closest(name, list(ALL_SECTIONS)), file=file, key=name)
            raise ConfigError("is not a known section" + _closest(name, list(ALL_SECTIONS)), file=file,
                              key=f"[{name}]")
        if not isinstance(values, dict):
            raise ConfigError("must be a table", file=file, key=f"[{name}]")
    for name, keys in SECTIONS.items():
        _check_table(name, raw.get(name, {}), keys, file)
    if "source" not in raw:
        raise ConfigError("is missing: say where the invoices come from", file=file, key="[source]")
    source = dict(raw["source"])
    kind = source.pop("type", None)
    if kind not in SOURCE_TYPES:
        raise ConfigError(f"{kind!r} is not one of {', '.join(SOURCE_TYPES)}", file=file, key="[source] type")
    _check_table("source", source, SOURCE_BY_TYPE[kind], file, SOURCE_BY_TYPE, kind)
    for key in {"fec": ("path",), "csv": ("path",)}.get(kind, ()):
        if key not in source:
            raise ConfigError(f"is required for a {kind} source", file=file, key=f"[source] {key}")
    sheet = dict(raw.get("sheet", {}))
    sheet_kind = sheet.pop("type", "xlsx")
    if sheet_kind not in SHEET_TYPES:
        raise ConfigError(f"{sheet_kind!r} is not one of {', '.join(SHEET_TYPES)}", file=file, key="[sheet] type")
    _check_table("sheet", sheet, SHEET_BY_TYPE[sheet_kind], file, SHEET_BY_TYPE, sheet_kind)
    sending = raw.get("sending", {})
    if sending.get("mode") == "smtp" and "host" not in sending:
        raise ConfigError("is required when mode = \"smtp\"", file=file, key="[sending] host")


# -- durations and windows ------------------------------------------------------------------------------
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_duration(text: str, *, file: str = "", key: str = "") -> int:
    """"15m" → 900 seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"{text!r} is not a duration such as 30s, 15m, 2h or 1d", file=file, key=key)
    number, unit = int(match.group(1)), match.group(2)
    seconds = number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if seconds <= 0:
        raise ConfigError("must be longer than zero", file=file, key=key)
    return seconds


def parse_window(text: str, *, file: str = "", key: str = "") -> tuple[time, time]:
    """"08:30-18:00" → (08:30, 18:00), local time."""
    match = re.match(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$", text)
    if not match:
        raise ConfigError(f"{text!r} is not a window such as 08:30-18:00", file=file, key=key)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ConfigError(f"{text!r} holds an impossible time", file=file, key=key) from None
    if end <= start:
        raise ConfigError(f"{text!r}: the window must end after it starts", file=file, key=key)
    return start, end


# -- typed sections -------------------------------------------------------------------------------------
DEFAULT_WINDOW = "08:30-18:00"
DEFAULT_EVERY = "15m"
DEFAULT_BOUNDS = (30, 60, 90)


@dataclass(frozen=True)
class SheetSettings:
    type: str
    path: Path | None  # the workbook (xlsx, excel); None for Google Sheets
    aging_bounds: tuple[int, int, int]
    spreadsheet_id: str = ""

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else f"Google Sheet {self.spreadsheet_id}"


@dataclass(frozen=True)
class SendingSettings:
    mode: str
    outbox: Path
    window: tuple[time, time]
    every_day: bool  # every day is a sending day (the demo): only the hours count


@dataclass(frozen=True)
class ScheduleSettings:
    every_seconds: int
    heartbeat: Path | None


@dataclass(frozen=True)
class ReportSettings:
    day: str = "monday"
    recipients: tuple[str, ...] = ()
    per_salesperson: bool = True


@dataclass(frozen=True)
class RiskSettings:
    enabled: bool = True
    sirene_base_url: str = ""  # empty: the registry's public address
    bodacc_base_url: str = ""
    max_age_days: int = 7
    max_lookups: int = 300
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    """The typed, validated sections of one dossier's configuration, built once at load."""

    source_type: str
    sheet: SheetSettings
    sending: SendingSettings
    schedule: ScheduleSettings
    report: ReportSettings
    risk: RiskSettings
    scenario_dir: Path | None
    default_scenario: str


def _resolve(base_dir: Path, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else base_dir / path


def build_settings(raw: Mapping[str, Any], base_dir: Path) -> Settings:
    """Typed sections from a file :func:`validate` accepted."""
    source = raw.get("source", {})
    sheet = raw.get("sheet", {})
    sending = raw.get("sending", {})
    schedule = raw.get("schedule", {})
    report = raw.get("report", {})
    risk = raw.get("risk", {})
    scenarios = raw.get("scenarios", {})
    sheet_type = sheet.get("type", "xlsx")
    recipients = report.get("recipients", [])
    if isinstance(recipients, str):
        recipients = [recipients]
    return Settings(
        source_type=source.get("type", ""),
        sheet=SheetSettings(
            type=sheet_type,
            path=None if sheet_type == "gsheets" else _resolve(base_dir, sheet.get(
                "path", "encours.xlsm" if sheet_type == "excel" else "encours.xlsx")),
            aging_bounds=tuple(sheet.get("aging_bounds", DEFAULT_BOUNDS)),  # type: ignore[arg-type]
            spreadsheet_id=sheet.get("spreadsheet_id", ""),
        ),
        sending=SendingSettings(
            mode=sending.get("mode", "outbox"),
            outbox=_resolve(base_dir, sending.get("outbox", "outbox")),
            window=parse_window(sending.get("window", DEFAULT_WINDOW)),
            every_day=sending.get("every_day", False),
        ),
        schedule=ScheduleSettings(
            every_seconds=parse_duration(schedule.get("every", DEFAULT_EVERY)),
            heartbeat=_resolve(base_dir, schedule["heartbeat"]) if schedule.get("heartbeat") else None,
        ),
        report=ReportSettings(
            day=report.get("day", "monday").strip().casefold(),
            recipients=tuple(r.strip() for r in recipients if r.strip()),
            per_salesperson=report.get("per_salesperson", True),
        ),
        risk=RiskSettings(
            # the demo's SIRENs are made up: never ask the registries about them unless told to
            enabled=risk.get("enabled", source.get("type") != "demo"),
            sirene_base_url=risk.get("sirene_base_url", ""),
            bodacc_base_url=risk.get("bodacc_base_url", ""),
            max_age_days=risk.get("max_age_days", 7),
            max_lookups=risk.get("max_lookups", 300),
            timeout=float(risk.get("timeout_seconds", 10)),
        ),
        scenario_dir=_resolve(base_dir, scenarios["dir"]) if scenarios.get("dir") else None,
        default_scenario=scenarios.get("default", "standard"),
    )
