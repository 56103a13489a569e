"""Where a rendered message goes (e-mail channel, letters to the outbox folder, calls to tasks), what the
journal keeps of it, and how the invoice PDFs it attaches are read — the same for run and preview."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from encours.connectors.base import Connector
from encours.connectors.errors import EncoursError
from encours.scenarios.message import Channel, Message, SendResult
from encours.scenarios.planner import ActionItem
from encours.scenarios.render import PdfFetcher
from encours.sync.config import Config

log = logging.getLogger(__name__)

PdfFetch = Callable[[str], bytes | None]


class _Closable(Protocol):
    def close(self) -> None: ...


class Dispatcher:
    """Routes a message: e-mails to the configured channel, letters to the outbox folder, calls to tasks."""

    def __init__(self, email: Channel, letters: Channel) -> None:
        self.email = email
        self.letters = letters

    def deliver(self, message: Message) -> SendResult:
        if message.channel == "call":
            return SendResult(message.message_id, "task", "À faire", ())
        if message.is_email:
            return self.email.send(message)
        return self.letters.send(message)

    def close(self) -> None:
        for channel in (self.email, self.letters):
            closer = getattr(channel, "close", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer()


def open_channels(config: Config, email: Channel | None = None) -> Dispatcher:
    from encours.sync.channels.outbox import OutboxChannel

    outbox = OutboxChannel(config.sending.path("outbox", "outbox"))
    if email is None:
        if (config.sending.text("mode", "outbox")) == "smtp":
            from encours.sync.channels.smtp import smtp_from_config

            email = smtp_from_config(config)
        else:
            email = outbox
    return Dispatcher(email, outbox)


def message_bytes(message: Message) -> tuple[str, bytes]:
    """What is kept in the journal: the .eml of an e-mail, the PDF of a letter, the text of a call."""
    if message.is_email:
        return f"{message.file_stem}.eml", message.to_email().as_bytes()
    if message.letter is not None:
        return f"{message.file_stem}.pdf", message.letter
    return f"{message.file_stem}.txt", f"{message.subject}\n\n{message.text}\n".encode()


def default_fetch_pdf(url: str) -> bytes | None:
    from encours.sync.export_case import default_fetch_pdf as download

    return download(url)


def attachments(fetch_pdf: PdfFetch | None) -> PdfFetcher:
    """An invoice's PDF for a message, or None when it cannot be read (the message goes without it,
    the log says why)."""

    def fetch(item: ActionItem) -> bytes | None:
        if fetch_pdf is None or not item.pdf_url:
            return None
        try:
            return fetch_pdf(item.pdf_url)
        except (EncoursError, OSError) as exc:
            log.warning("invoice PDF %s not attached: %s", item.number, exc)
            return None

    return fetch


def pdf_fetcher(connector: Connector | None) -> PdfFetch:
    """How a pass reads an invoice's PDF: the connector's own way when it has one (an authenticated
    API), else an HTTPS download with certificates verified.  Run and preview attach the same."""
    own = getattr(connector, "fetch_pdf", None)
    return own if callable(own) else default_fetch_pdf
