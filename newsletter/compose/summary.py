"""Summaries: an article's lead (else its body) cut at a sentence boundary."""

from __future__ import annotations

import re

from newsletter.textutil import collapse, truncate_words

# Abbreviations after which a full stop does not end a sentence (French and English press).
_ABBREVIATIONS = {
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "me", "mgr", "st", "ste", "cf", "ex", "p",
    "pp", "av", "apr", "env", "etc", "vol", "n", "no", "art", "al", "éd", "ed", "fig", "chap",
    "mr", "mrs", "ms", "prof", "sr", "jr", "vs", "inc", "ltd", "co", "corp", "gen", "gén",
    "col", "cap", "lt", "sgt", "gov", "sen", "rep", "u.s", "j.-c", "jan", "fév", "févr",
    "janv", "avr", "juil", "sept", "oct", "nov", "déc", "dec", "feb", "aug", "tél", "tel",
}  # fmt: skip
# A candidate boundary: terminal punctuation (optionally closing quotes/brackets), space,
# then something that can start a sentence.
_BOUNDARY = re.compile(r"([.!?…]+(?:\s?[»”\")\]])*)\s+(?=[«“\"(\[]?\s?[A-ZÀ-ÖØ-Þ0-9])")
_TRUNCATED_TAIL = re.compile(r"(?:\.\.\.|…|\[…\]|\[\.\.\.\])\s*$")


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping abbreviations (« M. », « Dr. », « etc. »),
    initials and decimal numbers inside their sentence."""
    text = collapse(text)
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(1)
        before = text[start:end]
        word = re.search(r"([\w.\-]+)[.!?…]*[»”\")\]]*$", before)
        token = word.group(1).rstrip(".").lower() if word else ""
        if match.group(1).startswith(".") and (
            token in _ABBREVIATIONS or re.fullmatch(r"[a-zà-ÿ]", token)
        ):
            continue
        sentences.append(text[start:end].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def summarise(text: str, max_chars: int) -> str:
    """At most ``max_chars`` characters of ``text`` made of whole sentences.

    A sentence that the source had already truncated (ending in "..." or "[…]") is dropped
    when a complete one precedes it. When even the first sentence is too long it is cut at a
    word boundary and ends with "…": an ellipsis appears only where text was cut.
    """
    sentences = split_sentences(text)
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
        return _TRUNCATED_TAIL.sub("…", result) if result.endswith("...") else result
    first = _TRUNCATED_TAIL.sub("", sentences[0]).rstrip()
    return truncate_words(first, max_chars)
