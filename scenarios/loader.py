"""Reminder scenarios as data: ``*.toml`` files loaded and validated before anything is sent.

A scenario file (its name is the file's stem: ``standard.toml`` → ``standard``)::

    label = "Standard"
    description = "Most customers"

    [[steps]]
    id = "courtesy"            # unique in the file
    label = "Prévenance"       # what the sheet's "Prochaine action" shows
    offset = -5                # days; negative = before the date it counts from
    from = "due"               # due | invoice | previous   (when = "schedule")
    channel = "email"          # email | letter | call | formal_notice | thanks
    template = "courtesy"      # templates/<fr|nl|en>/courtesy.subject.j2, .txt.j2, .html.j2
    scope = "invoice"          # invoice (one reminder per invoice, grouped per customer) | account
    needs_approval = false     # waits for "À envoyer" in the sheet
    min_amount = 0             # below this amount the step is passed over
    ceiling = 10000            # above this amount never automatic (approval needed); absent: none
    when = "schedule"          # schedule | broken_promise (offset from the promise date)
                               # | paid (offset from the payment date; channel thanks)

Directories are read in order; a later directory's file with the same stem replaces the earlier
one (shipped first, the user's ``[scenarios] dir`` overriding).  Templates are looked up in each
directory's ``templates/<language>/`` folder, the later directories first.

Every problem raises :class:`ScenarioError` naming the file, the step and the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from encours.connectors.errors import EncoursError

SHIPPED_DIR = Path(__file__).resolve().parent
LANGUAGES = ("fr", "nl", "en")
CHANNELS = ("email", "letter", "call", "formal_notice", "thanks")
BASES = ("due", "invoice", "previous")
SCOPES = ("invoice", "account")
TRIGGERS = ("schedule", "broken_promise", "paid")

#: Template parts each channel needs, per language: ``<template>.<part>.j2``.
CHANNEL_PARTS: Mapping[str, tuple[str, ...]] = {
    "email": ("subject", "txt", "html"),
    "thanks": ("subject", "txt", "html"),
    "letter": ("subject", "letter"),
    "formal_notice": ("subject", "letter"),
    "call": ("txt",),
}

_STEP_KEYS = frozenset(
    {"id", "label", "offset", "from", "channel", "template", "scope", "needs_approval", "min_amount", "ceiling", "when"}
)
_FILE_KEYS = frozenset({"label", "description", "steps"})


class ScenarioError(EncoursError):
    """A scenario file is wrong: names the file, the step and the field (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, *, file: str = "", step: str = "", field: str = "") -> None:
        parts = [file]
        if step:
            parts.append(f"step {step!r}")
        if field:
            parts.append(f"field {field!r}")
        where = ", ".join(p for p in parts if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.step = step
        self.field = field


@dataclass(frozen=True)
class Step:
    id: str
    label: str
    offset: int
    base: str  # due | invoice | previous (for "schedule" steps); "promise" / "payment" otherwise
    channel: str
    template: str
    scope: str = "invoice"
    needs_approval: bool = False
    min_amount: Decimal = Decimal(0)
    ceiling: Decimal | None = None
    when: str = "schedule"

    @property
    def is_courtesy(self) -> bool:
        """A notice sent before the due date (prévenance): pointless once the invoice is due."""
        return self.when == "schedule" and self.base == "due" and self.offset < 0


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    steps: tuple[Step, ...]
    file: str
    description: str = ""
    templates: jinja2.Environment | None = field(default=None, compare=False, repr=False)

    @property
    def schedule(self) -> tuple[Step, ...]:
        """The ordered steps of the normal course (neither broken promise nor thank-you)."""
        return tuple(s for s in self.steps if s.when == "schedule")

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"scenario {self.name!r} has no step {step_id!r}")

    def first(self, when: str) -> Step | None:
        for step in self.steps:
            if step.when == when:
                return step
        return None


def template_environment(dirs: Sequence[Path], cache_dir: Path | None = None) -> jinja2.Environment:
    """One Jinja2 environment over ``<dir>/templates`` of each directory, later dirs first.

    Template names are ``<language>/<template>.<part>.j2``.  Undefined variables are errors.
    HTML parts are auto-escaped; text parts are not.  ``cache_dir`` keeps compiled templates between
    processes (Jinja2 checks each template's source before using its cached code).
    """
    roots = [str(d / "templates") for d in reversed(list(dirs)) if (d / "templates").is_dir()]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(roots),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache_dir)) if cache_dir is not None else None,
    )
    from encours.scenarios.formatting import install_filters

    install_filters(env)
    return env


def load_scenarios(
    dirs: Sequence[Path] | None = None, *, check: Callable[[Scenario], None] | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Scenario]:
    """Load and validate every ``*.toml`` of the directories (default: the shipped ones only).

    ``check`` is run on each scenario once loaded — a dossier's setup passes
    :func:`encours.scenarios.render.check_rendering`, which renders every template with sample data.
    Raises :class:`ScenarioError` at the first problem; nothing is returned half-valid.
    """
    directories = [SHIPPED_DIR] if dirs is None else [Path(d) for d in dirs]
    for directory in directories:
        if not directory.is_dir():
            raise ScenarioError("is not a folder of scenario files", file=str(directory))
    env = template_environment(directories, cache_dir)
    files: dict[str, Path] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.toml")):
            files[path.stem] = path
    scenarios: dict[str, Scenario] = {}
    for name, path in sorted(files.items()):
        scenarios[name] = load_scenario_file(path, env)
        if check is not None:
            check(scenarios[name])
    if not scenarios:
        raise ScenarioError("holds no scenario (*.toml) file", file=", ".join(str(d) for d in directories))
    return scenarios


def load_scenario_file(path: Path, env: jinja2.Environment) -> Scenario:
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot be read: {exc}", file=file) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"is not valid TOML: {exc}", file=file) from None
    unknown = sorted(set(raw) - _FILE_KEYS)
    if unknown:
        raise ScenarioError(f"unknown key(s) {', '.join(unknown)}", file=file, field=unknown[0])
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError("a scenario needs at least one [[steps]] table", file=file, field="steps")
    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw_step in enumerate(raw_steps, start=1):
        if not isinstance(raw_step, dict):
            raise ScenarioError("each step must be a [[steps]] table", file=file, step=f"#{index}")
        step = _step(raw_step, file, index)
        if step.id in seen:
            raise ScenarioError("this step id is used twice", file=file, step=step.id, field="id")
        seen.add(step.id)
        steps.append(step)
    _check_order(steps, file)
    for step in steps:
        _check_templates(step, env, file)
    label = raw.get("label", path.stem)
    description = raw.get("description", "")
    if not isinstance(label, str) or not isinstance(description, str):
        raise ScenarioError("label and description must be text", file=file, field="label")
    return Scenario(path.stem, label, tuple(steps), file, description, env)


def _step(raw: Mapping[str, Any], file: str, index: int) -> Step:
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not step_id.strip():
        raise ScenarioError("every step needs an id (text)", file=file, step=f"#{index}", field="id")
    if not all(c.isalnum() or c in "_-" for c in step_id):
        raise ScenarioError("use letters, digits, '_' or '-' only", file=file, step=step_id, field="id")
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise ScenarioError(f"unknown key {unknown[0]!r}", file=file, step=step_id, field=unknown[0])

    def text(key: str, default: str | None = None, choices: Sequence[str] = ()) -> str:
        value = raw.get(key, default)
        if value is None:
            raise ScenarioError("is required", file=file, step=step_id, field=key)
        if not isinstance(value, str):
            raise ScenarioError(f"must be text, not {value!r}", file=file, step=step_id, field=key)
        if choices and value not in choices:
            raise ScenarioError(f"{value!r} is not one of {', '.join(choices)}", file=file, step=step_id, field=key)
        return value

    def amount(key: str) -> Decimal | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ScenarioError(f"must be an amount, not {value!r}", file=file, step=step_id, field=key)
        try:
            parsed = Decimal(str(value))
        except ArithmeticError:
            raise ScenarioError(f"{value!r} is not an amount", file=file, step=step_id, field=key) from None
        if not parsed.is_finite() or parsed < 0:
            raise ScenarioError("must be a positive amount", file=file, step=step_id, field=key)
        return parsed

    channel = text("channel", choices=CHANNELS)
    when = text("when", "paid" if channel == "thanks" else "schedule", TRIGGERS)
    if (channel == "thanks") != (when == "paid"):
        raise ScenarioError(
            "a thank-you (channel thanks) goes when an invoice is paid (when = 'paid'), and only then",
            file=file,
            step=step_id,
            field="when" if "when" in raw else "channel",
        )
    if when == "schedule":
        base = text("from", None, BASES)
    else:
        implied = "promise" if when == "broken_promise" else "payment"
        base = text("from", implied, (implied,))
    offset = raw.get("offset")
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise ScenarioError(f"must be a whole number of days, not {offset!r}", file=file, step=step_id, field="offset")
    if when != "schedule" and offset < 0:
        raise ScenarioError(f"counts days after the {base} date: cannot be negative", file=file, step=step_id,
                            field="offset")
    needs_approval = raw.get("needs_approval", channel == "formal_notice")
    if not isinstance(needs_approval, bool):
        raise ScenarioError("must be true or false", file=file, step=step_id, field="needs_approval")
    min_amount = amount("min_amount") or Decimal(0)
    ceiling = amount("ceiling")
    if ceiling is not None and ceiling < min_amount:
        raise ScenarioError("the ceiling is below the minimum amount", file=file, step=step_id, field="ceiling")
    return Step(
        id=step_id,
        label=text("label", step_id),
        offset=offset,
        base=base,
        channel=channel,
        template=text("template"),
        scope=text("scope", "invoice", SCOPES),
        needs_approval=needs_approval,
        min_amount=min_amount,
        ceiling=ceiling,
        when=when,
    )


def _check_order(steps: Sequence[Step], file: str) -> None:
    """Offsets never go backwards: a step counted from the same date as an earlier one comes later."""
    schedule = [s for s in steps if s.when == "schedule"]
    if not schedule:
        raise ScenarioError("needs at least one step with when = 'schedule'", file=file, field="steps")
    if schedule[0].base == "previous":
        raise ScenarioError("the first step has no previous step to count from", file=file, step=schedule[0].id,
                            field="from")
    latest: dict[str, Step] = {}
    for step in schedule:
        if step.base == "previous":
            if step.offset <= 0:
                raise ScenarioError(
                    f"offset {step.offset} goes backwards: a step counted from the previous one needs at least 1 day",
                    file=file, step=step.id, field="offset",
                )
            continue
        earlier = latest.get(step.base)
        if earlier is not None and step.offset <= earlier.offset:
            raise ScenarioError(
                f"offset {step.offset} goes backwards: step {earlier.id!r} before it is at {earlier.offset} "
                f"days from the same {step.base} date",
                file=file, step=step.id, field="offset",
            )
        latest[step.base] = step
    for trigger in ("broken_promise", "paid"):
        extra = [s for s in steps if s.when == trigger]
        if len(extra) > 1:
            raise ScenarioError(f"only one step can have when = {trigger!r}", file=file, step=extra[1].id, field="when")


def _check_templates(step: Step, env: jinja2.Environment, file: str) -> None:
    for language in LANGUAGES:
        for part in CHANNEL_PARTS[step.channel]:
            name = f"{language}/{step.template}.{part}.j2"
            try:
                template = env.get_template(name)
            except jinja2.TemplateNotFound as exc:
                missing_name = exc.name if isinstance(exc.name, str) else name
                detail = "is missing" if missing_name == name else f"includes {missing_name}, which is missing"
                raise ScenarioError(
                    f"template {name} {detail} (each of fr, nl, en needs it for channel {step.channel})",
                    file=file, step=step.id, field="template",
                ) from None
            except jinja2.TemplateSyntaxError as exc:
                raise ScenarioError(
                    f"template {exc.filename or name}, line {exc.lineno}: {exc.message}",
                    file=file, step=step.id, field="template",
                ) from None
            missing = [b for b in ("opening", "closing") if part == "letter" and b not in template.blocks]
            if missing:
                raise ScenarioError(
                    f"template {name} must define the block(s) {', '.join(missing)} (the text around the invoices)",
                    file=file, step=step.id, field="template",
                )
