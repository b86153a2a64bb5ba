"""The SMTP provider: one connection reused for many messages (RFC 5321).

Each message goes through ``MAIL FROM``, ``RCPT TO`` and ``DATA`` by hand so that we know at
which stage a failure happened: before ``DATA`` completes the server has not taken the
message (safe to retry); a connection lost during ``DATA`` may or may not have delivered it
(reported as unknown, never resent blindly). Reply codes: 2xx accepted, 4xx transient
(deferred), 5xx permanent (failed), per RFC 5321 section 4.2.1; ``421`` means the server is
closing the connection, so we reconnect and carry on.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
from collections.abc import Sequence
from typing import Literal

from newsletter.providers.base import (
    BatchResult,
    Envelope,
    MessageResult,
    ProviderConfigError,
    Result,
)

Security = Literal["none", "starttls", "ssl"]


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


# RFC 3463 enhanced codes for an address that does not exist or cannot receive mail:
# 5.1.1 bad mailbox, 5.1.2 bad domain, 5.1.3 bad address syntax, 5.1.6 moved, 5.1.10 null MX,
# 5.2.1 mailbox disabled.
_HARD_ENHANCED = re.compile(r"\b5\.(?:1\.(?:1|2|3|6|10)|2\.1)\b")


def is_hard_bounce(code: int, reply: str) -> bool:
    """True for a permanent refusal of the recipient address itself (RFC 3463 enhanced code
    5.1.x/5.2.1, or a 550/551/553 without an enhanced code), not of the message's content."""
    enhanced = re.search(r"\b[245]\.\d{1,3}\.\d{1,3}\b", reply)
    if enhanced:
        return bool(_HARD_ENHANCED.search(reply))
    return code in (550, 551, 553)


class SMTPProvider:
    """Sends over SMTP with ``security`` ``none``, ``starttls`` (RFC 3207) or ``ssl``
    (implicit TLS, RFC 8314), authenticating when ``username`` is set.

    Raises :class:`ProviderConfigError` for credentials over an unencrypted connection to a
    host that is not on this machine.
    """

    name = "smtp"
    batch_size = 1

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if username and security == "none" and not _is_loopback(host):
            raise ProviderConfigError(
                "NEWSLETTER_SMTP_SECURITY: refusing to send a password unencrypted to "
                f"{host}; use starttls or ssl"
            )
        self.host, self.port, self.security = host, port, security
        self.username, self.password = username, password
        self.timeout = timeout
        self.local_hostname = local_hostname
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._connection: smtplib.SMTP | None = None
        self.connections_opened = 0

    # --- connection ----------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        if self.security == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout,
                local_hostname=self.local_hostname, context=self.ssl_context,
            )  # fmt: skip
        else:
            connection = smtplib.SMTP(
                self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
            )
        try:
            connection.ehlo()
            if self.security == "starttls":
                connection.starttls(context=self.ssl_context)
                connection.ehlo()
            if self.username:
                connection.login(self.username, self.password or "")
        except BaseException:
            connection.close()
            raise
        self.connections_opened += 1
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def close(self) -> None:
        """Say QUIT and close the connection (if any)."""
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self._drop()

    # --- sending -------------------------------------------------------------------------
    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Send each envelope on the shared connection, reconnecting once after a dropped
        connection or a 421; a failure to connect or authenticate stops the batch."""
        batch = BatchResult()
        for index, envelope in enumerate(envelopes):
            result = self._send_one(envelope, retry=True)
            if isinstance(result, str):  # cannot connect: nothing more can go
                batch.results += [MessageResult(e.key, Result.UNSENT) for e in envelopes[index:]]
                batch.stop = result
                return batch
            batch.results.append(result)
            if result.result == Result.UNKNOWN:
                # A server that times out or drops the line during DATA would make every
                # further message uncertain too: stop here, with one message uncertain.
                batch.results += [
                    MessageResult(e.key, Result.UNSENT) for e in envelopes[index + 1 :]
                ]
                batch.stop = f"{self.host}:{self.port}: {result.detail}"
                return batch
        return batch

    def _send_one(self, envelope: Envelope, *, retry: bool) -> MessageResult | str:
        try:
            connection = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            refusal = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            return f"SMTP authentication refused by {self.host}: {refusal}"
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            return f"cannot connect to SMTP server {self.host}:{self.port}: {exc}"
        stage = "MAIL FROM"
        try:
            code, reply = connection.mail(envelope.sender)
            if code != 250:
                return self._refused(envelope, code, reply, stage, retry)
            stage = "RCPT TO"
            code, reply = connection.rcpt(envelope.recipient)
            if code not in (250, 251):
                return self._refused(envelope, code, reply, stage, retry)
            stage = "DATA"
            code, reply = connection.data(envelope.data)
        except smtplib.SMTPDataError as exc:  # the DATA command itself was refused (354 not sent)
            return self._refused(envelope, exc.smtp_code, exc.smtp_error, "DATA", retry)
        except smtplib.SMTPResponseException as exc:
            return self._refused(envelope, exc.smtp_code, exc.smtp_error, stage, retry)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if stage != "DATA":
                if retry:
                    return self._send_one(envelope, retry=False)
                return MessageResult(
                    envelope.key, Result.UNSENT, detail=f"connection lost at {stage}: {exc}"
                )
            return MessageResult(
                envelope.key, Result.UNKNOWN,
                detail=f"connection lost during DATA: the server may have accepted it ({exc})",
            )  # fmt: skip
        if code == 250:
            return MessageResult(envelope.key, Result.SENT, _text(reply)[:500] or None, code)
        return self._refused(envelope, code, reply, "end of DATA", retry)

    def _refused(
        self, envelope: Envelope, code: int, reply: bytes | str, stage: str, retry: bool
    ) -> MessageResult | str:
        detail = f"{stage}: {code} {_text(reply)}"
        try:
            if self._connection is not None:
                self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
        if code == 421:  # service closing: reconnect and try this message once more
            self._drop()
            if retry:
                return self._send_one(envelope, retry=False)
            return MessageResult(envelope.key, Result.DEFERRED, code=code, detail=detail)
        if 400 <= code < 500:
            return MessageResult(envelope.key, Result.DEFERRED, code=code, detail=detail)
        return MessageResult(
            envelope.key,
            Result.FAILED,
            code=code,
            detail=detail,
            hard_bounce=stage == "RCPT TO" and is_hard_bounce(code, _text(reply)),
        )
