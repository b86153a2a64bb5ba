"""The file provider: one ``.eml`` file per message in an outbox folder (the default).

Files are the exact bytes an SMTP server would receive (CRLF line ends), written atomically
(temporary file, then rename), under ``<outbox>/<campaign>/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result, UncertainMessage


class FileProvider:
    """Writes each message to ``<outbox_dir>/<campaign>/<key>-<recipient>.eml``."""

    name = "file"
    batch_size = 1

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._folders: set[Path] = set()  # made already (one mkdir per folder, not message)

    def path_for(self, envelope: Envelope | UncertainMessage) -> Path:
        """Where ``envelope`` is written."""
        safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", envelope.recipient)[:120]
        campaign = re.sub(r"[^A-Za-z0-9._-]", "_", envelope.campaign) or "messages"
        return self.outbox_dir / campaign / f"{envelope.key:07d}-{safe}.eml"

    def settle(self, messages: Sequence[UncertainMessage]) -> dict[int, bool]:
        """Whether each uncertain message was written. Files appear whole or not at all (a
        rename), so the answer is exact: True if its file exists, False otherwise."""
        return {message.key: self.path_for(message).is_file() for message in messages}

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Write every envelope; an OS error fails that message and stops the batch."""
        batch = BatchResult()
        for index, envelope in enumerate(envelopes):
            path = self.path_for(envelope)
            try:
                if path.parent not in self._folders:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._folders.add(path.parent)
                temporary = path.with_suffix(".tmp")
                with open(temporary, "wb") as handle:
                    handle.write(envelope.data)
                os.replace(temporary, path)
            except OSError as exc:
                batch.results.append(MessageResult(envelope.key, Result.UNSENT, detail=str(exc)))
                batch.results += [
                    MessageResult(e.key, Result.UNSENT) for e in envelopes[index + 1 :]
                ]
                batch.stop = f"cannot write to the outbox {self.outbox_dir}: {exc.strerror or exc}"
                return batch
            batch.results.append(MessageResult(envelope.key, Result.SENT, str(path)))
        return batch

    def close(self) -> None:
        """Nothing to release."""
