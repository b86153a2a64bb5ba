"""API tokens (table ``api_tokens``): bearer tokens of the HTTP API, stored hashed.

A token is ``nl_`` followed by 32 random bytes in URL-safe base64 (:func:`secrets.token_urlsafe`,
43 characters): the prefix makes a leaked token recognisable (secret scanners, logs), as
GitHub's ``ghp_`` tokens are ("Behind GitHub's new authentication token formats", GitHub
blog, 2021). Only its SHA-256 digest is stored. A slow password hash (Argon2, bcrypt) exists
to make guessing a *low-entropy* secret expensive; a 256-bit random token cannot be guessed,
so one fast hash protects it just as well and costs nothing per request (OWASP Password
Storage Cheat Sheet: slow hashes are for passwords; the same reasoning as GitHub's token
digests). The digest found by the database's index is confirmed with
:func:`hmac.compare_digest`, a constant-time comparison.

Scopes say what a token may do: :data:`SCOPES` (every one unless the token was narrowed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.errors import NewsletterError
from newsletter.store.db import transaction
from newsletter.store.models import ApiToken
from newsletter.timeutil import utcnow

#: Every scope a token may hold: the CMS push, and the REST API's reads and writes.
SCOPES = (
    "articles:write",
    "editions:read",
    "editions:write",
    "subscribers:read",
    "subscribers:write",
    "reports:read",
)
#: The first characters of every token (recognisable when it leaks).
PREFIX = "nl_"
#: Random bytes of a token (256 bits).
TOKEN_BYTES = 32
#: A token's name: a letter or digit, then letters, digits, ``.``, ``_`` or ``-``; 64 at most.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class TokenError(NewsletterError):
    """A token cannot be created as asked: a bad or taken name, an unknown scope."""


@dataclass(frozen=True)
class TokenInfo:
    """What is known of a token, never the token itself: its name, scopes, and when it was
    created, last used and revoked (aware UTC datetimes, None when it never was)."""

    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: ``{"name", "scopes", "created", "last_used", "revoked"}``, times as
        ISO 8601 UTC strings or null."""
        return {
            "name": self.name,
            "scopes": list(self.scopes),
            "created": self.created_at.isoformat(),
            "last_used": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.name, tuple(row.scopes), row.created_at, row.last_used_at, row.revoked_at)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest (64 characters) under which ``token`` is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    sessions: sessionmaker[Session], name: str, scopes: tuple[str, ...] = SCOPES
) -> str:
    """Store a new token named ``name`` with ``scopes`` and return it: the only time the token
    is seen. Raises :class:`TokenError` for a name that :data:`NAME` refuses or that a token
    (even a revoked one) has, and for a scope not in :data:`SCOPES`."""
    if not NAME.fullmatch(name):
        raise TokenError(
            f"{name!r} is not a token name (letters, digits, '.', '_', '-'; 64 at most)"
        )
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise TokenError(f"unknown scope {', '.join(unknown)}: choose among {', '.join(SCOPES)}")
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    ordered = [scope for scope in SCOPES if scope in scopes]
    try:
        with transaction(sessions) as session:
            if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
                raise TokenError(f"a token named {name} exists already: choose another name")
            session.add(
                ApiToken(
                    name=name, token_hash=token_digest(token), scopes=ordered,
                    created_at=utcnow(),
                )
            )  # fmt: skip
    except IntegrityError:  # created by another process between the check and the insert
        raise TokenError(f"a token named {name} exists already: choose another name") from None
    return token


def list_tokens(sessions: sessionmaker[Session]) -> list[TokenInfo]:
    """Every token, revoked ones included, oldest first."""
    with sessions() as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id))
        return [_info(row) for row in rows]


def revoke_token(sessions: sessionmaker[Session], name: str) -> TokenInfo | None:
    """Revoke the token named ``name`` (from now on it is refused); None when no token has
    that name. Revoking a revoked token keeps its first revocation time."""
    with transaction(sessions) as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == name)).first()
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return _info(row)


def authenticate(
    sessions: sessionmaker[Session], token: str, now: datetime | None = None
) -> TokenInfo | None:
    """The token's information when ``token`` is a stored, unrevoked token (its last use is
    recorded as ``now``, default the current time); None otherwise."""
    if not token.startswith(PREFIX):
        return None
    digest = token_digest(token)
    with transaction(sessions) as session:
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
        ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == row.id)
            .values(last_used_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        return _info(row)
