"""Words the edition shows, per language (French first, English available).

Section titles are keyed by category slug (see ``compose.edition.category_slug``).
"""

from __future__ import annotations

from datetime import date

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "reading_time": "Temps de lecture",
        "colon": " :",  # French puts a (no-break) space before the colon
        "minutes": "min",
        "lead": "À la une",
        "view_online": "Voir dans le navigateur",
        "read_more": "Lire l’article",
        "preferences": "Gérer mes préférences",
        "unsubscribe": "Se désabonner",
        "why": (
            "Vous recevez cet e-mail à l’adresse {email} parce que vous êtes abonné·e à {title}."
        ),
        "source": "Source",
        "also": "Aussi",
        "empty": "Pas d’article ce jour.",
    },
    "en": {
        "reading_time": "Reading time",
        "colon": ":",
        "minutes": "min",
        "lead": "Top story",
        "view_online": "View in your browser",
        "read_more": "Read the article",
        "preferences": "Manage my preferences",
        "unsubscribe": "Unsubscribe",
        "why": "You receive this email at {email} because you subscribed to {title}.",
        "source": "Source",
        "also": "Also",
        "empty": "No article today.",
    },
}

SECTION_TITLES: dict[str, dict[str, str]] = {
    "fr": {
        "politique": "Politique", "economie": "Économie", "societe": "Société",
        "monde": "Monde", "international": "International", "sport": "Sport",
        "culture": "Culture", "sciences": "Sciences", "tech": "Tech", "sante": "Santé",
        "environnement": "Environnement", "regions": "Régions", "autres": "Autres actualités",
    },
    "en": {
        "politique": "Politics", "economie": "Economy", "societe": "Society", "monde": "World",
        "international": "International", "sport": "Sport", "culture": "Culture",
        "sciences": "Science", "tech": "Tech", "sante": "Health",
        "environnement": "Environment", "regions": "Regions", "autres": "Other news",
    },
}  # fmt: skip

#: Category slugs that name a section of ours under another word (plural, English).
SECTION_ALIASES = {
    "sports": "sport",
    "politics": "politique",
    "economy": "economie",
    "business": "economie",
    "eco": "economie",
    "society": "societe",
    "world": "monde",
    "cultures": "culture",
    "arts": "culture",
}

_MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}  # fmt: skip
_WEEKDAYS = {
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
#: Scripts written right to left (for the document's ``dir``).
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur"})


def language_of(tag: str) -> str:
    """The supported language for a BCP 47 tag: its primary subtag if known, else French."""
    primary = tag.split("-")[0].lower()
    return primary if primary in LABELS else "fr"


def labels(language: str) -> dict[str, str]:
    """The edition's fixed words in ``language``."""
    return LABELS[language_of(language)]


def section_titles(language: str) -> dict[str, str]:
    """Section titles by category slug in ``language``."""
    return SECTION_TITLES[language_of(language)]


def section_title(slug: str | None, language: str, label: str | None = None) -> str:
    """The title of section ``slug``: ours when we know it, else the source's own category
    ``label`` (with its accents: "Amériques"), else the slug capitalised."""
    slug = slug or "autres"
    known = section_titles(language).get(slug)
    if known:
        return known
    if label and label.strip():
        return label.strip()[:1].upper() + label.strip()[1:]
    return slug.replace("-", " ").capitalize()


def long_date(day: date, language: str) -> str:
    """``mercredi 25 mars 2026`` (fr) / ``Wednesday 25 March 2026`` (en)."""
    lang = language_of(language)
    weekday = _WEEKDAYS[lang][day.weekday()]
    day_number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{weekday} {day_number} {_MONTHS[lang][day.month - 1]} {day.year}"


def weekday_names(language: str) -> list[str]:
    """Monday ... Sunday in ``language`` (index 0 = Monday, as ``date.weekday()``)."""
    return list(_WEEKDAYS[language_of(language)])
