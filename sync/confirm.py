"""A person settles a message an interrupted pass left uncertain: ``encours run --confirm REF sent|not-sent``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from encours.sync.config import Config
from encours.sync.journal import Entry, Journal
from encours.sync.lock import DossierLock
from encours.sync.preflight import owner_of
from encours.sync.redact import secret_values
from encours.sync.state import StateStore

log = logging.getLogger(__name__)

#: ``not-sent`` waits this long after the attempt began (at least), and ten times the SMTP timeout:
#: a server scanning the content may answer — and deliver — long after the client gave up.
CONFIRM_QUIET = timedelta(minutes=5)


def confirm_quiet(config: Config) -> timedelta:
    return max(CONFIRM_QUIET, timedelta(seconds=10 * config.sending.integer("timeout", 30)))


def confirm(config: Config, reference: str, sent: bool, *, now: datetime, who: str = "") -> list[Entry]:
    """``encours run --confirm REF sent|not-sent``: settle an uncertain (or failed) message."""
    with DossierLock(config.state_path, config.dossier), \
            StateStore(config.state_path, owner=owner_of(config)) as store:
        journal = Journal(store, config.dossier, secrets=secret_values(config.raw, config.company.environ),
                          tz=config.timezone)
        entries = journal.confirm(reference, sent, now, who=who, quiet=confirm_quiet(config))
        log.info("%s confirmed %s", reference, "sent" if sent else "not sent")
        return entries
