"""Failover: a second provider takes the messages the first one could not take.

The primary gets every batch. Whatever it defers (5xx, timeouts, rate limits beyond the
wait cap) or never took (``unsent``: refused credentials, a suspended account, the rest of
a batch after a failure) goes to the secondary at once, and the primary is skipped for
``cooldown`` seconds (or its own ``Retry-After``, when longer) so that each batch does not
first wait for its retries again. Messages the primary failed for good (an invalid
address) or left uncertain are never handed to the secondary: the first would be refused
there too, the second might then arrive twice.

The wrapper's ``name`` is the primary's (recorded on every delivery); a result that came
from the secondary says ``via <secondary>`` in its detail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Provider, Result

#: What the secondary may take: the primary said "not now" or never had it.
HANDED_ON = (Result.DEFERRED, Result.UNSENT)


class FailoverProvider:
    """``primary`` first, ``secondary`` for what it could not take (see the module notes).

    ``cooldown`` is in seconds; ``clock`` is monotonic seconds (injectable).
    """

    def __init__(
        self,
        primary: Provider,
        secondary: Provider,
        *,
        cooldown: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary, self.secondary = primary, secondary
        self.name = primary.name
        self.batch_size = max(1, int(getattr(primary, "batch_size", 1)))
        self.cooldown, self.clock = cooldown, clock
        self.down_until = 0.0
        self.down_reason: str | None = None

    @property
    def primary_down(self) -> bool:
        """True while the primary is being skipped."""
        return self.clock() < self.down_until

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Send through the primary (unless it is down), then the rest through the
        secondary; one result per envelope, in order."""
        if self.primary_down:
            return self._secondary(list(envelopes), self.down_reason)
        first = self.primary.send(envelopes)
        by_key = {r.key: r for r in first.results}
        again = [e for e in envelopes if by_key[e.key].result in HANDED_ON]
        if not again:
            return first
        reasons = [by_key[e.key].detail for e in again if by_key[e.key].detail]
        reason = first.stop or (reasons[0] if reasons else f"{self.primary.name} deferred")
        waits = [by_key[e.key].retry_after or 0.0 for e in again]
        self.down_until = self.clock() + max([self.cooldown, *waits])
        self.down_reason = reason
        second = self._secondary(again, reason)
        by_key.update({r.key: r for r in second.results})
        return BatchResult([by_key[e.key] for e in envelopes], stop=second.stop)

    def _secondary(self, envelopes: list[Envelope], reason: str | None) -> BatchResult:
        note = f"via {self.secondary.name}"
        if reason:
            note += f" ({self.primary.name}: {reason})"
        batch = BatchResult()
        size = max(1, int(getattr(self.secondary, "batch_size", 1)))
        for start in range(0, len(envelopes), size):
            part = envelopes[start : start + size]
            if batch.stop:
                batch.results += [MessageResult(e.key, Result.UNSENT) for e in part]
                continue
            answer = self.secondary.send(part)
            batch.results += [
                replace(r, detail=f"{note}: {r.detail}" if r.detail else note)
                for r in answer.results
            ]
            batch.stop = answer.stop
        return batch

    def close(self) -> None:
        """Close both providers."""
        try:
            self.primary.close()
        finally:
            self.secondary.close()
