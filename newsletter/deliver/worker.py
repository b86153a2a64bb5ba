"""Drain an edition's outbox: claim a batch, personalise, hand over, record; repeat.

Each claim is committed before the provider is called and each outcome right after it, so a
crash loses at most the rows of one batch to the uncertain ``sending`` state (reported, never
resent blindly) and never sends a row twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.personalise import personal_parts
from newsletter.links import Links
from newsletter.providers.base import Envelope, MessageResult, Provider, Result
from newsletter.render.mime import PreparedMessage
from newsletter.store.db import transaction
from newsletter.store.editions import mark_edition_sent
from newsletter.store.models import DeliveryStatus
from newsletter.store.outbox import (
    ClaimedDelivery,
    Outcome,
    claim_batch,
    delivery_counts,
    next_retry_at,
    record_outcomes,
    release_claims,
    skip_inactive,
)

_STATUS = {
    Result.SENT: DeliveryStatus.SENT,
    Result.DEFERRED: DeliveryStatus.DEFERRED,
    Result.FAILED: DeliveryStatus.FAILED,
    Result.UNKNOWN: DeliveryStatus.SENDING,
}


@dataclass
class RunReport:
    """What one run did (``sent``, ``failed``, ``deferred``, ``skipped``, ``unknown``) and the
    edition's totals per status afterwards (``totals``). ``stopped`` says why it stopped early."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    unknown: int = 0
    stopped: str | None = None
    finished: bool = False
    next_retry: datetime | None = None
    totals: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@dataclass
class Sender:
    """Everything a worker needs to turn a claimed row into an envelope."""

    message_for: Callable[[str], PreparedMessage]  # variant key -> message (cached)
    links: Links
    day: date
    envelope_sender: str
    sender_domain: str

    def envelope(self, claim: ClaimedDelivery) -> Envelope:
        """The personalised envelope of ``claim``; raises ``ValueError`` for an address that
        cannot be written in a header."""
        personal = personal_parts(
            self.links, subscriber_id=claim.subscriber_id, email=claim.email, name=claim.name,
            day=self.day, delivery_id=claim.delivery_id, sender_domain=self.sender_domain,
        )  # fmt: skip
        return Envelope(
            key=claim.delivery_id,
            sender=self.envelope_sender,
            recipient=claim.email,
            data=self.message_for(claim.variant).personalise(personal),
            message_id=personal.message_id,
            campaign=self.day.isoformat(),
        )


def drain(
    factory: sessionmaker[Session],
    edition_id: int,
    sender: Sender,
    provider: Provider,
    *,
    batch_size: int = 10,
    on_progress: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Send every claimable delivery of the edition; returns what this run did.

    Stops when nothing is claimable (deferred rows wait for their time) or when the
    provider says it cannot go on (``RunReport.stopped``). Marks the edition ``sent`` when
    every row reached a final state.
    """
    report = RunReport()
    with transaction(factory) as session:
        report.skipped += skip_inactive(session, edition_id)
    while True:
        with transaction(factory) as session:
            claimed = claim_batch(session, edition_id, batch_size)
        if not claimed:
            break
        outcomes: list[Outcome] = []
        envelopes: list[Envelope] = []
        for claim in claimed:
            try:
                envelopes.append(sender.envelope(claim))
            except ValueError as exc:
                outcomes.append(
                    Outcome(
                        claim.delivery_id, DeliveryStatus.FAILED, provider.name, detail=str(exc)
                    )
                )
                report.failed += 1
                report.failures.append(f"{claim.email}: {exc}")
        batch = provider.send(envelopes) if envelopes else None
        unsent: list[int] = []
        for result in batch.results if batch else []:
            if result.result == Result.UNSENT:
                unsent.append(result.key)
                continue
            outcomes.append(_outcome(result, provider.name))
            _tally(report, result, envelopes)
        attempts = {claim.delivery_id: claim.attempts for claim in claimed}
        with transaction(factory) as session:
            record_outcomes(session, outcomes, attempts)
            release_claims(session, unsent)
        if on_progress:
            on_progress(report)
        if batch and batch.stop:
            report.stopped = batch.stop
            break
    with transaction(factory) as session:
        report.skipped += skip_inactive(session, edition_id)
        report.totals = delivery_counts(session, edition_id)
        open_rows = sum(
            report.totals[s]
            for s in (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)
        )
        if open_rows == 0:
            mark_edition_sent(session, edition_id)
            report.finished = True
        report.next_retry = next_retry_at(session, edition_id)
    return report


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
