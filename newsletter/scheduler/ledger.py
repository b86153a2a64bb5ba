"""The scheduler's ledger and its notices: each action of a day is claimed once across
every process (table ``scheduler_runs``, :mod:`newsletter.store.runs`), and the editors are
told once per day and kind: the draft is ready (with its preview link), or an alert (late,
failed, skipped, held, approval)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from newsletter import words
from newsletter.scheduler.mail import mail_editors
from newsletter.store.db import transaction
from newsletter.store.runs import RunKey, claim, finish, ran_before
from newsletter.wiring import App

LOG = logging.getLogger("newsletter.scheduler")


class Ledger:
    """Claims and notices of ``app``'s scheduler; ``owner`` names this process in the
    ledger and ``clock`` gives the current aware UTC time."""

    def __init__(self, app: App, owner: str, clock: Callable[[], datetime]) -> None:
        self.app, self.owner, self.clock = app, owner, clock

    def notify(self, day: date, send_at: datetime) -> bool:
        """Mail the editors (once per day, whichever process) that the draft is ready, with
        its preview link ``{base_url}/editor/editions/YYYY-MM-DD``. True if this call did."""
        s = self.app.settings
        if not s.editors:
            return False
        key = RunKey("notify", day)
        if not self.claim(key, None, self.clock()):
            return False
        edition = self.app.drafts.get(day)
        send_at = send_at.astimezone(s.zone)
        link = f"{s.base_url}/editor/editions/{day.isoformat()}"
        approval = (
            words.say("scheduler.approval_required", "fr")
            if s.require_approval
            else words.say("scheduler.approval_optional", "fr")
        )
        body = (
            words.say("scheduler.draft_ready", "fr", day=day.isoformat())
            + (
                words.say(
                    "scheduler.draft_items", "fr", count=len(edition.items), subject=edition.subject
                )
                if edition
                else "."
            )
            + "\n\n"
            + words.say(
                "scheduler.send_at",
                "fr",
                time=f"{send_at:%H:%M}",
                zone=s.timezone,
                approval=approval,
            )
            + "\n\n"
            + words.say("scheduler.review", "fr", link=link)
            + "\n"
        )
        sent = mail_editors(self.app, words.say("scheduler.draft_subject", "fr", title=s.title,
                                                day=day.isoformat()), body)  # fmt: skip
        self.finish(key, "done", f"{sent} editors mailed")
        LOG.info("editors notified for %s", day, extra=fields(day, event="editors_notified"))
        return True

    def alert(self, kind: str, day: date, message: str) -> bool:
        """Report ``kind`` (late, failed, skipped, held, approval) for ``day``: a log record
        at WARNING (ERROR for failed/skipped) and a mail to the editors, once per kind and
        day across every process. True if this call raised it."""
        if not self.claim(RunKey(f"alert:{kind}", day), None, self.clock()):
            return False
        level = logging.ERROR if kind in ("failed", "skipped") else logging.WARNING
        LOG.log(level, "alert: %s", message, extra=fields(day, event="alert", alert=kind))
        s = self.app.settings
        mailed = mail_editors(self.app, words.say("scheduler.alert_subject", "fr", title=s.title,
                                                  kind=kind, day=day.isoformat()),
                              f"{message}\n")  # fmt: skip
        self.finish(RunKey(f"alert:{kind}", day), "done", f"{mailed} editors mailed")
        return True

    def sent_before(self, day: date) -> bool:
        """True when this scheduler sent an edition before ``day``: it was running, so a
        day without a send is a missed day worth an alert. Editions sent by hand
        (``newsletter send``) before the scheduler ever ran do not count: the first start
        of ``newsletter run`` is not an outage."""
        with self.app.sessions() as session:
            return ran_before(session, "send", day)

    def claim(self, key: RunKey, lease: float | None, now: datetime) -> bool:
        with transaction(self.app.sessions) as session:
            return claim(session, key, self.owner, lease_seconds=lease, now=now)

    def finish(self, key: RunKey, outcome: str, detail: str | None = None) -> None:
        with transaction(self.app.sessions) as session:
            finish(session, key, self.owner, outcome, detail)


def fields(day: date, **more: object) -> dict[str, object]:
    """``extra`` for a structured log record about ``day``."""
    return {"day": day.isoformat(), **more}
