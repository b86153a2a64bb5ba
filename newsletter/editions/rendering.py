"""An edition turned into email: rendered once per variant (templates, CSS inlined, MIME
skeleton), written out for a preview, and the :class:`~newsletter.deliver.worker.Sender`
that personalises each claimed row from those renders (render once, personalise by joins:
no template, no CSS inliner and no ``EmailMessage`` per reader).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from newsletter.compose.edition import SUBJECT_MAX_CHARS, shown_also
from newsletter.compose.headline import clip
from newsletter.config.options import SenderOptions
from newsletter.deliver.worker import Sender
from newsletter.links import Links, with_utm
from newsletter.render.edition import (
    Identity,
    RenderedEdition,
    RenderEdition,
    RenderItem,
    render_edition,
)
from newsletter.render.mime import PreparedMessage
from newsletter.render.textonly import PreparedTextMessage
from newsletter.store.models import Edition, EditionItem

#: A DKIM signing function (message bytes in, signed bytes out), or None when not set up.
Signer = Callable[[bytes], bytes] | None


class Renderer:
    """Renders editions as ``identity`` with ``links``; ``signer`` gives the DKIM signing
    function when a send starts (it raises ``ConfigError`` for a half-set key)."""

    def __init__(
        self,
        links: Links,
        identity: Identity,
        sender: SenderOptions,
        signer: Callable[[], Signer],
    ) -> None:
        self.links, self.identity, self.options, self.signer = links, identity, sender, signer

    def render(
        self, edition: Edition, variant: str = "", *, public: bool = False, direct: bool = False
    ) -> RenderedEdition:
        """Render ``edition`` (or one of its personal variants) once: templates, CSS
        inlining, MIME skeleton. An unknown variant renders the main edition. Article links
        go through the click redirect when ``click_tracking`` is on, unless ``public`` (the
        archive) or ``direct`` (a preview on disk)."""
        items = edition.variant_items(variant) if variant else []
        if not items:
            variant, items = "", edition.items
        subject, preheader = edition.subject, edition.preheader
        if variant:
            subject = edition.subject_override or clip(items[0].title, SUBJECT_MAX_CHARS)
            preheader = edition.preheader_override or edition.preheader
        utm = self.options.utm
        tracked = self.options.click_tracking and not (public or direct)

        def link(item: EditionItem, number: int, url: str) -> str:
            """The article's link: through the click redirect, or direct with UTM."""
            if tracked:
                return self.links.click_url(edition.id, item.id, number)
            return with_utm(url, utm, edition.date)

        view = RenderEdition(
            day=edition.date,
            subject=subject,
            preheader=preheader,
            reading_seconds=edition.variant_seconds.get(variant, edition.reading_seconds),
            items=[
                RenderItem(
                    i.title,
                    link(i, 0, i.url),
                    i.summary,
                    i.section,
                    i.source_name,
                    also=tuple(
                        (a["source"], link(i, number, a["url"]))
                        for number, a in enumerate(i.also or (), 1)
                        if any(a is s for s in shown_also(i.also or (), i.source_name))
                    ),
                    category=i.category,
                )
                for i in items
            ],
            view_url=self.links.edition_url(edition.date),
            reader_links=tracked and self.options.track_readers,
        )
        return render_edition(view, self.identity, public=public)

    def preview(self, edition: Edition, folder: Path) -> tuple[Path, Path, list[str]]:
        """Write the edition's final HTML and text (with example personal values) to
        ``<folder>/<date>/edition.html|.txt``, article links direct (a preview's clicks are
        not readers'); returns the paths and the render's warnings."""
        rendered = self.render(edition, direct=True)
        html, text = rendered.fill(
            {
                "email": "lecteur@example.org",
                "unsubscribe_url": self.links.url("u/preview"),
                "preferences_url": self.links.url("p/preview"),
            }
        )
        out = folder / edition.date.isoformat()
        out.mkdir(parents=True, exist_ok=True)
        html_path, text_path = out / "edition.html", out / "edition.txt"
        html_path.write_text(html, encoding="utf-8")
        text_path.write_text(text, encoding="utf-8")
        return html_path, text_path, rendered.warnings

    def sender(self, edition: Edition) -> Sender:
        """What turns the edition's claimed rows into envelopes: each variant rendered once,
        on first use, which prepares both its multipart message and its text-only one
        (readers who chose the text format)."""
        cache: dict[str, RenderedEdition] = {}
        variants = frozenset(edition.variants)  # computed once: this runs per message

        def rendered(variant: str) -> RenderedEdition:
            if variant not in variants:
                variant = ""
            if variant not in cache:
                cache[variant] = self.render(edition, variant)
            return cache[variant]

        def message_for(variant: str) -> PreparedMessage:
            return rendered(variant).message

        def text_message_for(variant: str) -> PreparedTextMessage:
            text_message = rendered(variant).text_message
            assert text_message is not None  # render_edition always prepares it
            return text_message

        return Sender(
            message_for=message_for,
            links=self.links,
            day=edition.date,
            envelope_sender=self.options.address,
            sender_domain=self.options.domain,
            unsubscribe_mailto=self.options.unsubscribe_mailto,
            signer=self.signer(),
            text_message_for=text_message_for,
        )
