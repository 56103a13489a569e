"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and misbehaves on demand.

``refuse_after``: accept that many messages, then answer ``451`` to the next ones.
``drop_after``: accept that many messages, then close the connection in the middle of the next.
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    refuse_after: int | None = None
    drop_after: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_after is not None and len(self.received) >= self.drop_after:
            server.transport.close()
            return "421 closing"
        if self.refuse_after is not None and len(self.received) >= self.refuse_after:
            return "451 4.3.0 mailbox busy, try again later"
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK queued"

    @property
    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """``with SmtpServer() as server: … server.port … server.handler.received``."""

    def __init__(self, handler: RecordingHandler | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
