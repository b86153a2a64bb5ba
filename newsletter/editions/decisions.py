"""An editor's work on a draft, on top of :class:`~newsletter.editions.drafts.Drafts`: the
checks shown beside the preview (reading time against the budget, size against Gmail's
clipping limit), pin / exclude / reorder / subject and preheader (each through
:meth:`Drafts.decide`, as the ``newsletter edition`` commands do), the articles left out,
and a test send ("proof").

Every change raises :class:`~newsletter.errors.UsageError` for a request that cannot apply
(an article that is not in the edition, a move past either end) and
:class:`~newsletter.store.editions.EditionLocked` for a released edition.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from email.utils import format_datetime
from typing import Any

from sqlalchemy.orm import Session

from newsletter.audience.records import InvalidSubscriber, normalise_email
from newsletter.deliver.outgoing import Outgoing
from newsletter.editions.drafts import CLI, Drafts
from newsletter.editions.rendering import Renderer
from newsletter.editions.texts import TEXT_LIMITS, text_problem
from newsletter.errors import UsageError
from newsletter.providers.base import Envelope
from newsletter.render.edition import GMAIL_CLIP_BYTES, RenderedEdition, _list_id
from newsletter.render.headers import address_line, header_line
from newsletter.render.mime import Personal, PreparedMessage
from newsletter.store.articles import articles_in_window
from newsletter.store.audit import Actor
from newsletter.store.models import Article, Edition, EditionStatus
from newsletter.timeutil import utcnow
from newsletter.words import Phrase

#: Gmail clips an HTML body over about 102 KB (Google's help page "Gmail message
#: clipping"); the preview warns from this size on.
NEAR_CLIP_BYTES = 90_000
#: The subject of a test send starts with this, so that nobody takes it for the edition.
TEST_PREFIX = "[TEST] "
#: Example personal values of a preview and a test send (no subscriber behind them).
PREVIEW_EMAIL = "lecteur@example.org"


@dataclass(frozen=True)
class Preview:
    """An edition as its readers get it: final ``html`` and ``text`` (example personal
    values), ``html_bytes`` (UTF-8 size of the HTML part), the ``size_level`` against Gmail's
    clipping (``ok``, ``near`` from :data:`NEAR_CLIP_BYTES`, ``over`` from
    ``GMAIL_CLIP_BYTES``), and the render's warnings."""

    html: str
    text: str
    html_bytes: int
    size_level: str
    warnings: tuple[str, ...]
    rendered: RenderedEdition


def size_level(size: int) -> str:
    """``ok``, ``near`` or ``over`` for an HTML part of ``size`` bytes (Gmail clipping)."""
    if size > GMAIL_CLIP_BYTES:
        return "over"
    return "near" if size >= NEAR_CLIP_BYTES else "ok"


class Previews:
    """Renders of the editions last looked at, by (edition id, time composed, subject,
    preheader): the preview page and its two frames render once, not three times. Keeps
    ``size`` entries; thread-safe."""

    def __init__(self, renderer: Renderer, size: int = 8) -> None:
        self.renderer, self.size = renderer, size
        self._cache: OrderedDict[tuple[object, ...], Preview] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, edition: Edition) -> Preview:
        """The :class:`Preview` of ``edition`` (rendered on first use)."""
        key = (edition.id, edition.composed_at, edition.subject, edition.preheader,
               edition.status)  # fmt: skip
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        renderer = self.renderer
        rendered = renderer.render(edition)
        html, text = rendered.fill(
            {
                "email": PREVIEW_EMAIL,
                "unsubscribe_url": renderer.links.url("u/preview"),
                "preferences_url": renderer.links.url("p/preview"),
            }
        )
        size = len(html.encode("utf-8"))
        preview = Preview(html, text, size, size_level(size), tuple(rendered.warnings), rendered)
        with self._lock:
            self._cache[key] = preview
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return preview


# --- decisions ---------------------------------------------------------------------------
# Each decision is computed from the draft as it is under its write lock (Drafts.change),
# never from a copy read before: two editors' decisions are both kept, or one is refused.
def _shown(edition: Edition) -> set[int | None]:
    return {i.article_id for i in edition.items}


def _require_candidate(session: Session, edition: Edition, article_id: int) -> None:
    """Raise :class:`UsageError` unless article ``article_id`` is in the draft or a candidate
    of its window (published in it, in no other edition)."""
    if article_id in _shown(edition):
        return
    window = articles_in_window(
        session, edition.window_start, edition.window_end,
        exclude_edition_ids=(edition.id,), newsletter=edition.newsletter,
    )  # fmt: skip
    if article_id not in {a.id for a in window}:
        raise UsageError(
            Phrase("problems.not_candidate", article=article_id, day=edition.date.isoformat())
        )


def pin(
    drafts: Drafts, day: date, article_id: int, *, version: int | None = None, actor: Actor = CLI
) -> Edition:
    """Put article ``article_id`` in the draft whatever its score (the first pin leads).
    Raises :class:`UsageError` when the article is not a candidate of the edition's window
    (the pin is then taken back)."""

    def compute(session: Session, edition: Edition) -> dict[str, Any]:
        _require_candidate(session, edition, article_id)
        return {
            "pins": [p for p in edition.pins or [] if p != article_id] + [article_id],
            "excludes": [e for e in edition.excludes or [] if e != article_id],
        }

    result = drafts.change(day, compute, action="pin", target=str(article_id),
                           version=version, actor=actor)  # fmt: skip
    if article_id not in _shown(result.edition):  # the composition would not take it
        drafts.change(
            day,
            lambda _s, e: {"pins": [p for p in e.pins or [] if p != article_id]},
            action="unpin", target=str(article_id), details={"undo": True}, actor=actor,
        )  # fmt: skip
        raise UsageError(Phrase("problems.not_candidate", article=article_id, day=day.isoformat()))
    return result.edition


def unpin(
    drafts: Drafts, day: date, article_id: int, *, version: int | None = None, actor: Actor = CLI
) -> Edition:
    """Let the ranking decide again about a pinned article (its place too)."""

    def compute(_session: Session, edition: Edition) -> dict[str, Any]:
        if article_id not in (edition.pins or []):
            raise UsageError(Phrase("problems.not_pinned", article=article_id))
        return {
            "pins": [p for p in edition.pins if p != article_id],
            "positions": {
                k: v for k, v in (edition.positions or {}).items() if k != str(article_id)
            },
        }

    return drafts.change(day, compute, action="unpin", target=str(article_id),
                         version=version, actor=actor).edition  # fmt: skip


def _excluding(edition: Edition, article_id: int, *, keep_place: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "excludes": [e for e in edition.excludes or [] if e != article_id] + [article_id],
        "pins": [p for p in edition.pins or [] if p != article_id],
    }
    if not keep_place:
        positions = edition.positions or {}
        changes["positions"] = {k: v for k, v in positions.items() if k != str(article_id)}
    return changes


def exclude(
    drafts: Drafts, day: date, article_id: int, *, version: int | None = None, actor: Actor = CLI
) -> Edition:
    """Keep an article of the edition out of it (and unpin it)."""

    def compute(_session: Session, edition: Edition) -> dict[str, Any]:
        if article_id not in _shown(edition):
            raise UsageError(Phrase("problems.not_in_edition", article=article_id))
        return _excluding(edition, article_id, keep_place=False)

    return drafts.change(day, compute, action="exclude", target=str(article_id),
                         version=version, actor=actor).edition  # fmt: skip


def exclude_any(
    drafts: Drafts, day: date, article_id: int, *, version: int | None = None, actor: Actor = CLI
) -> Edition:
    """Keep an article out of the draft whether it shows it now or not (the command line
    takes any id of ``compose``'s candidates, the pages only what they show); it is unpinned
    and keeps a place given to it, for ``include`` to restore. Raises :class:`UsageError`
    for an article that is not a candidate of the edition's window (nothing changes)."""

    def compute(session: Session, edition: Edition) -> dict[str, Any]:
        if article_id not in (edition.excludes or []):
            _require_candidate(session, edition, article_id)
        return _excluding(edition, article_id, keep_place=True)

    return drafts.change(day, compute, action="exclude", target=str(article_id),
                         version=version, actor=actor).edition  # fmt: skip


def include(
    drafts: Drafts, day: date, article_id: int, *, version: int | None = None, actor: Actor = CLI
) -> Edition:
    """Undo an exclusion (the ranking decides whether the article comes back)."""

    def compute(_session: Session, edition: Edition) -> dict[str, Any]:
        if article_id not in (edition.excludes or []):
            raise UsageError(Phrase("problems.not_excluded", article=article_id))
        return {"excludes": [e for e in edition.excludes if e != article_id]}

    return drafts.change(day, compute, action="include", target=str(article_id),
                         version=version, actor=actor).edition  # fmt: skip


def move(
    drafts: Drafts,
    day: date,
    article_id: int,
    step: int,
    *,
    version: int | None = None,
    actor: Actor = CLI,
) -> Edition:
    """Move an item ``step`` places (-1: up, +1: down), swapping it with its neighbour.

    Both get an explicit position (1-based) and the positions already given are set to
    where their items stand, so the result is exactly the swap. Raises
    :class:`UsageError` for an article not in the edition or a move past either end."""

    def compute(_session: Session, edition: Edition) -> dict[str, Any]:
        order = [i.article_id for i in edition.items]
        if article_id not in order:
            raise UsageError(Phrase("problems.not_in_edition", article=article_id))
        index = order.index(article_id)
        target = index + step
        if not 0 <= target < len(order):
            raise UsageError(Phrase("problems.cannot_move"))
        given = edition.positions or {}
        positions = {
            str(a): n + 1 for n, a in enumerate(order) if a is not None and str(a) in given
        }
        positions[str(article_id)] = target + 1
        neighbour = order[target]
        if neighbour is not None:
            positions[str(neighbour)] = index + 1
        return {"positions": positions}

    return drafts.change(
        day, compute, action="up" if step < 0 else "down", target=str(article_id),
        details={"step": step}, version=version, actor=actor,
    ).edition  # fmt: skip


def place(
    drafts: Drafts,
    day: date,
    article_id: int,
    position: int,
    *,
    version: int | None = None,
    actor: Actor = CLI,
) -> Edition:
    """Put an article at ``position`` (1-based; 1 leads) and pin it, so that it stays: unlike
    :func:`move`, it may bring in an article the draft does not show yet. Raises
    :class:`UsageError` when the article is not a candidate of the edition's window (the
    decision is then taken back)."""
    before: dict[str, Any] = {}

    def compute(_session: Session, edition: Edition) -> dict[str, Any]:
        before["pinned"] = article_id in (edition.pins or [])
        before["position"] = (edition.positions or {}).get(str(article_id))
        positions = dict(edition.positions or {})
        positions[str(article_id)] = position
        pins = list(edition.pins or [])
        return {"positions": positions, "pins": pins if article_id in pins else [*pins, article_id]}

    result = drafts.change(
        day, compute, action="move", target=str(article_id), details={"position": position},
        version=version, actor=actor,
    )  # fmt: skip
    if article_id not in _shown(result.edition):  # the composition would not take it

        def undo(_session: Session, edition: Edition) -> dict[str, Any]:
            positions = {k: v for k, v in (edition.positions or {}).items() if k != str(article_id)}
            if before["position"] is not None:
                positions[str(article_id)] = before["position"]
            pins = [p for p in edition.pins or [] if p != article_id or before["pinned"]]
            return {"positions": positions, "pins": pins}

        drafts.change(day, undo, action="move", target=str(article_id),
                      details={"undo": True}, actor=actor)  # fmt: skip
        raise UsageError(Phrase("problems.not_candidate", article=article_id, day=day.isoformat()))
    return result.edition


#: The longest subject and preheader an editor may set (characters); the editors' form
#: fields say the same (``maxlength``).
SUBJECT_MAX_CHARS = TEXT_LIMITS["subject"]
PREHEADER_MAX_CHARS = TEXT_LIMITS["preheader"]


def set_texts(
    drafts: Drafts,
    day: date,
    subject: str | None,
    preheader: str | None,
    *,
    version: int | None = None,
    actor: Actor = CLI,
) -> Edition:
    """Replace the generated subject and/or preheader ('' restores the generated one;
    None leaves it). Raises :class:`UsageError` for a subject over
    :data:`SUBJECT_MAX_CHARS` (preheader: :data:`PREHEADER_MAX_CHARS`) characters or text
    on several lines."""
    for name, value in (("subject", subject), ("preheader", preheader)):
        problem = text_problem(name, value)
        if problem:
            raise UsageError(problem)
    return drafts.decide(
        day, version=version, actor=actor, action="texts",
        subject=subject.strip() if subject is not None else None,
        preheader=preheader.strip() if preheader is not None else None,
    ).edition  # fmt: skip


def left_out(drafts: Drafts, edition: Edition, limit: int = 40) -> list[Article]:
    """Articles of the edition's window that it does not show (cut by the budget, told by
    another item's story, or excluded), newest first, at most ``limit``."""
    shown = {i.article_id for i in edition.items}
    with drafts.sessions() as session:
        articles = articles_in_window(
            session, edition.window_start, edition.window_end, exclude_edition_ids=(edition.id,)
        )
    rest = [a for a in articles if a.id not in shown]
    return sorted(rest, key=lambda a: (a.published_at, a.id), reverse=True)[:limit]


# --- test send ---------------------------------------------------------------------------
def send_proof(
    renderer: Renderer, outgoing: Outgoing, edition: Edition, recipient: str, preview: Preview
) -> str:
    """Send the edition to ``recipient`` as a test through the configured provider: the
    subject starts with :data:`TEST_PREFIX`, the personal links are the preview's (they
    act on nobody), no delivery row is written. Returns the provider's answer (file path or
    queue id). Raises :class:`UsageError` for an invalid address or a refused message."""
    try:
        address = normalise_email(recipient)
    except InvalidSubscriber as exc:
        raise UsageError(str(exc)) from None
    s = renderer.options
    rendered = preview.rendered
    message = PreparedMessage(
        [
            address_line("From", s.name, s.address),
            header_line("Subject", TEST_PREFIX + edition.subject),
            f"List-Id: {_list_id(renderer.identity)}",
        ],
        rendered.text,
        rendered.html,
        rendered.placeholder,
    )
    unsubscribe = renderer.links.url("u/preview")
    key = time.time_ns() // 1000
    personal = Personal(
        to_line=address_line("To", None, address),
        message_id=f"<test.{edition.date.isoformat()}.{key}@{s.domain}>",
        date=format_datetime(utcnow()),
        list_unsubscribe=f"<{unsubscribe}>",
        values={
            "email": address,
            "unsubscribe_url": unsubscribe,
            "preferences_url": renderer.links.url("p/preview"),
        },
    )
    data = message.personalise(personal)
    signer = renderer.signer()
    envelope = Envelope(
        key=key, sender=s.address, recipient=address,
        data=signer(data) if signer else data, message_id=personal.message_id,
        campaign=f"tests-{edition.date.isoformat()}",
    )  # fmt: skip
    result = outgoing.send(envelope, "the test")
    return result.provider_message_id or "accepted"


def is_draft(edition: Edition) -> bool:
    """True while the edition may change (a released one is read-only)."""
    return edition.status == EditionStatus.DRAFT
