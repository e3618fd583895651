"""Rewrite a question for retrieval: mend typos, then add the guidance's own terms.

Typos are mended against the index's vocabulary and the lexicon first, then against
symspellpy's English frequency dictionary; a word is changed only when it is unknown
to all of them (the whole dictionary: "chummy" and "riskier" are words, not typos), is
at least four letters, and has a candidate within edit distance two among the index's
words, the lexicon's and the dictionary's commonest. Of the closest candidates it takes
one that keeps the first letter, then one that adds a letter, then one of the same
length, then the commonest ("taged" is "tagged", not "aged"; "formr" is "former", not
"forms"; "shar" is "share", not "star"): typists rarely miss the first letter and more
often leave a letter out than add or change one. Acronyms (all capitals) are left
alone. The rewrite is what retrieval searches for; the answer still shows the question
as it was asked.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from swguide.errors import ConfigError
from swguide.text import SPELLED_WORD

if TYPE_CHECKING:
    from symspellpy import SymSpell

DICTIONARY_WORDS = 40_000


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The vocabulary between askers and the guidance (`corpus/lexicon.toml`).

    `phrases` add the guidance's term to a query; `replacements` substitute it;
    `outside` are words for topics outside the guidance (billing, medication, ...).
    """

    phrases: dict[str, str]
    replacements: dict[str, str] = field(default_factory=dict)
    outside: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        if not path.is_file():
            return cls({})
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            pairs = [
                (w.lower(), t["guidance"], bool(t.get("replace", False)))
                for t in data.get("terms", [])
                for w in t["words"]
            ]
            outside = {w.lower(): t["topic"] for t in data.get("outside", []) for w in t["words"]}
        except (tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ConfigError(f"{path} is not a valid lexicon ({error}): fix the file.") from None
        return cls(
            {w: g for w, g, replace in pairs if not replace},
            {w: g for w, g, replace in pairs if replace},
            outside,
        )

    def replace(self, word: str) -> str:
        """The guidance's word for `word` where the lexicon reads it as one, else `word`."""
        return self.replacements.get(word.lower(), word)

    def mapped(self, text: str) -> list[tuple[str, str]]:
        """(phrase, guidance term) for each lexicon phrase in `text`, whole words only."""
        lowered = _spaced(text)
        return [(phrase, term) for phrase, term in self.phrases.items() if f" {phrase} " in lowered]

    def outside_words(self, text: str) -> list[tuple[str, str]]:
        """(word, topic) for each word of `text` naming a topic outside the guidance."""
        lowered = _spaced(text)
        return [(w, topic) for w, topic in sorted(self.outside.items()) if f" {w} " in lowered]

    @property
    def words(self) -> set[str]:
        every = [*self.phrases, *self.replacements.values()]
        return {w for phrase in every for w in phrase.split()}


def _spaced(text: str) -> str:
    return f" {' '.join(SPELLED_WORD.findall(text.lower().replace('’', chr(39))))} "


@dataclass(frozen=True, slots=True)
class Rewrite:
    """The question with typos mended, that plus the guidance's terms (for search), the
    lexicon phrases it used and any words it has for topics outside the guidance."""

    mended: str
    expanded: str
    mapped: tuple[tuple[str, str], ...] = ()
    outside: tuple[tuple[str, str], ...] = ()


class QueryRewriter:
    def __init__(self, vocabulary: Iterable[str], lexicon: Lexicon) -> None:
        self._domain = {w.lower() for w in vocabulary} | lexicon.words
        self._lexicon = lexicon

    def rewrite(self, question: str) -> Rewrite:
        mended = SPELLED_WORD.sub(lambda m: self._lexicon.replace(self._mend(m.group())), question)
        mapped = self._lexicon.mapped(mended)
        terms = [t for t in dict.fromkeys(t for _, t in mapped) if t.lower() not in mended.lower()]
        expanded = f"{mended} ({'; '.join(terms)})" if terms else mended
        return Rewrite(mended, expanded, tuple(mapped), tuple(self._lexicon.outside_words(mended)))

    def _mend(self, word: str) -> str:
        lower = word.lower()
        if "'" in word:
            return word
        if len(word) < 4 or word.isupper() or lower in self._domain or lower in _known():
            return word
        from symspellpy import Verbosity

        found = self._speller.lookup(lower, Verbosity.CLOSEST, max_edit_distance=2)
        if not found:
            return word
        return str(min(found, key=lambda s: _unlikely(lower, s.term)).term)

    @cached_property
    def _english(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for line in _dictionary_lines()[:DICTIONARY_WORDS]:
            word, _, count = line.partition(" ")
            counts[word] = int(count)
        return counts

    @cached_property
    def _speller(self) -> SymSpell:
        from symspellpy import SymSpell

        speller = SymSpell(max_dictionary_edit_distance=2)
        top = max(self._english.values())
        for word in self._domain:
            speller.create_dictionary_entry(word, top)
        for word, count in self._english.items():
            speller.create_dictionary_entry(word, count)
        return speller


def _unlikely(typed: str, candidate: str) -> tuple[bool, int]:
    """How unlikely a correction is (lower is likelier; ties go to the commonest)."""
    longer = len(candidate) - len(typed)
    return candidate[0] != typed[0], 0 if longer > 0 else 1 if longer == 0 else 2


@cache
def _known() -> frozenset[str]:
    """Every word of the dictionary: a word in it is never taken for a typo."""
    return frozenset(line.partition(" ")[0] for line in _dictionary_lines())


@cache
def _dictionary_lines() -> list[str]:
    """symspellpy's English words, commonest first, one "word count" line each."""
    source = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    return source.read_text(encoding="utf-8").splitlines()
