"""Small helpers shared by the signed webhooks: JSON bodies, timestamps, seen tokens."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from newsletter.feedback.webhooks import Malformed, Unauthorized


def json_body(body: bytes) -> Any:
    """``body`` parsed as JSON; raises :class:`Malformed` when it is not (or is absurdly
    nested)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Malformed("the body is not JSON") from None


def fresh(timestamp: object, now: float, tolerance: float) -> float:
    """``timestamp`` (Unix seconds, as text or number) when within ``tolerance`` seconds of
    ``now`` (either side); raises :class:`Unauthorized` when missing, unreadable or stale."""
    try:
        value = float(str(timestamp).strip())
    except ValueError:
        raise Unauthorized("the signature's timestamp is missing or unreadable") from None
    if value != value or abs(now - value) > tolerance:  # NaN, or too old or too far ahead
        raise Unauthorized("the signature's timestamp is too old or in the future")
    return value


class SeenTokens:
    """Tokens already accepted in the last ``ttl`` seconds (a replay within the freshness
    window is refused; older ones are refused by their timestamp). Thread-safe; one per
    process, at most ``size`` tokens (the oldest are forgotten first)."""

    def __init__(self, ttl: float, size: int = 100_000) -> None:
        self.ttl, self.size = ttl, size
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def __contains__(self, token: str) -> bool:
        with self._lock:
            expiry = self._tokens.get(token)
            return expiry is not None and expiry > time.monotonic()

    def add(self, token: str) -> None:
        """Remember ``token`` for ``ttl`` seconds."""
        now = time.monotonic()
        with self._lock:
            self._tokens[token] = now + self.ttl
            if len(self._tokens) > self.size:
                for old in [t for t, e in self._tokens.items() if e <= now]:
                    del self._tokens[old]
                while len(self._tokens) > self.size:
                    del self._tokens[next(iter(self._tokens))]
