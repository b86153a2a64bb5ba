"""Render: headers that round-trip, quoted-printable that stays exact, one inlining per
edition, and personalised messages that parse as real clients parse them."""

from __future__ import annotations

import quopri
import random
import re
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from newsletter.render import edition as render_module
from newsletter.render.edition import Identity, RenderEdition, RenderItem, render_edition
from newsletter.render.headers import address_line, clean, header_line
from newsletter.render.mime import SOFT_BREAK, Personal, encode_value, qp_encode
from newsletter.render.templates import french_typography

IDENTITY = Identity(
    title="Le Brief", sender_name="Le Brief", sender_address="newsletter@example.ma",
    postal_address="Le Brief, 1 rue de l'Exemple, Casablanca", list_id="brief.example.ma",
)  # fmt: skip
WORDS = ["Économie", "été", "ça", "l’État", "« réforme »", "Maroc", "à", "déjà", "Noël", "œuvre",
         "naïve", ":", "?", "!", "—", "2,5 %", "Aït", "Bourse", "Hélène", "=?utf-8?q?x?=", "_",
         "a" * 90, "", "été\u00a0:", "🇲🇦", "مرحبا"]  # fmt: skip


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_thousands_of_french_subjects_round_trip_exactly() -> None:
    rng = random.Random(2026)
    for _ in range(3000):
        subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 18)))
        line = header_line("Subject", subject)
        assert all(len(part) <= 78 for part in line.split("\r\n")), line
        message = parse(f"{line}\r\nTo: a@example.org\r\n\r\nx".encode())
        assert str(message["Subject"]) == clean(subject), line


def test_no_cr_or_lf_reaches_a_header() -> None:
    evil = "Titre\r\nBcc: victim@example.org\nX-Injected: 1"
    line = header_line("Subject", evil)
    message = parse(f"{line}\r\n\r\nbody".encode())
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "Bcc: victim" in str(message["Subject"])
    to = address_line("To", "Eve\r\nBcc: x@example.org", "eve@example.org")
    assert parse(f"{to}\r\n\r\nx".encode())["Bcc"] is None
    with pytest.raises(ValueError):
        address_line("To", None, "a@example.org>\r\nBcc: x@example.org")


def test_display_names_round_trip() -> None:
    for name in ["Hélène Benjelloun", 'Le "Brief"', "Zineb Aït Ali", "Plain Name", "O'Brien, Jr."]:
        message = parse(f"{address_line('To', name, 'h@example.org')}\r\n\r\nx".encode())
        address = message["To"].addresses[0]
        assert (address.display_name, address.addr_spec) == (name, "h@example.org")


def test_quoted_printable_is_exact_and_short() -> None:
    rng = random.Random(7)
    for _ in range(300):
        pieces = ["é", " ", "=", "a", "\n", "—", "\t", ".", "x" * 30, " \n", "\r\n", "🇲🇦"]
        text = "".join(rng.choice(pieces) for _ in range(200))
        encoded = qp_encode(text)
        assert all(len(line) <= 76 for line in encoded.split(b"\r\n")), encoded
        decoded = quopri.decodestring(encoded).decode("utf-8").replace("\r\n", "\n")
        assert decoded == text.replace("\r\n", "\n")


def test_a_substituted_value_decodes_exactly_between_soft_breaks() -> None:
    """Values skip the encoder when quoted-printable would leave them as they are (URLs,
    tokens); either way, framed by soft breaks after a full line, they decode to
    themselves in lines of at most 76 characters."""
    rng = random.Random(11)
    alphabet = ["a", "Z", "9", "/", ":", "?", "&", "%", "-", "_", ".", "~", "=", " ", "é", "\t"]
    values = ["", "https://brief.example.ma/u/" + "A" * 48, "x" * 75, "x" * 76, "y" * 300]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 220)))
               for _ in range(300)]  # fmt: skip
    for value in values:
        encoded = b"a" * 75 + SOFT_BREAK + encode_value(value) + SOFT_BREAK + b"end"
        assert all(len(line) <= 76 for line in encoded.split(b"\r\n")), value
        assert quopri.decodestring(encoded).decode("utf-8") == "a" * 75 + value + "end"
        if re.fullmatch(r"[!-<>-~]+", value):  # the literal path: only cut into lines
            assert encode_value(value).replace(SOFT_BREAK, b"") == value.encode()


def sample_edition(items: int = 12) -> RenderEdition:
    sections = ["politique", "economie", "sport", "culture", "mystere"]
    return RenderEdition(
        day=date(2026, 3, 25),
        subject="Le Maroc et l’Union européenne : « un nouveau cap » ?",
        preheader="Aussi : la Bourse, le Raja et le festival",
        reading_seconds=290,
        items=[
            RenderItem(
                title=f"Titre {n} : l’été & la <réforme> ?",
                url=f"https://www.example.ma/article-{n}.html?a=1&b=2",
                summary="Résumé en français, avec des accents : été, ça, où. " * 3,
                section=sections[n % len(sections)],
                source_name="TelQuel",
            )
            for n in range(items)
        ],
        view_url="https://brief.example.ma/editions/2026-03-25",
    )


def personal(n: int, email: str = "hélène@example.org") -> Personal:
    return Personal(
        to_line=address_line("To", "Hélène B.", f"user{n}@example.org"),
        message_id=f"<m{n}@example.ma>",
        date="Wed, 25 Mar 2026 07:00:00 +0000",
        list_unsubscribe=f"<https://brief.example.ma/u/TOKEN{n}>",
        values={
            "email": f"user{n}@example.org",
            "unsubscribe_url": f"https://brief.example.ma/u/TOKEN{n}?x=1&y=2",
            "preferences_url": f"https://brief.example.ma/p/PREF{n}",
        },
    )


def test_premailer_runs_once_per_edition_not_per_subscriber(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = render_module.inline_css
    monkeypatch.setattr(render_module, "inline_css", lambda markup: calls.append(1) or real(markup))
    rendered = render_edition(sample_edition(), IDENTITY)
    messages = [rendered.message.personalise(personal(n)) for n in range(50)]
    assert len(calls) == 1 and len(set(messages)) == 50


def test_personalised_message_is_correct_mime() -> None:
    rendered = render_edition(sample_edition(), IDENTITY)
    raw = rendered.message.personalise(personal(7))
    assert b"\r\n" in raw and not re.search(rb"(?<!\r)\n", raw), "bare LF"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998
    body_lines = raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
    assert all(len(line) <= 76 for line in body_lines), max(body_lines, key=len)
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert str(message["Subject"]) == "Le Maroc et l’Union européenne : « un nouveau cap » ?"
    assert message["To"].addresses[0].display_name == "Hélène B."
    assert message["List-Unsubscribe"] == "<https://brief.example.ma/u/TOKEN7>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Le Brief <brief.example.ma>"
    text_part, html_part = message.get_payload()
    assert (
        text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    )
    assert text_part["Content-Transfer-Encoding"] == "quoted-printable"
    text, html = text_part.get_content(), html_part.get_content()
    assert "https://brief.example.ma/u/TOKEN7?x=1&y=2" in text
    assert 'href="https://brief.example.ma/u/TOKEN7?x=1&amp;y=2"' in html
    assert "user7@example.org" in text and "user7@example.org" in html
    assert rendered.prefix not in text and rendered.prefix not in html
    assert "Titre 3\u00a0: l’été &amp; la &lt;réforme&gt;\u202f?" in html
    assert "https://www.example.ma/article-3.html?a=1&b=2" in text
    for n in range(12):
        assert f"article-{n}.html" in text and f"article-{n}.html" in html
    assert 'style="' in html and "<style" in html and "@media" in html  # inlined, media kept
    assert '<html lang="fr" dir="ltr"' in html and 'role="presentation"' in html
    assert "<!--[if mso]>" in html


def test_largest_edition_stays_under_gmail_clipping() -> None:
    """The most an edition holds (30 items, compose's cap) with 300-character titles, full
    summaries, 320-character links and two other sources each stays under 100,000 bytes."""

    def link(kind: str, n: int) -> str:
        return f"https://www.example.ma/{kind * 230}{n}?utm_source=newsletter&utm_medium=email"

    largest = RenderEdition(
        day=date(2026, 3, 25),
        subject="s",
        preheader="p",
        reading_seconds=300,
        items=[
            RenderItem(
                title=("Titre très long " * 19)[:300],
                url=link("a", n),
                summary=("Résumé assez long. " * 20)[:320],
                section=["politique", "economie", "sport", "culture", "monde", "societe"][n % 6],
                source_name="Source au nom long",
                also=(("Le Monde", link("b", n)), ("France 24", link("c", n))),
            )
            for n in range(30)
        ],
        view_url="https://brief.example.ma/editions/2026-03-25",
    )
    rendered = render_edition(largest, IDENTITY)
    assert 80_000 < rendered.html_bytes < render_module.HTML_BUDGET_BYTES
    assert not rendered.warnings
    bigger = RenderEdition(**{**largest.__dict__, "items": largest.items * 2})
    assert render_edition(bigger, IDENTITY).warnings  # the preview would warn the editor


def test_french_typography_never_inserts_or_touches_urls() -> None:
    assert (
        french_typography("Titre : sous-titre ; vraiment ? oui !")
        == "Titre\u00a0: sous-titre\u202f; vraiment\u202f? oui\u202f!"
    )
    assert french_typography("https://example.ma/a?b=1 10:30") == "https://example.ma/a?b=1 10:30"
    assert french_typography("« Non »") == "«\u202fNon\u202f»"


@pytest.mark.parametrize(
    ("language", "dateline"),
    [("fr", "Temps de lecture\u00a0: 5 min"), ("en", "Reading time: 5 min")],
)
def test_the_dateline_follows_each_language_s_punctuation(language: str, dateline: str) -> None:
    """French puts a no-break space before a colon, English none."""
    from dataclasses import replace

    rendered = render_edition(sample_edition(), replace(IDENTITY, language=language))
    assert dateline.replace("\u00a0", " ") in rendered.text  # plain text: plain spaces
    assert dateline in rendered.html or dateline.replace("\u00a0", "&nbsp;") in rendered.html
