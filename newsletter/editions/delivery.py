"""Delivering a released edition: drain its outbox through a provider, in this process
(``newsletter send``, the scheduler) or as a long-running worker (``newsletter worker``).

The drain itself is :func:`newsletter.deliver.worker.drain` (claims, commits, answers);
this module chooses how many drains run at once, guards each provider with the edition's
limits, and keeps a worker's heartbeat so that ``send`` hands editions to it.

The heartbeat beats from a thread of its own every ``heartbeat_seconds`` (a third of
:data:`~newsletter.store.workers.HEARTBEAT_TIMEOUT` by default) for as long as the worker
runs, sends included: a worker busy with a long edition still shows as running, and one
that died stops beating within the timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.options import DeliveryOptions
from newsletter.deliver.ratelimit import RateLimiter
from newsletter.deliver.worker import CLAIM_SIZE, RunReport, Sender, drain, worker_id
from newsletter.editions.rendering import Renderer
from newsletter.providers.base import Provider
from newsletter.store.db import transaction
from newsletter.store.editions import edition_by_id, editions_to_deliver
from newsletter.store.models import Edition
from newsletter.store.progress import delivery_counts, next_retry_at
from newsletter.store.workers import HEARTBEAT_TIMEOUT, beat, leave

log = logging.getLogger("newsletter.deliver")

#: The provider around which limits are put for one edition: (provider, edition id) -> a
#: provider that enforces the daily cap and pauses after repeated errors.
Guard = Callable[[Provider, int], Provider]

_COUNTS = ("sent", "failed", "deferred", "skipped", "unknown", "reclaimed", "requeued", "bounced")


def merge_reports(reports: list[RunReport]) -> RunReport:
    """One report for parallel runs on the same edition: counts added, the last totals."""
    merged = RunReport()
    for report in reports:
        for name in _COUNTS:
            setattr(merged, name, getattr(merged, name) + getattr(report, name))
        merged.failures += report.failures
        merged.stopped = merged.stopped or report.stopped
    last = max(reports, key=lambda r: sum(r.totals.get(s, 0) for s in ("sent", "failed")))
    merged.totals, merged.finished = last.totals, any(r.finished for r in reports)
    merged.next_retry, merged.total = last.next_retry, last.total
    merged.uncertain = max(r.uncertain for r in reports)
    return merged


class Delivery:
    """Drains editions of the store behind ``sessions`` with providers from ``provider``
    (a new one per drain, closed after it), each wrapped by ``guard``. ``parallel`` allows
    several SMTP connections (``smtp_connections``); it is off for an injected provider."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        renderer: Renderer,
        provider: Callable[[], Provider],
        guard: Guard,
        options: DeliveryOptions,
        *,
        parallel: bool = True,
    ) -> None:
        self.sessions, self.renderer, self.provider = sessions, renderer, provider
        self.guard, self.options, self.parallel = guard, options, parallel

    def deliver(
        self,
        edition: Edition,
        *,
        batch_size: int | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[RunReport], None] | None = None,
        resend_uncertain: bool = False,
        sender: Sender | None = None,
    ) -> RunReport:
        """Drain the released ``edition`` with a provider of its own (closed afterwards).

        With SMTP and ``smtp_connections`` above 1, that many threads send in parallel, each
        on its own connection and as its own worker (no row is claimed twice); all share the
        ``send_rate`` limit."""
        o = self.options
        sender = sender or self.renderer.sender(edition)
        limiter = RateLimiter(o.send_rate)
        parallel = o.smtp_connections if self.parallel and o.provider == "smtp" else 1

        def one() -> RunReport:
            provider = self.guard(self.provider(), edition.id)
            try:
                return drain(
                    self.sessions, edition.id, sender, provider,
                    # By default a claim is what the provider takes at once (at least 50).
                    claim_size=batch_size or o.claim_size
                    or max(CLAIM_SIZE, int(getattr(provider, "batch_size", 1))),
                    commit_size=o.commit_size,
                    should_stop=should_stop, on_progress=on_progress,
                    resend_uncertain=resend_uncertain, limiter=limiter,
                    retry_window=timedelta(hours=o.retry_hours),
                )  # fmt: skip
            finally:
                provider.close()

        if parallel == 1:
            return one()
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="smtp") as pool:
            reports = list(pool.map(lambda _: one(), range(parallel)))
        merged = merge_reports(reports)
        # Each thread's totals were read when it ended, some while others still held rows:
        # the edition's totals are read again once all have ended.
        with transaction(self.sessions) as session:
            merged.totals = delivery_counts(session, edition.id)
            merged.next_retry = next_retry_at(session, edition.id)
        return merged

    def work(
        self,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        once: bool = False,
        poll_seconds: float = 5.0,
        on_progress: Callable[[RunReport], None] | None = None,
        on_run: Callable[[Edition, RunReport], None] | None = None,
        heartbeat_seconds: float = HEARTBEAT_TIMEOUT.total_seconds() / 3,
    ) -> int:
        """A delivery worker: drain every released edition, then wait for more (``once``:
        return when nothing is left to claim). Its heartbeat, every ``heartbeat_seconds``
        from a thread of its own, lets ``send`` and ``status`` see it, during a send too.
        Returns the number of messages this worker had accepted."""
        me = worker_id()
        senders: dict[int, Sender] = {}
        accepted = 0
        with transaction(self.sessions) as session:
            beat(session, me)
        try:
            with self._beating(me, heartbeat_seconds):
                accepted = self._work(me, senders, should_stop, once, poll_seconds,
                                      on_progress, on_run)  # fmt: skip
        finally:
            with transaction(self.sessions) as session:
                leave(session, me)
        return accepted

    @contextmanager
    def _beating(self, me: str, seconds: float) -> Iterator[None]:
        """Beat for ``me`` every ``seconds`` from a daemon thread while the block runs. A
        beat that fails (the database briefly away) is logged and tried again next time."""
        done = threading.Event()

        def run() -> None:
            while not done.wait(seconds):
                try:
                    with transaction(self.sessions) as session:
                        beat(session, me)
                except Exception:  # the driver's errors are many; the next beat retries
                    log.warning("worker %s: heartbeat failed", me, exc_info=True)

        thread = threading.Thread(target=run, name="heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=seconds + 30)

    def _work(
        self,
        me: str,
        senders: dict[int, Sender],
        should_stop: Callable[[], bool],
        once: bool,
        poll_seconds: float,
        on_progress: Callable[[RunReport], None] | None,
        on_run: Callable[[Edition, RunReport], None] | None,
    ) -> int:
        """The worker's loop: drain what is released, then wait ``poll_seconds``."""
        accepted = 0
        while not should_stop():
            with transaction(self.sessions) as session:
                pending = editions_to_deliver(session)
            busy = False
            for edition_id in pending:
                with self.sessions() as session:
                    edition = edition_by_id(session, edition_id)
                if edition is None or should_stop():
                    continue
                if edition_id not in senders:
                    senders[edition_id] = self.renderer.sender(edition)
                run = self.deliver(
                    edition, should_stop=should_stop, on_progress=on_progress,
                    sender=senders[edition_id],
                )  # fmt: skip
                accepted += run.sent
                busy = busy or bool(run.sent + run.failed + run.deferred + run.unknown)
                if on_run:
                    on_run(edition, run)
            if once and not busy:
                break
            if not busy:
                deadline = time.monotonic() + poll_seconds
                while time.monotonic() < deadline and not should_stop():
                    time.sleep(0.2)
        return accepted
