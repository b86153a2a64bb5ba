"""Feeding bounce messages (:mod:`newsletter.feedback.dsn`) and feedback-loop complaints
(:mod:`newsletter.feedback.arf`) to the store: files, Maildir folders and mbox files
(``newsletter bounces import``), or an inbound SMTP address (``newsletter bounces serve``,
an aiosmtpd server). Either way each report's events go through
:func:`newsletter.feedback.apply.apply_events`, so importing or receiving a bounce twice changes
nothing.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy.orm import Session, sessionmaker

from newsletter.feedback import arf, dsn
from newsletter.feedback.apply import Applied, apply_events
from newsletter.feedback.webhooks import Event, Malformed

LOG = logging.getLogger("newsletter.feedback.mailboxes")
#: Largest bounce message accepted by the SMTP server (bytes); a DSN returns at most the
#: original message, and ours are far smaller.
MAX_MESSAGE = 10 * 1024 * 1024


class NotAReport(ValueError):
    """Neither a delivery-status nor a feedback report (an auto-reply, spam...)."""


def parse_report(data: bytes) -> list[Event]:
    """The events of a bounce (RFC 3464 DSN, :mod:`newsletter.feedback.dsn`) or a spam complaint
    (RFC 5965 ARF, :mod:`newsletter.feedback.arf`). Raises :class:`NotAReport` or
    :class:`~newsletter.feedback.webhooks.Malformed`."""
    try:
        return dsn.parse(data)
    except dsn.NotADsn:
        pass
    try:
        return arf.parse(data)
    except arf.NotAFeedbackReport:
        raise NotAReport("not a delivery-status or feedback report") from None


@dataclass
class ImportReport:
    """What an import or a server did: ``messages`` read, of which ``reports`` were DSNs,
    ``ignored`` were not (auto-replies...), ``malformed`` could not be read; ``applied`` and
    ``duplicates`` count events; ``problems`` says which messages were malformed."""

    messages: int = 0
    reports: int = 0
    ignored: int = 0
    malformed: int = 0
    applied: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, label: str, data: bytes, apply: Applier) -> None:
        """Parse ``data`` (one message named ``label``) and apply its events."""
        self.messages += 1
        try:
            events = parse_report(data)
        except NotAReport:
            self.ignored += 1
            return
        except Malformed as exc:
            self.malformed += 1
            self.problems.append(f"{label}: {exc}")
            return
        self.reports += 1
        for result in apply(events):
            if result.duplicate:
                self.duplicates += 1
            else:
                self.applied += 1

    def merge(self, other: ImportReport) -> None:
        """Add ``other``'s counts and problems to this report."""
        for name in ("messages", "reports", "ignored", "malformed", "applied", "duplicates"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)


class Applier:
    """Applies events to a store with a soft-bounce limit (callable: events -> results)."""

    def __init__(self, sessions: sessionmaker[Session], soft_bounce_limit: int) -> None:
        self.sessions, self.limit = sessions, soft_bounce_limit

    def __call__(self, events: list[Event]) -> list[Applied]:
        return apply_events(self.sessions, events, soft_bounce_limit=self.limit)


def read_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(label, bytes)`` of each message at ``path``: a Maildir (a folder with ``cur``,
    ``new`` and ``tmp``), a folder of message files, an mbox file (starts with ``From ``)
    or a single message file. Raises :class:`OSError` when ``path`` cannot be read."""
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in box.iterkeys():
                yield f"{path}/{key}", box.get_bytes(key)
            return
        for child in sorted(p for p in path.iterdir() if p.is_file()):
            yield from read_messages(child)
        return
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        mbox = mailbox.mbox(path, factory=None, create=False)
        for index, key in enumerate(mbox.iterkeys()):
            yield f"{path}#{index + 1}", mbox.get_bytes(key)
        return
    yield str(path), path.read_bytes()


def path_problems(paths: list[Path]) -> list[str]:
    """Why some of ``paths`` cannot be imported, checked before anything is applied: a path
    that does not exist, cannot be read, or a folder (not a Maildir) without any message
    file (:func:`read_messages` would skip it without a word). An empty Maildir is fine: no
    bounce yet."""
    problems = []
    for path in paths:
        if not path.exists():
            problems.append(f"no such file or folder: {path}")
        elif not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
            problems.append(f"cannot read {path}: permission denied")
        elif (
            path.is_dir()
            and not all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))
            and not any(child.is_file() for child in path.iterdir())
        ):
            problems.append(f"{path} is a folder without message files (nor a Maildir)")
    return problems


def import_paths(paths: list[Path], apply: Applier) -> ImportReport:
    """Read every message of ``paths`` (see :func:`read_messages`) and apply the DSNs."""
    report = ImportReport()
    for path in paths:
        for label, data in read_messages(path):
            report.add(label, data, apply)
    return report


class BounceHandler:
    """aiosmtpd handler: each message received is parsed and applied. A message that is
    not a DSN is accepted and dropped (a bounce address receives auto-replies); a store
    failure answers 451 so that the sending MTA tries again later."""

    def __init__(self, apply: Applier) -> None:
        self.apply = apply
        self.report = ImportReport()  # what the server received so far

    async def handle_DATA(
        self, server: SMTPServer, session: SMTPSession, envelope: SMTPEnvelope
    ) -> str:
        data = envelope.original_content or b""
        label = f"from {session.peer} <{envelope.mail_from}>"
        one = ImportReport()
        try:
            await asyncio.to_thread(one.add, label, data, self.apply)
        except Exception:
            LOG.exception("cannot record a bounce %s", label)
            return "451 4.3.0 Cannot record the report now; try again later"
        for problem in one.problems:
            LOG.warning("unreadable bounce %s", problem)
        self.report.merge(one)
        return "250 2.0.0 Report received"


def serve(apply: Applier, host: str, port: int) -> Controller:
    """Start an SMTP server for bounces on ``host``:``port`` (a thread) and return its
    controller (``stop()`` it). Plain SMTP without authentication: bind it to an address
    only your MTA reaches, or make it the MX of a bounce-only domain."""
    controller = Controller(
        BounceHandler(apply), hostname=host, port=port, data_size_limit=MAX_MESSAGE,
        decode_data=False,
    )  # fmt: skip
    controller.start()
    return controller
