"""Text in one place: words and stems, stop words, sentences, citation markers, quotes,
and text as it may be shown on a terminal.

Retrieval (BM25), the extractive answerer's coverage and the grounding guard all read
words through `stems` here, so a change to the analyser changes them together (and
calls for re-running the calibrations: `make calibrate`).

Sentences: Punkt (NLTK's trained English model, the copy that llama-index-core ships)
finds the boundaries; two repairs follow. A footnote or citation marker after a full
stop ("clients.[3]", "boundaries. [1][2]") belongs to the sentence before it, and a full
stop with no space before a capital ("profession.NASW") still ends a sentence.

Terminal: a document can hold escape sequences (an OSC title change, a cursor move) and
a file name a newline; printed raw, the first rewrites the clinician's terminal and the
second splits one listed line in two. Everything the CLI prints passes through here.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


# Words as BM25 analyses them (and, through `stems`, the answerers and the guard).
WORDS = r"(?u)\b\w\w+\b"
# Words as spelled, for the vocabulary that typos are mended against (no digits).
SPELLED_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
# Words and numbers as the guard compares a claim with its passages.
TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def stemmer() -> Any:
    """The Snowball English stemmer every analyser here shares."""
    return _stemmer()


def stems(text: str) -> list[str]:
    """The stemmed content words of `text`, analysed exactly as BM25 analyses them."""
    stop = english_stopwords()
    words = [w for w in re.findall(WORDS, text.lower()) if w not in stop]
    return list(_stemmer().stemWords(words))


# A citation marker in an answer's text, with the space before it.
MARKER = re.compile(r"\s*\[(\d+)\]")
# A sentence that opens with a reference to the one before it: quoted alone it dangles
# ("It is important to ..." refers to nothing).
OPENS_WITH_REFERENCE = re.compile(
    r"^\W*(?:this|these|those|that|its|they|their|them|such|thus|as such|doing so|"
    r"failure to do so|it(?!\s+(?:is|was)\s+(?:\w+\s+){1,2}(?:to|that)\b))\b",
    re.IGNORECASE,
)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_BRACKETED_NUMBER = re.compile(r"\[(\d+)\]")


def plain(text: str) -> str:
    """Passage text for display: Markdown images dropped (nothing is fetched), links
    reduced to their words."""
    return _LINK.sub(r"\1", _IMAGE.sub("", text))


def quote_text(sentence: str) -> str:
    """A sentence as an answer quotes it: footnote markers and markup removed, and any
    other bracketed number shown in parentheses so that only citations look like [n]."""
    text = _BRACKETED_NUMBER.sub(r"(\1)", plain(strip_footnotes(sentence)))
    return " ".join(text.split())


# C0 and C1 controls (tab and newline kept), DEL, and the bidirectional overrides and
# isolates that reorder what is displayed ("Trojan source").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: titles, links
    r"|\x1b[@-_]"
)
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", _ESCAPE.sub("", text.replace("\r\n", "\n")))


def one_line(text: str) -> str:
    """`text` on one line: controls (newlines too) shown as escapes, e.g. a\\nb."""
    return "".join(_visible(ch) for ch in text)


def json_line(record: Any) -> str:
    """One JSON line; characters a terminal could act on are \\u-escaped, so the data a
    program reads back is unchanged."""
    text = json.dumps(record, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def preview(text: str, limit: int = 120) -> str:
    """At most `limit` characters of `text` on one line, for echoing input in errors."""
    shown = one_line(text[: limit + 1])
    return shown if len(text) <= limit else shown[:limit] + f"… ({len(text):,} characters)"


def _visible(ch: str) -> str:
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if _CONTROL.match(ch) or unicodedata.category(ch) in {"Zl", "Zp"}:
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    return ch
