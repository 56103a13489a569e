"""``encours check`` for the mail server: connect (TLS), log in, send nothing, and say so.

In ``outbox`` mode nothing is sent by e-mail: the check says where the messages are written and
whether that folder can be written.
"""

from __future__ import annotations

import os
from datetime import date

from encours.scenarios.message import ChannelError
from encours.sync.channels.smtp import smtp_from_config
from encours.sync.check import register_check
from encours.sync.config import Config
from encours.sync.state import StateStore


def check_mail(config: Config, store: StateStore, as_of: date) -> list[str]:
    """One line: the server reached, TLS and login done, nothing sent — or where the outbox is."""
    if config.sending.text("mode", "outbox") != "smtp":
        folder = config.sending.path("outbox", "outbox")
        parent = folder if folder.exists() else folder.parent
        if not os.access(parent, os.W_OK):
            raise ChannelError(f"outbox {folder}: this folder cannot be written")
        return [f"outbox mode: messages are written to {folder} for a person to send (no mail server is used)"]
    channel = smtp_from_config(config)
    return [channel.check() + " — nothing was sent"]


register_check("mail", check_mail)
