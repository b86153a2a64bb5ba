"""The editors' gate on a release, in one place: a draft goes out unless an editor holds
it, and, when approval is required (``NEWSLETTER_REQUIRE_APPROVAL``), only once an editor
approved it. ``newsletter send``, the scheduler's send and the weekly edition (which follows
the day's gate) all ask :func:`blocker`.
"""

from __future__ import annotations

from enum import StrEnum

from newsletter.store.models import Edition


class Blocker(StrEnum):
    """Why a draft may not be released now."""

    HELD = "held"
    NOT_APPROVED = "not_approved"


def approved(edition: Edition) -> bool:
    """True when an editor approved ``edition`` as it is now: an approval names the version
    it saw, and any change since (a new version) voids it (editors' changes also clear it,
    :meth:`~newsletter.editions.drafts.Drafts.change`). An approval recorded before
    versions existed names none and counts."""
    if edition.approved_at is None:
        return False
    return edition.approved_version is None or edition.approved_version == edition.version


def blocker(edition: Edition | None, *, require_approval: bool) -> Blocker | None:
    """What keeps ``edition`` (None: not composed yet) from release, or None when nothing
    does. A hold wins over a missing approval."""
    if edition is not None and edition.held:
        return Blocker.HELD
    if require_approval and (edition is None or not approved(edition)):
        return Blocker.NOT_APPROVED
    return None
