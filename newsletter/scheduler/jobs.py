"""The functions the job store names (``newsletter.scheduler.jobs:send``): a stored job
carries only this reference and the newsletter's name, never a pickled application. The
process running the scheduler installs its :class:`~newsletter.scheduler.day.Day` here at
start (:func:`install`)."""

from __future__ import annotations

import logging

from newsletter.scheduler.day import Day, Outcome

LOG = logging.getLogger("newsletter.scheduler")
_DAYS: dict[str, Day] = {}


def install(day: Day, newsletter: str = "default") -> None:
    """Make ``day`` the one the stored jobs of ``newsletter`` act on in this process."""
    _DAYS[newsletter] = day


def uninstall(newsletter: str = "default") -> None:
    """Forget the installed :class:`Day` (the scheduler stopped)."""
    _DAYS.pop(newsletter, None)


def _day(newsletter: str) -> Day:
    try:
        return _DAYS[newsletter]
    except KeyError:
        raise RuntimeError(f"no scheduler day installed for newsletter {newsletter!r}") from None


def compose(newsletter: str = "default") -> Outcome:
    """The compose job (see :meth:`Day.compose`)."""
    outcome = _day(newsletter).compose()
    LOG.info("compose job: %s", outcome, extra={"event": "job", "job": "compose",
                                                "outcome": str(outcome)})  # fmt: skip
    return outcome


def send(newsletter: str = "default") -> Outcome:
    """The send job (see :meth:`Day.send`)."""
    outcome = _day(newsletter).send()
    LOG.info("send job: %s", outcome, extra={"event": "job", "job": "send",
                                             "outcome": str(outcome)})  # fmt: skip
    return outcome


def check(newsletter: str = "default") -> list[Outcome]:
    """The periodic check (see :meth:`Day.check`)."""
    return _day(newsletter).check()


def poll(newsletter: str = "default") -> int:
    """The polling job: the sources whose time came (see :meth:`Day.poll`)."""
    return _day(newsletter).poll()
