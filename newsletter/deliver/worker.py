"""Drain an edition's outbox: claim a batch, then for each group: record the previous
group's answers and mark this group ``sending`` in one commit, hand it over (in
provider-sized calls), repeat.

The rule that makes delivery exactly once: what is about to be handed over is marked
``sending`` in the same commit that records the answers to what was handed over before.
A crash (``kill -9``) at any moment therefore leaves at most one group per connection in
the uncertain ``sending`` state (reported, never resent blindly) and the rest of the claim
in ``claimed``, which the next run gives back to ``pending`` once it sees the worker is
gone: a plain rerun delivers everyone else, nobody twice. A stop that the worker sees (a
signal, a provider that cannot go on) gives back every message it had not handed over.

A group is one provider call by default (``commit_size`` 0): one message for SMTP, one
request for an HTTP batch API, so the doubt is at most one call per connection. A provider
that can tell after a crash what it received (``settle``, the file outbox) turns its
uncertain rows into ``sent`` or ``pending`` at the next run, so its groups are a whole
claim. A positive ``commit_size`` asks for that many messages per commit (rounded up to
whole calls): fewer commits, more doubt. The commit is kept cheap instead of rare: one
``UPDATE`` by primary key that also reads the subscriber's status, answers in one
executemany, no ORM objects.

A deferred message is retried with backoff until ``retry_window`` after the provider first
deferred it; its last retry falls on that deadline, and a deferral at or after it fails the
message with the reason. The window starts at the first deferral, not at the release:
waves, a daily cap or a pause can rightly hold a reader's first attempt back for hours, and
what the window bounds is how long the provider keeps refusing one message.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.personalise import personal_parts
from newsletter.deliver.ratelimit import RateLimiter
from newsletter.links import Links
from newsletter.providers.base import Envelope, MessageResult, Provider, Result, UncertainMessage
from newsletter.render.mime import PreparedMessage
from newsletter.render.textonly import PreparedTextMessage
from newsletter.store.db import hot_connection, session_on, step, transaction
from newsletter.store.editions import mark_edition_sent
from newsletter.store.models import DeliveryStatus
from newsletter.store.outbox import (
    ClaimedDelivery,
    Outcome,
    claim_batch,
    mark_sending,
    reclaim,
    record_outcomes,
    release_claims,
    requeue_uncertain,
    retry_delay,
    return_unsent,
    settle_uncertain,
    skip_inactive,
    uncertain_rows,
    worker_owners,
)
from newsletter.store.progress import delivery_counts, next_retry_at
from newsletter.store.suppressions import suppress
from newsletter.timeutil import utcnow

#: Rows claimed at once by a worker (they stay safe to give back until handed over).
CLAIM_SIZE = 50
#: Claimed rows older than this are given back even if their worker's host is another one.
CLAIM_LEASE = timedelta(minutes=10)
#: How long after its first deferral a message is retried (``NEWSLETTER_RETRY_HOURS``).
RETRY_WINDOW = timedelta(hours=24)

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
        message: PreparedMessage | PreparedTextMessage
        if claim.format == "text" and self.text_message_for is not None:
            message = self.text_message_for(claim.variant)
        else:
            message = self.message_for(claim.variant)
        signer = self.signer

        def data() -> bytes:
            # Built on first use: only the providers that carry raw MIME ask for it.
            raw = message.personalise(personal)
            return signer(raw) if signer else raw

        return Envelope(
            key=claim.delivery_id,
            sender=self.envelope_sender,
            recipient=claim.email,
            data=data,
            message_id=personal.message_id,
            campaign=self.day.isoformat(),
            content=message.content,
            personal=personal.recipient(),
        )


def recover(
    factory: sessionmaker[Session],
    edition_id: int,
    *,
    resend_uncertain: bool = False,
    provider: Provider | None = None,
    campaign: str = "",
) -> tuple[int, int]:
    """Give back the claims of dead workers. Their ``sending`` rows are settled by the
    ``provider`` when it can tell what it received (:class:`~newsletter.providers.base.
    Settles`, e.g. the file outbox), and with ``resend_uncertain`` the rest are requeued
    (an operator's decision). Returns (reclaimed, requeued)."""
    with transaction(factory) as session:
        claimed = worker_owners(session, edition_id, DeliveryStatus.CLAIMED)
        dead = [owner for owner in claimed if is_dead(owner)]
        reclaimed = reclaim(session, edition_id, dead, utcnow() - CLAIM_LEASE)
        sending = worker_owners(session, edition_id, DeliveryStatus.SENDING)
        gone = [owner for owner in sending if is_dead(owner)]
        settle = getattr(provider, "settle", None)
        if gone and settle is not None:
            rows = uncertain_rows(session, edition_id, gone)
            answers = settle([UncertainMessage(key, email, campaign) for key, email in rows])
            settle_uncertain(session, answers, getattr(provider, "name", "?"))
        requeued = 0
        if resend_uncertain:
            requeued = requeue_uncertain(session, edition_id, gone)
    return reclaimed, requeued


def drain(
    factory: sessionmaker[Session],
    edition_id: int,
    sender: Sender,
    provider: Provider,
    *,
    claim_size: int = CLAIM_SIZE,
    commit_size: int = 0,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[RunReport], None] | None = None,
    resend_uncertain: bool = False,
    limiter: RateLimiter | None = None,
    retry_window: timedelta = RETRY_WINDOW,
) -> RunReport:
    """Send every claimable delivery of the edition; returns what this run did.

    ``claim_size`` rows are claimed at once, and a provider call takes at most that many;
    ``commit_size`` messages are marked ``sending`` per commit, rounded up to whole provider
    calls (0: one call, or one claim for a provider that settles; see the module notes).
    A deferral ``retry_window`` or more after the message's first one fails it.

    Stops when nothing is claimable (deferred rows wait for their time), when the provider
    says it cannot go on (``RunReport.stopped``) or when ``should_stop()`` turns true (a
    signal): the message in flight finishes, the rest of the claim is given back. Marks the
    edition ``sent`` when every row reached a final state.
    """
    me = worker_id()
    report = RunReport()
    report.reclaimed, report.requeued = recover(
        factory, edition_id, resend_uncertain=resend_uncertain, provider=provider,
        campaign=sender.day.isoformat(),
    )  # fmt: skip
    with transaction(factory) as session:
        report.skipped += skip_inactive(session, edition_id)
        counts = delivery_counts(session, edition_id)
        report.total = (
            sum(counts.values()) - counts[DeliveryStatus.SENT] - counts[DeliveryStatus.FAILED]
        )
    chunk_size, group_size, claim_size = group_sizes(provider, claim_size, commit_size)
    with hot_connection(factory) as hot:  # one connection, a committed transaction per step
        _drain_loop(
            hot, edition_id, sender, provider, me, report, chunk_size, group_size, claim_size,
            should_stop, on_progress, limiter, retry_window,
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


def settles(provider: Provider) -> bool:
    """True when ``provider`` can tell after a crash what it received (``settle``; a wrapper
    says so with a ``settles`` attribute)."""
    said = getattr(provider, "settles", None)
    if isinstance(said, bool):
        return said
    return callable(getattr(provider, "settle", None))


def group_sizes(provider: Provider, claim_size: int, commit_size: int) -> tuple[int, int, int]:
    """(messages per provider call, messages marked ``sending`` per commit, rows per claim).

    A call takes at most the provider's ``batch_size`` and at most one claim. ``commit_size``
    0 means one call per commit, or one claim for a provider that :func:`settles`; a
    positive one is rounded up to whole calls, and a claim holds at least one group."""
    chunk = max(1, min(int(getattr(provider, "batch_size", 1)), claim_size))
    if commit_size <= 0:
        group = max(chunk, claim_size) if settles(provider) else chunk
    else:
        group = chunk * max(1, -(-commit_size // chunk))
    return chunk, group, max(claim_size, group)


def _drain_loop(
    hot: Connection,
    edition_id: int,
    sender: Sender,
    provider: Provider,
    me: str,
    report: RunReport,
    chunk_size: int,
    group_size: int,
    claim_size: int,
    should_stop: Callable[[], bool],
    on_progress: Callable[[RunReport], None] | None,
    limiter: RateLimiter | None,
    retry_window: timedelta,
) -> None:
    """Claim, hand over and record until nothing is claimable or the run must stop."""
    while not report.stopped:
        if should_stop():
            report.stopped = "interrupted"
            break
        with step(hot) as session:
            queue = claim_batch(session, edition_id, claim_size, me)
        if not queue:
            break
        answers = _Answers(
            {claim.delivery_id: claim.attempts for claim in queue},
            {claim.delivery_id: claim.first_deferred_at for claim in queue},
            retry_window,
        )
        try:
            while queue and not report.stopped:
                if should_stop():
                    report.stopped = "interrupted"
                    break
                group, queue = queue[:group_size], queue[group_size:]
                envelopes = _envelopes(group, sender, provider.name, answers.outcomes, report)
                with step(hot) as session:
                    answers.record(session, report)
                    owned, skipped = mark_sending(session, [e.key for e in envelopes], me)
                report.skipped += skipped
                _hand_over(
                    hot, [e for e in envelopes if e.key in owned], provider, chunk_size, answers,
                    report, should_stop, limiter,
                )  # fmt: skip
                if on_progress:
                    on_progress(report)
        finally:
            # Record what is known and give back what was never handed over, even when a
            # KeyboardInterrupt tears through: the messages in flight stay "sending".
            with step(hot) as session:
                answers.record(session, report)
                release_claims(session, [claim.delivery_id for claim in queue], me)


@dataclass
class _Answers:
    """Provider answers not yet recorded, and hard-bounced addresses to suppress; per
    claimed row its attempt number and first deferral, for the retry rule."""

    attempts: dict[int, int]
    first_deferred: dict[int, datetime | None]
    retry_window: timedelta
    outcomes: list[Outcome] = field(default_factory=list)
    bounced: list[tuple[str, str | None]] = field(default_factory=list)

    def add(self, result: MessageResult, provider: str, report: RunReport, recipient: str) -> None:
        """Take one answer: a deferral past the retry window becomes a failure."""
        outcome = _outcome(result, provider)
        if outcome.status == DeliveryStatus.DEFERRED:
            outcome = give_up_or_defer(
                outcome, self.attempts.get(outcome.delivery_id, 1),
                self.first_deferred.get(outcome.delivery_id), self.retry_window, utcnow(),
            )  # fmt: skip
        self.outcomes.append(outcome)
        _tally(report, outcome, recipient)
        if result.hard_bounce:
            self.bounced.append((recipient, result.detail))

    def record(self, session: Connection, report: RunReport) -> None:
        _record(session, self.outcomes, self.attempts, self.bounced, report)
        self.outcomes, self.bounced = [], []


def give_up_or_defer(
    outcome: Outcome, attempts: int, first_deferred: datetime | None, window: timedelta,
    now: datetime,
) -> Outcome:  # fmt: skip
    """The retry rule for a deferral ``outcome`` at ``now`` (aware UTC): ``failed`` (the
    reason says so, with the provider's last words) when ``window`` has passed since the
    message's ``first_deferred`` (None: this is the first, so the window starts now);
    otherwise ``deferred`` until ``retry_at``: after the backoff of ``attempts`` (or the
    provider's ``retry_after``, seconds), brought forward so that the last retry falls on
    the deadline."""
    start = first_deferred or now
    deadline = start + window
    if now >= deadline:
        hours = window.total_seconds() / 3600
        detail = f"gave up after {hours:g} hours of deferrals; last: {outcome.detail or '?'}"
        return replace(outcome, status=DeliveryStatus.FAILED, detail=detail, retry_after=None)
    delay = outcome.retry_after if outcome.retry_after is not None else retry_delay(attempts)
    return replace(outcome, retry_at=min(now + timedelta(seconds=delay), deadline))


def _hand_over(
    hot: Connection,
    envelopes: list[Envelope],
    provider: Provider,
    chunk_size: int,
    answers: _Answers,
    report: RunReport,
    should_stop: Callable[[], bool],
    limiter: RateLimiter | None,
) -> None:
    """Hand a group marked ``sending`` to the provider, chunk by chunk, collecting answers.
    Whatever the provider reports it never received, and whatever was not handed over
    because the run stopped, goes back to ``pending`` at once; a chunk interrupted inside
    the provider stays ``sending`` (uncertain)."""
    unsent: list[int] = []
    rest = envelopes
    try:
        while rest:
            if should_stop():
                report.stopped = "interrupted"
                break
            chunk, rest = rest[:chunk_size], rest[chunk_size:]
            if limiter is not None:
                for _ in chunk:
                    limiter.wait()
            batch = provider.send(chunk)
            if (
                batch.stop is None
                and batch.results
                and all(r.result == Result.UNSENT for r in batch.results)
            ):
                # Nothing taken and no reason to stop given: going on would claim the same
                # messages again at once, for ever.
                why = next((r.detail for r in batch.results if r.detail), "no reason given")
                batch.stop = f"{provider.name} took none of {len(chunk)} messages: {why}"
            recipients = {e.key: e.recipient for e in chunk}
            for result in batch.results:
                if result.result == Result.UNSENT:
                    unsent.append(result.key)
                    continue
                answers.add(result, provider.name, report, recipients.get(result.key, "?"))
            if batch.stop:
                report.stopped = batch.stop
                break
    finally:
        unsent += [e.key for e in rest]
        if unsent:
            with step(hot) as session:
                answers.record(session, report)
                return_unsent(session, unsent)


def _record(
    session: Connection,
    outcomes: list[Outcome],
    attempts: dict[int, int],
    bounced: list[tuple[str, str | None]],
    report: RunReport,
) -> None:
    """Record answers and put hard-bounced addresses on the suppression list, together."""
    record_outcomes(session, outcomes, attempts)
    if bounced:
        with session_on(session) as orm:
            for email, detail in bounced:
                suppress(orm, email, "hard_bounce", detail)
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


def _tally(report: RunReport, outcome: Outcome, recipient: str) -> None:
    if outcome.status == DeliveryStatus.SENT:
        report.sent += 1
    elif outcome.status == DeliveryStatus.DEFERRED:
        report.deferred += 1
    elif outcome.status == DeliveryStatus.FAILED:
        report.failed += 1
        report.failures.append(f"{recipient}: {outcome.detail}")
    elif outcome.status == DeliveryStatus.SENDING:
        report.unknown += 1
