"""The grounding guard: nothing a language model writes is shown as fact unless the
passages it cites support it.

A claim (`assistant.claims`) is supported when all of these hold:

- it cites at least one passage, and is not a repeat of an earlier sentence;
- its embedding similarity to the closest cited sentence, or pair of adjacent cited
  sentences, reaches `guard.min_similarity`;
- the cited passages contain `guard.min_coverage` of its content words (stemmed);
- hard checks, against the closest cited sentences (the two most similar):
  - it does not open with a bare "yes" or "no" (a verdict the guidance never gives);
  - every number or frequency ("30", "two", "annually") in it is in the cited text;
  - every acronym or proper name in it is in the closest sentence or in the question;
  - its directives are matched: should follows from should or must, must only from
    must, and neither from "may/can" + the same verb; "can/may/will + verb" and words
    of permission ("acceptable") need the same there;
  - its stance words (optional, unimportant, always, only, prevent, expose, ...) are
    there too: one such word can turn a passage's meaning around;
  - a negation in it is matched by one over the same words, and it does not assert
    what they negate ("refrain from sharing opinions" never supports "share opinions").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.claims import Claim
from assistant.retrieval import stems
from ingest.embedding import Embedder
from ingest.sentences import strip_footnotes
from swguide.settings import GuardSettings
from swguide.types import Passage, SentenceCheck

NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "cannot",
        "can't",
        "won't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "shouldn't",
        "mustn't",
        "without",
        "nor",
        "neither",
        "none",
        "nothing",
        "refrain",
        "refrains",
        "refrained",
        "refraining",
        "avoid",
        "avoids",
        "avoided",
        "avoiding",
        "prohibited",
        "forbidden",
        "against",
        "stop",
        "stops",
        "stopping",
        "refuse",
        "refuses",
        "refusing",
        "decline",
        "declines",
        "cease",
    ]
)
DIRECTIVES = {
    "obligation": frozenset(
        [
            "must",
            "shall",
            "required",
            "require",
            "requires",
            "mandatory",
            "imperative",
            "essential",
            "obligated",
            "need",
            "needs",
        ]
    ),
    "advice": frozenset(
        [
            "should",
            "ought",
            "advised",
            "advises",
            "recommend",
            "recommended",
            "recommends",
            "urges",
            "urged",
        ]
    ),
}
DIRECTIVE_FROM = {"obligation": {"obligation"}, "advice": {"advice", "obligation"}}
MODAL_VERBS = frozenset(["can", "may", "will"])
# Skipped between a modal and its verb: "may also use" reads as "may use".
ADVERBS = frozenset(["also", "still", "even", "then", "potentially", "sometimes", "often"])
# "may be", "can have": too common to say anything about what is permitted.
AUXILIARIES = frozenset(["be", "have", "do", "not"])
DETERMINERS = frozenset(["the", "a", "an", "no", "any", "this", "that"])
PERMISSION_WORDS = frozenset(
    [
        "allowed",
        "permitted",
        "permissible",
        "acceptable",
        "okay",
        "ok",
        "fine",
        "appropriate",
        "encouraged",
    ]
)
STANCE = frozenset(
    [
        "optional",
        "unimportant",
        "unnecessary",
        "irrelevant",
        "insignificant",
        "harmless",
        "safe",
        "always",
        "only",
        "every",
        "all",
        "alone",
        "everyone",
        "anyone",
        "prevent",
        "prevents",
        "eliminate",
        "eliminates",
        "guarantee",
        "guarantees",
        "expose",
        "exposes",
        "cause",
        "causes",
        "reduce",
        "reduces",
        "increase",
        "increases",
        "improve",
        "improves",
        "worsen",
        "worsens",
    ]
)
NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "ninety": "90", "hundred": "100", "once": "1", "twice": "2", "half": "0.5",
    "dozen": "12", "daily": "daily", "weekly": "weekly", "monthly": "monthly",
    "quarterly": "quarterly", "annually": "annually", "yearly": "annually",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
VERDICT = re.compile(r"^(?:yes|no)\b[,.!;:]?", re.IGNORECASE)
NEGATION_SCOPE = 5
REPEAT = "repeats an earlier sentence"


@dataclass(frozen=True, slots=True)
class Measure:
    """A sentence against its cited passages: best similarity, word coverage, and the
    hard checks it fails."""

    similarity: float
    coverage: float
    hard: tuple[str, ...]

    @property
    def score(self) -> float:
        return 0.6 * self.similarity + 0.4 * self.coverage

    def supported(self, min_similarity: float, min_coverage: float) -> bool:
        return (
            not self.hard and self.similarity >= min_similarity and (self.coverage >= min_coverage)
        )


class GroundingGuard:
    def __init__(self, embedder: Embedder, settings: GuardSettings):
        self._embedder = embedder
        self._settings = settings

    def check(self, claim: Claim, passages: Sequence[Passage], question: str) -> SentenceCheck:
        """The verdict on one claim; `passages` are numbered from 1 as the model saw them."""
        cited = [passages[n - 1] for n in claim.cited]
        ids = tuple(p.chunk.id for p in cited)
        removed = [f"citation {_listed(claim.invalid)} removed: no such passage"] * bool(
            claim.invalid
        )
        if not cited:
            return SentenceCheck(claim.text, ids, False, 0.0, ("no valid citation", *removed))
        if claim.repeat:
            return SentenceCheck(claim.text, ids, False, 0.0, (REPEAT,))
        measure = self.measure(claim.text, cited, question)
        failures = [
            *measure.hard,
            *_below("similarity", measure.similarity, self._settings.min_similarity),
            *_below("word coverage", measure.coverage, self._settings.min_coverage),
        ]
        return SentenceCheck(claim.text, ids, not failures, measure.score, (*failures, *removed))

    def measure(self, text: str, cited: Sequence[Passage], question: str) -> Measure:
        """What the verdict rests on, before the two thresholds are applied."""
        evidence, vectors = self._evidence(list(cited))
        similarity = vectors @ self._embedder.embed([text])[0]
        closest = [evidence[i] for i in np.argsort(-similarity)[:2]]
        cited_text = strip_footnotes(" ".join(p.chunk.text for p in cited))
        return Measure(
            float(similarity.max()),
            self._coverage(text, cited_text),
            tuple(self._hard_checks(text, cited_text, closest, question)),
        )

    def prepare(self, passages: Sequence[Passage]) -> None:
        """Embed the passages' sentences now (the cache keeps them), e.g. while a model
        is still writing, so that checking its sentences later costs little."""
        self._embedder.embed([t for p in passages for t in p.chunk.sentence_texts()])

    def _evidence(self, cited: list[Passage]) -> tuple[list[str], np.ndarray]:
        """Each cited sentence, and each pair of adjacent ones (their mean vector)."""
        texts: list[str] = []
        rows: list[np.ndarray] = []
        for passage in cited:
            sentences = passage.chunk.sentence_texts()
            vectors = self._embedder.embed(sentences)
            texts += sentences
            rows.append(vectors)
            for (a, b), (va, vb) in zip(
                itertools.pairwise(sentences), itertools.pairwise(vectors), strict=True
            ):
                texts.append(f"{a} {b}")
                pair = va + vb
                rows.append((pair / np.linalg.norm(pair))[None, :])
        return texts, np.concatenate(rows)

    def _coverage(self, claim: str, cited: str) -> float:
        wanted = set(stems(claim))
        if not wanted:
            return 1.0
        return len(wanted & set(stems(cited))) / len(wanted)

    def _hard_checks(self, claim: str, cited: str, closest: list[str], question: str) -> list[str]:
        near = " ".join(closest)
        reasons = []
        if VERDICT.match(claim):
            reasons.append("answers yes or no, which the passages do not")
        numbers = _numbers_in(claim) - _numbers_in(cited)
        if numbers:
            reasons.append(f"number or frequency {_listed(sorted(numbers))} not in the cited text")
        names = [n for n in _names(claim) if not _mentions(f"{closest[0]} {question}", n)]
        if names:
            reasons.append(f"{_listed(names)} not in the closest cited sentence")
        reasons += _directives(claim, near)
        missing = sorted(_stances(claim) - _stances(near))
        if missing:
            reasons.append(f"{_listed(missing)} not in the cited sentences")
        reasons += self._negation(claim, closest)
        return reasons

    def _negation(self, claim: str, closest: list[str]) -> list[str]:
        """A negation must match one over the same words; none may negate what is claimed."""
        claimed = self._negated(claim)
        cited = [scope for sentence in closest for scope in self._negated(sentence)]
        if claimed:
            if not all(any(scope & other for other in cited) for scope in claimed):
                return ["negation not in the cited text"]
            return []
        claimed_stems = set(stems(claim))
        if any(len(claimed_stems & scope) >= 2 for scope in cited):
            return ["the cited text negates this"]
        return []

    def _negated(self, text: str) -> list[set[str]]:
        """The stems each negation in `text` governs: the words after it, or, when none
        follow ("… should be avoided"), the words before it."""
        tokens = _words(text)
        scopes = []
        for i, token in enumerate(tokens):
            if token in NEGATIONS:
                after = set(stems(" ".join(tokens[i + 1 : i + 1 + NEGATION_SCOPE])))
                scopes.append(after or set(stems(" ".join(tokens[:i]))))
        return scopes


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) is not None


def _directives(claim: str, near: str) -> list[str]:
    reasons = []
    words, near_words = _modal_words(claim), _modal_words(near)
    have = {kind for kind, cues in DIRECTIVES.items() if cues & set(near_words)}
    for kind, cues in DIRECTIVES.items():
        if cues & set(words) and not DIRECTIVE_FROM[kind] & have:
            reasons.append(f"'{kind}' wording not in the cited sentences")
    near_pairs = {f"{a} {b}" for a, b in itertools.pairwise(near_words)}
    for a, b in itertools.pairwise(words):
        if b in AUXILIARIES:
            continue
        if a in MODAL_VERBS and f"{a} {b}" not in near_pairs:
            reasons.append(f"'{a} {b}' not in the cited sentences")
        elif a in DIRECTIVES["obligation"] | DIRECTIVES["advice"] and (
            f"may {b}" in near_pairs or f"can {b}" in near_pairs
        ):
            reasons.append(f"'{a} {b}' where the cited sentences only permit it")
    granted = sorted((PERMISSION_WORDS & set(words)) - set(near_words))
    if granted:
        reasons.append(f"{_listed(granted)} not in the cited sentences")
    return reasons


def _modal_words(text: str) -> list[str]:
    """Words as modals read them: "could" as "can", "might" as "may" (hypotheticals),
    adverbs between a modal and its verb left out, and "the need" not an obligation."""
    out: list[str] = []
    for word in _words(text):
        word = {"could": "can", "might": "may"}.get(word, word)
        if word in ADVERBS:
            continue
        if word in ("need", "needs") and out and out[-1] in DETERMINERS:
            word = "the-need"
        out.append(word)
    return out


def _stances(text: str) -> set[str]:
    return set(stems(" ".join(w for w in _words(text) if w in STANCE)))


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in WORD.findall(text)]


def _numbers_in(text: str) -> set[str]:
    found = set(NUMBER.findall(text))
    return found | {NUMBER_WORDS[w] for w in _words(text) if w in NUMBER_WORDS}


def _names(text: str) -> list[str]:
    """Acronyms and capitalised words that do not open a sentence: names of bodies."""
    names = []
    tokens = WORD.findall(text)
    for i, token in enumerate(tokens):
        acronym = len(token) > 1 and token.isupper() and token.isalpha()
        proper = i > 0 and token[0].isupper() and token.lower() not in {"i"}
        if acronym or proper:
            names.append(token)
    return list(dict.fromkeys(names))


def _below(name: str, value: float, floor: float) -> list[str]:
    return [f"{name} {value:.2f} below {floor:.2f}"] if value < floor else []


def _listed(items: Sequence[object]) -> str:
    return ", ".join(f"'{i}'" if isinstance(i, str) else f"[{i}]" for i in items)
