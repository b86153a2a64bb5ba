"""Per-subscriber parts of a message: headers and signed links."""

from __future__ import annotations

import secrets
from datetime import date
from email.utils import format_datetime

from newsletter.links import PATHS, Links, Purpose
from newsletter.render.headers import address_line
from newsletter.render.mime import Personal
from newsletter.timeutil import utcnow


def personal_parts(
    links: Links, *, subscriber_id: int, email: str, name: str | None, day: date,
    delivery_id: int, sender_domain: str, unsubscribe_mailto: str | None = None,
) -> Personal:  # fmt: skip
    """Headers and placeholder values for one recipient.

    ``List-Unsubscribe`` carries one short HTTPS URL (RFC 2369) that the RFC 8058 one-click
    POST acts on, and a mailto when ``unsubscribe_mailto`` is set (its subject carries the
    same token); the URL holds an opaque signed token, never the address. Raises
    ``ValueError`` for an address that cannot stand in a header (non-ASCII, quotes).
    """
    token = links.token(Purpose.UNSUBSCRIBE, subscriber_id)
    unsubscribe = links.url(f"{PATHS[Purpose.UNSUBSCRIBE]}/{token}")
    preferences = links.subscriber_url(Purpose.PREFERENCES, subscriber_id)
    return Personal(
        to_line=address_line("To", name, email),
        message_id=f"<{day.isoformat()}.{delivery_id}.{secrets.token_hex(6)}@{sender_domain}>",
        date=format_datetime(utcnow()),
        list_unsubscribe=f"<{unsubscribe}>"
        + (
            f",\r\n <mailto:{unsubscribe_mailto}?subject=unsubscribe-{token}>"
            if unsubscribe_mailto
            else ""
        ),
        values=_Values(
            links,
            subscriber_id,
            {"email": email, "unsubscribe_url": unsubscribe, "preferences_url": preferences},
        ),
    )


class _Values(dict[str, str]):
    """The placeholder values; the reader's token of click links (``reader``) is signed
    only when a message asks for it (with ``NEWSLETTER_TRACK_READERS``), not per message."""

    def __init__(self, links: Links, subscriber_id: int, values: dict[str, str]) -> None:
        super().__init__(values)
        self._links, self._subscriber_id = links, subscriber_id

    def __missing__(self, name: str) -> str:
        if name != "reader":
            raise KeyError(name)
        self[name] = self._links.token(Purpose.READER, self._subscriber_id)
        return self[name]
