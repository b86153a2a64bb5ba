"""Editors' sign-in: signed session cookies, CSRF tokens, idle and absolute expiry, and
the lockout of repeated failed sign-ins (:class:`LoginLimits`).

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request

from newsletter.config.settings import Settings
from newsletter.store import logins
from newsletter.store.db import transaction
from newsletter.timeutil import utcnow
from newsletter.web.refusal import Refusal

#: Session cookie name (its path is the editors' prefix).
COOKIE = "newsletter_editor"
#: Form field carrying the CSRF token.
CSRF_FIELD = "csrf_token"
#: Failed sign-ins in a row before a lock: for one account from one IP address, and from
#: one IP address whatever the account (OWASP Authentication Cheat Sheet, "Login
#: Throttling" and "Account Lockout": lock per account *and* address, with growing delays,
#: so that an attacker elsewhere never locks an editor out of their own address).
LOGINS_PER_IP = 20
LOGINS_PER_ACCOUNT = 5
#: The first lock lasts this long (seconds); each further failure doubles it, up to the
#: longest; failures are forgotten after this long without one.
FIRST_LOCK_SECONDS = 60
LONGEST_LOCK_SECONDS = 15 * 60
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
    """Failed sign-ins and their locks, kept in the database (table ``login_failures``):
    every web process (``newsletter serve`` may run several, behind one proxy) sees the
    same count, and a restart does not reset it.

    Two keys count failures: the account at the client's address (``per_account`` in a
    row lock it) and the address alone (``per_ip``, whatever the accounts tried). A lock
    lasts ``first_lock`` seconds and doubles with each further failure up to
    ``longest_lock``; failures are forgotten ``forget_after`` seconds after the last one,
    and a success clears the account's count at that address. While a key is locked, a
    sign-in from it is refused before its password is checked (no oracle); the same
    account from another address is not locked (OWASP Authentication Cheat Sheet)."""

    def __init__(
        self,
        per_ip: int = LOGINS_PER_IP,
        per_account: int = LOGINS_PER_ACCOUNT,
        seconds: float = LOGIN_WINDOW_SECONDS,
        *,
        first_lock: float = FIRST_LOCK_SECONDS,
        longest_lock: float = LONGEST_LOCK_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.per_ip, self.per_account = per_ip, per_account
        self.forget_after = timedelta(seconds=seconds)
        self.first_lock, self.longest_lock, self.clock = first_lock, longest_lock, clock

    @staticmethod
    def keys(client: str, account: str) -> tuple[str, str]:
        """The account-at-address key and the address key."""
        return f"pair:{account.strip().lower()} {client}", f"address:{client}"

    def delay(self, failures: int, threshold: int) -> float:
        """Seconds of lock after ``failures`` in a row against ``threshold`` (0: none)."""
        if failures < threshold:
            return 0.0
        return float(min(self.first_lock * 2 ** min(failures - threshold, 30), self.longest_lock))

    def locked(self, sessions: sessionmaker[Session], client: str, account: str) -> float:
        """Seconds left of a lock on ``account`` at ``client`` or on ``client`` (0: none)."""
        now = self.clock()
        with sessions() as session:
            until = logins.locked_until(session, list(self.keys(client, account)), now)
        return (until - now).total_seconds() if until else 0.0

    def failed(self, sessions: sessionmaker[Session], client: str, account: str) -> float:
        """Count a failed sign-in; the seconds of the lock it starts (0: none)."""
        now = self.clock()
        pair, address = self.keys(client, account)
        longest = 0.0
        with transaction(sessions) as session:
            for key, threshold in ((pair, self.per_account), (address, self.per_ip)):
                failures = logins.add_failure(session, key, now, forget_after=self.forget_after)
                seconds = self.delay(failures, threshold)
                if seconds:
                    logins.lock(session, key, now + timedelta(seconds=seconds))
                    longest = max(longest, seconds)
        return longest

    def succeeded(self, sessions: sessionmaker[Session], client: str, account: str) -> None:
        """Forget the account's failures at ``client`` (a successful sign-in)."""
        with transaction(sessions) as session:
            logins.clear(session, [self.keys(client, account)[0]])
