"""Local stand-ins for the HTTP mail providers: real HTTP on 127.0.0.1, one server per
provider, answering each documented request as the provider does after a fixed latency,
counting calls and recipients.

``serve(provider, latency)`` starts one in a thread and returns ``(url, stop, counters)``;
the URL is the provider's API base (``NEWSLETTER_<NAME>_API_URL`` or
``NEWSLETTER_SES_ENDPOINT_URL``). A threaded server answers concurrent calls at once, so
that calls in flight overlap as they would at the provider.

``expand(provider, call)`` turns one request into the messages the provider would deliver,
filling in each recipient's values as the provider documents (Mailgun's
``recipient-variables``, SendGrid's ``substitutions`` and per-personalization ``headers``),
so that tests can check what every reader receives. The servers only count (expanding a
batch of 1,000 costs more CPU than the send being measured).

Requests and answers (each provider's API reference):

- ``mailgun``: ``POST /v3/{domain}/messages`` (multipart form, ``to`` once per recipient,
  at most 1,000) or ``/messages.mime``; ``200 {"id", "message": "Queued. Thank you."}``.
- ``sendgrid``: ``POST /v3/mail/send`` (JSON, at most 1,000 ``personalizations``);
  ``202`` with an empty body and ``X-Message-Id``.
- ``postmark``: ``POST /email/batch`` (JSON array, at most 500); ``200`` with one
  ``{"ErrorCode": 0, "Message": "OK", "MessageID", "SubmittedAt", "To"}`` per message.
- ``resend``: ``POST /emails/batch`` (JSON array, at most 100); ``200 {"data": [{"id"}]}``.
- ``ses``: ``POST /v2/email/outbound-emails`` (SES v2 ``SendEmail``, one message);
  ``200 {"MessageId"}``. The SigV4 signature is not checked here (tests use moto for that).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROVIDERS = ("mailgun", "sendgrid", "postmark", "resend", "ses")
#: The path of each provider's sending endpoint (Mailgun's after ``/v3/{domain}``).
PATHS = {
    "mailgun": re.compile(r"/v3/[^/]+/messages(\.mime)?"),
    "sendgrid": re.compile(r"/v3/mail/send"),
    "postmark": re.compile(r"/email/batch"),
    "resend": re.compile(r"/emails/batch"),
    "ses": re.compile(r"/v2/email/outbound-emails"),
}
#: Recipients per call each API takes at most.
LIMITS = {"mailgun": 1000, "sendgrid": 1000, "postmark": 500, "resend": 100, "ses": 50}


@dataclass
class Counters:
    """What a stand-in received: ``calls`` (requests answered 2xx), ``recipients`` (in
    them), ``in_flight_max`` (the most calls it was answering at once), ``refused`` (calls
    answered 4xx: a request the API would refuse)."""

    calls: int = 0
    recipients: int = 0
    in_flight_max: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self._in_flight)

    def leave(self, recipients: int, problem: str | None) -> None:
        with self._lock:
            self._in_flight -= 1
            if problem:
                self.refused += 1
                if len(self.problems) < 20:
                    self.problems.append(problem)
            else:
                self.calls += 1
                self.recipients += recipients


@dataclass(frozen=True)
class Call:
    """One request as a stand-in sees it: ``path``, ``headers`` (names lower case) and
    the raw ``body``."""

    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Delivered:
    """One message as the provider would deliver it: the recipient's ``address`` and
    display ``name``, the ``sender`` ``(name, address)``, ``subject``, ``text``, ``html``
    and the extra ``headers`` (name -> value)."""

    address: str
    name: str
    sender: tuple[str, str]
    subject: str
    text: str | None
    html: str | None
    headers: dict[str, str]


def _form(call: Call) -> list[tuple[str, str]]:
    """The fields of a ``multipart/form-data`` body, in order (files as text)."""
    content_type = call.headers.get("content-type", "")
    form = message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + call.body, policy=policy.default
    )
    fields = []
    for part in form.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload(0)
            fields.append((name, inner.as_string() if hasattr(inner, "as_string") else ""))
            continue
        payload = part.get_payload(decode=True)
        fields.append((name, payload.decode("utf-8") if isinstance(payload, bytes) else ""))
    return fields


def count(provider: str, call: Call) -> int:
    """Recipients in one request, read cheaply (no expansion); raises ``ValueError`` when
    the body is not the provider's documented shape."""
    if provider == "mailgun":
        return max(1, call.body.count(b'name="to"'))
    body = json.loads(call.body)
    if provider == "sendgrid":
        return sum(len(p["to"]) for p in body["personalizations"])
    if provider in ("postmark", "resend"):
        if not isinstance(body, list):
            raise ValueError("a batch is a JSON array")
        return len(body)
    return len(body["Destination"]["ToAddresses"])


def _mailgun_fill(text: str, values: Mapping[str, Any]) -> str:
    return re.sub(r"%recipient\.([A-Za-z0-9_]+)%", lambda m: str(values[m[1]]), text)


def _raw(text: str) -> EmailMessage:
    message = message_from_bytes(text.encode("utf-8"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _from_raw(message: EmailMessage, address: str) -> Delivered:
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    to = message["To"].addresses[0] if message["To"] else None
    sender = message["From"].addresses[0]
    return Delivered(
        address=address,
        name=to.display_name if to else "",
        sender=(sender.display_name, sender.addr_spec),
        subject=str(message["Subject"]),
        text=text.get_content() if text is not None else None,
        html=html.get_content() if html is not None else None,
        headers={k: " ".join(str(v).split()) for k, v in message.items()},
    )


def expand(provider: str, call: Call) -> list[Delivered]:
    """The messages ``call`` asks ``provider`` to deliver, each recipient's values filled
    in as the provider documents. Raises ``KeyError``/``ValueError`` for a request the API
    would refuse (a missing field, a recipient without its variables)."""
    if provider == "mailgun":
        fields = _form(call)
        if call.path.endswith(".mime"):
            to = next(v for k, v in fields if k == "to")
            return [_from_raw(_raw(next(v for k, v in fields if k == "message")), to)]
        single = {k: v for k, v in fields}
        variables = json.loads(single["recipient-variables"])
        sender = parseaddr(single["from"])
        out = []
        for name, value in fields:
            if name != "to":
                continue
            display, address = parseaddr(value)
            values = variables[address]  # Mailgun: every recipient has its variables
            headers = {k[2:]: _mailgun_fill(v, values) for k, v in fields if k.startswith("h:")}
            out.append(
                Delivered(
                    address,
                    display,
                    sender,
                    _mailgun_fill(single["subject"], values),
                    _mailgun_fill(single["text"], values) if "text" in single else None,
                    _mailgun_fill(single["html"], values) if "html" in single else None,
                    headers,
                )
            )
        return out
    body = json.loads(call.body)
    if provider == "sendgrid":
        content = {c["type"]: c["value"] for c in body["content"]}
        sender = (body["from"].get("name", ""), body["from"]["email"])
        out = []
        for personalization in body["personalizations"]:
            substitutions: dict[str, str] = personalization.get("substitutions", {})

            def fill(text: str, table: dict[str, str] = substitutions) -> str:
                for key, value in table.items():
                    text = text.replace(key, value)
                return text

            for to in personalization["to"]:
                out.append(
                    Delivered(
                        to["email"],
                        to.get("name", ""),
                        sender,
                        fill(personalization.get("subject", body["subject"])),
                        fill(content["text/plain"]) if "text/plain" in content else None,
                        fill(content["text/html"]) if "text/html" in content else None,
                        dict(personalization.get("headers", {})),
                    )
                )
        return out
    if provider == "postmark":
        out = []
        for message in body:
            name, address = parseaddr(message["To"])
            out.append(
                Delivered(
                    address,
                    name,
                    parseaddr(message["From"]),
                    message["Subject"],
                    message.get("TextBody"),
                    message.get("HtmlBody"),
                    {h["Name"]: h["Value"] for h in message.get("Headers", [])},
                )
            )
        return out
    if provider == "resend":
        out = []
        for email in body:
            for to in email["to"]:
                name, address = parseaddr(to)
                out.append(
                    Delivered(
                        address,
                        name,
                        parseaddr(email["from"]),
                        email["subject"],
                        email.get("text"),
                        email.get("html"),
                        dict(email.get("headers", {})),
                    )
                )
        return out
    import base64

    raw = base64.b64decode(body["Content"]["Raw"]["Data"]).decode("utf-8")
    return [_from_raw(_raw(raw), body["Destination"]["ToAddresses"][0])]


def answer(provider: str, call: Call, recipients: int) -> tuple[int, dict[str, str], bytes]:
    """The provider's documented answer to an accepted ``call``: status, headers, body."""
    if provider == "mailgun":
        body = {"id": f"<{uuid.uuid4().hex}@standin.mailgun>", "message": "Queued. Thank you."}
        return 200, {}, json.dumps(body).encode()
    if provider == "sendgrid":
        return 202, {"X-Message-Id": uuid.uuid4().hex[:22]}, b""
    if provider == "postmark":
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        items = [
            {"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4()),
             "SubmittedAt": now, "To": ""}
            for _ in range(recipients)
        ]  # fmt: skip
        return 200, {}, json.dumps(items).encode()
    if provider == "resend":
        data = [{"id": str(uuid.uuid4())} for _ in range(recipients)]
        return 200, {}, json.dumps({"data": data}).encode()
    return 200, {}, json.dumps({"MessageId": uuid.uuid4().hex}).encode()


def _handler(
    provider: str, latency: float, counters: Counters, check: Callable[[Call], None] | None
) -> type[BaseHTTPRequestHandler]:
    path_pattern = PATHS[provider]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the providers' APIs
        disable_nagle_algorithm = True  # headers and body leave at once

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a bench prints its own table."""

        def do_POST(self) -> None:
            counters.enter()
            length = int(self.headers.get("Content-Length", "0"))
            call = Call(
                self.path.split("?", 1)[0],
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            started = time.monotonic()
            problem, recipients = None, 0
            try:
                if not path_pattern.fullmatch(call.path):
                    raise ValueError(f"unknown path {call.path}")
                recipients = count(provider, call)
                if not 0 < recipients <= LIMITS[provider]:
                    raise ValueError(f"{recipients} recipients in one call")
                if check is not None:
                    check(call)
            except (ValueError, KeyError, TypeError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            time.sleep(max(0.0, latency - (time.monotonic() - started)))
            if problem:
                status, headers, body = 400, {}, json.dumps({"message": problem}).encode()
            else:
                status, headers, body = answer(provider, call, recipients)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            counters.leave(recipients, problem)

    return Handler


def serve(
    provider: str, latency: float = 0.05, *, check: Callable[[Call], None] | None = None
) -> tuple[str, Callable[[], None], Counters]:
    """Start the stand-in of ``provider`` (one of :data:`PROVIDERS`) on a free port of
    127.0.0.1, answering each call ``latency`` seconds after it arrived; ``check`` may
    inspect each call (raise ``ValueError`` to refuse it with a 400). Returns the API base
    URL, a function that stops the server, and its :class:`Counters`."""
    if provider not in PATHS:
        raise ValueError(f"no stand-in for {provider!r}: one of {', '.join(PROVIDERS)}")
    counters = Counters()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider, latency, counters, check))
    server.daemon_threads = True
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, name=f"standin-{provider}", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}", stop, counters


if __name__ == "__main__":  # python -m benchmarks.standins mailgun 0.05: serve until ^C
    import sys

    url, stop, counters = serve(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.05)
    print(url, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        stop()
        print(counters)
