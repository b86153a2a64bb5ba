"""Where an edition's send stands, computed from what the store reports: counts per
delivery status, the send rate, the time left, and the deliveries *in doubt*.

A delivery is in doubt when it was handed over to the provider (status ``sending``) by a
worker that has since died: it may or may not have reached the provider, and is never
resent blindly. The command line and the JSON of ``newsletter status`` call it
``uncertain`` (a contract kept as it is); this module calls it ``in_doubt``.

Pure functions: the caller reads the figures (``newsletter.store.outbox.send_figures``)
and says which workers are dead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

#: Delivery statuses still to be handed over to a provider.
LEFT_STATUSES = ("pending", "claimed", "deferred")


class Figures(Protocol):
    """What :func:`sending_status` reads (see ``newsletter.store.outbox.SendFigures``)."""

    @property
    def counts(self) -> Mapping[str, int]: ...

    @property
    def rate_per_second(self) -> float: ...

    @property
    def in_flight_by_worker(self) -> Mapping[str, int]: ...

    @property
    def live_workers(self) -> int: ...


@dataclass(frozen=True)
class SendingStatus:
    """An edition's send at one moment.

    ``counts``: deliveries per status; ``in_doubt``: ``sending`` deliveries of dead
    workers; ``left``: deliveries still to hand over; ``rate_per_second``: 0 unless the
    edition is sending; ``eta_seconds``: the time left at that rate (None without a rate
    or when nothing is left); ``finished``: nothing left and nothing in flight."""

    edition_status: str
    paused_reason: str | None
    counts: Mapping[str, int]
    in_doubt: int
    left: int
    rate_per_second: float
    eta_seconds: int | None
    workers: int
    finished: bool

    def as_json(self, day: str) -> dict[str, Any]:
        """The ``newsletter status --json`` document (a contract: see the README)."""
        return {
            "date": day,
            "edition_status": self.edition_status,
            **self.counts,
            "uncertain": self.in_doubt,
            "rate_per_second": round(self.rate_per_second, 2),
            "eta_seconds": self.eta_seconds,
            "workers": self.workers,
            "paused_reason": self.paused_reason,  # why a provider's failures paused it
        }


def sending_status(
    edition_status: str,
    paused_reason: str | None,
    figures: Figures,
    is_dead: Callable[[str], bool],
) -> SendingStatus:
    """The :class:`SendingStatus` of an edition in ``edition_status`` from the store's
    ``figures``; ``is_dead(worker_id)`` says whether a worker no longer runs."""
    counts = dict(figures.counts)
    in_doubt = sum(count for owner, count in figures.in_flight_by_worker.items() if is_dead(owner))
    left = sum(counts.get(status, 0) for status in LEFT_STATUSES)
    rate = figures.rate_per_second
    if edition_status != "sending":  # paused, finished or not released: no rate to speak of
        rate = 0.0
    eta = round(left / rate) if rate > 0 and left else None
    return SendingStatus(
        edition_status=edition_status,
        paused_reason=paused_reason,
        counts=counts,
        in_doubt=in_doubt,
        left=left,
        rate_per_second=rate,
        eta_seconds=eta,
        workers=figures.live_workers,
        finished=not left and not counts.get("sending", 0),
    )


@dataclass(frozen=True)
class SendProgress:
    """A running send: messages handed over so far (``done``), of ``total`` (None while
    unknown), at ``rate_per_second`` since the send started."""

    done: int
    total: int | None
    rate_per_second: float


def send_progress(
    sent: int, failed: int, deferred: int, unknown: int, total: int, elapsed_seconds: float
) -> SendProgress:
    """The :class:`SendProgress` of a run that answered ``sent``, ``failed``, ``deferred``
    and left ``unknown`` (handed over, answer in doubt) after ``elapsed_seconds``."""
    done = sent + failed + deferred + unknown
    return SendProgress(done, total or None, done / max(elapsed_seconds, 1e-6))
