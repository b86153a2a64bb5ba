"""Settings of the newsroom's numbers and outside surfaces: click tracking (aggregate by
default, per reader only when asked), the origins allowed to embed the sign-up box and
call ``/api/subscribe`` from a browser.

Click tracking follows the CNIL's guidance on email tracking ("Pixels de suivi dans les
courriels", 2023): counting clicks in aggregate to measure an edition's audience is
statistics; recording which reader clicked is personal tracking that needs the reader's
consent, so it is off unless ``NEWSLETTER_TRACK_READERS`` says otherwise. No open-tracking
pixel is ever added.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

from newsletter.config.checks import feed_url, http_url, one_line


class NewsroomSettings(BaseModel):
    """``click_tracking`` (article links through the signed ``/r/<token>`` redirect; false:
    direct links), ``track_readers`` (also record who clicked; false by default),
    ``allowed_origins`` (comma-separated ``https://host[:port]`` origins that may frame
    ``/embed/subscribe`` and call ``/api/subscribe`` from a browser), the newsletter's
    colours (``#rrggbb``: accent, text, background) for the email and the sign-up box, its
    logo (an https URL), the footer's links (label: URL) and a folder of templates that
    replace the shipped ones (``NEWSLETTER_TEMPLATES_DIR``)."""

    click_tracking: bool = True
    track_readers: bool = False
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    accent_color: str = "#b3261e"
    ink_color: str = "#1d1d1b"
    paper_color: str = "#f3f1ec"
    logo_url: str | None = None
    footer_links: dict[str, str] = Field(default_factory=dict)
    templates_dir: Path | None = None

    @field_validator("logo_url")
    @classmethod
    def _check_logo(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith("https://"):
            raise ValueError(f"expected an https URL (mail clients block others), got {value!r}")
        return feed_url(value)

    @field_validator("footer_links")
    @classmethod
    def _check_links(cls, value: dict[str, str]) -> dict[str, str]:
        return {one_line(label): feed_url(url) for label, url in value.items()}

    @field_validator("templates_dir")
    @classmethod
    def _check_templates(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"no such folder: {value}")
        return value

    @field_validator("accent_color", "ink_color", "paper_color")
    @classmethod
    def _check_color(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value.strip()):
            raise ValueError(f"expected a colour such as #b3261e, got {value!r}")
        return value.strip().lower()

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            checked = http_url(origin)
            if checked.count("/") != 2:  # scheme://host[:port], no path (RFC 6454 origin)
                raise ValueError(f"expected an origin such as https://example.ma, got {origin!r}")
            origins.append(checked.lower())
        return origins
