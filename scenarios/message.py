"""What a channel sends: a rendered :class:`Message`, and what it answers: a :class:`SendResult`.

A message is built once by :func:`encours.scenarios.render.render` and is the same whether it is
previewed, written to the outbox or sent by SMTP.  Letters (``letter``, ``formal_notice``) carry
their PDF in ``letter``; calls carry their talking points in ``text`` and become ``À faire`` rows,
never a sent message.

Header safety: every address is validated as a plain ``local@domain`` and every header value is
stripped of CR/LF when the e-mail is built, so a customer name or a sheet cell cannot inject
headers or recipients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Protocol

from encours.connectors.errors import EncoursError

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class ChannelError(EncoursError):
    """A message could not be sent or written; says where (server, folder) and why, never a secret."""

    exit_code = 1

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class UncertainSendError(ChannelError):
    """The message may have reached the server: the connection broke or timed out after DATA began.

    Never retried blindly: the journal records it ``uncertain`` until a person says whether the
    server has it (search its Sent folder or logs for ``message_id``).
    """

    def __init__(self, message: str, *, message_id: str) -> None:
        super().__init__(message, retriable=False)
        self.message_id = message_id


class AddressError(ChannelError):
    """An address is not a plain, valid e-mail address (never sent)."""


def check_address(address: str, *, what: str = "address") -> str:
    if not isinstance(address, str) or len(address) > 254 or not _EMAIL.match(address):
        raise AddressError(f"{what} {address!r} is not a valid e-mail address")
    return address


def clean_header(value: str) -> str:
    """A header value on one line: control characters (CR, LF, NUL …) become spaces."""
    return _CONTROL.sub(" ", value).strip()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    inline_id: str = ""  # Content-ID for an image shown in the HTML part (the QR code)


@dataclass(frozen=True)
class Message:
    """One reminder, fully rendered."""

    message_id: str  # "<…@…>", deterministic: the same action always gets the same id
    channel: str  # email | letter | formal_notice | call | thanks
    language: str
    subject: str
    text: str
    html: str = ""
    sender: str = ""
    sender_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    reply_to: str = ""
    attachments: tuple[Attachment, ...] = ()
    letter: bytes | None = None  # the PDF of a letter or formal notice
    customer_id: str = ""
    step_keys: tuple[str, ...] = ()  # StepKey ids
    date: datetime | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def is_email(self) -> bool:
        return self.channel in ("email", "thanks")

    @property
    def file_stem(self) -> str:
        """A file name for this message, stable and safe: derived from the Message-ID."""
        core = self.message_id.strip("<>").split("@")[0]
        return re.sub(r"[^A-Za-z0-9._-]", "_", core)[:120]

    def to_email(self) -> EmailMessage:
        """The MIME message: text and HTML alternatives, inline QR image, attachments.

        Raises :class:`AddressError` when a recipient or the sender is not a valid address.
        """
        if not self.to:
            raise AddressError(f"message {self.message_id}: no recipient")
        msg = EmailMessage(policy=SMTP)
        sender = check_address(self.sender, what="sender ([sending] from)")
        name = clean_header(self.sender_name)
        msg["From"] = Address(display_name=name, addr_spec=sender) if name else sender
        msg["To"] = ", ".join(check_address(a, what="recipient") for a in self.to)
        if self.cc:
            msg["Cc"] = ", ".join(check_address(a, what="cc") for a in self.cc)
        if self.reply_to:
            msg["Reply-To"] = check_address(self.reply_to, what="reply-to")
        msg["Subject"] = clean_header(self.subject)
        msg["Message-ID"] = clean_header(self.message_id)
        if self.date is not None:
            msg["Date"] = format_datetime(self.date)
        for name_, value in self.headers:
            header = re.sub(r"[^A-Za-z0-9-]", "", name_)
            if header:
                msg[header] = clean_header(value)
        msg.set_content(self.text)
        if self.html:
            msg.add_alternative(self.html, subtype="html")
            html_part = msg.get_body(preferencelist=("html",))
            for att in self.attachments:
                if att.inline_id and isinstance(html_part, EmailMessage):
                    maintype, _, subtype = att.mime_type.partition("/")
                    html_part.add_related(att.content, maintype=maintype, subtype=subtype,
                                          cid=f"<{att.inline_id}>", filename=att.filename)
        for att in self.attachments:
            if att.inline_id and self.html:
                continue
            maintype, _, subtype = att.mime_type.partition("/")
            msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=clean_header(att.filename))
        if self.letter is not None:
            msg.add_attachment(self.letter, maintype="application", subtype="pdf", filename=f"{self.file_stem}.pdf")
        msg["Content-Language"] = clean_header(self.language)  # after the body: set_content drops Content-*
        return msg

    def envelope_recipients(self) -> list[str]:
        """Every address the server must deliver to (To, Cc and Bcc), validated."""
        return [check_address(a, what="recipient") for a in (*self.to, *self.cc, *self.bcc)]


@dataclass(frozen=True)
class SendResult:
    message_id: str
    channel: str  # smtp | outbox | task
    detail: str  # the server's reply, or the file written
    recipients: tuple[str, ...] = ()


class Channel(Protocol):
    """Something that delivers a message: an SMTP server, the outbox folder."""

    name: str

    def send(self, message: Message) -> SendResult: ...
