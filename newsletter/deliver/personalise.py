"""Per-subscriber parts of a message: headers and signed links."""

from __future__ import annotations

import re
import secrets
from datetime import date
from email.utils import format_datetime

from newsletter.links import PATHS, Links, Purpose
from newsletter.render.headers import address_line, clean
from newsletter.render.mime import Personal
from newsletter.timeutil import utcnow

_DATE: tuple[int, str] = (0, "")
#: Printable ASCII without space, quotes, commas, semicolons or angle brackets: an address
#: that ``address_line`` would write unchanged (``To: address``), checked in one match.
_PLAIN_ADDRESS = re.compile(r"[!#-+\--:=?-~]+")


def _date_now() -> str:
    """The RFC 5322 ``Date`` of now (UTC), formatted once per second: the header has
    whole seconds, and a send formats it for thousands of messages a second."""
    global _DATE
    now = utcnow()
    second = int(now.timestamp())
    if _DATE[0] != second:
        _DATE = (second, format_datetime(now.replace(microsecond=0)))
    return _DATE[1]


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
        to_line=f"To: {email}"
        if not name and _PLAIN_ADDRESS.fullmatch(email)
        else address_line("To", name, email),
        message_id=f"<{day.isoformat()}.{delivery_id}.{secrets.token_hex(6)}@{sender_domain}>",
        date=_date_now(),
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
        name=clean(name) if name else "",
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
