"""Summaries: an article's lead (else its body) cut at a sentence boundary.

Sentences are split by pysbd (rule-based, with French abbreviation lists: « M. », « Mme »,
« etc. », decimals), plus one rule pysbd lacks for French: a sentence that ends inside
closing guillemets (« … ! » Puis) ends there.

A sentence that speaks to the reader instead of telling the news, a call to action, is left
out wherever it stands: France 24 ends its leads with "Retrouvez les contenus de France 24
consacrés à cette réunion.", others with "Lire aussi", "À lire aussi", "Abonnez-vous",
"Inscrivez-vous", "Suivez notre direct", "Suivez-nous", "Pour en savoir plus", "Partagez",
"[Vidéo] Regardez", "Cliquez ici", "Read more", "Subscribe", "Sign up", "Click here"; and a
feed's footer on every item, WordPress's "L’article … est apparu en premier sur …"
(:data:`CALL_TO_ACTION`).
"""

from __future__ import annotations

import functools
import re

import pysbd

from newsletter.textutil import collapse, truncate_words

_PARAGRAPH = re.compile(r"\n\s*\n")
_STOP_ELLIPSIS = re.compile(r"([.!?])\s*(?:\.\.\.|…)$")
_TRUNCATED_TAIL = re.compile(r"(?:\.\.\.|…|\[…\]|\[\.\.\.\])\s*$")
_AFTER_GUILLEMET = re.compile(r"(?<=[.!?…][\s\u00a0\u202f]»)\s+(?=[A-ZÀ-ÖØ-Þ«\"“])")
#: A sentence that opens like this addresses the reader: it is not part of the summary.
CALL_TO_ACTION = re.compile(
    r"^[\s«\"“(\[]*(?:(?:vid[ée]o|video|photos?|audio|podcast)\s*[\])]\s*)?"
    r"(?:retrouvez|lire aussi|lisez aussi|[àa] lire (?:aussi|[ée]galement)"
    r"|lire la suite|voir aussi|[àa] voir aussi|abonnez-vous|inscrivez-vous"
    r"|suivez-nous|suivez (?:notre|nos|le|la|en)|regardez|partagez"
    r"|cliquez|t[ée]l[ée]chargez (?:notre|l['’]application)|d[ée]couvrez (?:notre|nos)"
    r"|read more|read also|subscribe|sign up|click here|follow (?:our|us|the latest)"
    r"|watch (?:the|our|live)|share (?:this|on)|listen to|download (?:our|the app))\b"
    # Said to the reader only when a comma or a colon follows ("Pour en savoir plus,
    # consultez…"); "Pour en savoir plus sur leurs droits, les patients…" reports.
    r"|^[\s«\"“(\[]*(?:(?:pour )?en savoir plus|pour plus d['’]informations?"
    r"|for more (?:information|details))\s*[,:]"
    # A feed's own footer on every item (WordPress: "L’article … est apparu en premier sur
    # …", "The post … appeared first on …").
    r"|^(?:l['’]article|the post)\b.{0,300}\b(?:est apparu en premier sur|appeared first on)\b",
    re.IGNORECASE,
)
#: Languages pysbd has rules for; others use the English rules.
PYSBD_LANGUAGES = frozenset(
    [
        "en",
        "hi",
        "mr",
        "zh",
        "es",
        "am",
        "ar",
        "hy",
        "bg",
        "ur",
        "ru",
        "pl",
        "fa",
        "nl",
        "da",
        "fr",
        "my",
        "el",
        "it",
        "ja",
        "de",
        "kk",
        "sk",
    ]
)


@functools.cache
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language if language in PYSBD_LANGUAGES else "en", clean=False)


def split_sentences(text: str, language: str = "fr") -> list[str]:
    """Split ``text`` into sentences, keeping abbreviations (« M. », « Dr. », « etc. »),
    initials and decimal numbers inside their sentence."""
    text = collapse(text)
    if not text:
        return []
    sentences: list[str] = []
    for segment in _segmenter(language.split("-")[0].lower()).segment(text):
        sentences += [part.strip() for part in _AFTER_GUILLEMET.split(segment) if part.strip()]
    return sentences


def summarise(text: str, max_chars: int, language: str = "fr") -> str:
    """At most ``max_chars`` characters of ``text`` made of whole sentences.

    A sentence that the source had already truncated (ending in "..." or "[…]") is dropped
    when a complete one precedes it. When even the first sentence is too long it is cut at a
    word boundary and ends with "…": an ellipsis appears only where text was cut. Calls to
    action (:data:`CALL_TO_ACTION`) are left out.
    """
    sentences = [
        sentence
        for paragraph in _PARAGRAPH.split(text)  # a paragraph ends a sentence
        for sentence in split_sentences(paragraph, language)
    ]
    sentences = [s for s in sentences if not CALL_TO_ACTION.match(s)]
    if not sentences:
        return ""
    if len(sentences) > 1 and _TRUNCATED_TAIL.search(sentences[-1]):
        sentences.pop()
    kept: list[str] = []
    length = 0
    for sentence in sentences:
        extra = len(sentence) + (1 if kept else 0)
        if length + extra > max_chars:
            break
        kept.append(sentence)
        length += extra
    if kept:
        result = " ".join(kept)
        result = _STOP_ELLIPSIS.sub(r"\1", result)  # "year.…" -> "year."
        return _TRUNCATED_TAIL.sub("…", result) if result.endswith("...") else result
    first = _TRUNCATED_TAIL.sub("", sentences[0]).rstrip()
    return truncate_words(first, max_chars)
