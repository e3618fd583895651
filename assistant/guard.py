"""The grounding guard: nothing a language model writes is shown as fact unless the
passages it cites support it.

The answer is split into sentences; each sentence's citation markers are read in the
forms models produce ([1], [1][2], [1, 2], [1-3], 【1】, [Passage 2]; a marker after the
full stop belongs to the sentence before it) and numbers that name no passage of this
answer are dropped. A sentence is supported when all of these hold:

- it cites at least one passage;
- its embedding similarity to the closest cited sentence, or pair of adjacent cited
  sentences, reaches `guard.min_similarity`;
- the cited passages contain `guard.min_coverage` of its content words (stemmed);
- hard checks: every number in it appears in the cited passages; every acronym or proper
  name in it appears there or in the question; each kind of modal it uses (obligation:
  must; advice: should; permission: may, can) appears in the closest cited sentences; a
  negation in it is matched by one there, and it does not assert what they negate
  ("refrain from sharing opinions" does not support "share opinions").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.retrieval import stems
from ingest.embedding import Embedder
from ingest.sentences import CITATION, FOOTNOTE, sentence_spans
from swguide.settings import GuardSettings
from swguide.types import Passage, SentenceCheck

NEGATIONS = {
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
}
# A claim with a modal of one kind is supported by cited wording of these kinds: a
# weaker directive (should) follows from a stronger one (must), never the reverse, and
# permission (may, can) only from permission.
IMPLIED_BY = {
    "obligation": {"obligation"},
    "advice": {"advice", "obligation"},
    "permission": {"permission"},
}
MODALS = {
    "obligation": {
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
        "have to",
        "has to",
    },
    "advice": {
        "should",
        "ought",
        "advised",
        "advises",
        "recommend",
        "recommended",
        "recommends",
        "encouraged",
        "urges",
        "urged",
    },
    "permission": {
        "may",
        "can",
        "could",
        "might",
        "allowed",
        "permitted",
        "acceptable",
        "okay",
        "ok",
        "fine",
    },
}
NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "ninety": "90",
    "hundred": "100",
    "first": "1",
    "second": "2",
    "third": "3",
    "once": "1",
    "twice": "2",
    "half": "0.5",
    "dozen": "12",
}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
NEGATION_SCOPE = 5


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of an answer: its text without markers, and what it cites."""

    text: str
    cited: tuple[int, ...]
    invalid: tuple[int, ...] = ()


def parse_claims(answer: str, passages: int) -> list[Claim]:
    """Sentences of `answer` with their citation numbers (1..passages kept)."""
    claims = []
    for line in answer.splitlines():
        body = BULLET.sub("", line)
        for start, end in sentence_spans(body):
            claim = _claim(body[start:end], passages)
            if claim.text:
                claims.append(claim)
    return claims


def _claim(sentence: str, passages: int) -> Claim:
    numbers: list[int] = []
    for match in CITATION.finditer(sentence):
        numbers += _numbers(match.group(1))
    text = re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub("", sentence)).strip()
    valid = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= passages))
    invalid = tuple(dict.fromkeys(n for n in numbers if not 1 <= n <= passages))
    return Claim(text, valid, invalid)


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", group):
        bounds = [int(n) for n in re.split(r"\s*[-–]\s*", part) if n.isdigit()]
        if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 20:
            out += range(bounds[0], bounds[1] + 1)
        else:
            out += bounds
    return out


class GroundingGuard:
    def __init__(self, embedder: Embedder, settings: GuardSettings):
        self._embedder = embedder
        self._settings = settings

    def check(self, claim: Claim, passages: Sequence[Passage], question: str) -> SentenceCheck:
        """The verdict on one claim; `passages` are numbered from 1 as the model saw them."""
        cited = [passages[n - 1] for n in claim.cited]
        ids = tuple(p.chunk.id for p in cited)
        if not cited:
            reason = "no valid citation" + (
                f" ({_listed(claim.invalid)} removed)" if claim.invalid else ""
            )
            return SentenceCheck(claim.text, ids, False, 0.0, (reason,))
        evidence, vectors = self._evidence(cited)
        similarity = vectors @ self._embedder.embed([claim.text])[0]
        closest = [evidence[i] for i in np.argsort(-similarity)[:2]]
        cited_text = FOOTNOTE.sub("", " ".join(p.chunk.text for p in cited))
        coverage = self._coverage(claim.text, cited_text)
        best = float(similarity.max())
        reasons = [
            *self._hard_checks(claim.text, cited_text, closest, question),
            *_below("similarity", best, self._settings.min_similarity),
            *_below("word coverage", coverage, self._settings.min_coverage),
        ]
        if claim.invalid:
            reasons.append(f"citation {_listed(claim.invalid)} removed: no such passage")
        supported = not [r for r in reasons if not r.startswith("citation ")]
        return SentenceCheck(
            claim.text, ids, supported, 0.6 * best + 0.4 * coverage, tuple(reasons)
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
        reasons = []
        numbers = _numbers_in(claim) - _numbers_in(cited)
        if numbers:
            reasons.append(f"number {_listed(sorted(numbers))} not in the cited text")
        names = [n for n in _names(claim) if n.lower() not in f"{cited} {question}".lower()]
        if names:
            reasons.append(f"{_listed(names)} not in the cited text")
        near = _modals(" ".join(closest))
        modals = sorted(kind for kind in _modals(claim) if not IMPLIED_BY[kind] & near)
        if modals:
            reasons.append(f"{_listed(modals)} wording not in the cited text")
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


def _modals(text: str) -> set[str]:
    words = _words(text)
    joined = f" {' '.join(words)} "
    return {kind for kind, cues in MODALS.items() if any(f" {cue} " in joined for cue in cues)}


def _below(name: str, value: float, floor: float) -> list[str]:
    return [f"{name} {value:.2f} below {floor:.2f}"] if value < floor else []


def _listed(items: Sequence[object]) -> str:
    return ", ".join(f"'{i}'" if isinstance(i, str) else f"[{i}]" for i in items)
