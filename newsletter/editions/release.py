"""Releasing an edition, then delivering it: the one path every send takes.

A release freezes the recipients: one guarded ``UPDATE`` moves the draft to ``sending``
(only one caller, one process, wins it), then one delivery row per eligible reader is
inserted (unique per edition and reader). Then the rows are delivered in this process, or
left to running ``newsletter worker`` processes (recent heartbeats). Three kinds of send
share that path and differ only in whom the rows are for (:class:`Recipients`) and in what
they check first:

- :meth:`Release.send`: the day's edition to every daily reader (``newsletter send``, the
  scheduler), after the editors' gate (:mod:`newsletter.editions.approval`);
- :meth:`Release.weekly`: the weekly edition to the weekly readers of that weekday;
- :meth:`Release.wave`: with time-zone waves, the readers whose local send time has come.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.options import ReleaseOptions
from newsletter.deliver.worker import RunReport
from newsletter.editions.approval import Blocker, blocker
from newsletter.editions.compose import Cadence, Composer
from newsletter.editions.delivery import Delivery
from newsletter.editions.drafts import Drafts
from newsletter.errors import UsageError
from newsletter.store.db import transaction
from newsletter.store.editions import EditionLocked, reopen_for_wave
from newsletter.store.editions import release_edition as release_row
from newsletter.store.models import Edition, EditionStatus, Frequency
from newsletter.store.outbox import create_deliveries
from newsletter.store.subscribers import daily_reader_zones
from newsletter.store.workers import live_workers
from newsletter.timeutil import UnknownTimeZone, get_zone, local_datetime, utcnow


@dataclass
class SendResult:
    """What one send did: ``released`` the edition (this call won the release), ``created``
    delivery rows, delivered ``run`` in this process or ``handed_to_workers`` (how many
    workers were live); ``waiting``: with time-zone waves, the zones still to come."""

    edition: Edition
    released: bool
    created: int
    run: RunReport
    handed_to_workers: int = 0
    waiting: list[str | None] = field(default_factory=list)


@dataclass(frozen=True)
class Recipients:
    """Whom a release's delivery rows are for: readers on ``frequency`` (on ``weekday``, 0 =
    Monday, for the weekly edition); with ``zones``, only the readers of those time zones
    (None in it: readers without one), and the rows are added on every call (a wave)."""

    frequency: Frequency = Frequency.DAILY
    weekday: int | None = None
    zones: Sequence[str | None] | None = None


class Release:
    """Releases and delivers the editions of ``drafts``; ``check_provider`` raises
    ``ConfigError`` when the provider's or the DKIM signature's settings are wrong (called
    before a release, so that a missing key never leaves a released edition behind)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        composer: Composer,
        drafts: Drafts,
        delivery: Delivery,
        options: ReleaseOptions,
        check_provider: Callable[[], None],
    ) -> None:
        self.sessions, self.composer, self.drafts = sessions, composer, drafts
        self.delivery, self.options, self.check_provider = delivery, options, check_provider

    def send(
        self,
        day: date,
        *,
        batch_size: int | None = None,
        early: bool = False,
        resend_uncertain: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[RunReport], None] | None = None,
        in_process: bool = False,
    ) -> SendResult:
        """Compose ``day``'s edition if there is none (or recompose a draft that new articles
        have overtaken, unless an editor approved it), release it to every daily reader and
        deliver every row not yet sent. Running it again sends nothing new.

        When ``newsletter worker`` processes are running the edition is left to them, unless
        ``in_process``. Raises :class:`UsageError` for an edition with no items, one the
        editors hold or did not approve (when required), and, unless ``early``, for an
        edition whose window has not closed yet (its articles would be missing, and
        tomorrow's window starts at today's send time)."""
        o = self.options
        edition = self.drafts.get(day)
        if edition is None or edition.status == EditionStatus.DRAFT:
            window_end = local_datetime(day, o.send_time, o.zone)
            if not early and utcnow() < window_end:
                raise UsageError(
                    f"the edition of {day.isoformat()} covers articles until "
                    f"{o.send_time:%H:%M} {o.timezone}; it cannot be sent before then "
                    "(use --early to send it anyway)"
                )
        # An approved draft is sent as the editors approved it, never recomposed.
        if edition is None or (
            edition.status == EditionStatus.DRAFT
            and edition.approved_at is None
            and self.drafts.overtaken(edition)
        ):
            try:
                edition = self.composer.compose(day).edition
            except EditionLocked:  # another send released it meanwhile: deliver alongside
                edition = self.drafts.get(day) or edition
        assert edition is not None  # composed above, or released by another send
        if not edition.items:
            raise UsageError(
                f"the edition of {day.isoformat()} has no items: nothing to send (ingest "
                "articles, then compose again; `newsletter compose --json` lists under "
                "`dropped` why each article of the window was left out)"
            )
        if edition.status == EditionStatus.DRAFT:
            self._check_gate(edition)
            self.check_provider()
        return self._release_and_deliver(
            edition, Recipients(), in_process=in_process, batch_size=batch_size,
            should_stop=should_stop, on_progress=on_progress, resend_uncertain=resend_uncertain,
        )  # fmt: skip

    def weekly(self, day: date, *, in_process: bool = False) -> SendResult | None:
        """Release the weekly draft of ``day`` to the weekly readers of its weekday and
        deliver it (or leave it to running workers unless ``in_process``). None when there
        is no weekly edition that day, or it is held or has no items."""
        edition = self.drafts.get(day, Cadence.WEEKLY)
        if edition is None or not edition.items:
            return None
        if blocker(edition, require_approval=False) is not None:
            return None
        recipients = Recipients(Frequency.WEEKLY, weekday=day.weekday())
        return self._release_and_deliver(edition, recipients, in_process=in_process)

    def wave(
        self,
        day: date,
        now: datetime,
        *,
        release: bool,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> SendResult | None:
        """Release the edition of ``day`` (``release``: the send time has come; composed first
        if missing) and add the rows of the time zones reached at ``now``, then deliver them
        or leave them to running workers. None when the edition is not released and
        ``release`` is false, or is paused. Raises :class:`UsageError` for an edition
        without items."""
        edition = self.drafts.get(day)
        if edition is None and release:
            edition = self.composer.compose(day).edition
        if edition is None or (edition.status == EditionStatus.DRAFT and not release):
            return None
        if edition.status == EditionStatus.PAUSED:
            return None
        if not edition.items:
            raise UsageError(f"the edition of {day.isoformat()} has no items: nothing to send")
        reached, waiting = self.zones_due(day, now)
        result = self._release_and_deliver(
            edition, Recipients(zones=reached), in_process=False, should_stop=should_stop
        )
        result.waiting = waiting
        return result

    def zones_due(self, day: date, now: datetime) -> tuple[list[str | None], list[str | None]]:
        """The time zones of the active daily readers split into (reached, waiting): reached
        when the send time of ``day`` (a date of the newsletter's zone) has passed there at
        ``now``. None stands for readers without a zone (the newsletter's); an unknown zone
        name counts as the newsletter's too."""
        o = self.options
        with self.sessions() as session:
            names = daily_reader_zones(session)
        reached: list[str | None] = []
        waiting: list[str | None] = []
        for name in names:
            try:
                zone = get_zone(name) if name else o.zone
            except UnknownTimeZone:
                zone = o.zone
            (reached if local_datetime(day, o.send_time, zone) <= now else waiting).append(name)
        return reached, waiting

    def _check_gate(self, edition: Edition) -> None:
        """Raise :class:`UsageError` when the editors keep the draft from being sent."""
        day = edition.date.isoformat()
        found = blocker(edition, require_approval=self.options.require_approval)
        if found == Blocker.HELD:
            raise UsageError(
                f"the edition of {day} is held by an editor: lift the hold "
                f"(newsletter edition hold --release --date {day}) or approve it"
            )
        if found == Blocker.NOT_APPROVED:
            raise UsageError(
                f"the edition of {day} is not approved and NEWSLETTER_REQUIRE_APPROVAL is on: "
                f"an editor approves it (/editor or newsletter edition approve --date {day})"
            )

    def _release_and_deliver(
        self, edition: Edition, recipients: Recipients, *, in_process: bool, **deliver: Any
    ) -> SendResult:
        """Release ``edition`` when it is a draft, create the rows of ``recipients`` (on the
        release; on every call for a wave), then deliver in this process or hand over to
        the live workers. A wave that added nothing delivers nothing."""
        cadence = Cadence(edition.newsletter)
        wave = recipients.zones is not None
        released, created, reopened = False, 0, False
        with transaction(self.sessions) as session:
            if edition.status == EditionStatus.DRAFT:
                released = release_row(session, edition.id)
            if released or wave:
                created = create_deliveries(
                    session, edition.id, frequency=recipients.frequency,
                    weekday=recipients.weekday, zones=recipients.zones,
                )  # fmt: skip
            if wave:
                reopened = reopen_for_wave(session, edition.id)
        edition = self.drafts.get(edition.date, cadence) or edition
        if wave and not (released or created or reopened):
            return SendResult(edition, False, 0, RunReport())
        with self.sessions() as session:
            workers = live_workers(session)
        if workers and not in_process:
            return SendResult(edition, released, created, RunReport(), handed_to_workers=workers)
        run = self.delivery.deliver(edition, **deliver)
        return SendResult(self.drafts.get(edition.date, cadence) or edition, released, created, run)
