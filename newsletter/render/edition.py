"""Render an edition into its HTML and text parts and a prepared message, once.

premailer inlines the CSS once per edition variant. Per-subscriber values are placeholders
(``<prefix>_<field>``: letters, digits and underscores only, which premailer leaves alone and
never URL-encodes) substituted later into prepared bytes (:mod:`newsletter.render.mime`).
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import premailer

from newsletter import words
from newsletter.render.direction import item_direction
from newsletter.render.headers import address_line, header_line
from newsletter.render.mime import PreparedMessage
from newsletter.render.templates import environment
from newsletter.render.textonly import PreparedTextMessage
from newsletter.textutil import strip_bidi_controls
from newsletter.words import Phrase

#: Gmail clips messages whose HTML exceeds about 102 KB (Google's "Gmail message clipping"
#: help); we keep a margin.
GMAIL_CLIP_BYTES = 102_000
HTML_BUDGET_BYTES = 100_000
#: The per-subscriber fields every template may use.
PERSONAL_FIELDS = ("email", "unsubscribe_url", "preferences_url")
#: The per-recipient field of click links that name the reader (``NEWSLETTER_TRACK_READERS``):
#: the reader's signed token, empty in previews (the click then counts in aggregate only).
READER_FIELD = "reader"


@dataclass(frozen=True)
class RenderItem:
    """An item as templates show it (plain text; URLs absolute)."""

    title: str
    url: str
    summary: str
    section: str | None
    source_name: str | None = None
    also: tuple[tuple[str, str], ...] = ()  # other sources of the story: (name, url)
    category: str | None = None  # the source's category label, for a section we do not know
    language: str | None = None  # BCP 47 tag of the article, when known

    @property
    def dir(self) -> str:
        """The ``dir`` of the item's title and summary (``rtl``, ``ltr`` or ``auto``):
        see :func:`newsletter.render.direction.item_direction`."""
        return item_direction(self.language, self.title, self.summary)

    def without_bidi_controls(self) -> RenderItem:
        """The item with no explicit directional formatting character in its texts (a
        feed's U+202E would reverse what follows it: UAX #9; stripped at ingest already,
        and again here for items stored before)."""
        return replace(
            self,
            title=strip_bidi_controls(self.title),
            summary=strip_bidi_controls(self.summary),
            source_name=strip_bidi_controls(self.source_name) if self.source_name else None,
            also=tuple((strip_bidi_controls(name), url) for name, url in self.also),
        )


@dataclass(frozen=True)
class RenderEdition:
    """What the templates need of an edition, independent of the store."""

    day: date
    subject: str
    preheader: str
    reading_seconds: float
    items: list[RenderItem]
    view_url: str
    # The items' links are click redirects that also name the reader: each gets
    # ``?r=<reader placeholder>``, filled per recipient (``reader`` in the values).
    reader_links: bool = False


@dataclass(frozen=True)
class Identity:
    """The sender: newsletter title, From display name and address, postal address, list id,
    language of the fixed words (BCP 47)."""

    title: str
    sender_name: str
    sender_address: str
    postal_address: str
    list_id: str
    language: str = "fr"
    feedback_id: str | None = None  # the SenderId part of Gmail's Feedback-ID header
    accent_color: str = "#b3261e"  # "#rrggbb": rules, section titles, links
    logo_url: str | None = None  # an absolute https URL shown instead of the title
    footer_links: tuple[tuple[str, str], ...] = ()  # (label, absolute URL) in the footer
    templates_dir: Path | None = None  # templates here replace the shipped ones


@dataclass
class RenderedEdition:
    """An edition rendered once: final HTML and text with placeholders, and the message."""

    html: str
    text: str
    message: PreparedMessage
    placeholder: re.Pattern[str]
    prefix: str
    warnings: list[str] = field(default_factory=list)  # Phrase: English, keyed for pages
    text_message: PreparedTextMessage | None = None  # for readers who chose "text"

    @property
    def html_bytes(self) -> int:
        """Size of the HTML part in bytes (UTF-8, before transfer encoding)."""
        return len(self.html.encode("utf-8"))

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """HTML and text with ``values`` substituted (for previews, not for sending)."""
        from html import escape

        values = {READER_FIELD: "", **values}
        html_out = self.placeholder.sub(lambda m: escape(values[m[1]], quote=True), self.html)
        text_out = self.placeholder.sub(lambda m: values[m[1]], self.text)
        return html_out, text_out


def _context(
    edition: RenderEdition, identity: Identity, prefix: str, public: bool = False
) -> dict[str, object]:
    language = words.language_of(identity.language)
    labels = words.labels(language)
    personal = {name: f"{prefix}_{name}" for name in PERSONAL_FIELDS}
    items = [item.without_bidi_controls() for item in edition.items]
    lead = items[0] if items else None
    sections: list[dict[str, Any]] = []
    for item in items[1:]:
        title = words.section_title(item.section, language, item.category)
        if not sections or sections[-1]["title"] != title:
            sections.append({"title": title, "items": []})
        sections[-1]["items"].append(item)
    why = labels["why"].format(email=personal["email"], title=identity.title)
    return {
        "lang": identity.language,
        "dir": "rtl" if language in words.RTL_LANGUAGES else "ltr",
        "title": identity.title,
        "subject": edition.subject,
        "preheader": edition.preheader,
        "date_label": words.long_date(edition.day, language),
        "reading_minutes": max(1, math.ceil(edition.reading_seconds / 60)),
        "labels": labels,
        "lead": lead,
        "sections": sections,
        "view_url": edition.view_url,
        "postal_address": identity.postal_address,
        "accent": identity.accent_color,
        "logo_url": identity.logo_url,
        "footer_links": identity.footer_links,
        "why": why,
        "why_text": why,
        "personal": personal,
        "public": public,
    }


def inline_css(markup: str) -> str:
    """premailer's inlining with the options email needs: ``!important`` kept (media
    queries), no network, no base URL (links and placeholders untouched)."""
    inlined: str = premailer.Premailer(
        markup,
        strip_important=False,
        keep_style_tags=False,
        remove_classes=False,
        disable_validation=True,
        allow_network=False,
        cssutils_logging_level=logging.CRITICAL,
    ).transform(pretty_print=False)
    return inlined


def render_edition(
    edition: RenderEdition, identity: Identity, *, public: bool = False
) -> RenderedEdition:
    """Render ``edition`` for ``identity``: templates once, premailer once, MIME once.

    ``public``: the archive's page, without the reader's address or personal links."""
    prefix = f"nl{secrets.token_hex(5)}"
    pattern = re.compile(rf"{prefix}_([a-z_]+)")
    env = environment(identity.templates_dir)
    if edition.reader_links and not public:
        edition = _with_reader(edition, f"{prefix}_{READER_FIELD}")
    context = _context(edition, identity, prefix, public)
    html_raw = env.get_template("email/edition.html.j2").render(context)
    html = inline_css(html_raw)
    text = env.get_template("email/edition.txt.j2").render(context)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    static_headers = [
        address_line("From", identity.sender_name, identity.sender_address),
        header_line("Subject", edition.subject),
        f"List-Id: {_list_id(identity)}",
    ]
    if identity.feedback_id:
        # Gmail's Feedback Loop format: CampaignID:CustomerID:MailType:SenderId.
        static_headers.append(
            f"Feedback-ID: {edition.day:%Y%m%d}:{identity.list_id}:edition:{identity.feedback_id}"
        )
    message = PreparedMessage(static_headers, text, html, pattern)
    warnings: list[str] = []
    size = len(html.encode("utf-8"))
    if size > HTML_BUDGET_BYTES:
        warnings.append(Phrase("problems.html_clipped", size=size, limit=GMAIL_CLIP_BYTES))
    text_message = PreparedTextMessage(static_headers, text, pattern)
    return RenderedEdition(html, text, message, pattern, prefix, warnings, text_message)


def _with_reader(edition: RenderEdition, placeholder: str) -> RenderEdition:
    """``edition`` whose item links carry ``?r=<placeholder>`` (the reader's token)."""

    def link(url: str) -> str:
        return f"{url}?r={placeholder}"

    items = [
        replace(item, url=link(item.url), also=tuple((n, link(u)) for n, u in item.also))
        for item in edition.items
    ]
    return replace(edition, items=items)


def _list_id(identity: Identity) -> str:
    """RFC 2919 List-Id: an optional phrase then the id in angle brackets."""
    phrase = re.sub(r"[^A-Za-z0-9 .'-]", "", identity.title).strip()
    return f"{phrase} <{identity.list_id}>" if phrase else f"<{identity.list_id}>"
