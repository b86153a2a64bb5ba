"""Editions as the editors and operators see them: read one, decide on a draft (pins,
exclusions, positions, texts), hold or approve it, pause or resume its send.

A decision is stored on the draft and the draft recomposed at once, so every earlier
decision is kept (:func:`newsletter.store.editions.set_decisions`). A released edition is
read-only: a change raises :class:`~newsletter.store.editions.EditionLocked`.

Concurrent editors: each change runs in one transaction that first takes the draft's write
lock (:func:`~newsletter.store.editions.lock_draft`), reads the draft as it is now, checks
the version the editor saw (a stale one raises :class:`StaleDraft`: nothing changes),
applies the decision, increments the version, clears an approval (it named the content it
saw) and records the change in the audit log; recomposing takes the same lock on
PostgreSQL and, on SQLite, waits for the other recompositions of the date in this process.
A decision is therefore either kept or refused, never lost to another one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from newsletter.editions.compose import Cadence, Composer, ComposeResult
from newsletter.editions.texts import text_problem
from newsletter.errors import NewsletterError, UsageError
from newsletter.store import audit
from newsletter.store.articles import count_arrived_since
from newsletter.store.audit import Actor
from newsletter.store.db import transaction
from newsletter.store.editions import (
    EditionLocked,
    approve_version,
    discard_new_draft,
    get_edition,
    lock_draft,
    next_version,
    set_decisions,
    set_held,
    set_paused,
)
from newsletter.store.models import Edition, EditionStatus

#: Who acts when nobody signed in: the command line.
CLI = Actor("cli")

#: A decision as computed from the draft as it is under the lock: the fields for
#: :func:`~newsletter.store.editions.set_decisions`.
Compute = Callable[[Session, Edition], Mapping[str, Any]]


class StaleDraft(NewsletterError):
    """The draft changed since the editor's page showed version ``seen``; it is now at
    ``current``. Nothing was changed."""

    def __init__(self, seen: int, current: int) -> None:
        super().__init__(f"the draft changed: version {current}, not {seen}; reload it")
        self.seen, self.current = seen, current


#: One composition at a time per date in this process (SQLite has no row lock to hold
#: through a composition; PostgreSQL's is taken by the composition itself).
_COMPOSING: dict[date, threading.Lock] = {}
_COMPOSING_GUARD = threading.Lock()


def _composing(day: date) -> threading.Lock:
    with _COMPOSING_GUARD:
        if len(_COMPOSING) > 1000:  # forget old dates rather than grow for ever
            _COMPOSING.clear()
        return _COMPOSING.setdefault(day, threading.Lock())


class Drafts:
    """The editions of the store behind ``sessions``; decisions recompose with ``composer``."""

    def __init__(self, sessions: sessionmaker[Session], composer: Composer) -> None:
        self.sessions, self.composer = sessions, composer

    def _compose(self, day: date) -> ComposeResult:
        """Compose the daily draft of ``day``, one composition at a time per date."""
        with _composing(day):
            return self.composer.compose(day)

    def get(self, day: date, cadence: Cadence = Cadence.DAILY) -> Edition | None:
        """The stored edition of ``day`` and ``cadence`` (items loaded) or None."""
        with self.sessions() as session:
            return get_edition(session, day, cadence)

    def change(
        self,
        day: date,
        compute: Compute,
        *,
        action: str,
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
        version: int | None = None,
        actor: Actor = CLI,
    ) -> ComposeResult:
        """Apply one decision to the daily draft of ``day`` (composing it first if needed)
        and recompose it.

        Under the draft's write lock: ``compute(session, edition)`` reads the draft as it is
        now and returns the fields to set (it raises :class:`UsageError` for a decision
        that cannot apply); the version goes up by one, an approval is cleared, and the
        audit log records ``actor``'s ``action`` on ``target`` with ``details`` (plus the
        approval cleared, if any). ``version``: the version the editor saw (None: apply to
        the newest, as the command line does). Raises :class:`StaleDraft` when the draft
        is no longer at ``version``, ``EditionLocked`` for a released edition. A refused
        decision changes nothing: a draft composed for it alone is discarded."""
        composed_for_it = self.get(day) is None
        if composed_for_it:
            self._compose(day)
        try:
            return self._apply(day, compute, action, target, details, version, actor)
        except Exception:
            if composed_for_it:
                self.discard_untouched(day)
            raise

    def _apply(
        self,
        day: date,
        compute: Compute,
        action: str,
        target: str | None,
        details: Mapping[str, Any] | None,
        version: int | None,
        actor: Actor,
    ) -> ComposeResult:
        """:meth:`change` on a draft that exists."""
        with transaction(self.sessions) as session:
            edition = lock_draft(session, day)
            if edition is None:
                raise UsageError(f"no edition for {day.isoformat()}")
            if edition.status != EditionStatus.DRAFT:
                raise EditionLocked(
                    f"the edition of {day.isoformat()} is {edition.status}; it is never changed"
                )
            if version is not None and edition.version != version:
                raise StaleDraft(version, edition.version)
            changes = dict(compute(session, edition))
            for name in ("subject", "preheader"):
                problem = text_problem(name, changes.get(name))
                if problem:
                    raise UsageError(problem)
            set_decisions(session, edition, **changes)
            cleared = next_version(session, edition)
            entry = dict(details or {})
            if cleared is not None:
                entry["approval_cleared"] = {
                    "by": cleared.by,
                    "version": cleared.version,
                    "at": cleared.at.isoformat() if cleared.at else None,
                }
            audit.record(session, actor, action, edition=edition, target=target, details=entry)
        return self._compose(day)

    def decide(
        self,
        day: date,
        *,
        version: int | None = None,
        actor: Actor = CLI,
        action: str = "decide",
        **changes: Any,
    ) -> ComposeResult:
        """Record an editor's decisions on the daily draft of ``day`` (composing it first if
        needed; see :func:`newsletter.store.editions.set_decisions` for ``changes``) and
        recompose, as :meth:`change` does. Raises ``EditionLocked`` for a released edition,
        :class:`StaleDraft` for a stale ``version``, :class:`UsageError` for a subject or
        preheader that breaks :mod:`newsletter.editions.texts`' rule."""
        for name in ("subject", "preheader"):
            problem = text_problem(name, changes.get(name))
            if problem:
                raise UsageError(problem)
        return self.change(
            day, lambda _session, _edition: changes, action=action,
            details={k: v for k, v in changes.items() if v is not None},
            version=version, actor=actor,
        )  # fmt: skip

    def recompose(self, day: date, *, actor: Actor = CLI) -> ComposeResult:
        """Compose the daily draft of ``day``, or recompose it as an editor's change (new
        articles may come in: the version goes up, an approval is cleared, the audit log
        says who). A released edition is returned as it is (``locked``)."""
        edition = self.get(day)
        if edition is None or edition.status != EditionStatus.DRAFT:
            result = self._compose(day)
            if not result.locked:
                note(self, day, actor, "compose")
            return result
        try:
            return self.change(day, lambda _session, _edition: {}, action="compose", actor=actor)
        except EditionLocked:  # released meanwhile
            return self._compose(day)

    def discard_untouched(self, day: date) -> bool:
        """Delete the daily draft of ``day`` if no one decided anything on it since it was
        composed (see :func:`~newsletter.store.editions.discard_new_draft`): a draft
        composed only for a decision that was refused. True if it was deleted."""
        with _composing(day), transaction(self.sessions) as session:
            return discard_new_draft(session, day)

    def overtaken(self, edition: Edition) -> bool:
        """True when an article of the draft's window arrived after it was composed."""
        with self.sessions() as session:
            newer = count_arrived_since(
                session, edition.composed_at, edition.window_start, edition.window_end
            )
        return newer > 0

    def hold(self, day: date, held: bool = True, *, actor: Actor = CLI) -> bool:
        """Hold (or release the hold on) the draft of ``day``; True if it changed (recorded
        in the audit log). Raises :class:`UsageError` when there is no such edition or it
        was already released."""
        edition = self.draft(day)
        with transaction(self.sessions) as session:
            changed = set_held(session, edition.id, held)
            if changed:
                current = get_edition(session, day)
                audit.record(session, actor, "hold" if held else "unhold", edition=current)
            return changed

    def approve(
        self, day: date, by: str, *, version: int | None = None, address: str | None = None
    ) -> bool:
        """Approve the draft of ``day`` as it is now on behalf of ``by`` (an editor's
        address; ``address``: the client's), recording its version; True if this call
        approved it. ``version``: the version the editor saw (None: the newest). Raises
        :class:`UsageError` when there is no draft or it has no items (nothing to approve),
        :class:`StaleDraft` when it changed since ``version`` (an approval names the
        content seen), ``EditionLocked`` when it was released meanwhile."""
        if not self.draft(day).items:
            raise UsageError(f"the edition of {day.isoformat()} has no items: nothing to approve")
        with transaction(self.sessions) as session:
            edition = lock_draft(session, day)
            assert edition is not None
            if edition.status != EditionStatus.DRAFT:
                raise UsageError(f"the edition of {day.isoformat()} is already {edition.status}")
            if version is not None and edition.version != version:
                raise StaleDraft(version, edition.version)
            approved = approve_version(session, edition, by)
            if approved:
                audit.record(session, Actor(by, address), "approve", edition=edition)
            return approved

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


def note(
    drafts: Drafts,
    day: date | None,
    actor: Actor,
    action: str,
    *,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record in the audit log an action that changes no draft (a test send, a
    recomposition, a sign-in): ``day``'s edition when given and stored, else none."""
    with transaction(drafts.sessions) as session:
        edition = get_edition(session, day) if day is not None else None
        audit.record(session, actor, action, edition=edition, target=target,
                     details=dict(details or {}))  # fmt: skip
