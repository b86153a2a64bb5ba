"""The SMTP provider: one connection reused for many messages (RFC 5321).

Each message goes through ``MAIL FROM``, ``RCPT TO`` and ``DATA`` by hand so that we know at
which stage a failure happened: before ``DATA`` completes the server has not taken the
message (safe to retry); a connection lost during ``DATA`` may or may not have delivered it
(reported as unknown, never resent blindly). Reply codes: 2xx accepted, 4xx transient
(deferred), 5xx permanent (failed), per RFC 5321 section 4.2.1; ``421`` means the server is
closing the connection, so we reconnect and carry on.

Where the server offers PIPELINING (RFC 2920, as Postfix, Exim and the providers' relays
do), ``MAIL FROM``, ``RCPT TO`` and ``DATA`` go in one write and their three replies are
read after it: two round trips a message instead of four, the stage of a refusal still
known from the reply that carries it. The message itself is dot-stuffed (RFC 5321 section
4.5.2) by one replace in C, not smtplib's regular expression over every line.

Several connections (``smtp_connections``, 4 by default: one per sending thread) go to one
server where it allows them. A server that refuses a further connection at once (a ``4xx``
greeting such as ``421 too many connections``, or a connection closed before its greeting)
while this process holds another one is taken at its word: the limit is logged once, and the
refused thread sends its messages over the connections already open, one transaction at a
time on each (a connection's lock), instead of stopping the send.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from newsletter.providers.base import (
    BatchResult,
    Envelope,
    MessageResult,
    ProviderConfigError,
    Result,
)

Security = Literal["none", "starttls", "ssl"]

LOG = logging.getLogger("newsletter.providers.smtp")


@dataclass(eq=False)
class _Line:
    """One open SMTP connection; ``lock`` keeps one transaction at a time on it."""

    connection: smtplib.SMTP
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: bool = True


@dataclass(eq=False)
class _Server:
    """This process's connections to one server (host, port, user): those open, and the
    number it accepts when it refused one more (None while it never did)."""

    lines: list[_Line] = field(default_factory=list)
    limit: int | None = None
    turn: itertools.count[int] = field(default_factory=itertools.count)


_SERVERS: dict[tuple[str, int, str | None], _Server] = {}
_SERVERS_LOCK = threading.Lock()


#: A connection refused while none of ours is open is tried again this many times, after
#: ``REFUSED_WAIT`` seconds times the attempt's number (0.2 s, 0.4 s, 0.6 s).
REFUSED_RETRIES = 3
REFUSED_WAIT = 0.2

#: An address written as it is between angle brackets in MAIL FROM and RCPT TO: printable
#: ASCII without white space, brackets, quotes or backslashes (anything else goes through
#: smtplib's own quoting, one command at a time).
_PLAIN_ADDRESS = re.compile(r"[!#-;=?-\[\]-~]+@[!#-;=?-\[\]-~]+")


def dot_stuffed(data: bytes) -> bytes:
    """``data`` ready for the socket after a ``354``: each line that starts with a dot gets
    another (RFC 5321 section 4.5.2, as smtplib does at every line feed), a final CRLF, and
    the end-of-data line ``.``."""
    if data[:1] == b".":
        data = b"." + data
    if b"\n." in data:
        data = data.replace(b"\n.", b"\n..")
    if data[-2:] != b"\r\n":
        data += b"\r\n"
    return data + b".\r\n"


#: What a transaction returns when its message is to be sent once more on a new line.
_AGAIN = MessageResult(-1, Result.UNSENT, detail="again")


class _Refused(Exception):
    """The server refused one more connection at once (a 4xx greeting or a close before
    it): a limit on connections, not a failure of the server."""


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
        self._line: _Line | None = None  # this provider's own connection or a borrowed one
        self._borrowed = False
        self.connections_opened = 0
        with _SERVERS_LOCK:
            self._server = _SERVERS.setdefault((host, port, username), _Server())

    # --- connection ----------------------------------------------------------------------
    def _open(self) -> smtplib.SMTP:
        """A new authenticated connection; raises :class:`_Refused` for a 4xx greeting or a
        close before the greeting, smtplib's or the OS's errors otherwise."""
        try:
            if self.security == "ssl":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout,
                    local_hostname=self.local_hostname, context=self.ssl_context,
                )  # fmt: skip
            else:
                connection = smtplib.SMTP(
                    self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
                )
        except smtplib.SMTPConnectError as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Refused(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
            raise
        except smtplib.SMTPServerDisconnected as exc:
            raise _Refused(str(exc) or "closed before its greeting") from None
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
        return connection

    def _connect(self, attempt: int = 0) -> _Line:
        """This provider's line: its own connection, a new one, or (when the server limits
        connections and another of ours is open) one it borrows. A refusal while none of
        ours is open is tried again :data:`REFUSED_RETRIES` times, then raises
        ``SMTPConnectError``."""
        line = self._line
        if line is not None and line.open:
            return line
        self._line, self._borrowed = None, False
        server = self._server
        with _SERVERS_LOCK:
            full = server.limit is not None and len(server.lines) >= server.limit
        if not full:
            try:
                line = _Line(self._open())
            except _Refused as exc:
                with _SERVERS_LOCK:
                    alone = not server.lines
                if alone:
                    # Our other connections may have just closed while the server still
                    # counts them (it sees the QUIT a moment later): wait briefly, try again.
                    if attempt < REFUSED_RETRIES:
                        time.sleep(REFUSED_WAIT * (attempt + 1))
                        return self._connect(attempt + 1)
                    raise smtplib.SMTPConnectError(421, str(exc)) from None
                with _SERVERS_LOCK:
                    if server.limit is None:
                        LOG.warning(
                            "%s:%s refused connection %d (%s): going on with %d",
                            self.host, self.port, len(server.lines) + 1, exc, len(server.lines),
                        )  # fmt: skip
                    server.limit = len(server.lines)
            else:
                self.connections_opened += 1
                with _SERVERS_LOCK:
                    server.lines.append(line)
                self._line = line
                return line
        with _SERVERS_LOCK:
            if not server.lines:  # every other connection closed meanwhile: try our own
                server.limit = None
            else:
                self._line = server.lines[next(server.turn) % len(server.lines)]
                self._borrowed = True
                return self._line
        return self._connect()

    def _drop(self) -> None:
        """Close the current line (after a failure on it) and forget it."""
        line, self._line = self._line, None
        if line is not None:
            self._retire(line)
            with contextlib.suppress(OSError):
                line.connection.close()

    def _retire(self, line: _Line) -> None:
        line.open = False
        with _SERVERS_LOCK:
            if line in self._server.lines:
                self._server.lines.remove(line)

    def close(self) -> None:
        """Say QUIT and close this provider's own connection (if any); a borrowed one is
        its owner's to close."""
        line, self._line = self._line, None
        if line is None or self._borrowed:
            return
        with line.lock:  # a borrower's transaction finishes first
            self._retire(line)
            try:
                line.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    line.connection.close()

    # --- sending -------------------------------------------------------------------------
    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Send each envelope on this provider's connection (or a borrowed one), reconnecting
        once after a dropped connection or a 421; a failure to connect or authenticate stops
        the batch."""
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
            line = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            refusal = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            return f"SMTP authentication refused by {self.host}: {refusal}"
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            return f"cannot connect to SMTP server {self.host}:{self.port}: {exc}"
        with line.lock:
            result = self._transaction(line.connection, envelope, retry) if line.open else None
        if result is None:  # its owner closed it meanwhile: not a failure, take another
            self._line = None
            return self._send_one(envelope, retry=retry)
        # A dropped connection or a 421 before the server took the message: once more, on
        # a new line (outside the failed line's lock).
        return self._send_one(envelope, retry=False) if result is _AGAIN else result

    def _transaction(
        self, connection: smtplib.SMTP, envelope: Envelope, retry: bool
    ) -> MessageResult | str:
        """MAIL FROM, RCPT TO and DATA for ``envelope`` on ``connection`` (its lock held),
        pipelined where the server offers it."""
        stage, handed = "MAIL FROM", False
        try:
            if (
                connection.does_esmtp
                and connection.has_extn("pipelining")
                and _PLAIN_ADDRESS.fullmatch(envelope.sender)
                and _PLAIN_ADDRESS.fullmatch(envelope.recipient)
            ):
                connection.send(
                    f"MAIL FROM:<{envelope.sender}>\r\nRCPT TO:<{envelope.recipient}>\r\n"
                    "DATA\r\n".encode("ascii")
                )
                # The replies in order; a 421 closes the connection, so none follows it.
                mail = connection.getreply()
                if mail[0] == 421:
                    return self._refused(envelope, *mail, "MAIL FROM", retry)
                stage = "RCPT TO"
                rcpt = connection.getreply()
                if rcpt[0] == 421:
                    return self._refused(envelope, *rcpt, "RCPT TO", retry)
                stage = "DATA"
                data = connection.getreply()
                if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
                    # No recipient, yet the server took DATA: RFC 2920 section 3.1 has the
                    # client end the (empty) message, which the server then refuses.
                    stage = "RCPT TO"
                    connection.send(b".\r\n")
                    connection.getreply()
                if mail[0] != 250:
                    return self._refused(envelope, *mail, "MAIL FROM", retry)
                if rcpt[0] not in (250, 251):
                    return self._refused(envelope, *rcpt, "RCPT TO", retry)
                if data[0] != 354:
                    return self._refused(envelope, *data, "DATA", retry)
            else:
                code, reply = connection.mail(envelope.sender)
                if code != 250:
                    return self._refused(envelope, code, reply, stage, retry)
                stage = "RCPT TO"
                code, reply = connection.rcpt(envelope.recipient)
                if code not in (250, 251):
                    return self._refused(envelope, code, reply, stage, retry)
                stage = "DATA"
                code, reply = connection.docmd("DATA")
                if code != 354:
                    return self._refused(envelope, code, reply, "DATA", retry)
            stage, handed = "DATA", True  # from here the server may take the message
            connection.send(dot_stuffed(envelope.data))
            code, reply = connection.getreply()
        except smtplib.SMTPResponseException as exc:
            return self._refused(envelope, exc.smtp_code, exc.smtp_error, stage, retry)
        except UnicodeEncodeError:  # smtplib writes commands in ASCII
            self._reset()
            return MessageResult(
                envelope.key, Result.FAILED,
                detail=f"{stage}: the address is not ASCII; it would need SMTPUTF8 (RFC 6531), "
                "which is not used",
            )  # fmt: skip
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if not handed:
                if retry:
                    return _AGAIN
                # Lost twice before the message went: the server is failing, not the
                # message. Deferred (retried after the backoff) rather than given back at
                # once, which would loop on a server that drops every transaction.
                return MessageResult(
                    envelope.key, Result.DEFERRED,
                    detail=f"connection lost at {stage}, twice: {exc}",
                )  # fmt: skip
            return MessageResult(
                envelope.key, Result.UNKNOWN,
                detail=f"connection lost during DATA: the server may have accepted it ({exc})",
            )  # fmt: skip
        if code == 250:
            return MessageResult(envelope.key, Result.SENT, _text(reply)[:500] or None, code)
        return self._refused(envelope, code, reply, "end of DATA", retry)

    def _reset(self) -> None:
        """RSET the current line after a refused transaction; drop it when that fails."""
        try:
            if self._line is not None:
                self._line.connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _refused(
        self, envelope: Envelope, code: int, reply: bytes | str, stage: str, retry: bool
    ) -> MessageResult | str:
        detail = f"{stage}: {code} {_text(reply)}"
        if code != 421:
            self._reset()
        if code == 421:  # service closing: reconnect and try this message once more
            self._drop()
            if retry:
                return _AGAIN
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
