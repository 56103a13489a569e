"""The outbox: every message as a file in a folder — the embedded default, and where letters go.

E-mails become ``<id>.eml`` (openable in any mail client, Bcc kept as a header so that a person
who sends the draft keeps the archive copy); letters and formal notices become ``<id>.pdf`` with
the covering text in ``<id>.txt``; calls are tasks for ``À faire`` and write nothing.  File names
derive from the Message-ID, so writing the same message twice leaves one file; each file is
written to a temporary name and renamed, so a crash never leaves half a message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from encours.scenarios.message import ChannelError, Message, SendResult, check_address


def _write_atomic(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class OutboxChannel:
    name = "outbox"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path_for(self, message: Message) -> Path:
        suffix = ".eml" if message.is_email else ".pdf"
        return self.folder / f"{message.file_stem}{suffix}"

    def send(self, message: Message) -> SendResult:
        if message.channel == "call":
            return SendResult(message.message_id, "task", "À faire", ())
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ChannelError(f"outbox {self.folder}: cannot create the folder ({exc.strerror})") from None
        path = self.path_for(message)
        try:
            if message.is_email:
                email = message.to_email()
                for address in message.bcc:
                    check_address(address, what="bcc")
                if message.bcc:
                    email["Bcc"] = ", ".join(message.bcc)
                _write_atomic(path, email.as_bytes())
                recipients = tuple(message.envelope_recipients())
            else:
                if message.letter is None:
                    raise ChannelError(f"message {message.message_id}: a {message.channel} has no PDF to write")
                _write_atomic(path, message.letter)
                _write_atomic(path.with_suffix(".txt"), (message.subject + "\n\n" + message.text + "\n").encode())
                recipients = ()
        except OSError as exc:
            raise ChannelError(f"outbox {self.folder}: cannot write {path.name} ({exc.strerror})",
                               retriable=True) from None
        return SendResult(message.message_id, "outbox", str(path), recipients)
