"""Email that lands and reads well: a full edition sent over real SMTP, checked by real
tools (dkimpy, SpamAssassin, headless Chromium, caniemail's support data)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from lxml import html as lxml_html

from newsletter.config.settings import load_settings
from newsletter.store.db import make_engine
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App
from tests.conftest import ROOT, RecordingHandler, isolate, running_smtp_server

DAY_ISO = "2026-03-25"
ARTIFACTS = ROOT / "test-artifacts"
CANIEMAIL = ROOT / ".cache" / "caniemail" / "node_modules" / "caniemail" / "data" / "caniemail.json"
IN_CI = bool(os.environ.get("CI"))


def tool(name: str) -> str:
    """The path of a command-line tool; skips outside CI when absent, fails in CI (where
    .ci/run installs it)."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is missing: .ci/run should have installed it")
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A fresh 2048-bit RSA key (openssl) and its DNS TXT record, one per test module."""
    openssl = tool("openssl")
    key = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    subprocess.run([openssl, "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        [openssl, "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture(scope="module")
def sent(
    tmp_path_factory: pytest.TempPathFactory, dkim_key: tuple[Path, bytes]
) -> Iterator[tuple[list[bytes], App]]:
    """The sample day's edition sent over SMTP to three readers, as configured in production.
    Sent once for the module (the tests only read the messages), in its own environment."""
    tmp_path = tmp_path_factory.mktemp("sent")
    with running_smtp_server() as (handler, port), pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, tmp_path)
        yield send_the_sample_day(tmp_path, monkeypatch, handler, port, dkim_key)


def send_the_sample_day(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    handler: RecordingHandler,
    port: int,
    dkim_key: tuple[Path, bytes],
) -> tuple[list[bytes], App]:
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'q.db'}")
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://brief.example.ma")
    monkeypatch.setenv("NEWSLETTER_PROVIDER", "smtp")
    monkeypatch.setenv("NEWSLETTER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSLETTER_SMTP_PORT", str(port))
    monkeypatch.setenv("NEWSLETTER_UNSUBSCRIBE_MAILTO", "unsubscribe@example.ma")
    monkeypatch.setenv("NEWSLETTER_FEEDBACK_ID", "lebrief")
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "brief")
    monkeypatch.setenv("NEWSLETTER_DKIM_PRIVATE_KEY", str(dkim_key[0]))
    settings = load_settings()
    app = App(settings, engine=make_engine(settings.effective_database_url))
    app.init_db()
    from datetime import date

    day = date.fromisoformat(DAY_ISO)
    app.ingest.sample(day)
    with app.sessions.begin() as session:
        for email, name in [
            ("helene@example.org", "Hélène Benjelloun"),
            ("youssef@example.org", "Youssef El Amrani"),
            ("zineb@example.org", None),
        ]:
            add_subscriber(session, SubscriberRecord(email, name=name), source="test")
    result = app.release.send(day)
    assert result.run.sent == 3
    return [received.data for received in handler.messages], app


REQUIRED_HEADERS = (
    "Date", "Message-ID", "From", "To", "Subject", "MIME-Version", "List-Id", "List-Unsubscribe",
    "List-Unsubscribe-Post", "Feedback-ID", "DKIM-Signature",
)  # fmt: skip
SIGNED = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
)


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def assert_headers(raw: bytes, dkim_public: bytes) -> EmailMessage:
    """Every header check a sent edition passes (CRLF, line lengths, the required headers,
    one unencoded List-Unsubscribe with its mailto, RFC 8058, Feedback-ID, DKIM); returns
    the parsed message. Shared with the text-only format's test."""
    assert b"\r\n" in raw and not re.search(rb"(?<!\r)\n", raw), "bare LF"
    head, body = raw.split(b"\r\n\r\n", 1)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert all(len(line) <= 76 for line in body.split(b"\r\n")), "QP line over 76"
    message = parse(raw)
    for name in REQUIRED_HEADERS:
        assert message[name], name
    assert message["Message-ID"].endswith("@example.ma>")
    unsubscribe_lines = [
        line for line in head.split(b"\r\n") if line.lower().startswith(b"list-unsubscribe:")
    ]
    assert len(unsubscribe_lines) == 1 and b"=?" not in head.split(b"List-Unsubscribe:")[1][:200]
    value = str(message["List-Unsubscribe"])
    https, mailto = re.findall(r"<([^>]+)>", value)
    assert https.startswith("https://brief.example.ma/u/") and len(https) < 100
    token = https.rsplit("/", 1)[1]
    assert mailto == f"mailto:unsubscribe@example.ma?subject=unsubscribe-{token}"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"20260325:brief\.example\.ma:edition:lebrief", str(message["Feedback-ID"]))
    signed = message["DKIM-Signature"]
    for header in SIGNED:
        assert header in re.sub(r"\s", "", signed.split("h=")[1].split(";")[0]).split(":")
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: dkim_public)
    assert not dkim.verify(
        raw.replace(b"Subject:", b"Subject: X", 1), dnsfunc=lambda n, timeout=5: dkim_public
    )
    return message


def test_headers_body_and_dkim(sent: tuple[list[bytes], App], dkim_key: tuple[Path, bytes]) -> None:
    messages, _ = sent
    for raw in messages:
        message = assert_headers(raw, dkim_key[1])
        text, html = (part.get_content() for part in message.get_payload())
        assert "https://brief.example.ma/r/" in html and "https://brief.example.ma/r/" in text
        assert "/u/" in html and "utm_" not in re.search(r'href="([^"]*/u/[^"]*)"', html)[1]


def spamassassin_score(raw: bytes) -> tuple[float, dict[str, float]]:
    result = subprocess.run(
        [tool("spamassassin"), "-L", "-t"], input=raw, capture_output=True, timeout=120
    )
    report = result.stdout.decode("utf-8", "replace")
    score = float(re.search(r"X-Spam-Status: \w+, score=(-?[\d.]+)", report)[1])
    hits = {
        name: float(points)
        for points, name in re.findall(r"^\s*(-?\d+\.\d+)\s+([A-Z0-9_]+)\s", report, flags=re.M)
    }
    return score, hits


#: SpamAssassin rules that misfire on ordinary French: FUZZY_CREDIT's obfuscated-"t" class
#: includes the byte 0xC3 that starts UTF-8 "à", so "mercredi à" reads as "credit".
FRENCH_FALSE_POSITIVES = {"FUZZY_CREDIT"}


def test_spamassassin_scores_a_full_edition_below_one(sent: tuple[list[bytes], App]) -> None:
    messages, _ = sent
    with ThreadPoolExecutor() as pool:  # one SpamAssassin process per message, in parallel
        scores = list(pool.map(spamassassin_score, messages))
    for score, hits in scores:
        misfires = sum(points for name, points in hits.items() if name in FRENCH_FALSE_POSITIVES)
        assert score < 5.0 and score - misfires < 1.0, hits


def fill(raw: bytes) -> str:
    return parse(raw).get_payload()[1].get_content()


@pytest.mark.parametrize("width", [375, 600])
def test_chromium_renders_without_horizontal_overflow(
    sent: tuple[list[bytes], App], width: int, tmp_path: Path
) -> None:
    chromium = tool("chromium")
    html = fill(sent[0][0])
    probe = html.replace(
        "</body>",
        "<script>document.body.setAttribute('data-overflow',"
        " String(document.documentElement.scrollWidth - window.innerWidth));</script></body>",
    )
    page = tmp_path / "edition.html"
    page.write_text(probe, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
             f"--window-size={width},2000"]  # fmt: skip
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    overflow = re.search(r'data-overflow="(-?\d+)"', dom)
    assert overflow, "the page did not load"
    assert int(overflow[1]) <= 0, f"{overflow[1]} px of horizontal overflow at {width} px"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"edition-{width}px.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    assert shot.is_file() and shot.stat().st_size > 10_000


#: CSS that Gmail (webmail) or Outlook for Windows ignore, allowed only where the layout does
#: not depend on it, with the reason.
ENHANCEMENTS = {
    "max-height": "hides the preheader; Outlook hides it with mso-hide instead",
    "opacity": "hides the preheader; Outlook hides it with mso-hide instead",
    "overflow": "hides the preheader; Outlook hides it with mso-hide instead",
}


def test_inline_css_that_gmail_or_outlook_ignore_is_only_enhancement(
    sent: tuple[list[bytes], App],
) -> None:
    if not CANIEMAIL.is_file():
        if IN_CI:
            pytest.fail("caniemail data missing: `make test` installs it with npm")
        pytest.skip("caniemail data missing (make test installs it with npm)")
    features = {f["slug"]: f for f in json.loads(CANIEMAIL.read_text())["data"]}

    def latest(slug: str, client: str, platform: str) -> str:
        versions = features.get(slug, {}).get("stats", {}).get(client, {}).get(platform, {})
        return versions[sorted(versions)[-1]] if versions else "?"

    document = lxml_html.fromstring(fill(sent[0][0]))
    used: set[str] = set()
    for element in document.iter():
        if isinstance(element.tag, str) and element.get("style"):
            for declaration in element.get("style").split(";"):
                if ":" in declaration:
                    name, value = (part.strip().lower() for part in declaration.split(":", 1))
                    if not name.startswith(("mso-", "-webkit-", "-ms-")):
                        used.add(
                            "css-display-none"
                            if (name, value) == ("display", "none")
                            else f"css-{name}"
                        )
    assert "css-padding" in used and "css-font-size" in used  # the check sees real styles
    ignored = {
        slug.removeprefix("css-")
        for slug in used
        if latest(slug, "gmail", "desktop-webmail").startswith("n")
        or latest(slug, "outlook", "windows").startswith("n")
    }
    assert ignored <= set(ENHANCEMENTS), ignored - set(ENHANCEMENTS)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of #rrggbb."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_have_sufficient_contrast_and_the_document_is_accessible(
    sent: tuple[list[bytes], App],
) -> None:
    html = fill(sent[0][0])
    document = lxml_html.fromstring(html)
    inline = {
        colour
        for element in document.iter()
        if isinstance(element.tag, str)
        for colour in re.findall(
            r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", element.get("style") or ""
        )
    }
    assert inline
    for colour in inline:  # WCAG AA for body text: 4.5:1 on the white sheet
        assert contrast(colour, "#ffffff") >= 4.5, colour
    dark = re.search(r"prefers-color-scheme: dark\)\s*\{(.*?)\}\s*\}", html, flags=re.S)
    assert dark
    for colour in re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", dark[1]):
        assert contrast(colour, "#1e1e1e") >= 4.5, colour  # on the dark sheet
    assert document.get("lang") == "fr" and document.get("dir") == "ltr"
    tables = document.findall(".//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert all(img.get("alt") is not None for img in document.findall(".//img"))
    assert "<!--[if mso]>" in html and "!important" in html  # Outlook blocks, media queries
