"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and misbehaves on demand.

``refuse_after``: accept that many messages, then answer ``451`` to the next ones.
``drop_after``: accept that many messages, then close the connection in the middle of the next.
``SmtpServer.open_connections`` counts the clients connected now: read the mailbox only once a
killed client's connection is closed (:meth:`SmtpServer.wait_closed`), or a message still being
received is missed.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


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


class _CountingSmtp(SMTP):
    def __init__(self, counter: _Counter, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counter = counter

    def connection_made(self, transport: Any) -> None:
        self._counter.add(1)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            self._counter.add(-1)


class _Counter:
    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self, step: int) -> None:
        with self._lock:
            self.value += step


class _CountingController(Controller):
    def __init__(self, counter: _Counter, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counter = counter

    def factory(self) -> SMTP:
        return _CountingSmtp(self._counter, self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """``with SmtpServer() as server: … server.port … server.handler.received``."""

    def __init__(self, handler: RecordingHandler | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.port = free_port()
        self._connections = _Counter()
        self.controller = _CountingController(self._connections, self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def open_connections(self) -> int:
        return self._connections.value

    def wait_closed(self, timeout: float = 30.0) -> bool:
        """Wait until no client is connected (a killed pass's socket is closed and handled)."""
        deadline = time.monotonic() + timeout
        while self._connections.value > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
