"""Following an article link of an edition: the signed redirect ``/r/<token>`` counts the
click, then sends the reader on to the article.

What is recorded (README "Reports and clicks"): one more click on the (edition, item) row,
and the time of the last one; with ``NEWSLETTER_TRACK_READERS=true`` only, also which
reader clicked (the link then carries the reader's own signed token). Nothing else: no IP
address, no user agent, no open pixel. The CNIL counts aggregate audience measurement as
statistics and per-reader tracking as needing consent ("Pixels de suivi dans les
courriels", 2023).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.options import SenderOptions
from newsletter.links import Links, Purpose, TokenError, with_utm
from newsletter.store.clicks import click_target, count_click
from newsletter.store.db import transaction
from newsletter.timeutil import utcnow


class NoSuchLink(LookupError):
    """A genuine click token whose edition, item or link is gone (or not http/https)."""


class Clicks:
    """Counts clicks and says where they go. ``options``: the UTM parameters the rendered
    link carried and whether readers are tracked (``track_readers``)."""

    def __init__(
        self, sessions: sessionmaker[Session], links: Links, options: SenderOptions
    ) -> None:
        self.sessions, self.links, self.options = sessions, links, options

    def follow(self, token: str, reader: str | None = None, *, count: bool = True) -> str:
        """Count a click on the link of ``token`` and return its target URL (absolute,
        http or https, with the UTM parameters of the email's link).

        ``reader``: the reader's signed token carried by the link; recorded only when
        readers are tracked and it verifies, ignored otherwise (the aggregate count and the
        redirect never depend on it). ``count`` False: the target only (a ``HEAD``).
        Raises :class:`~newsletter.links.TokenError` for a forged or malformed ``token``
        and :class:`NoSuchLink` when it names nothing."""
        edition_id, item_id, link = self.links.verify_click(token)
        subscriber_id = None
        if self.options.track_readers and reader:
            try:
                subscriber_id = self.links.verify(Purpose.READER, reader)
            except TokenError:
                subscriber_id = None
        with transaction(self.sessions) as session:
            target = click_target(session, edition_id, item_id, link)
            if target is None or urlsplit(target.url).scheme.lower() not in ("http", "https"):
                raise NoSuchLink(token)
            if count:
                count_click(session, edition_id, item_id, utcnow(), subscriber_id)
        return with_utm(target.url, self.options.utm, target.day)
