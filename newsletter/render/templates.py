"""The Jinja2 environment for email and page templates.

Templates live in the top-level ``templates/`` folder of a checkout and are shipped inside
the wheel as ``newsletter/templates``; both places are searched, the wheel's first.
"""

from __future__ import annotations

import functools
import re
import textwrap
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CHECKOUT_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

# French typography: the space before « : ; ! ? » and after « becomes non-breaking
# (narrow before ; ! ?), so that the mark never starts a line (Lexique des règles
# typographiques en usage à l'Imprimerie nationale).
_BEFORE_COLON = re.compile(r"(?<=\S)[ \u00a0\u202f]+(?=:(?:\s|$))")
_BEFORE_MARK = re.compile(r"(?<=\S)[ \u00a0\u202f]+(?=[;!?»](?:\s|$|[.,)]))")
_AFTER_GUILLEMET = re.compile(r"«[ \u00a0\u202f]+")


def french_typography(text: str) -> str:
    """Make existing spaces around ``: ; ! ? « »`` non-breaking (never inserts spaces)."""
    text = _BEFORE_COLON.sub("\u00a0", text)
    text = _BEFORE_MARK.sub("\u202f", text)
    return _AFTER_GUILLEMET.sub("«\u202f", text)


def wrap(text: str, width: int = 72) -> str:
    """Wrap plain text at ``width`` characters without breaking words or URLs."""
    return "\n".join(
        textwrap.fill(paragraph, width=width, break_long_words=False, break_on_hyphens=False)
        for paragraph in str(text).split("\n")
    )


@functools.cache
def environment(folder: Path | None = None) -> Environment:
    """The shared environment: HTML autoescaped, undefined names are errors. ``folder``
    (``NEWSLETTER_TEMPLATES_DIR``) is searched first: a template there with the name of a
    shipped one (``email/edition.html.j2`` ...) replaces it."""
    shipped = [path for path in (PACKAGE_TEMPLATES, CHECKOUT_TEMPLATES) if path.is_dir()]
    search = [str(path) for path in ([folder] if folder else []) + shipped]
    env = Environment(
        loader=FileSystemLoader(search),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["typo"] = french_typography
    env.filters["wrap"] = wrap
    return env
