"""Same story once: group candidates that tell the same news.

An article is the set of its *terms*: the words of its title and of its lead (the first 60
words of its summary), lower-cased, stop words out, reduced to their Snowball stem in the
article's language (PyStemmer; Porter 2001, "Snowball: a language for stemming
algorithms") and accents folded, so that "élection" and "élections", or "annoncée" and
"annonce", are one term. A term weighs its inverse document frequency
``ln(1 + K / df)`` (Sparck Jones 1972; ``df`` the number of the day's articles holding it,
``K`` = 1,000 a fixed reference day): it depends on how many articles share the term, not
on how many articles the day has, so a day padded with unrelated articles keeps its
groups. Two articles tell the same story when the weighted Dice coefficient of their term
sets, ``2 * w(A & B) / (w(A) + w(B))``, reaches 0.18; stories are the connected
components of those pairs. A term held by more than 40 articles is too common to tell a
story and is left out, which also keeps the pairs near-linear in the day's articles (an
inverted index, the pairs of each posting list counted with numpy); so is a term in 80 %
of one source's articles (its boilerplate).

Measured on five hand-labelled days of ``shared/data`` (``tests/data/stories``; every
article of the 48-hour lookback put in a story by hand; README "One story once:
measured"): pairwise precision 0.96-1.00 on each day, recall 1.00 (France 24,
2023-08-24), 0.83 (BBC, 2018-12-20), 0.76 (Guardian, 2018-02-01), 0.50 (Le Monde,
2024-03-27), against 0.03-0.50 for rapidfuzz's ``token_set_ratio`` >= 72 on titles.
What it cannot see: synonyms with no shared fact ("canicule" and "vague de chaleur"
alone), and reactions or columns that share one or two words with the news they react
to. The threshold has little margin: hard negatives (two Syria stories, two Brexit
stories) score 0.17-0.18.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Protocol

import numpy as np
import Stemmer


class StoryText(Protocol):
    """What grouping reads of an article: its title, its summary (the lead), its language
    (a lower-case primary subtag such as ``"fr"``, or None) and its source's name."""

    @property
    def title(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def language(self) -> str | None: ...

    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class Text:
    """A plain :class:`StoryText`."""

    title: str
    summary: str = ""
    language: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Tuning:
    """The knobs of grouping; the defaults are the ones measured on the labelled days.

    ``threshold``: the weighted Dice coefficient (0-1) at or above which two articles tell
    the same story; ``lead_words``: how many words of the summary count (its lead);
    ``reference_docs``: *K* of the inverse document frequency ``ln(1 + K / df)``;
    ``max_postings``: a term held by more articles than this is left out (too common to
    tell a story; it also bounds the pairs each term proposes).
    """

    threshold: float = 0.18
    lead_words: int = 60
    reference_docs: float = 1000.0
    max_postings: int = 40


DEFAULT = Tuning()
#: A term in this share of a source's articles (of at least BOILERPLATE_MIN) is boilerplate.
BOILERPLATE_SHARE = 0.8
BOILERPLATE_MIN = 5

#: ISO 639-1 code -> Snowball algorithm (those PyStemmer ships).
ALGORITHMS = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "nb": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "tr": "turkish",
}

# Function words of French and English (the languages of the edition's words) plus the
# words of news headlines that say nothing of the event ("video", "live", days of the week)
# and the markers of an article's kind ("Tribune :", "Éditorial", "Publi-reportage"), which
# two pieces of one kind share whatever their stories.
_STOP_TEXT = """
    a à au aux avec c ce ces cet cette ceux chez comme d dans de des du elle elles en entre
    est et été être eux il ils j je l la le les leur leurs lui m ma mais me même mes moi mon n
    ne ni nos notre nous on ou où par pas peu plus pour qu que quel quelle quels quelles qui s
    sa sans se ses si son sont sous sur t ta te tes toi ton tous tout toute toutes très tu un
    une vers vos votre vous y ça cela ont avait sera fait faire peut après avant selon contre
    depuis encore aussi dont alors lors déjà donc car ainsi deux trois comment pourquoi quoi
    lundi mardi mercredi jeudi vendredi samedi dimanche direct vidéo tribune éditorial
    chronique opinion podcast publi sponsorisé
    the of and to in on for with at by from as is are was were be been being has have had do
    does did not no but or if than then that this these those it its he she they them
    his her their our we you your i me my an a into over after about up out what how why who
    when where which will would can could should may might new says said say more most also
    just video live monday tuesday wednesday thursday friday saturday sunday editorial
    sponsored
"""

_WORD = re.compile(r"[^\W_]+")


def fold(word: str) -> str:
    """``"Élections"`` -> ``"elections"``: lower case, accents removed (NFKD)."""
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


#: The stop words, compared with a word once its accents are folded.
STOP_WORDS = frozenset(fold(word) for word in _STOP_TEXT.split())


@cache
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    algorithm = ALGORITHMS.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


#: A PyStemmer object is not thread-safe (its documentation): one stem at a time.
_STEMMING = threading.Lock()


@lru_cache(maxsize=1 << 18)
def term(word: str, language: str) -> str | None:
    """The term of a lower-case ``word`` in ``language`` (an ISO 639-1 code, or ``""``):
    its Snowball stem with accents folded, or None for a stop word or a single character.
    Without a Snowball algorithm for the language the word is only folded."""
    folded = fold(word)
    if len(folded) < 2 or folded in STOP_WORDS:
        return None
    if not word.isascii():  # Snowball expects composed accents (NFC) and lower case
        word = unicodedata.normalize("NFC", word.lower())
    with _STEMMING:
        stemmer = _stemmer(language)
        return fold(stemmer.stemWord(word)) if stemmer else folded


def _words(text: str) -> list[str]:
    """The lower-case words of ``text``, accents composed first (NFC: a decomposed accent
    would otherwise cut a word in two)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return _WORD.findall(text.lower())


class _Numbers:
    """Terms as numbers for one grouping: each distinct (language, word) is looked up once
    (and :func:`term` keeps its answers across groupings)."""

    def __init__(self) -> None:
        self.terms: dict[str, int] = {}
        self.words: dict[str, dict[str, int]] = {}

    def __call__(self, words: list[str], language: str) -> set[int]:
        known = self.words.setdefault(language, {})
        out = set()
        for word in words:
            number = known.get(word)
            if number is None:
                found = term(word, language)
                number = -1 if found is None else self.terms.setdefault(found, len(self.terms))
                known[word] = number
            if number >= 0:
                out.add(number)
        return out


def term_sets(
    docs: Sequence[StoryText | str], lead_words: int = DEFAULT.lead_words
) -> tuple[list[set[int]], dict[str, int]]:
    """Each document's terms (as numbers): those of its title and of the first
    ``lead_words`` words of its summary, less its source's boilerplate; and the numbers of
    the terms. A plain string is a title alone.

    Boilerplate: a summary that a source gives to several articles (only their titles
    count), and a term in at least :data:`BOILERPLATE_SHARE` of a source's articles when
    the source has at least :data:`BOILERPLATE_MIN` of them (a feed whose every summary
    says "Lire la suite sur notre site" must not make its articles one story)."""
    numbers = _Numbers()
    out: list[set[int]] = []
    by_source: dict[str, list[int]] = defaultdict(list)
    leads = Counter((doc.source, doc.summary.strip()) for doc in docs if not isinstance(doc, str))
    for index, doc in enumerate(docs):
        if isinstance(doc, str):
            title, summary, language, source = doc, "", "", ""
        else:
            title, summary, source = doc.title, doc.summary, doc.source
            language = (doc.language or "").split("-", 1)[0].lower()
            if leads[(source, summary.strip())] > 1:  # one lead for several titles
                summary = ""
        words = _words(title)
        words += _words(summary)[:lead_words]
        out.append(numbers(words, language))
        by_source[source].append(index)
    for members in by_source.values():
        if len(members) < BOILERPLATE_MIN:
            continue
        counts = Counter(itertools.chain.from_iterable(out[i] for i in members))
        common = {t for t, c in counts.items() if c >= BOILERPLATE_SHARE * len(members)}
        if common:
            for i in members:
                out[i] -= common
    return out, numbers.terms


def similar_pairs(
    docs: Sequence[StoryText | str], tuning: Tuning = DEFAULT
) -> dict[tuple[int, int], float]:
    """Every pair ``(a, b)``, ``a < b``, whose weighted Dice coefficient is at or above
    ``tuning.threshold``, with that coefficient (0-1)."""
    sets, _ = term_sets(docs, tuning.lead_words)
    n = len(sets)
    sizes = np.fromiter(map(len, sets), dtype=np.int64, count=n)
    term_of = np.fromiter(
        itertools.chain.from_iterable(sets), dtype=np.int64, count=int(sizes.sum())
    )
    doc_of = np.repeat(np.arange(n, dtype=np.int64), sizes)
    if not len(term_of):
        return {}
    _, local, df = np.unique(term_of, return_inverse=True, return_counts=True)
    local = local.ravel()
    idf = np.log1p(tuning.reference_docs / df)
    kept = df[local] <= tuning.max_postings
    term_of, doc_of = local[kept], doc_of[kept]
    weight = idf[term_of]
    mass = np.bincount(doc_of, weights=weight, minlength=n)
    # Postings: entries sorted by term, each paired with the later entries of its term.
    order = np.argsort(term_of, kind="stable")
    term_of, doc_of, weight = term_of[order], doc_of[order], weight[order]
    entries = np.arange(len(term_of))
    later = np.searchsorted(term_of, term_of, side="right") - entries - 1
    total = int(later.sum())
    if not total:
        return {}
    left = np.repeat(entries, later)
    run_start = np.repeat(np.cumsum(later) - later, later)
    right = left + 1 + (np.arange(total) - run_start)
    a, b = doc_of[left], doc_of[right]
    keys, inverse = np.unique(np.minimum(a, b) * n + np.maximum(a, b), return_inverse=True)
    shared = np.bincount(inverse.ravel(), weights=weight[left])
    low, high = np.divmod(keys, n)
    dice = 2 * shared / (mass[low] + mass[high])
    keep = dice >= tuning.threshold
    return {
        (int(x), int(y)): float(d)
        for x, y, d in zip(low[keep], high[keep], dice[keep], strict=True)
    }


def components(n: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components of ``range(n)`` under ``pairs``, each sorted, by first index."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(n):
        groups[find(index)].append(index)
    return sorted(groups.values(), key=lambda group: group[0])


def group_stories(docs: Sequence[StoryText | str], tuning: Tuning = DEFAULT) -> list[list[int]]:
    """Indices of ``docs`` grouped by story; each group sorted, groups by first index.

    A plain string is a title alone. Every index appears in exactly one group (a story told
    once is a group of one).
    """
    return components(len(docs), similar_pairs(docs, tuning))
