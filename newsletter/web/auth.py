"""Editors' sign-in: signed session cookies, CSRF tokens, idle and absolute expiry, and
login rate limits.

The session is Starlette's ``SessionMiddleware`` cookie (itsdangerous ``TimestampSigner``),
signed with a key derived from the newest ``NEWSLETTER_SECRET_KEY`` so that it never
verifies as a reader's link; ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the base URL is
HTTPS, limited to the editors' path. It holds the editor's address, the CSRF token (OWASP
"synchronizer token pattern": one random token per session, checked on every POST),
the sign-in time and the time of the last request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from newsletter.config.settings import Settings
from newsletter.web.ratelimit import SlidingWindow
from newsletter.web.refusal import Refusal

#: Session cookie name (its path is the editors' prefix).
COOKIE = "newsletter_editor"
#: Form field carrying the CSRF token.
CSRF_FIELD = "csrf_token"
#: Sign-in attempts allowed per 15 minutes from one IP address, and for one account
#: (OWASP Authentication Cheat Sheet, "Protect against automated attacks"). The account
#: limit also lets an attacker lock an editor out for 15 minutes: the lesser evil.
LOGINS_PER_IP = 20
LOGINS_PER_ACCOUNT = 5
LOGIN_WINDOW_SECONDS = 15 * 60


class NotSignedIn(Exception):
    """No valid editor session; ``expired`` when there was one that timed out."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("not signed in")
        self.expired = expired


def session_key(secret_keys: list[str]) -> str:
    """The session-signing key: HMAC-SHA256 of a fixed label under the newest secret key,
    so that a session cookie and a reader's link never share a key."""
    return hmac.new(
        secret_keys[-1].encode("utf-8"), b"newsletter.editor-session", hashlib.sha256
    ).hexdigest()


@dataclass
class Policy:
    """Session lifetimes in seconds: ``idle`` unused, ``absolute`` after sign-in."""

    idle: float
    absolute: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """From ``editor_idle_minutes`` and ``editor_session_hours``."""
        return cls(settings.editor_idle_minutes * 60, settings.editor_session_hours * 3600)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (before sign-in too: the sign-in
    form carries one)."""
    session: dict[str, Any] = request.session
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf(request: Request, form: FormData) -> None:
    """Raise HTTP 403 (:class:`~newsletter.web.refusal.Refusal` ``csrf_refused``)
    unless the form's token equals the session's (constant time)."""
    expected = request.session.get("csrf")
    given = form.get(CSRF_FIELD)
    if (
        not isinstance(expected, str)
        or not isinstance(given, str)
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        raise Refusal(403, "csrf_refused")


def current_editor(request: Request, policy: Policy, now: float | None = None) -> str:
    """The signed-in editor's address; refreshes the idle timer. Raises
    :class:`NotSignedIn` (``expired`` when the session timed out, which is then cleared)."""
    session: dict[str, Any] = request.session
    editor = session.get("editor")
    if not isinstance(editor, str):  # a cookie that no longer verifies: it timed out
        raise NotSignedIn(expired=COOKIE in request.cookies)
    now = time.time() if now is None else now
    since, seen = session.get("since", 0), session.get("seen", 0)
    if (
        not isinstance(since, int | float)
        or not isinstance(seen, int | float)
        or now - seen > policy.idle
        or now - since > policy.absolute
    ):
        request.session.clear()
        raise NotSignedIn(expired=True)
    if now - seen >= 30:  # re-signs the cookie (idle timer) at most every 30 s
        session["seen"] = int(now)
    return editor


def sign_in(request: Request, editor: str, now: float | None = None) -> None:
    """Start a new session for ``editor``: everything before is dropped (no session
    fixation) and a new CSRF token is made."""
    now = time.time() if now is None else now
    request.session.clear()
    request.session.update(
        {"editor": editor, "since": int(now), "seen": int(now), "csrf": secrets.token_urlsafe(32)}
    )


def sign_out(request: Request) -> None:
    """End the session (the cookie is cleared)."""
    request.session.clear()


class LoginLimits:
    """Sign-in attempts per IP address and per account in a sliding window (in this
    process's memory, like the sign-up limits)."""

    def __init__(
        self,
        per_ip: int = LOGINS_PER_IP,
        per_account: int = LOGINS_PER_ACCOUNT,
        seconds: float = LOGIN_WINDOW_SECONDS,
    ) -> None:
        self.ip = SlidingWindow(per_ip, seconds)
        self.account = SlidingWindow(per_account, seconds)

    def allow(self, client: str, account: str) -> bool:
        """Record an attempt; False when either limit is reached (nothing is checked)."""
        return self.ip.allow(client) and self.account.allow(account.strip().lower())
