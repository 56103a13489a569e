"""Sending by SMTP: STARTTLS or implicit TLS with certificates verified, or plain only on loopback.

One connection serves a batch (``with SmtpChannel(...) as smtp: smtp.send(m) …``) and is opened
again when the server drops it.  Failures become :class:`ChannelError` with ``retriable`` set
for what may work later (connection lost, timeout, 4xx replies) and not for what will not
(recipient refused, 5xx, authentication).  Once the DATA command has begun, a timeout or a lost
connection is :class:`UncertainSendError`: a server still scanning the content can answer 250
after the client gave up, so the message is never resent blindly.  Messages never contain the
password.
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import ssl
from typing import TYPE_CHECKING

from encours.connectors.errors import ConfigError
from encours.scenarios.message import ChannelError, Message, SendResult, UncertainSendError, check_address

if TYPE_CHECKING:
    from encours.sync.config import Config

SECURITY = ("starttls", "ssl", "none")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SmtpChannel:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: str = "starttls",
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in SECURITY:
            raise ConfigError(f"{security!r} is not one of {', '.join(SECURITY)}", key="[sending] security")
        if security == "none" and not is_loopback(host):
            raise ConfigError(
                f"plain SMTP (security = none) is only allowed to a server on this machine, not {host!r}: "
                "use starttls or ssl",
                key="[sending] security",
            )
        self.host = host
        self.port = port or {"starttls": 587, "ssl": 465, "none": 25}[security]
        self.security = security
        self.user = user
        self._password = password
        self.timeout = timeout
        self.context = ssl_context or ssl.create_default_context()
        self.local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpChannel({self.host}:{self.port}, {self.security}, user={self.user!r})"

    @property
    def where(self) -> str:
        return f"SMTP {self.host}:{self.port}"

    # -- connection ---------------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        try:
            conn: smtplib.SMTP
            if self.security == "ssl":
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context,
                                        local_hostname=self.local_hostname)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname)
            conn.ehlo()
            if self.security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise ChannelError(f"{self.where}: the server does not offer STARTTLS; refusing to send in clear")
                conn.starttls(context=self.context)
                conn.ehlo()
            if self.user:
                conn.login(self.user, self._password)
        except ssl.SSLCertVerificationError as exc:
            raise ChannelError(f"{self.where}: the server's TLS certificate is not trusted ({exc.verify_message})") \
                from None
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelError(f"{self.where}: authentication failed for user {self.user!r} ({exc.smtp_code})") \
                from None
        except smtplib.SMTPException as exc:
            raise ChannelError(f"{self.where}: {type(exc).__name__}: {exc}", retriable=True) from None
        except (OSError, ssl.SSLError) as exc:
            raise ChannelError(f"{self.where}: cannot connect ({exc})", retriable=True) from None
        return conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def __enter__(self) -> SmtpChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> str:
        """Connect, authenticate and say what the server answered (``encours check``)."""
        conn = self._connect()
        self._conn = conn
        banner = (conn.ehlo_resp or b"").decode("utf-8", "replace").splitlines()
        self.close()
        return f"{self.where}: OK ({self.security}{', authenticated' if self.user else ''})" + (
            f" — {banner[0]}" if banner else "")

    # -- sending ------------------------------------------------------------------------------
    def send(self, message: Message) -> SendResult:
        if not message.is_email:
            raise ChannelError(f"message {message.message_id}: a {message.channel} is not sent by e-mail")
        email = message.to_email()
        sender = check_address(message.sender, what="sender ([sending] from)")
        recipients = message.envelope_recipients()
        data = email.as_bytes()
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        data_began = False
        try:
            code, reply = conn.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused: dict[str, tuple[int, bytes]] = {}
            for address in recipients:
                rcode, rreply = conn.rcpt(address)
                if rcode not in (250, 251):
                    refused[address] = (rcode, rreply)
            if refused:
                conn.rset()
                raise smtplib.SMTPRecipientsRefused(refused)  # type: ignore[arg-type]
            data_began = True
            code, reply = conn.data(data)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPRecipientsRefused as exc:
            detail = ", ".join(f"{a} ({c} {r.decode('utf-8', 'replace')})" for a, (c, r) in exc.recipients.items())
            raise ChannelError(f"{self.where}: recipient(s) refused: {detail}",
                               retriable=all(400 <= c < 500 for c, _ in exc.recipients.values())) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            error = exc.smtp_error
            text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            raise ChannelError(f"{self.where}: the server answered {exc.smtp_code} {text}",
                               retriable=400 <= exc.smtp_code < 500) from None
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if data_began:
                raise UncertainSendError(
                    f"{self.where}: no answer after the message was handed over ({exc or type(exc).__name__}); "
                    f"the server may have it — search for Message-ID {message.message_id}",
                    message_id=message.message_id) from None
            raise ChannelError(f"{self.where}: connection lost while sending ({exc or type(exc).__name__})",
                               retriable=True) from None
        return SendResult(message.message_id, "smtp", f"{code} {reply.decode('utf-8', 'replace')}", tuple(recipients))

    def _reset(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()


def smtp_from_config(config: Config) -> SmtpChannel:
    """``[sending]`` with ``mode = "smtp"``: host, port, security, user_env, password_env, timeout."""
    sending = config.sending
    file = str(config.file)
    host = sending.text("host")
    security = sending.text("security", "starttls")
    if security not in SECURITY:
        raise ConfigError(f"{security!r} is not one of {', '.join(SECURITY)}", file=file, key="[sending] security")
    if security == "none" and not is_loopback(host):
        raise ConfigError(f"plain SMTP is only allowed to a server on this machine, not {host!r}: use starttls or ssl",
                          file=file, key="[sending] security")
    port = sending.integer("port", {"starttls": 587, "ssl": 465, "none": 25}[security])
    user = sending.secret("user") if sending.get("user_env") else sending.text("user", "")
    password = sending.secret("password") if sending.get("password_env") else ""
    if user and not password:
        raise ConfigError("a user is set but no password_env names the variable holding the password",
                          file=file, key="[sending] password_env")
    timeout = sending.integer("timeout", 30)
    return SmtpChannel(host, port, security=security, user=user, password=password, timeout=float(timeout))
