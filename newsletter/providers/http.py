"""What every HTTP mail provider shares: one call with retries, and the limits it honours.

A provider module builds its request and reads its answer; :class:`HTTPCaller` sends it
through the ``httpx.Client`` it was given and decides, the same way for every provider:

- ``2xx`` and ``4xx`` other than 401, 403 and 429: the response is returned; the provider
  reads its per-message results or its error message (a ``4xx`` fails the messages of the
  call with the provider's text).
- ``401``/``403``: our credentials or sender are refused; nothing was sent and nothing more
  can be: every message is ``unsent`` and the batch stops (:attr:`BatchResult.stop`), so a
  wrong key never fails the whole list.
- ``429``: wait as ``Retry-After`` says (RFC 9110 section 10.2.3: delta-seconds or an
  HTTP-date; a date in the past means now; an unreadable value falls back to the backoff),
  then try again; a wait longer than ``max_wait`` defers the batch with that delay instead
  of blocking the worker.
- ``5xx`` and transport errors before the request could have been processed (connection
  refused or timed out, pool or write timeout): retried with exponential backoff and jitter
  (tenacity), then the batch is deferred (retried later by the outbox).
- A read timeout or a connection lost after the request was sent: the provider may have
  accepted the messages. Without an idempotency key they are reported ``unknown`` (never
  resent blindly, see the outbox); with one (``idempotent=True``: the same key goes with
  every attempt) the call is retried like a ``5xx``, and is ``unknown`` if no attempt
  gets an answer.

Rate-limit headers (``RateLimit-Remaining``/``RateLimit-Reset`` of the IETF httpapi draft,
``X-RateLimit-Remaining``/``X-RateLimit-Reset`` of SendGrid and Mailgun): when the remaining
count reaches 0 the next call waits until the reset (or defers the batch when that is
longer than ``max_wait``).

``sleep`` and ``clock`` (seconds since the epoch, UTC) are injectable so that tests never
really wait.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result

#: Errors raised before the request can have reached the provider's application.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout)
#: Errors after the request was written: the provider may have processed it.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries.

    ``attempts``: calls in all (the first included); ``backoff_max``: the longest backoff
    between attempts (seconds; exponential from 1 s, plus up to 1 s of jitter);
    ``max_wait``: the longest ``Retry-After`` or rate-limit reset the worker waits for
    (seconds), beyond which the batch is deferred; ``timeout``: seconds for each of
    connect, write and read.
    """

    attempts: int = 4
    backoff_max: float = 30.0
    max_wait: float = 60.0
    timeout: float = 30.0


@dataclass(frozen=True)
class Failure:
    """A call that did not give a usable answer: every message of the call gets ``result``
    (``deferred``, ``unknown`` or ``unsent``) with ``code``/``detail``/``retry_after``;
    ``stop`` says the batch cannot go on."""

    result: Result
    detail: str
    code: int | None = None
    retry_after: float | None = None
    stop: str | None = None

    def batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """The same answer for every envelope."""
        return BatchResult(
            [
                MessageResult(
                    e.key,
                    self.result,
                    code=self.code,
                    detail=self.detail,
                    retry_after=self.retry_after,
                )
                for e in envelopes
            ],
            stop=self.stop,
        )


#: The longest wait a provider's ``Retry-After`` or rate-limit reset is taken for, in
#: seconds. RFC 9110 sets no bound; a day is longer than any provider documents (their
#: windows are seconds to an hour), and an absurd value (``9999999999``) would otherwise
#: defer a message by centuries or overflow the clock.
MAX_WAIT_SECONDS = 24 * 3600.0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait per a ``Retry-After`` value (RFC 9110 section 10.2.3): a
    non-negative integer of seconds, or an HTTP-date (a past date gives 0), at most
    :data:`MAX_WAIT_SECONDS`. ``now`` is the current time in seconds since the epoch. None
    when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_WAIT_SECONDS)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), MAX_WAIT_SECONDS)


def parse_reset(value: str | None, now: float) -> float | None:
    """Seconds until a rate-limit window resets, from a ``RateLimit-Reset`` or
    ``X-RateLimit-Reset`` value: delta seconds (IETF draft, Resend), Unix time in seconds
    (SendGrid) or in milliseconds, at most :data:`MAX_WAIT_SECONDS`. None when absent or
    unreadable."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number < 0:
        return None
    if number > 1e12:  # milliseconds since the epoch
        number = max(0.0, number / 1000 - now)
    elif number > 1e9:  # seconds since the epoch
        number = max(0.0, number - now)
    return min(number, MAX_WAIT_SECONDS)


def response_text(response: httpx.Response, limit: int = 500) -> str:
    """The provider's message from an error response: the ``message`` / ``Message`` /
    ``errors[].message`` of a JSON body, else the start of the body, else the reason."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("message", "Message", "error", "name"):
            if isinstance(body.get(key), str) and body[key]:
                parts.append(body[key])
                break
        errors = body.get("errors")
        if isinstance(errors, list):
            for error in errors[:5]:
                if isinstance(error, dict) and error.get("message"):
                    field = f" ({error['field']})" if error.get("field") else ""
                    parts.append(f"{error['message']}{field}")
    text = "; ".join(parts) or response.text.strip() or response.reason_phrase
    return f"HTTP {response.status_code}: {text}"[:limit]


@dataclass
class _CallState:
    """What one call learnt across its attempts: ``maybe_sent`` when an attempt's answer
    was lost after the request was sent (the provider may have accepted it)."""

    maybe_sent: bool = False


class _Retry(Exception):
    """One attempt failed in a way worth another attempt."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


class _Give(Exception):
    """One attempt failed in a way another attempt cannot help."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


class HTTPCaller:
    """Sends one provider request with the rules of this module; see :meth:`call`.

    ``name`` prefixes messages ("postmark: HTTP 503 ..."). ``idempotent`` says that the
    request carries an idempotency key, so that resending it after an uncertain failure
    cannot deliver twice.
    """

    def __init__(
        self,
        client: httpx.Client,
        name: str,
        policy: RetryPolicy | None = None,
        *,
        idempotent: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.name = name
        self.policy = policy or RetryPolicy()
        self.idempotent = idempotent
        self.sleep, self.clock = sleep, clock
        self._not_before = 0.0  # clock time before which the rate limit says wait
        self._backoff = wait_exponential_jitter(max=self.policy.backoff_max, jitter=1)
        self.calls = 0  # requests actually sent (for reports and tests)
        self._lock = threading.Lock()  # calls may run in several threads at once

    def call(self, request: httpx.Request) -> httpx.Response | Failure:
        """Send ``request`` (retrying as the module says); the response (2xx or a 4xx the
        provider explains) or the :class:`Failure` of every message in it."""
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.policy.attempts)),
            wait=self._wait,
            retry=retry_if_exception_type(_Retry),
            sleep=self.sleep,
            reraise=True,
        )
        state = _CallState()  # per call: several calls may be in flight at once
        try:
            return retrying(self._attempt, request, state)
        except (_Retry, _Give) as exc:
            failure = exc.failure
        if state.maybe_sent and failure.result == Result.DEFERRED:
            # An earlier attempt may have gone through: even under the same idempotency
            # key, a later run builds a new request. Never resend blindly.
            return Failure(
                Result.UNKNOWN,
                f"{failure.detail} (an earlier attempt's answer was lost: it may have "
                "been accepted)",
                failure.code,
            )
        return failure

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.failure.retry_after is not None:
            return exc.failure.retry_after
        return float(self._backoff(state))

    def _attempt(self, request: httpx.Request, state: _CallState) -> httpx.Response:
        self._respect_limit()
        timeout = self.policy.timeout
        request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        with self._lock:
            self.calls += 1
        try:
            response = self.client.send(request)
        except _NOT_SENT as exc:
            raise _Retry(Failure(Result.DEFERRED, f"{self.name}: {_describe(exc)}")) from None
        except _MAYBE_SENT as exc:
            failure = Failure(
                Result.UNKNOWN,
                f"{self.name}: {_describe(exc)} after the request was sent: "
                "the provider may have accepted it",
            )
            state.maybe_sent = True
            if self.idempotent:  # the same key makes a second attempt harmless
                raise _Retry(Failure(Result.DEFERRED, failure.detail)) from None
            raise _Give(failure) from None
        except httpx.HTTPError as exc:  # anything else before an answer: not sent
            raise _Retry(Failure(Result.DEFERRED, f"{self.name}: {_describe(exc)}")) from None
        self._note_limit(response)
        status = response.status_code
        if status == 429 or status >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"), self.clock())
            failure = Failure(
                Result.DEFERRED, f"{self.name}: {response_text(response)}", status, wait
            )
            if wait is not None and wait > self.policy.max_wait:
                raise _Give(failure)
            raise _Retry(failure)
        if status in (401, 403):
            detail = f"{self.name}: {response_text(response)}"
            raise _Give(Failure(Result.UNSENT, detail, status, stop=f"{detail} (check the "
                                "credentials and the sender's domain)"))  # fmt: skip
        return response

    def _note_limit(self, response: httpx.Response) -> None:
        headers = response.headers
        remaining = headers.get("RateLimit-Remaining") or headers.get("X-RateLimit-Remaining")
        if remaining is None or remaining.strip() != "0":
            return
        reset = parse_reset(
            headers.get("RateLimit-Reset") or headers.get("X-RateLimit-Reset"), self.clock()
        )
        if reset:
            self._not_before = self.clock() + reset

    def _respect_limit(self) -> None:
        wait = self._not_before - self.clock()
        if wait <= 0:
            return
        if wait > self.policy.max_wait:
            raise _Give(
                Failure(
                    Result.DEFERRED,
                    f"{self.name}: rate limit reached; it resets in {wait:.0f} s",
                    429,
                    wait,
                )
            )
        self.sleep(wait)


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


def send_one_by_one(
    envelopes: Sequence[Envelope], one: Callable[[Envelope], MessageResult | Failure]
) -> BatchResult:
    """Send each envelope with ``one`` (one API call per message). After a call that
    stops the send or leaves a message uncertain, the rest is ``unsent`` and the batch
    stops; after a deferral (the provider is struggling) the rest is ``unsent`` too, so
    that it goes back to the queue without burning an attempt."""
    batch = BatchResult()
    for index, envelope in enumerate(envelopes):
        answer = one(envelope)
        if isinstance(answer, MessageResult):
            batch.results.append(answer)
            continue
        batch.results += answer.batch([envelope]).results
        rest = [MessageResult(e.key, Result.UNSENT) for e in envelopes[index + 1 :]]
        batch.results += rest
        if answer.stop:
            batch.stop = answer.stop
        elif answer.result == Result.UNKNOWN:
            batch.stop = answer.detail
        break
    return batch


class Calls:
    """Runs a provider's calls with up to ``concurrency`` of them in flight at once (a
    thread pool kept for the provider's life; httpx's ``Client`` is thread-safe).

    :meth:`run` takes one function per call, each answering for its own envelopes; after
    a call that stops the send (refused credentials, an answer lost), the calls not yet
    started answer ``unsent`` instead of calling. Results keep the order of the calls.
    """

    def __init__(self, concurrency: int, name: str) -> None:
        self.concurrency = max(1, concurrency)
        self.name = name
        self._pool: ThreadPoolExecutor | None = None

    def run(
        self,
        calls: Iterable[tuple[Sequence[Envelope], Callable[[], BatchResult]]],
        halt: Callable[[BatchResult], bool] = lambda answer: answer.stop is not None,
    ) -> BatchResult:
        """``calls``: (the envelopes a call answers for, the call). One result per
        envelope, in the order of the calls; ``stop`` from the first call that stopped.
        After an answer for which ``halt`` is true, calls not yet started are ``unsent``.
        ``calls`` is consumed in this thread, each submitted as soon as it is produced: a
        generator that builds a request body there overlaps building the next with the
        calls in flight, and keeps the large bodies out of the threads' own heaps."""
        halted = threading.Event()

        def one(envelopes: Sequence[Envelope], call: Callable[[], BatchResult]) -> BatchResult:
            if halted.is_set():
                return BatchResult([MessageResult(e.key, Result.UNSENT) for e in envelopes])
            answer = call()
            if halt(answer):
                halted.set()
            return answer

        if self.concurrency == 1:
            answers = [one(envelopes, call) for envelopes, call in calls]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix=self.name)
            futures = [self._pool.submit(one, envelopes, call) for envelopes, call in calls]
            answers = [future.result() for future in futures]
        batch = BatchResult()
        for answer in answers:
            batch.results += answer.results
            batch.stop = batch.stop or answer.stop
        return batch

    def close(self) -> None:
        """Stop the threads (calls in flight finish first)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def plan_calls(
    envelopes: Sequence[Envelope], size: int, *, one_per_address: bool = False
) -> list[list[Envelope]]:
    """``envelopes`` in calls of at most ``size``, each call of one content (variant) and
    one campaign, so that a batch API renders it once; envelopes without content (single
    messages) are grouped apart. With ``one_per_address``, an address appears once per
    call (recipient variables are keyed by address). Order is kept within each call."""
    groups: dict[tuple[int, str], list[Envelope]] = {}
    for envelope in envelopes:
        content = id(envelope.content) if envelope.fields else 0
        groups.setdefault((content, envelope.campaign), []).append(envelope)
    calls: list[list[Envelope]] = []
    for members in groups.values():
        current: list[Envelope] = []
        seen: set[str] = set()
        for envelope in members:
            address = envelope.recipient.lower()
            if len(current) >= size or (one_per_address and address in seen):
                calls.append(current)
                current, seen = [], set()
            current.append(envelope)
            seen.add(address)
        if current:
            calls.append(current)
    return calls


def in_order(envelopes: Sequence[Envelope], batch: BatchResult) -> BatchResult:
    """``batch``'s results put back in the order of ``envelopes``."""
    by_key = {r.key: r for r in batch.results}
    return BatchResult([by_key[e.key] for e in envelopes], stop=batch.stop)


def display(name: str, address: str) -> str:
    """``"Name" <address>`` (a quoted-string, RFC 5322 section 3.2.4, with ``"`` and ``\\``
    escaped), or the bare address without a name. The APIs taking one string for an
    address encode a non-ASCII name themselves; the exact text goes, never encoded-words."""
    if not name:
        return address
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def json_array(items: Sequence[Sequence[bytes]]) -> bytes:
    """A JSON array (UTF-8) of ``items``, each given as the pieces of its JSON: one join
    for the whole request body."""
    parts: list[bytes] = [b"["]
    for index, pieces in enumerate(items):
        if index:
            parts.append(b",")
        parts += pieces
    parts.append(b"]")
    return b"".join(parts)


def prepare_batch(
    part: Sequence[Envelope],
    build: Callable[[Envelope], Any],
    invalid: type[Exception],
    join: Callable[[list[Any]], bytes],
    call: Callable[[bytes, list[Envelope]], BatchResult],
) -> Callable[[], BatchResult]:
    """Build one batch call's body now (``build`` per envelope, raising ``invalid`` fails
    that message alone; ``join`` makes the body) and return the call, which sends it with
    ``call`` and answers one result per envelope of ``part``, in order."""
    bodies: list[Any] = []
    built: list[Envelope] = []
    failed: dict[int, MessageResult] = {}
    for envelope in part:
        try:
            bodies.append(build(envelope))
            built.append(envelope)
        except invalid as exc:
            failed[envelope.key] = MessageResult(envelope.key, Result.FAILED, detail=str(exc))
    body = join(bodies) if bodies else None
    del bodies

    def send() -> BatchResult:
        results = dict(failed)
        stop = None
        if body is not None:
            answer = call(body, built)
            results.update({r.key: r for r in answer.results})
            stop = answer.stop
        return BatchResult([results[e.key] for e in part], stop=stop)

    return send
