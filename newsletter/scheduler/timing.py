"""When the day's actions run: one fire time per local day, computed with zoneinfo.

APScheduler 3's ``CronTrigger`` fires twice on a day whose send time falls in a repeated
(fall-back) hour: Europe/Paris and America/New_York every autumn, Africa/Casablanca at the
start of Ramadan until 2026 (its "negative DST"); see ``tests/test_scheduler_timing.py``,
which shows it on the real transitions of 2024-2027. :class:`LocalDailyTrigger` computes
each day's instant directly instead: the wall-clock time on that local date, the first
occurrence of a repeated time (PEP 495 ``fold=0``), the instant after the gap for a time that
a spring-forward skips, and it never gives two instants for one local date.

The same code answers ``newsletter schedule --json`` (:func:`planned_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from newsletter.config.settings import Settings
from newsletter.timeutil import get_zone, local_datetime

#: Job names (the ``job`` key of ``schedule --json`` and the scheduler's job ids).
COMPOSE = "compose"
SEND = "send"


class LocalDailyTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no types
    """Fires once per local date of ``timezone`` at ``at`` (wall clock) minus
    ``offset_seconds`` (the compose run is the send time minus the editors' window).

    With no previous fire time (a job added at start) the first fire time may lie up to
    ``lookback_seconds`` in the past: a process started late still runs today's action once
    (APScheduler runs a past fire time at once when it is within the job's
    ``misfire_grace_time``). Pickled by zone *name* (the job store keeps it; a zone read from
    the ``tzdata`` package cannot be pickled itself).
    """

    def __init__(
        self,
        timezone: str,
        at: time,
        *,
        offset_seconds: float = 0,
        lookback_seconds: float = 0,
    ) -> None:
        self.timezone = timezone
        self.at = at
        self.offset_seconds = float(offset_seconds)
        self.lookback_seconds = float(lookback_seconds)
        get_zone(timezone)  # fail early on an unknown zone

    # --- the rule ------------------------------------------------------------------------
    def fire_time(self, day: date) -> datetime:
        """The aware UTC instant of local ``day``'s run."""
        return local_datetime(day, self.at, get_zone(self.timezone)) - timedelta(
            seconds=self.offset_seconds
        )

    def day_of(self, instant: datetime) -> date:
        """The local date of the latest run at or before ``instant`` (aware)."""
        day = self._near(instant) + timedelta(days=2)
        while self.fire_time(day) > instant:
            day -= timedelta(days=1)
        return day

    def next_day(self, instant: datetime, *, strictly_after: bool = False) -> date:
        """The local date of the first run at (or strictly after) ``instant`` (aware)."""
        day = self._near(instant) - timedelta(days=2)
        while True:
            fire = self.fire_time(day)
            if fire > instant or (fire == instant and not strictly_after):
                return day
            day += timedelta(days=1)

    def _near(self, instant: datetime) -> date:
        shifted = instant + timedelta(seconds=self.offset_seconds)
        return shifted.astimezone(get_zone(self.timezone)).date()

    # --- APScheduler ---------------------------------------------------------------------
    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler's question: the run after ``previous_fire_time`` (which may be
        before ``now``: APScheduler coalesces and applies the misfire grace), or the first
        at or after ``now - lookback_seconds`` when there was none. Aware UTC: the job
        store pickles it, and a zone read from the ``tzdata`` package cannot be pickled."""
        if previous_fire_time is None:
            day = self.next_day(now - timedelta(seconds=self.lookback_seconds))
        else:
            day = max(
                self.next_day(previous_fire_time, strictly_after=True),
                self.day_of(previous_fire_time) + timedelta(days=1),
            )
        return self.fire_time(day)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1, "timezone": self.timezone, "at": self.at.isoformat(),
            "offset_seconds": self.offset_seconds, "lookback_seconds": self.lookback_seconds,
        }  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("version") != 1:
            version = state.get("version")
            raise ValueError(f"cannot restore a LocalDailyTrigger of version {version}")
        self.timezone = state["timezone"]
        self.at = time.fromisoformat(state["at"])
        self.offset_seconds = state["offset_seconds"]
        self.lookback_seconds = state["lookback_seconds"]

    def __str__(self) -> str:
        return f"local-daily[{self.at:%H:%M} {self.timezone} -{self.offset_seconds:g}s]"

    def __repr__(self) -> str:
        return (
            f"LocalDailyTrigger({self.timezone!r}, {self.at!r}, "
            f"offset_seconds={self.offset_seconds}, lookback_seconds={self.lookback_seconds})"
        )


@dataclass(frozen=True)
class Timing:
    """The day's two triggers from the settings: ``compose`` (send time minus the editors'
    window) and ``send``; both look back the send grace at start."""

    compose: LocalDailyTrigger
    send: LocalDailyTrigger
    grace: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Timing:
        """Triggers for ``settings`` (``timezone``, ``send_time``, ``editors_window_minutes``,
        ``send_grace_minutes``)."""
        grace = timedelta(minutes=settings.send_grace_minutes)
        return cls(
            compose=LocalDailyTrigger(
                settings.timezone, settings.send_time,
                offset_seconds=settings.editors_window_minutes * 60,
                lookback_seconds=grace.total_seconds(),
            ),
            send=LocalDailyTrigger(
                settings.timezone, settings.send_time, lookback_seconds=grace.total_seconds()
            ),
            grace=grace,
        )  # fmt: skip

    def trigger(self, job: str) -> LocalDailyTrigger:
        """The trigger of ``job`` (:data:`COMPOSE` or :data:`SEND`)."""
        return {COMPOSE: self.compose, SEND: self.send}[job]


def planned_runs(settings: Settings, start: datetime, days: int) -> list[dict[str, str]]:
    """The compose and send runs from ``start`` (aware) over ``days`` local days, in time
    order, as the scheduler computes them: ``[{"job", "local", "utc"}]`` with ISO 8601 times
    (``local`` with its UTC offset). Runs of dates from ``start``'s local date on, at or
    after ``start``."""
    timing = Timing.from_settings(settings)
    zone = settings.zone
    first = start.astimezone(zone).date()
    runs: list[tuple[datetime, str]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for job in (COMPOSE, SEND):
            instant = timing.trigger(job).fire_time(day)
            if instant >= start:
                runs.append((instant, job))
    runs.sort()
    return [
        {
            "job": job,
            "local": instant.astimezone(zone).isoformat(),
            "utc": instant.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        for instant, job in runs
    ]
