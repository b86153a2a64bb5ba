"""The day's actions: compose the draft and tell the editors, send at the send time (unless
held, or not approved when approval is required), skip and alert when it is too late.

Every action is idempotent and safe to run from two processes at once: each is claimed in
the scheduler's ledger (:mod:`newsletter.store.runs`) before it acts, the edition is unique
per (newsletter, date), and its release is one guarded ``UPDATE`` that only one caller wins
(:func:`newsletter.store.editions.release_edition`), after which each subscriber has exactly
one delivery row. So whichever process or job (the timed job, the periodic check, a restart)
gets there first acts, and the others find the work done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum

from newsletter import words
from newsletter.deliver.worker import worker_id
from newsletter.editions.approval import Blocker, blocker
from newsletter.editions.compose import Cadence
from newsletter.errors import UsageError
from newsletter.scheduler.ledger import Ledger, fields
from newsletter.scheduler.timing import Timing
from newsletter.store.models import EditionStatus
from newsletter.store.runs import RunKey
from newsletter.store.subscribers import count_weekly_readers
from newsletter.timeutil import utcnow
from newsletter.wiring import App

LOG = logging.getLogger("newsletter.scheduler")

#: A claimed compose unfinished after this many seconds is taken over by another process.
COMPOSE_LEASE_SECONDS = 600
#: A claimed send unfinished after this many seconds may be taken over: taking over calls
#: ``Release.send`` again, which releases nothing twice and only drains the rows left.
SEND_LEASE_SECONDS = 1800
#: A send starting this late after the send time (but within the grace) is reported late.
LATE_AFTER = timedelta(minutes=5)


class Outcome(StrEnum):
    """What one call of an action did (logged; the tests read it)."""

    COMPOSED = "composed"
    SENT = "sent"  # released (and delivered, or handed to the workers) by this call
    ALREADY = "already"  # the work was done (released edition, finished claim)
    ELSEWHERE = "elsewhere"  # another process holds the claim right now
    NOT_YET = "not_yet"  # before the send time
    HELD = "held"
    AWAITING_APPROVAL = "awaiting_approval"
    SKIPPED = "skipped"  # too late: past the grace period
    FAILED = "failed"


class Day:
    """The day's actions for ``app``. ``clock`` gives the current aware UTC time (tests
    pass a controlled one); ``owner`` names this process in the ledger."""

    def __init__(
        self,
        app: App,
        *,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.owner = owner or worker_id()
        self.timing = Timing.from_settings(app.settings)
        self.ledger = Ledger(app, self.owner, lambda: self.clock())
        self._lock = threading.Lock()  # one action at a time in this process
        #: Set when the process stops: a send in progress finishes the message in flight and
        #: claims no more (the rest goes with the next start, a worker or another replica).
        self.stopping = threading.Event()

    # --- the timed jobs ------------------------------------------------------------------
    def compose(self) -> Outcome:
        """The compose job: the draft of the day whose compose time passed last."""
        now = self.clock()
        return self.compose_day(self.timing.compose.day_of(now), now)

    def send(self) -> Outcome:
        """The send job: the edition of the day whose send time passed last."""
        now = self.clock()
        return self.send_day(self.timing.send.day_of(now), now)

    def check(self) -> list[Outcome]:
        """The periodic check: compose a draft whose time came and went without one (a
        late start), send an edition approved or unheld after its send time, alert on a
        missed deadline, skip (and alert) a day past its grace."""
        now = self.clock()
        outcomes = []
        compose_day = self.timing.compose.day_of(now)
        if self.app.drafts.get(compose_day) is None:
            outcomes.append(self.compose_day(compose_day, now))
        outcomes.append(self.send_day(self.timing.send.day_of(now), now))
        if self.app.settings.timezone_waves:
            outcomes.extend(self.waves(now))
        return outcomes

    def waves(self, now: datetime) -> list[Outcome]:
        """Time-zone waves: add and send the rows of the zones whose send time came, for the
        editions of the last two days (a zone far west of the newsletter's gets its wave
        up to a day later)."""
        outcomes = []
        latest = self.timing.send.day_of(now)
        for day in (latest - timedelta(days=1), latest):
            try:
                with self._lock:
                    wave = self.app.release.wave(day, now, release=False,
                                                 should_stop=self.stopping.is_set)  # fmt: skip
            except Exception as exc:
                LOG.exception("a time-zone wave of %s failed", day, extra=fields(day))
                self.ledger.alert(
                    "failed", day, words.say("scheduler.alert.wave_failed", "en", error=exc)
                )
                outcomes.append(Outcome.FAILED)
                continue
            if wave is not None and (wave.created or wave.run.sent):
                LOG.info(
                    "time-zone wave of %s: %d new deliveries, %d sent", day, wave.created,
                    wave.run.sent, extra=fields(day, event="wave", deliveries=wave.created,
                                                 sent=wave.run.sent,
                                                 waiting=len(wave.waiting)),
                )  # fmt: skip
                outcomes.append(Outcome.SENT)
        return outcomes

    # --- the sources ---------------------------------------------------------------------
    def poll(self, *, every: bool = False) -> int:
        """Poll the sources due now (all of them with ``every``: just before a draft is
        composed); a source failing for a day or more is worth an alert, once per day and
        source across every process. Returns how many sources this call polled; never
        raises (a failure is logged)."""
        try:
            views = self.app.sources.poll(every=every)
        except Exception:
            LOG.exception("polling the sources failed", extra={"event": "poll_failed"})
            return 0
        for view in views:
            LOG.info(
                "source %s polled: %s", view.url, view.last_status,
                extra={"event": "polled", "source": view.id, "url": view.url,
                       "status": view.last_status, "new": view.new, "updated": view.updated,
                       "error": view.error},
            )  # fmt: skip
        now = self.clock()
        day = now.astimezone(self.app.settings.zone).date()
        for view in self.app.sources.failing_for_a_day(views):
            assert view.failing_since is not None
            self.ledger.alert(
                f"source-{view.id}", day,
                words.say("scheduler.alert.source_failing", "en", url=view.url, id=view.id,
                          since=view.failing_since.isoformat(), failures=view.failures,
                          error=view.error),
            )  # fmt: skip
        return len(views)

    # --- the actions ---------------------------------------------------------------------
    def compose_day(self, day: date, now: datetime | None = None) -> Outcome:
        """Poll every source, then compose the draft of ``day`` once (the editors' decisions
        are kept) and notify the editors. Nothing once the edition is released or the day
        is past its grace."""
        now = now or self.clock()
        with self._lock:
            if now > self.timing.send.fire_time(day) + self.timing.grace:
                return Outcome.SKIPPED
            edition = self.app.drafts.get(day)
            if edition is not None and edition.status != EditionStatus.DRAFT:
                return Outcome.ALREADY
            key = RunKey("compose", day)
            if not self.ledger.claim(key, COMPOSE_LEASE_SECONDS, now):
                return Outcome.ELSEWHERE
            self.poll(every=True)  # the latest articles of every source first
            try:
                result = self.app.composer.compose(day)
            except Exception as exc:
                LOG.exception("composing the edition of %s failed", day, extra=fields(day))
                self.ledger.finish(key, "failed", str(exc))
                self.ledger.alert(
                    "failed", day, words.say("scheduler.alert.compose_failed", "en", error=exc)
                )
                return Outcome.FAILED
            items = len(result.edition.items)
            self.ledger.finish(key, "done", f"{items} items")
            LOG.info(
                "draft of %s composed: %d items", day, items,
                extra=fields(day, event="composed", items=items),
            )  # fmt: skip
            self._compose_weekly(day, now)
        self.ledger.notify(day, self.timing.send.fire_time(day))
        return Outcome.COMPOSED

    def _compose_weekly(self, day: date, now: datetime) -> None:
        """The weekly draft of ``day`` when some reader gets it that weekday (once)."""
        if not self._weekly_readers(day):
            return
        key = RunKey("compose", day, Cadence.WEEKLY)
        if not self.ledger.claim(key, COMPOSE_LEASE_SECONDS, now):
            return
        try:
            edition = self.app.composer.compose(day, Cadence.WEEKLY).edition
        except Exception as exc:
            LOG.exception("composing the weekly edition of %s failed", day, extra=fields(day))
            self.ledger.finish(key, "failed", str(exc))
            self.ledger.alert(
                "failed", day, words.say("scheduler.alert.weekly_compose_failed", "en", error=exc)
            )
            return
        items = len(edition.items)
        self.ledger.finish(key, "done", f"{items} items")
        LOG.info("weekly draft of %s composed: %d items", day, items,
                 extra=fields(day, event="composed", newsletter=Cadence.WEEKLY,
                               items=items))  # fmt: skip

    def send_weekly(self, day: date, now: datetime) -> Outcome:
        """Release the weekly edition of ``day`` with the daily one (it follows the day's
        hold and approval): once, whichever process; composed first if it is missing."""
        edition = self.app.drafts.get(day, Cadence.WEEKLY)
        if edition is not None and edition.status != EditionStatus.DRAFT:
            return Outcome.ALREADY
        if edition is None:
            if not self._weekly_readers(day):
                return Outcome.ALREADY  # nobody reads a weekly edition that weekday
            self._compose_weekly(day, now)
        key = RunKey("send", day, Cadence.WEEKLY)
        if not self.ledger.claim(key, SEND_LEASE_SECONDS, now):
            return Outcome.ELSEWHERE
        try:
            result = self.app.release.weekly(day)
        except Exception as exc:
            LOG.exception("sending the weekly edition of %s failed", day, extra=fields(day))
            self.ledger.finish(key, "failed", str(exc))
            self.ledger.alert(
                "failed", day, words.say("scheduler.alert.weekly_send_failed", "en", error=exc)
            )
            return Outcome.FAILED
        if result is None:
            self.ledger.finish(key, "skipped", "no weekly edition, held, or empty")
            return Outcome.SKIPPED
        detail = f"deliveries={result.created} sent={result.run.sent} failed={result.run.failed}"
        self.ledger.finish(key, "failed" if result.run.stopped else "done", detail)
        LOG.info("weekly edition of %s sent: %s", day, detail,
                 extra=fields(day, event="sent", newsletter=Cadence.WEEKLY,
                               deliveries=result.created))  # fmt: skip
        if result.run.stopped:
            self.ledger.alert(
                "failed", day,
                words.say("scheduler.alert.weekly_stopped", "en", reason=result.run.stopped),
            )  # fmt: skip
            return Outcome.FAILED
        return Outcome.SENT

    def send_day(self, day: date, now: datetime | None = None) -> Outcome:
        """Release and send the edition of ``day`` if its time has come, it is not held,
        approved when approval is required, and not past the grace period (then the day is
        skipped, with an alert). A released edition is left alone."""
        now = now or self.clock()
        s = self.app.settings
        send_at = self.timing.send.fire_time(day)
        late = now - send_at
        if late < timedelta(0):
            return Outcome.NOT_YET
        if late <= self.timing.grace and self.app.drafts.get(day) is None:
            composed = self.compose_day(day, now)  # a late start: no draft yet
            if composed in (Outcome.ELSEWHERE, Outcome.FAILED):
                return composed  # another process composes, or it failed (alerted)
        with self._lock:
            edition = self.app.drafts.get(day)
            if edition is not None and edition.status != EditionStatus.DRAFT:
                if late <= self.timing.grace:
                    self.send_weekly(day, now)  # follows the day's release
                return Outcome.ALREADY
            if late > self.timing.grace:
                if edition is None and not self.ledger.sent_before(day):
                    return Outcome.SKIPPED  # a new installation: nothing was ever missed
                why = (
                    words.say("scheduler.alert.why_held", "en")
                    if edition is not None and edition.held
                    else words.say("scheduler.alert.why_not_approved", "en")
                    if s.require_approval and edition is not None
                    else words.say("scheduler.alert.why_downtime", "en")
                )
                self.ledger.alert(
                    "skipped", day,
                    words.say("scheduler.alert.skipped", "en", day=day.isoformat(), why=why,
                              time=f"{send_at.astimezone(s.zone):%H:%M}",
                              grace=s.send_grace_minutes),
                )  # fmt: skip
                return Outcome.SKIPPED
            deadline = late >= timedelta(minutes=s.approval_deadline_minutes)
            gate = blocker(edition, require_approval=s.require_approval)
            if gate == Blocker.HELD:
                if deadline:
                    self.ledger.alert(
                        "held", day, words.say("scheduler.alert.held", "en", day=day.isoformat())
                    )
                return Outcome.HELD
            if gate == Blocker.NOT_APPROVED:
                if deadline:
                    self.ledger.alert(
                        "approval", day,
                        words.say("scheduler.alert.approval", "en", day=day.isoformat(),
                                  grace=s.send_grace_minutes),
                    )  # fmt: skip
                return Outcome.AWAITING_APPROVAL
            key = RunKey("send", day)
            if not self.ledger.claim(key, SEND_LEASE_SECONDS, now):
                return Outcome.ELSEWHERE
        return self._send(key, day, late)

    def _send(self, key: RunKey, day: date, late: timedelta) -> Outcome:
        if late > LATE_AFTER:
            self.ledger.alert(
                "late", day,
                words.say("scheduler.alert.late", "en", day=day.isoformat(),
                          minutes=int(late.total_seconds() // 60)),
            )  # fmt: skip
        try:
            if self.app.settings.timezone_waves:
                result = self.app.release.wave(day, self.clock(), release=True,
                                               should_stop=self.stopping.is_set)  # fmt: skip
                if result is None:  # paused by an operator meanwhile
                    self.ledger.finish(key, "skipped", "paused")
                    return Outcome.ALREADY
            else:
                result = self.app.release.send(day, should_stop=self.stopping.is_set)
        except UsageError as exc:
            self.ledger.finish(key, "failed", str(exc))
            self.ledger.alert(
                "failed", day,
                words.say("scheduler.alert.not_sent", "en", day=day.isoformat(), error=exc),
            )  # fmt: skip
            return Outcome.FAILED
        except Exception as exc:
            LOG.exception("sending the edition of %s failed", day, extra=fields(day))
            self.ledger.finish(key, "failed", str(exc))
            self.ledger.alert(
                "failed", day,
                words.say("scheduler.alert.send_failed", "en", day=day.isoformat(), error=exc),
            )  # fmt: skip
            return Outcome.FAILED
        run = result.run
        detail = (
            f"released={result.released} deliveries={result.created} sent={run.sent} "
            f"failed={run.failed} deferred={run.deferred} workers={result.handed_to_workers}"
        )
        if run.stopped:
            self.ledger.finish(key, "failed", f"{detail} stopped: {run.stopped}")
            self.ledger.alert(
                "failed", day,
                words.say("scheduler.alert.stopped", "en", day=day.isoformat(), reason=run.stopped),
            )  # fmt: skip
            return Outcome.FAILED
        self.ledger.finish(key, "done", detail)
        LOG.info(
            "edition of %s sent: %s", day, detail,
            extra=fields(day, event="sent", released=result.released, deliveries=result.created,
                          sent=run.sent, failed=run.failed, workers=result.handed_to_workers),
        )  # fmt: skip
        if run.failed:
            self.ledger.alert(
                "failed", day,
                words.say("scheduler.alert.deliveries_failed", "en", count=run.failed,
                          day=day.isoformat()),
            )  # fmt: skip
        with self._lock:
            self.send_weekly(day, self.clock())
        return Outcome.SENT

    def _weekly_readers(self, day: date) -> int:
        """Active readers on the weekly frequency whose weekday is ``day``'s."""
        with self.app.sessions() as session:
            return count_weekly_readers(session, day.weekday())
