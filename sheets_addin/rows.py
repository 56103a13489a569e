"""The rows a reminder pass writes, typed: one :class:`JournalRow` per line of ``Relances`` (the
keys are the layout's JOURNAL column keys; a test checks they stay the same), so a row built
with a missing or misspelt column fails the type check instead of leaving a cell empty."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class JournalRow(TypedDict):
    """One line of ``Relances``: a message's change of state, as people read it."""

    id: str  # J-000123: the history's sequence number
    at: datetime  # naive, in the company's time zone
    customer: str
    invoices: str  # invoice numbers, comma-separated
    scenario: str
    step: str  # the step's label
    channel: str  # the channel's label
    recipient: str
    status: str  # the state's label
    reason: str
    message: str  # reference, Message-ID, file written
