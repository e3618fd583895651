"""The grounding guard: nothing a language model writes is shown as fact unless the
passages it cites support it.

A claim (`assistant.guard.claims`) is supported when all of these hold:

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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.guard.checks import below, coverage, hard_checks, listed
from assistant.guard.claims import Claim
from swguide.protocols import Embedder
from swguide.settings import GuardSettings
from swguide.text import strip_footnotes
from swguide.types import Passage, SentenceCheck

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
        removed = [f"citation {listed(claim.invalid)} removed: no such passage"] * bool(
            claim.invalid
        )
        if not cited:
            return SentenceCheck(claim.text, ids, False, 0.0, ("no valid citation", *removed))
        if claim.repeat:
            return SentenceCheck(claim.text, ids, False, 0.0, (REPEAT,))
        measure = self.measure(claim.text, cited, question)
        failures = [
            *measure.hard,
            *below("similarity", measure.similarity, self._settings.min_similarity),
            *below("word coverage", measure.coverage, self._settings.min_coverage),
        ]
        return SentenceCheck(claim.text, ids, not failures, measure.score, (*failures, *removed))

    def supports(self, sentence: str, passages: Sequence[Passage], question: str) -> bool:
        """Whether the passages, together, support the sentence (`SupportChecker`)."""
        claim = Claim(sentence, tuple(range(1, len(passages) + 1)))
        return bool(passages) and self.check(claim, passages, question).supported

    def measure(self, text: str, cited: Sequence[Passage], question: str) -> Measure:
        """What the verdict rests on, before the two thresholds are applied."""
        evidence, vectors = self._evidence(list(cited))
        similarity = vectors @ self._embedder.embed([text])[0]
        closest = [evidence[i] for i in np.argsort(-similarity)[:2]]
        cited_text = strip_footnotes(" ".join(p.chunk.text for p in cited))
        return Measure(
            float(similarity.max()),
            coverage(text, cited_text),
            tuple(hard_checks(text, cited_text, closest, question)),
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
