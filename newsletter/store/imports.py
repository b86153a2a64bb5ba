"""Subscriber imports run in the background (table ``subscriber_imports``): one row per
import, its progress written after each batch, so that any page load (and any process)
sees how far it went; a row whose process stopped is read as ``interrupted``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.store.db import transaction
from newsletter.store.models import SubscriberImport
from newsletter.timeutil import utcnow

RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"
#: A running import whose heartbeat is older than this is read as interrupted: its
#: process stopped (a batch of rows takes well under a second; reading the file, seconds).
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class ImportView:
    """An import as pages show it: ``status`` (``running``, ``done``, ``failed``,
    ``interrupted``), ``processed`` of ``total`` rows, the ``report`` so far (JSON: counts,
    ``rejected`` lines, ``warnings``), the ``error`` that failed it, times in UTC."""

    id: int
    label: str
    status: str
    total: int
    processed: int
    report: dict[str, Any]
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def percent(self) -> int:
        """How far it went, 0 to 100 (100 once finished)."""
        if self.status == DONE:
            return 100
        return min(100, self.processed * 100 // self.total) if self.total else 0


def _view(row: SubscriberImport, now: datetime) -> ImportView:
    status = row.status
    beat = row.heartbeat_at or row.created_at
    if status == RUNNING and now - beat > STALE_AFTER:
        status = INTERRUPTED
    return ImportView(row.id, row.label, status, row.total, row.processed, dict(row.report or {}),
                      row.error, row.created_at, row.finished_at)  # fmt: skip


def start_import(sessions: sessionmaker[Session], label: str, owner: str) -> int:
    """A new running import of the file ``label`` by ``owner`` (host:pid:token); its id
    (committed)."""
    now = utcnow()
    with transaction(sessions) as session:
        row = SubscriberImport(
            label=label[:255], status=RUNNING, total=0, processed=0, report={}, owner=owner,
            created_at=now, heartbeat_at=now,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def record_progress(
    sessions: sessionmaker[Session], import_id: int, *, total: int, processed: int,
    report: dict[str, Any],
) -> None:  # fmt: skip
    """Write an import's progress and heartbeat (committed)."""
    with transaction(sessions) as session:
        session.execute(
            update(SubscriberImport)
            .where(SubscriberImport.id == import_id)
            .values(total=total, processed=processed, report=report, heartbeat_at=utcnow())
        )


def finish_import(
    sessions: sessionmaker[Session], import_id: int, *, status: str,
    report: dict[str, Any] | None = None, error: str | None = None,
) -> None:  # fmt: skip
    """Mark an import ``done`` or ``failed`` (with ``error``), now (committed)."""
    values: dict[str, Any] = {"status": status, "error": error, "finished_at": utcnow()}
    if report is not None:
        values["report"] = report
    with transaction(sessions) as session:
        session.execute(
            update(SubscriberImport).where(SubscriberImport.id == import_id).values(**values)
        )


def get_import(session: Session, import_id: int) -> ImportView | None:
    """The import ``import_id`` (None when there is none)."""
    row = session.get(SubscriberImport, import_id)
    return _view(row, utcnow()) if row is not None else None


def recent_imports(session: Session, limit: int) -> list[ImportView]:
    """The ``limit`` newest imports, newest first."""
    now = utcnow()
    rows = session.scalars(
        select(SubscriberImport).order_by(SubscriberImport.id.desc()).limit(limit)
    )
    return [_view(row, now) for row in rows]


def running_import(session: Session) -> ImportView | None:
    """An import still running (heartbeat fresh), or None."""
    now = utcnow()
    rows = session.scalars(select(SubscriberImport).where(SubscriberImport.status == RUNNING))
    for row in rows:
        view = _view(row, now)
        if view.status == RUNNING:
            return view
    return None
