"""What kind of article a candidate is: news, opinion, podcast, gallery, listicle, sponsored
or live page.

An editor reads these off the page; the feeds carry the same signals, and the rules below
read only those (no model, no guess from the text's style):

- **live** (a running page that follows a story: « En direct », "live"): a URL path
  segment or slug ``live``, ``en-direct``, ``direct``, ``live-blog`` or ``as-it-happened``
  (Le Monde ``/international/live/``, The Guardian ``/football/live/``, France 24's slug
  ``…-en-direct-…``, BBC ``/news/live/``), a category "Live"/"En direct", or a title that
  opens with « En direct », "EN DIRECT", "Live" or "Direct" (after any pictograph: France
  24 writes "🔴 En direct : …").
- **sponsored** (paid for by an advertiser): a URL segment ``sponsored``, ``brand``,
  ``brandvoice``, ``partenaire(s)``, ``publi-reportage``/``publireportage``,
  ``contenu-partenaire`` or ``advertorial``; a category of the same words; or a title
  marker "Publi-reportage", "Publireportage", "Sponsorisé", "Contenu sponsorisé",
  "Partenariat", "Brand", "Sponsored", "Paid content", "Advertorial" (the labels the
  French "loi Sapin" and the UK's CAP Code 2.1 require on such pages).
- **opinion** (the author's view, not a report): a URL segment ``opinion(s)``,
  ``tribune(s)``, ``idees`` (Le Monde's op-eds), ``commentisfree`` (The Guardian),
  ``editorial``, ``edito``, ``chronique(s)``, ``point-de-vue``, ``debats``; a category of
  the same words; or a title that opens with "Tribune", "Opinion", "Éditorial", "Édito",
  "Chronique", "Point de vue" or "Comment".
- **podcast** (an episode to listen to, not a report to read): a URL segment ``podcast``,
  ``podcasts`` or ``balado`` (Le Monde ``/podcasts/``), a category of the same words, or a
  title that opens with "Podcast" ("[Podcast]", "PODCAST.").
- **gallery** (photos or a video to look at, not a report to read): a URL segment
  ``video(s)``, ``gallery``/``galleries``, ``galerie(s)``, ``diaporama(s)``, ``photos`` or
  ``in-pictures`` (The Guardian's ``/video/`` and ``/gallery/``), a category of the same
  words, or a title that opens with "Vidéo", "Video", "Photos", "Diaporama", "En images",
  "In pictures" followed by a colon or a dash, or ends with "– video", "– in pictures",
  "en images", ", les images", "(vidéo)", "(photos)".
- **listicle** (a numbered list of addresses or tips): a title with a count followed by a
  listing noun, such as "5 adresses", "10 choses", "Les 5 leçons", "7 things", "3 ways"
  (TelQuel's "Spas de luxe au Maroc : 5 adresses d'exception…").
- **news** otherwise.

Pure: no I/O. The first matching kind in the order live, sponsored, opinion, podcast,
gallery, listicle wins.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from urllib.parse import unquote


class Kind(StrEnum):
    """The kind of an article; only ``news`` may lead an edition."""

    NEWS = "news"
    LIVE = "live"
    SPONSORED = "sponsored"
    OPINION = "opinion"
    LISTICLE = "listicle"
    PODCAST = "podcast"
    GALLERY = "gallery"
    #: A templated series (the weather of each city, the draws of a lottery): a kind of
    #: story that grouping finds (:func:`newsletter.compose.stories.template_series`),
    #: never of one article, so :func:`kind_of` does not return it.
    SERIES = "series"


_LIVE_SEGMENTS = frozenset(["live", "en-direct", "direct", "live-blog", "as-it-happened"])
_SPONSORED_SEGMENTS = frozenset(
    [
        "sponsored",
        "sponsorise",
        "brand",
        "brandvoice",
        "partenaire",
        "partenaires",
        "publi-reportage",
        "publireportage",
        "contenu-partenaire",
        "advertorial",
    ]
)
_OPINION_SEGMENTS = frozenset(
    [
        "opinion",
        "opinions",
        "tribune",
        "tribunes",
        "idees",
        "commentisfree",
        "editorial",
        "edito",
        "chronique",
        "chroniques",
        "point-de-vue",
        "debats",
    ]
)
_PODCAST_SEGMENTS = frozenset(["podcast", "podcasts", "balado", "balados"])
_PODCAST_TITLE = re.compile(r"^[\[(]?\s*podcasts?\b\s*[\])]?\s*[:,.—–-]?", re.IGNORECASE)
_GALLERY_SEGMENTS = frozenset(
    ["video", "videos", "gallery", "galleries", "galerie", "galeries", "diaporama",
     "diaporamas", "photos", "in-pictures"]
)  # fmt: skip
_GALLERY_MARK = r"(?:vid[ée]os?|photos|diaporama|en images|in pictures)"
_GALLERY_TITLE = re.compile(
    rf"^(?:[\[(]\s*{_GALLERY_MARK}\s*[\])]|{_GALLERY_MARK}\s*[:.–—-])"
    rf"|(?:\s[–—-]\s*{_GALLERY_MARK}|,?\s(?:les|en) images|\((?:vid[ée]o|photos?)\))\s*$",
    re.IGNORECASE,
)
_LIVE_TITLE = re.compile(r"^(?:en direct|live|direct)\b", re.IGNORECASE)
#: Anywhere in a title: the labels themselves; at its start, or in brackets: the short ones
#: ("Brand" alone elsewhere is a name: "Russell Brand").
_SPONSORED_TITLE = re.compile(
    r"\b(?:publi-?reportage|contenu sponsoris[ée]e?|sponsored content|paid content"
    r"|advertorial)\b"
    r"|^[\[(]?\s*(?:brand(?:\s?voice)?|sponsoris[ée]e?|sponsored|partenariat)\s*[\])]?\s*[:|—–-]"
    r"|[\[(]\s*(?:brand|sponsoris[ée]e?|sponsored|partenariat)\s*[\])]",
    re.IGNORECASE,
)
_OPINION_TITLE = re.compile(
    r"^(?:tribune|opinion|[ée]ditorial|[ée]dito|chronique|point de vue|comment)\b\s*[:,.—–-]",
    re.IGNORECASE,
)
_LISTICLE_NOUNS = (
    "adresses|choses|raisons|questions|le[çc]ons|conseils|astuces|endroits|lieux|films|livres"
    "|s[ée]ries|id[ée]es|fa[çc]ons|chiffres|erreurs|r[èe]gles|secrets|destinations|plats"
    "|restaurants|h[ôo]tels|things|reasons|ways|tips|places|lessons|books|questions|facts"
)
_LISTICLE_TITLE = re.compile(rf"(?:^|[\s:«(])\d{{1,3}}\s+(?:{_LISTICLE_NOUNS})\b", re.IGNORECASE)


def _fold(text: str) -> str:
    """Lower case, accents removed."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def _segments(url: str) -> list[str]:
    """The URL path's segments, lower case, percent-decoded and folded (plain string work:
    this runs once per candidate)."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    path = rest[slash:].split("?", 1)[0].split("#", 1)[0].lower() if slash >= 0 else ""
    if "%" in path:
        path = unquote(path)
    if not path.isascii():
        path = _fold(path)
    return [segment for segment in path.split("/") if segment]


#: Characters that may be pictographs or their modifiers (Unicode category So lies in Latin-1
#: only at ¦ © ® °); everything else is kept without a look-up.
_MAYBE_PICTOGRAPH = re.compile("[\u00a6\u00a9\u00ae\u00b0\u0482-\U0010ffff]")
_SPACES = re.compile(r"\s{2,}")
_LIVE_SLUG = re.compile(r"(?:^|-)en-direct(?:-|$)")
_MODIFIERS = frozenset("\ufe0e\ufe0f\u200d\u20e3")


def _drop_pictograph(match: re.Match[str]) -> str:
    char = match.group()
    return "" if char in _MODIFIERS or unicodedata.category(char) == "So" else char


def without_pictographs(text: str) -> str:
    """``text`` without pictographs (Unicode category So: "🔴"), variation selectors,
    zero-width joiners and keycap marks, its spaces collapsed and trimmed."""
    return _SPACES.sub(" ", _MAYBE_PICTOGRAPH.sub(_drop_pictograph, text)).strip()


#: The kinds that a URL segment, a feed category or a title marks, in the order they are
#: tried (the first that matches wins; listicle, then news, come after them).
_MARKED = (
    (Kind.LIVE, _LIVE_SEGMENTS, _LIVE_TITLE),
    (Kind.SPONSORED, _SPONSORED_SEGMENTS, _SPONSORED_TITLE),
    (Kind.OPINION, _OPINION_SEGMENTS, _OPINION_TITLE),
    (Kind.PODCAST, _PODCAST_SEGMENTS, _PODCAST_TITLE),
    (Kind.GALLERY, _GALLERY_SEGMENTS, _GALLERY_TITLE),
)


def kind_of(url: str, title: str, category: str | None) -> Kind:
    """The kind of an article from its ``url``, ``title`` and feed ``category`` (rules and
    sources in the module docstring)."""
    segments = _segments(url)
    label = _fold(category).strip().replace(" ", "-") if category else ""
    clean_title = without_pictographs(title)
    if _LIVE_SLUG.search("-".join(segments)):
        return Kind.LIVE
    found = set(segments)
    for kind, marks, title_rule in _MARKED:
        if found & marks or label in marks or title_rule.search(clean_title):
            return kind
    if _LISTICLE_TITLE.search(clean_title):
        return Kind.LISTICLE
    return Kind.NEWS
