"""What a reminder pass reports: each message sent, waiting, deferred, skipped, uncertain or failed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from encours.scenarios.planner import CHANNEL_LABELS_FR, PlannedAction
from encours.sync.journal import Entry, reference_for
from encours.sync.window import WindowState


@dataclass(frozen=True)
class Outcome:
    reference: str
    customer: str
    step: str
    channel: str
    recipients: str = ""
    detail: str = ""  # reason, file written, server reply

    def line(self) -> str:
        to = f" → {self.recipients}" if self.recipients else ""
        detail = f" — {self.detail}" if self.detail else ""
        return f"{self.reference} {self.customer}: {self.step} ({self.channel}){to}{detail}"


@dataclass
class RunReport:
    dossier: str
    as_of: date
    dry_run: bool = False
    window: WindowState | None = None
    sync_lines: list[str] = field(default_factory=list)
    sent: list[Outcome] = field(default_factory=list)
    tasks: list[Outcome] = field(default_factory=list)
    would_send: list[Outcome] = field(default_factory=list)
    waiting_approval: list[Outcome] = field(default_factory=list)
    deferred: list[Outcome] = field(default_factory=list)  # due, but the window is closed or the pass was stopped
    skipped: list[Outcome] = field(default_factory=list)
    held: list[Outcome] = field(default_factory=list)  # failed earlier, waiting before a retry
    uncertain: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the sheet could not be written …
    sheet_written: bool = False
    stopped: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.problems else 0

    @property
    def sheet_failed(self) -> bool:
        return any(p.startswith("sheet") for p in self.problems)

    def lines(self) -> list[str]:
        head = f"Reminder pass — {self.dossier}, as of {self.as_of:%d/%m/%Y}" + (" (dry run: nothing sent, nothing "
                                                                               "written)" if self.dry_run else "")
        out = [head, *self.sync_lines]
        if self.window is not None and not self.window.open:
            when = f"; next opening {self.window.next_open:%d/%m/%Y %H:%M}" if self.window.next_open else ""
            out.append(f"Sending window closed: {self.window.note}{when}")

        def block(title: str, items: Sequence[Outcome]) -> None:
            out.append(f"{title}: {len(items)}")
            out.extend(f"  {o.line()}" for o in items[:50])
            if len(items) > 50:
                out.append(f"  … and {len(items) - 50} more")

        if self.dry_run:
            block("Would send", self.would_send)
        else:
            block("Sent", self.sent)
            block("Tasks published to À faire (calls)", self.tasks)
        block("Waiting for approval (tick À envoyer)", self.waiting_approval)
        if self.deferred:
            block("Due, not sent now", self.deferred)
        block("Skipped", self.skipped)
        if self.held:
            block("Failed earlier, retried later", self.held)
        block("Uncertain — confirm with `encours run --confirm REF sent|not-sent`", self.uncertain)
        block("Failed", self.failed)
        out.extend(f"Problem: {p}" for p in self.problems)
        if self.stopped:
            out.append("Stopped on request: the rest goes out at the next pass")
        return out



def outcome(action: PlannedAction, dossier: str, detail: str = "", recipients: Iterable[str] | None = None) -> Outcome:
    to = ", ".join(action.recipients.to if recipients is None else recipients) if action.channel in (
        "email", "thanks") else ""
    return Outcome(reference_for(dossier, action.key), action.customer_name, action.step.label,
                   CHANNEL_LABELS_FR.get(action.channel, action.channel), to, detail)


def entry_outcome(entries: Sequence[Entry], label: Callable[[str, str], str]) -> Outcome:
    first = entries[0]
    return Outcome(first.reference or first.key.id, first.customer_name, label(first.scenario, first.step),
                   CHANNEL_LABELS_FR.get(first.channel, first.channel), first.recipients, first.reason)
