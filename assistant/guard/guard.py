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
from typing import Protocol

import numpy as np

from assistant.guard.checks import below, coverage, hard_checks, listed, precise_checks
from assistant.guard.claims import Claim
from assistant.guard.features import warm, windows
from swguide.protocols import Embedder
from swguide.settings import GuardSettings
from swguide.text import strip_footnotes
from swguide.types import Passage, SentenceCheck

REPEAT = "repeats an earlier sentence"
ATTRIBUTED = "attributed: written without a usable passage number, supported by this passage"


@dataclass(frozen=True, slots=True)
class Measure:
    """A sentence against its cited passages: best similarity, word coverage, and the
    hard checks it fails."""

    similarity: float
    coverage: float
    hard: tuple[str, ...]
    best: int = 0  # the cited passage holding the closest sentence

    @property
    def score(self) -> float:
        return 0.6 * self.similarity + 0.4 * self.coverage

    def supported(self, min_similarity: float, min_coverage: float) -> bool:
        return (
            not self.hard and self.similarity >= min_similarity and (self.coverage >= min_coverage)
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    """A sentence against the passages it cites: the verdict, its score, why not, which
    passage supports it best and which support it alone (indexes into the cited passages;
    the heuristic judges them together, so it keeps them all)."""

    supported: bool
    score: float
    reasons: tuple[str, ...]
    best: int
    kept: tuple[int, ...] = ()


class Verifier(Protocol):
    threshold: float

    def probabilities(self, triples: Sequence[tuple[str, str, str]]) -> np.ndarray: ...


class GroundingGuard:
    """Decides, sentence by sentence, what may be shown. With a learned `verifier` the
    sentence must be supported by one of the passages it cites (P(supported) at or above
    the verifier's threshold) and pass the precise checks against that passage; without
    one, the heuristic rule above decides."""

    def __init__(
        self, embedder: Embedder, settings: GuardSettings, verifier: Verifier | None = None
    ) -> None:
        self._embedder = embedder
        self._settings = settings
        self._verifier = verifier

    @property
    def checker(self) -> str:
        return "heuristic" if self._verifier is None else "learned"

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
        judged = self.judge(claim.text, cited, question)
        unsupportive = [
            n for i, n in enumerate(claim.cited) if judged.kept and i not in judged.kept
        ]
        if judged.supported and unsupportive:
            ids = tuple(ids[i] for i in judged.kept)
            removed.append(f"citation {listed(unsupportive)} removed: it does not support this")
        return SentenceCheck(
            claim.text, ids, judged.supported, judged.score, (*judged.reasons, *removed)
        )

    def attribute(
        self, claim: Claim, passages: Sequence[Passage], question: str
    ) -> SentenceCheck | None:
        """For a claim that names no passage it may cite: the passage that supports it
        alone (the best supported, if several), as a check citing that passage; None when
        none does. The number shown is then the verifier's finding, not the model's."""
        if claim.cited or claim.repeat or not passages:
            return None
        judged = self.judge_many([(claim.text, [p], question) for p in passages])
        supported = [(j.score, i) for i, j in enumerate(judged) if j.supported]
        if not supported:
            return None
        score, best = max(supported)
        return SentenceCheck(claim.text, (passages[best].chunk.id,), True, score, (ATTRIBUTED,))

    def judge(self, text: str, cited: Sequence[Passage], question: str) -> Judgement:
        """The verdict on `text` against the passages it cites (at least one)."""
        return self.judge_many([(text, cited, question)])[0]

    def judge_many(self, items: Sequence[tuple[str, Sequence[Passage], str]]) -> list[Judgement]:
        """Verdicts for many sentences; the learned verifier reads all pairs in batches."""
        if self._verifier is None:
            return [self._heuristic(text, cited, question) for text, cited, question in items]
        triples = [
            (text, strip_footnotes(p.chunk.text), question)
            for text, cited, question in items
            for p in cited
        ]
        probs = self._verifier.probabilities(triples)
        out, at = [], 0
        for text, cited, question in items:
            mine = probs[at : at + len(cited)]
            at += len(cited)
            best = int(np.argmax(mine))
            failures = [
                *precise_checks(text, strip_footnotes(cited[best].chunk.text), question),
                *below("support", float(mine[best]), self._verifier.threshold),
            ]
            kept = tuple(
                i for i, p in enumerate(mine) if p >= self._verifier.threshold or i == best
            )
            out.append(Judgement(not failures, float(mine[best]), tuple(failures), best, kept))
        return out

    def _heuristic(self, text: str, cited: Sequence[Passage], question: str) -> Judgement:
        measure = self.measure(text, cited, question)
        failures = [
            *measure.hard,
            *below("similarity", measure.similarity, self._settings.min_similarity),
            *below("word coverage", measure.coverage, self._settings.min_coverage),
        ]
        return Judgement(not failures, measure.score, tuple(failures), measure.best)

    def supports(self, sentence: str, passages: Sequence[Passage], question: str) -> bool:
        """Whether the passages, together, support the sentence (`SupportChecker`)."""
        claim = Claim(sentence, tuple(range(1, len(passages) + 1)))
        return bool(passages) and self.check(claim, passages, question).supported

    def measure(self, text: str, cited: Sequence[Passage], question: str) -> Measure:
        """What the verdict rests on, before the two thresholds are applied."""
        evidence, vectors, owners = self._evidence(list(cited))
        similarity = vectors @ self._embedder.embed([text])[0]
        closest = [evidence[i] for i in np.argsort(-similarity)[:2]]
        cited_text = strip_footnotes(" ".join(p.chunk.text for p in cited))
        return Measure(
            float(similarity.max()),
            coverage(text, cited_text),
            tuple(hard_checks(text, cited_text, closest, question)),
            owners[int(np.argmax(similarity))],
        )

    def prepare(self, passages: Sequence[Passage]) -> None:
        """Embed the passages' sentences now (the cache keeps them), e.g. while a model
        is still writing, so that checking its sentences later costs little."""
        if self._verifier is not None:
            warm([strip_footnotes(p.chunk.text) for p in passages], self._embedder)
            return
        self._embedder.embed([t for p in passages for t in p.chunk.sentence_texts()])

    def _evidence(self, cited: list[Passage]) -> tuple[list[str], np.ndarray, list[int]]:
        """Each cited sentence, and each pair of adjacent ones (their mean vector), with
        the index of the passage each comes from."""
        texts: list[str] = []
        rows: list[np.ndarray] = []
        owners: list[int] = []
        for index, passage in enumerate(cited):
            sentences = passage.chunk.sentence_texts()
            texts += [*sentences, *(f"{a} {b}" for a, b in itertools.pairwise(sentences))]
            rows.append(windows(self._embedder.embed(sentences)))
            owners += [index] * (2 * len(sentences) - 1 if sentences else 0)
        return texts, np.concatenate(rows), owners
