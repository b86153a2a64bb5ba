"""Limits around a provider for one edition's send: a daily cap, and a pause when the
provider keeps failing.

:class:`GuardedProvider` wraps the provider the worker drains with (the worker itself does
not change):

- Daily cap: at most ``daily_cap`` messages accepted in any 24 hours (the way SES counts
  its "maximum send in 24 hours"; other providers' daily quotas are similar). The count
  comes from the outbox (``used()``, read at the start and again every ``refresh``
  seconds, so that parallel workers see each other's sends) plus this worker's own since.
  Messages over the cap are never handed over: they are ``unsent`` (back to the queue, no
  attempt spent) and the run stops, saying when the window frees up.
- Consecutive errors: after ``pause_after`` messages in a row that the provider deferred
  or refused (none accepted in between), ``on_pause(reason)`` pauses the edition's send
  (with the reason, shown by ``newsletter status`` and logged) and the run stops, instead
  of burning through the list. ``newsletter resume`` goes on.

The rate in messages per second is the worker's :class:`~newsletter.deliver.ratelimit.RateLimiter`
(``NEWSLETTER_SEND_RATE``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Settings
from newsletter.providers.base import (
    BatchResult,
    Envelope,
    MessageResult,
    Provider,
    Result,
    UncertainMessage,
)
from newsletter.store.db import transaction
from newsletter.store.editions import pause_for
from newsletter.store.usage import WINDOW, sent_in_window
from newsletter.timeutil import utcnow

log = logging.getLogger("newsletter.deliver")

#: Results that count as the provider failing (an accepted message resets the count).
ERRORS = (Result.DEFERRED, Result.FAILED)


class GuardedProvider:
    """``inner`` within a daily cap and an error budget (see the module notes).

    ``used()`` returns (messages accepted in the last 24 hours, when the oldest of them
    leaves the window or None); ``on_pause(reason)`` pauses the edition. ``daily_cap`` or
    ``pause_after`` of 0 turns that limit off. ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        inner: Provider,
        *,
        daily_cap: int = 0,
        used: Callable[[], tuple[int, datetime | None]] | None = None,
        pause_after: int = 0,
        on_pause: Callable[[str], None] | None = None,
        refresh: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.batch_size = max(1, int(getattr(inner, "batch_size", 1)))
        # Whether ``settle`` can answer (the worker commits larger groups when it can).
        self.settles = bool(getattr(inner, "settles", callable(getattr(inner, "settle", None))))
        self.daily_cap, self.used = daily_cap, used
        self.pause_after, self.on_pause = pause_after, on_pause
        self.refresh, self.clock = refresh, clock
        self.errors = 0  # consecutive messages not accepted
        self.paused: str | None = None
        self._counted = 0  # accepted by this worker since the last look at the outbox
        self._base = 0
        self._frees_at: datetime | None = None
        self._looked_at: float | None = None

    # --- the daily cap -------------------------------------------------------------------
    def remaining(self) -> int | None:
        """Messages that may still go within the cap now (None: no cap)."""
        if not self.daily_cap or self.used is None:
            return None
        now = self.clock()
        stale = self._looked_at is None or now - self._looked_at >= self.refresh
        if stale or self._base + self._counted >= self.daily_cap:
            # Look again before saying no: the outbox knows what was accepted, and when
            # the oldest of it leaves the window.
            self._base, self._frees_at = self.used()
            self._counted, self._looked_at = 0, now
        return max(0, self.daily_cap - self._base - self._counted)

    def _cap_reason(self) -> str:
        if self._frees_at is None and self.used is not None:
            _, self._frees_at = self.used()
        # Nothing recorded yet: what was just accepted leaves the window in 24 hours.
        frees_at = self._frees_at or utcnow() + WINDOW
        when = f"; the next may go at {frees_at:%Y-%m-%d %H:%M} UTC"
        return f"daily cap of {self.daily_cap} messages in 24 hours reached{when}"

    # --- sending -------------------------------------------------------------------------
    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Send what the cap allows through ``inner``; count errors; pause when they run
        over the budget."""
        if self.paused:
            unsent = [MessageResult(e.key, Result.UNSENT) for e in envelopes]
            return BatchResult(unsent, self.paused)
        allowed = len(envelopes)
        remaining = self.remaining()
        if remaining is not None:
            allowed = min(allowed, remaining)
        batch = self.inner.send(envelopes[:allowed]) if allowed else BatchResult()
        self._counted += sum(1 for r in batch.results if r.result in (Result.SENT, Result.UNKNOWN))
        if allowed < len(envelopes):
            batch.results += [MessageResult(e.key, Result.UNSENT) for e in envelopes[allowed:]]
            batch.stop = batch.stop or self._cap_reason()
        for result in batch.results:
            if result.result == Result.SENT:
                self.errors = 0
            elif result.result in ERRORS:
                self.errors += 1
        if self.pause_after and self.errors >= self.pause_after:
            last = next(
                (r.detail for r in reversed(batch.results) if r.result in ERRORS and r.detail),
                "no detail",
            )
            self.paused = (
                f"paused after {self.errors} consecutive errors from {self.name}: {last}"
            )[:1000]
            if self.on_pause is not None:
                self.on_pause(self.paused)
            batch.stop = f"{self.paused} (the edition is paused: `newsletter resume` goes on)"
        return batch

    def settle(self, messages: Sequence[UncertainMessage]) -> dict[int, bool]:
        """The wrapped provider's answers about uncertain messages (none if it cannot tell)."""
        settle = getattr(self.inner, "settle", None)
        return settle(messages) if settle is not None else {}

    def close(self) -> None:
        """Close the wrapped provider."""
        self.inner.close()


def guard_for_edition(
    provider: Provider, settings: Settings, factory: sessionmaker[Session], edition_id: int
) -> GuardedProvider:
    """``provider`` within ``NEWSLETTER_DAILY_CAP`` and ``NEWSLETTER_PAUSE_AFTER_ERRORS``
    for the send of edition ``edition_id``: the cap counts the outbox's sent rows, and a
    pause is recorded on the edition (``paused_reason``) and logged as a warning."""

    def used() -> tuple[int, datetime | None]:
        with factory() as session:
            return sent_in_window(session)

    def on_pause(reason: str) -> None:
        with transaction(factory) as session:
            paused = pause_for(session, edition_id, reason)
        if paused:
            log.warning("edition %s: send %s; `newsletter resume` goes on", edition_id, reason)

    return GuardedProvider(
        provider,
        daily_cap=settings.daily_cap,
        used=used,
        pause_after=settings.pause_after_errors,
        on_pause=on_pause,
    )
