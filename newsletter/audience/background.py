"""Subscriber imports in the background: the editors' page hands the uploaded file over,
a thread of the web process imports it batch by batch (:func:`import_csv`), and the
progress lives in the database (:mod:`newsletter.store.imports`), so the page shows it
after a reload and no request waits for a large file.

A thread of the web process rather than ``newsletter worker`` or the scheduler: the file
is in this process already (no file store shared between machines), and ``serve`` works
alone. If the process stops mid-import, the import's heartbeat goes stale and it reads as
``interrupted``; the batches done are kept, and importing the same file again completes it
(the rows already stored are existing subscribers then, left unchanged).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import tempfile
import threading
from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.records import ImportReport, InvalidSubscriber, import_csv
from newsletter.store.imports import (
    DONE,
    FAILED,
    finish_import,
    record_progress,
    start_import,
)

LOG = logging.getLogger("newsletter.audience")
#: Rejected lines kept in an import's report (the count is always complete).
REJECTED_KEPT = 1000


def report_json(report: ImportReport) -> dict[str, Any]:
    """``report`` as JSON for the import's row: its counts, at most :data:`REJECTED_KEPT`
    rejected lines (``rejected_count`` counts them all) and the warnings."""
    data = asdict(report)
    data["rejected_count"] = len(report.rejected)
    data["rejected"] = report.rejected[:REJECTED_KEPT]
    return data


class BackgroundImports:
    """Imports run by threads of this process into ``sessions``; ``known_topics`` are the
    topics a line may name."""

    def __init__(self, sessions: sessionmaker[Session], known_topics: Collection[str]) -> None:
        self.sessions, self.known_topics = sessions, frozenset(known_topics)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.threads: dict[int, threading.Thread] = {}

    def start(self, content: bytes, label: str, *, source: str = "editor") -> int:
        """Start importing ``content`` (the bytes of a CSV named ``label``) in a thread;
        returns the import's id at once."""
        import_id = start_import(self.sessions, label, self.owner)
        thread = threading.Thread(
            target=self._run, args=(import_id, content, label, source),
            name=f"import-{import_id}", daemon=True,
        )  # fmt: skip
        self.threads[import_id] = thread
        thread.start()
        return import_id

    def wait(self, import_id: int, seconds: float) -> bool:
        """Wait at most ``seconds`` for the import's thread; True if it has finished."""
        thread = self.threads.get(import_id)
        if thread is None:
            return True
        thread.join(seconds)
        return not thread.is_alive()

    def _run(self, import_id: int, content: bytes, label: str, source: str) -> None:
        fd, name = tempfile.mkstemp(suffix=".csv")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)

            def progress(report: ImportReport) -> None:
                record_progress(self.sessions, import_id, total=report.total,
                                processed=report.processed, report=report_json(report))  # fmt: skip

            report = import_csv(
                self.sessions, Path(name), source=source, label=label,
                known_topics=self.known_topics, progress=progress,
            )  # fmt: skip
            finish_import(self.sessions, import_id, status=DONE, report=report_json(report))
        except InvalidSubscriber as exc:
            finish_import(self.sessions, import_id, status=FAILED, error=str(exc))
        except Exception as exc:  # the thread's last word: the page must not say "running"
            LOG.exception("import %s failed", import_id, extra={"event": "import_failed"})
            finish_import(self.sessions, import_id, status=FAILED, error=str(exc) or repr(exc))
        finally:
            os.unlink(name)
            self.threads.pop(import_id, None)
