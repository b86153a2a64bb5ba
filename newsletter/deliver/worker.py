"""Drain an edition's outbox: claim a batch, then for each provider-sized chunk: record the
previous chunk's answers and mark this chunk ``sending`` in one commit, hand it over, repeat.

A crash therefore leaves at most one chunk (one message over SMTP) in the uncertain
``sending`` state, reported and never resent blindly, and the rest of the claimed batch in
``claimed``, which the next run gives back to ``pending`` once it sees the worker is gone.
Nothing is sent twice and nobody is skipped.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.personalise import personal_parts
from newsletter.deliver.ratelimit import RateLimiter
from newsletter.links import Links
from newsletter.providers.base import Envelope, MessageResult, Provider, Result
from newsletter.render.mime import PreparedMessage
from newsletter.render.textonly import PreparedTextMessage
from newsletter.store.db import transaction
from newsletter.store.editions import mark_edition_sent
from newsletter.store.models import DeliveryStatus
from newsletter.store.outbox import (
    ClaimedDelivery,
    Outcome,
    claim_batch,
    delivery_counts,
    mark_sending,
    next_retry_at,
    reclaim,
    record_outcomes,
    release_claims,
    requeue_uncertain,
    return_unsent,
    skip_inactive,
    worker_owners,
)
from newsletter.store.suppressions import suppress
from newsletter.timeutil import utcnow

#: Rows claimed at once by a worker (they stay safe to give back until handed over).
CLAIM_SIZE = 50
#: Claimed rows older than this are given back even if their worker's host is another one.
CLAIM_LEASE = timedelta(minutes=10)

_STATUS = {
    Result.SENT: DeliveryStatus.SENT,
    Result.DEFERRED: DeliveryStatus.DEFERRED,
    Result.FAILED: DeliveryStatus.FAILED,
    Result.UNKNOWN: DeliveryStatus.SENDING,
}


def worker_id() -> str:
    """A worker's identity: ``host:pid:random`` (the random part tells restarts apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def is_dead(owner: str) -> bool:
    """True when ``owner`` names a process of this host that no longer runs. A worker of
    another host is never declared dead here (its claims expire with :data:`CLAIM_LEASE`)."""
    try:
        host, pid, _ = owner.rsplit(":", 2)
        number = int(pid)
    except ValueError:
        return True  # not one of ours: an old or hand-made value
    if host != socket.gethostname():
        return False
    if number == os.getpid():
        return False
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class RunReport:
    """What one run did (``sent``, ``failed``, ``deferred``, ``skipped``, ``unknown``) and the
    edition's totals per status afterwards (``totals``). ``stopped`` says why it stopped early;
    ``in_flight_elsewhere`` counts ``sending`` rows of other live workers, ``uncertain`` those
    of dead ones (interrupted: they may or may not have been delivered)."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    unknown: int = 0
    reclaimed: int = 0
    bounced: int = 0
    total: int = 0  # the edition's deliveries (for progress displays)
    requeued: int = 0
    stopped: str | None = None
    finished: bool = False
    next_retry: datetime | None = None
    totals: dict[str, int] = field(default_factory=dict)
    uncertain: int = 0
    in_flight_elsewhere: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class Sender:
    """Everything a worker needs to turn a claimed row into an envelope."""

    message_for: Callable[[str], PreparedMessage]  # variant key -> message (cached)
    links: Links
    day: date
    envelope_sender: str
    sender_domain: str
    unsubscribe_mailto: str | None = None
    signer: Callable[[bytes], bytes] | None = None  # DKIM, when configured
    # variant key -> the text/plain-only message (cached), for readers who chose "text"
    text_message_for: Callable[[str], PreparedTextMessage] | None = None

    def envelope(self, claim: ClaimedDelivery) -> Envelope:
        """The personalised envelope of ``claim``; raises ``ValueError`` for an address that
        cannot be written in a header."""
        personal = personal_parts(
            self.links, subscriber_id=claim.subscriber_id, email=claim.email, name=claim.name,
            day=self.day, delivery_id=claim.delivery_id, sender_domain=self.sender_domain,
            unsubscribe_mailto=self.unsubscribe_mailto,
        )  # fmt: skip
        if claim.format == "text" and self.text_message_for is not None:
            data = self.text_message_for(claim.variant).personalise(personal)
        else:
            data = self.message_for(claim.variant).personalise(personal)
        return Envelope(
            key=claim.delivery_id,
            sender=self.envelope_sender,
            recipient=claim.email,
            data=self.signer(data) if self.signer else data,
            message_id=personal.message_id,
            campaign=self.day.isoformat(),
        )


def recover(
    factory: sessionmaker[Session], edition_id: int, *, resend_uncertain: bool = False
) -> tuple[int, int]:
    """Give back the claims of dead workers (and, with ``resend_uncertain``, requeue their
    ``sending`` rows: an operator's decision). Returns (reclaimed, requeued)."""
    with transaction(factory) as session:
        claimed = worker_owners(session, edition_id, DeliveryStatus.CLAIMED)
        dead = [owner for owner in claimed if is_dead(owner)]
        reclaimed = reclaim(session, edition_id, dead, utcnow() - CLAIM_LEASE)
        requeued = 0
        if resend_uncertain:
            sending = worker_owners(session, edition_id, DeliveryStatus.SENDING)
            requeued = requeue_uncertain(session, edition_id, [o for o in sending if is_dead(o)])
    return reclaimed, requeued


def drain(
    factory: sessionmaker[Session],
    edition_id: int,
    sender: Sender,
    provider: Provider,
    *,
    claim_size: int = CLAIM_SIZE,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[RunReport], None] | None = None,
    resend_uncertain: bool = False,
    limiter: RateLimiter | None = None,
) -> RunReport:
    """Send every claimable delivery of the edition; returns what this run did.

    Stops when nothing is claimable (deferred rows wait for their time), when the provider
    says it cannot go on (``RunReport.stopped``) or when ``should_stop()`` turns true (a
    signal): the message in flight finishes, the rest of the claim is given back. Marks the
    edition ``sent`` when every row reached a final state.
    """
    me = worker_id()
    report = RunReport()
    report.reclaimed, report.requeued = recover(
        factory, edition_id, resend_uncertain=resend_uncertain
    )
    with transaction(factory) as session:
        report.skipped += skip_inactive(session, edition_id)
        counts = delivery_counts(session, edition_id)
        report.total = (
            sum(counts.values()) - counts[DeliveryStatus.SENT] - counts[DeliveryStatus.FAILED]
        )
    chunk_size = max(1, int(getattr(provider, "batch_size", 1)))
    with factory() as hot:  # one session for the loop: a committed transaction per step
        _drain_loop(
            hot, edition_id, sender, provider, me, report, chunk_size, claim_size,
            should_stop, on_progress, limiter,
        )  # fmt: skip
    with transaction(factory) as session:
        report.skipped += skip_inactive(session, edition_id)
        report.totals = delivery_counts(session, edition_id)
        open_rows = sum(
            report.totals[s]
            for s in (
                DeliveryStatus.PENDING,
                DeliveryStatus.CLAIMED,
                DeliveryStatus.SENDING,
                DeliveryStatus.DEFERRED,
            )
        )
        if open_rows == 0:
            mark_edition_sent(session, edition_id)
            report.finished = True
        report.next_retry = next_retry_at(session, edition_id)
        for owner, count in worker_owners(session, edition_id, DeliveryStatus.SENDING).items():
            if owner == me or is_dead(owner):
                report.uncertain += count
            else:
                report.in_flight_elsewhere += count
    return report


@contextmanager
def _step(session: Session) -> Iterator[Session]:
    """One committed transaction on a long-lived session (rolled back on any exception)."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _drain_loop(
    hot: Session,
    edition_id: int,
    sender: Sender,
    provider: Provider,
    me: str,
    report: RunReport,
    chunk_size: int,
    claim_size: int,
    should_stop: Callable[[], bool],
    on_progress: Callable[[RunReport], None] | None,
    limiter: RateLimiter | None,
) -> None:
    """Claim, hand over and record until nothing is claimable or the run must stop."""
    while not report.stopped:
        if should_stop():
            report.stopped = "interrupted"
            break
        with _step(hot) as session:
            queue = claim_batch(session, edition_id, claim_size, me)
        if not queue:
            break
        attempts = {claim.delivery_id: claim.attempts for claim in queue}
        outcomes: list[Outcome] = []
        bounced: list[tuple[str, str | None]] = []
        try:
            while queue:
                if should_stop():
                    report.stopped = "interrupted"
                    break
                chunk, queue = queue[:chunk_size], queue[chunk_size:]
                envelopes = _envelopes(chunk, sender, provider.name, outcomes, report)
                with _step(hot) as session:
                    _record(session, outcomes, attempts, bounced, report)
                    owned = mark_sending(session, [e.key for e in envelopes], me)
                outcomes, bounced = [], []
                envelopes = [e for e in envelopes if e.key in owned]
                if not envelopes:
                    continue
                recipients = {e.key: e.recipient for e in envelopes}
                if limiter is not None:
                    for _ in envelopes:
                        limiter.wait()
                batch = provider.send(envelopes)
                unsent = [r.key for r in batch.results if r.result == Result.UNSENT]
                for result in batch.results:
                    if result.result != Result.UNSENT:
                        outcomes.append(_outcome(result, provider.name))
                        _tally(report, result, envelopes)
                    if result.hard_bounce:
                        bounced.append((recipients[result.key], result.detail))
                if unsent:
                    with _step(hot) as session:
                        _record(session, outcomes, attempts, bounced, report)
                        return_unsent(session, unsent)
                    outcomes, bounced = [], []
                if on_progress:
                    on_progress(report)
                if batch.stop:
                    report.stopped = batch.stop
                    break
        finally:
            # Record what is known and give back what was never handed over, even when a
            # KeyboardInterrupt tears through: the message in flight stays "sending".
            with _step(hot) as session:
                _record(session, outcomes, attempts, bounced, report)
                release_claims(session, [claim.delivery_id for claim in queue], me)


def _record(
    session: Session,
    outcomes: list[Outcome],
    attempts: dict[int, int],
    bounced: list[tuple[str, str | None]],
    report: RunReport,
) -> None:
    """Record answers and put hard-bounced addresses on the suppression list, together."""
    record_outcomes(session, outcomes, attempts)
    for email, detail in bounced:
        suppress(session, email, "hard_bounce", detail)
    report.bounced += len(bounced)


def _envelopes(
    chunk: list[ClaimedDelivery], sender: Sender, provider: str, outcomes: list[Outcome],
    report: RunReport,
) -> list[Envelope]:  # fmt: skip
    envelopes = []
    for claim in chunk:
        try:
            envelopes.append(sender.envelope(claim))
        except ValueError as exc:
            # Mark it sending-then-failed through the normal path: claimed -> failed.
            outcomes.append(
                Outcome(claim.delivery_id, DeliveryStatus.FAILED, provider, detail=str(exc))
            )
            report.failed += 1
            report.failures.append(f"{claim.email}: {exc}")
    return envelopes


def _outcome(result: MessageResult, provider: str) -> Outcome:
    return Outcome(
        delivery_id=result.key,
        status=_STATUS[result.result],
        provider=provider,
        provider_message_id=result.provider_message_id,
        code=result.code,
        detail=result.detail,
        retry_after=result.retry_after,
    )


def _tally(report: RunReport, result: MessageResult, envelopes: list[Envelope]) -> None:
    if result.result == Result.SENT:
        report.sent += 1
    elif result.result == Result.DEFERRED:
        report.deferred += 1
    elif result.result == Result.FAILED:
        report.failed += 1
        recipient = next((e.recipient for e in envelopes if e.key == result.key), "?")
        report.failures.append(f"{recipient}: {result.detail}")
    elif result.result == Result.UNKNOWN:
        report.unknown += 1
