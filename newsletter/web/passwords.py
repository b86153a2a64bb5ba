"""Editors' password hashes: Argon2id through argon2-cffi.

argon2-cffi's defaults are RFC 9106's second recommended profile (Argon2id, t=3 passes,
m=64 MiB, p=4 lanes), about 0.15 s a hash on one core. Hashes are kept in the settings
(``NEWSLETTER_EDITORS`` or ``[editors]`` in the TOML file), never passwords.
"""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
#: Verified when the account is unknown, so that an unknown address costs the same time as
#: a wrong password (no enumeration of editors by timing).
_DUMMY_HASH = _HASHER.hash("not an editor's password")
#: Shortest password accepted by ``newsletter editor hash-password`` (NIST SP 800-63B,
#: section 5.1.1.1: at least 8 characters for a chosen secret; we ask for more).
MIN_PASSWORD_CHARS = 12
#: Longest password hashed (NIST SP 800-63B asks to allow at least 64).
MAX_PASSWORD_CHARS = 1024


class WeakPassword(ValueError):
    """The password is too short or too long to be hashed; the message says which."""


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string ``$argon2id$v=19$m=65536,t=3,p=4$salt$hash``) of
    ``password``. Raises :class:`WeakPassword` outside ``MIN_PASSWORD_CHARS`` to
    ``MAX_PASSWORD_CHARS`` characters."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    """True when ``password`` matches ``hashed``. ``hashed`` None (an unknown account) or a
    malformed hash is False, after the same work as a real check. Never raises."""
    if len(password) > MAX_PASSWORD_CHARS:  # never a hashed one: the same work, then no
        hashed, password = None, password[:MAX_PASSWORD_CHARS]
    try:
        verified: bool = _HASHER.verify(hashed or _DUMMY_HASH, password)
        return verified and hashed is not None
    except (VerifyMismatchError, VerificationError):
        return False
    except InvalidHashError:
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_DUMMY_HASH, password)
        return False
