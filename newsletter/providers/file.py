"""The file provider: one ``.eml`` file per message in an outbox folder (the default).

Files are the exact bytes an SMTP server would receive (CRLF line ends), written atomically
(temporary file, then rename), under ``<outbox>/<campaign>/``. A message costs three system
calls and a rename (``os.open``, ``os.write``, ``os.close``, ``os.replace``: no buffered file
object, no ``fstat`` or ``isatty``) and string paths rather than ``pathlib`` objects; the
file system's own cost of creating an entry is what remains.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result, UncertainMessage

_UNSAFE_RECIPIENT = re.compile(r"[^A-Za-z0-9@._+-]")
_UNSAFE_CAMPAIGN = re.compile(r"[^A-Za-z0-9._-]")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


class FileProvider:
    """Writes each message to ``<outbox_dir>/<campaign>/<key>-<recipient>.eml``."""

    name = "file"
    batch_size = 1

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._folders: dict[str, str] = {}  # campaign -> its folder, made already

    def _name(self, envelope: Envelope | UncertainMessage) -> str:
        safe = _UNSAFE_RECIPIENT.sub("_", envelope.recipient)[:120]
        return f"{envelope.key:07d}-{safe}.eml"

    def _folder(self, campaign: str) -> str:
        safe = _UNSAFE_CAMPAIGN.sub("_", campaign) or "messages"
        return os.path.join(self.outbox_dir, safe)

    def path_for(self, envelope: Envelope | UncertainMessage) -> Path:
        """Where ``envelope`` is written."""
        return Path(self._folder(envelope.campaign), self._name(envelope))

    def settle(self, messages: Sequence[UncertainMessage]) -> dict[int, bool]:
        """Whether each uncertain message was written. Files appear whole or not at all (a
        rename), so the answer is exact: True if its file exists, False otherwise."""
        return {message.key: self.path_for(message).is_file() for message in messages}

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Write every envelope; an OS error fails that message and stops the batch."""
        batch = BatchResult()
        for index, envelope in enumerate(envelopes):
            try:
                folder = self._folders.get(envelope.campaign)
                if folder is None:
                    folder = self._folder(envelope.campaign)
                    os.makedirs(folder, exist_ok=True)
                    self._folders[envelope.campaign] = folder
                path = f"{folder}/{self._name(envelope)}"
                temporary = path[:-4] + ".tmp"
                descriptor = os.open(temporary, _CREATE, 0o666)
                try:
                    view = memoryview(envelope.data)
                    while view:  # a regular file takes it in one write; a short one goes on
                        view = view[os.write(descriptor, view) :]
                finally:
                    os.close(descriptor)
                os.replace(temporary, path)
            except OSError as exc:
                batch.results.append(MessageResult(envelope.key, Result.UNSENT, detail=str(exc)))
                batch.results += [
                    MessageResult(e.key, Result.UNSENT) for e in envelopes[index + 1 :]
                ]
                batch.stop = f"cannot write to the outbox {self.outbox_dir}: {exc.strerror or exc}"
                return batch
            batch.results.append(MessageResult(envelope.key, Result.SENT, path))
        return batch

    def close(self) -> None:
        """Nothing to release."""
