"""Sentence boundaries as character spans, with the fixes this corpus needs.

Punkt (NLTK's trained English model, the copy that llama-index-core ships) finds the
boundaries; two repairs follow. A footnote or citation marker after a full stop
("clients.[3]", "boundaries. [1][2]") belongs to the sentence before it, and a full stop
with no space before a capital ("profession.NASW") still ends a sentence.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from swguide.errors import ModelError
from swguide.types import Span

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

FOOTNOTE = re.compile(r"\[(\d{1,3})\]")
# A citation marker as people and models write them: [1], [1, 2], [1-3], 【1】, [Passage 2],
# [^1].
CITATION = re.compile(
    r"[\[【]\s*\^?\s*(?:(?:passages?|sources?|refs?|references?)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
_LEADING_MARKERS = re.compile(rf"(?:\s*(?:{CITATION.pattern}))+", re.IGNORECASE)
_GLUED_BOUNDARY = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][A-Za-z])")
_MARKED_BOUNDARY = re.compile(rf"(?<=[.!?])(?:{CITATION.pattern})+(?=\s+[A-Z\"“])", re.IGNORECASE)


def nltk_data_dir() -> Path:
    """NLTK's data as llama-index-core ships it (Punkt and the stop-word lists)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("llama-index-core is not installed: run `make install`.")
    return Path(next(iter(spec.submodule_search_locations))) / "_static" / "nltk_cache"


@cache
def _tokenizer() -> PunktSentenceTokenizer:
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    data = nltk_data_dir()
    if str(data) not in nltk.data.path:
        nltk.data.path.insert(0, str(data))
    try:
        return PunktTokenizer("english")
    except LookupError:
        raise ModelError(
            f"NLTK's Punkt data is missing from {data}: reinstall llama-index-core."
        ) from None


@cache
def english_stopwords() -> frozenset[str]:
    """NLTK's English stop words, read from the file without importing NLTK."""
    path = nltk_data_dir() / "corpora" / "stopwords" / "english"
    try:
        return frozenset(path.read_text(encoding="utf-8").split())
    except OSError:
        raise ModelError(
            f"NLTK's stop words are missing from {path}: reinstall llama-index-core."
        ) from None


def sentence_spans(text: str) -> list[Span]:
    """Spans of the sentences in `text`, covering every non-space character."""
    spans: list[Span] = []
    for start, end in _tokenizer().span_tokenize(text):
        lead = _LEADING_MARKERS.match(text, start, end)
        if lead and spans:
            spans[-1] = (spans[-1][0], lead.end())
            start = lead.end()
        spans.extend(_split_glued(text, start, end))
    return spans


def _split_glued(text: str, start: int, end: int) -> list[Span]:
    """Cut where Punkt saw no boundary: "profession.NASW", "boundaries.【3】 Also"."""
    cuts = [m.start() for m in _GLUED_BOUNDARY.finditer(text, start, end)]
    cuts += [m.end() for m in _MARKED_BOUNDARY.finditer(text, start, end) if m.end() < end]
    spans = []
    for a, b in itertools.pairwise([start, *sorted(cuts), end]):
        while a < b and text[a].isspace():
            a += 1
        if a < b:
            spans.append((a, b))
    return spans


def footnotes_in(text: str) -> tuple[int, ...]:
    """The footnote numbers marked in `text`, in order of first appearance."""
    return tuple(dict.fromkeys(int(m) for m in FOOTNOTE.findall(text)))


def strip_footnotes(text: str) -> str:
    """The text without its footnote markers, for quoting next to our own [n]."""
    return FOOTNOTE.sub("", text).strip()
