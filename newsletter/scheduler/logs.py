"""Structured logs: one JSON object per line on stderr (``newsletter run``), so that a log
collector can filter on ``event``, ``day``, ``alert`` or ``job`` without parsing prose."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

#: LogRecord attributes that are not ``extra`` fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JSONFormatter(logging.Formatter):
    """``{"ts": ISO UTC, "level", "logger", "message", ...extra fields, "exc"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (values that are not JSON become strings)."""
        document: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                document[name] = value
        if record.exc_info:
            document["exc"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO) -> None:
    """Send every logger's records (uvicorn's and APScheduler's included) to stderr as
    JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
