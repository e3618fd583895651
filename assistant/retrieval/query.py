"""Rewrite a question for retrieval: mend typos, then add the guidance's own terms.

Typos are mended against the index's vocabulary and the lexicon first, then against
symspellpy's English frequency dictionary; a word is changed only when it is unknown
to all of them, is at least four letters, and has a candidate within edit distance two.
Acronyms (all capitals) are left alone. The rewrite is what retrieval searches for;
the answer still shows the question as it was asked.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
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
    def __init__(self, vocabulary: set[str], lexicon: Lexicon) -> None:
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
        if len(word) < 4 or word.isupper() or lower in self._domain or lower in self._english:
            return word
        from symspellpy import Verbosity

        found = self._speller.lookup(lower, Verbosity.CLOSEST, max_edit_distance=2)
        return found[0].term if found else word

    @cached_property
    def _english(self) -> dict[str, int]:
        source = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
        counts: dict[str, int] = {}
        for line in source.read_text(encoding="utf-8").splitlines()[:DICTIONARY_WORDS]:
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
