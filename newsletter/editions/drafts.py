"""Editions as the editors and operators see them: read one, decide on a draft (pins,
exclusions, positions, texts), hold or approve it, pause or resume its send.

A decision is stored on the draft and the draft recomposed at once, so every earlier
decision is kept (:func:`newsletter.store.editions.set_decisions`). A released edition is
read-only: a change raises :class:`~newsletter.store.editions.EditionLocked`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from newsletter.editions.compose import Cadence, Composer, ComposeResult
from newsletter.editions.texts import text_problem
from newsletter.errors import UsageError
from newsletter.store.articles import count_arrived_since
from newsletter.store.db import transaction
from newsletter.store.editions import (
    approve,
    get_edition,
    set_decisions,
    set_held,
    set_paused,
)
from newsletter.store.models import Edition, EditionStatus


class Drafts:
    """The editions of the store behind ``sessions``; decisions recompose with ``composer``."""

    def __init__(self, sessions: sessionmaker[Session], composer: Composer) -> None:
        self.sessions, self.composer = sessions, composer

    def get(self, day: date, cadence: Cadence = Cadence.DAILY) -> Edition | None:
        """The stored edition of ``day`` and ``cadence`` (items loaded) or None."""
        with self.sessions() as session:
            return get_edition(session, day, cadence)

    def decide(self, day: date, **changes: Any) -> ComposeResult:
        """Record an editor's decisions on the daily draft of ``day`` (composing it first if
        needed; see :func:`newsletter.store.editions.set_decisions` for ``changes``) and
        recompose. Raises ``EditionLocked`` for a released edition, :class:`UsageError` for
        a subject or preheader that breaks :mod:`newsletter.editions.texts`' rule."""
        for name in ("subject", "preheader"):
            problem = text_problem(name, changes.get(name))
            if problem:
                raise UsageError(problem)
        if self.get(day) is None:
            self.composer.compose(day)
        with transaction(self.sessions) as session:
            edition = get_edition(session, day)
            assert edition is not None
            set_decisions(session, edition, **changes)
        return self.composer.compose(day)

    def overtaken(self, edition: Edition) -> bool:
        """True when an article of the draft's window arrived after it was composed."""
        with self.sessions() as session:
            newer = count_arrived_since(
                session, edition.composed_at, edition.window_start, edition.window_end
            )
        return newer > 0

    def hold(self, day: date, held: bool = True) -> bool:
        """Hold (or release the hold on) the draft of ``day``; True if it changed. Raises
        :class:`UsageError` when there is no such edition or it was already released."""
        edition = self.draft(day)
        with transaction(self.sessions) as session:
            return set_held(session, edition.id, held)

    def approve(self, day: date, by: str) -> bool:
        """Approve the draft of ``day`` on behalf of ``by`` (an editor's address); True if
        this call approved it. Raises :class:`UsageError` when there is no draft."""
        edition = self.draft(day)
        with transaction(self.sessions) as session:
            return approve(session, edition.id, by)

    def draft(self, day: date) -> Edition:
        """The daily draft of ``day``. Raises :class:`UsageError` when there is none or the
        edition was already released."""
        edition = self.get(day)
        if edition is None:
            raise UsageError(f"no edition for {day.isoformat()}")
        if edition.status != EditionStatus.DRAFT:
            raise UsageError(f"the edition of {day.isoformat()} is already {edition.status}")
        return edition

    def pause(self, day: date, paused: bool = True) -> bool:
        """Pause (or resume) the sending edition of ``day``; True if it changed. Raises
        :class:`UsageError` when there is no such edition."""
        edition = self.get(day)
        if edition is None:
            raise UsageError(f"no edition for {day.isoformat()}")
        with transaction(self.sessions) as session:
            return set_paused(session, edition.id, paused)
