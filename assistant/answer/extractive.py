"""The extractive answerer: quotes the guidance's most relevant sentences, with citations.

It needs no language model. Each sentence of the top `answer.passages` retrieved
passages, read under its section heading, is scored by its embedding similarity to the
question (the better of the question in the asker's words, typos mended, and the
question with the guidance's terms added), plus half the IDF-weighted share of
the search query's words it contains.

It abstains at once when the question uses a word for a topic outside the guidance
(`outside` in `corpus/lexicon.toml`: billing, medication, ...) that no indexed passage
mentions. Otherwise whether to answer is decided from the best score and the question's
scope margin against example questions inside and outside the guidance's scope
(assistant.retrieval.examples), calibrated together on questions of both kinds
(`python -m evals.calibrate`):
- at or above `answer.confident_relevance` it answers;
- below `answer.min_relevance` it abstains (nothing in the index is close enough to
  quote, whatever the question reads like);
- in between it answers only if the scope margin reaches `answer.scope_margin`:
  "Can I share my election takes on my page?" is answered, "How many hashtags should I
  use?" is not, though the guidance's sentences lie as close to both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answer.draft import ABSTAIN, VERBATIM, Draft, lead_line
from assistant.retrieval.examples import ExampleQuestions
from assistant.retrieval.hybrid import Retrieval
from swguide.protocols import Embedder
from swguide.settings import AnswerSettings
from swguide.text import OPENS_WITH_REFERENCE, quote_text, stems
from swguide.types import Citation, Passage, SentenceCheck, Span

LEXICAL_WEIGHT = 0.5  # chosen on the clinician questions' fit split (0.25 before)
EXAMPLE_WEIGHT = 0.9  # likewise, with the fixed questions
MIN_WORDS = 4
CARRY = 3  # sentences a dangling quote may carry from before it


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sentence of a retrieved passage and how relevant it is to the question."""

    passage: Passage
    span: Span
    text: str
    dense: float
    lexical: float
    support: float = 0.0  # from the example questions (assistant.retrieval.examples)

    @property
    def relevance(self) -> float:
        """How close the sentence is to the question: what abstention is decided on."""
        return self.dense + LEXICAL_WEIGHT * self.lexical

    @property
    def rank(self) -> float:
        """What quotes are chosen and ordered by: relevance, and the example questions'
        word on which sentences answer questions like this one."""
        return self.relevance + EXAMPLE_WEIGHT * self.support


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, settings: AnswerSettings, examples: ExampleQuestions):
        self._embedder = embedder
        self._settings = settings
        self._examples = examples

    def answer(self, question: str, retrieval: Retrieval, topics: list[str]) -> Draft:
        if retrieval.outside:
            return Draft(abstention(topics, retrieval.outside), (), True)
        candidates = self.candidates(retrieval)
        top = max(candidates, key=lambda c: c.relevance, default=None)
        best = top.relevance if top else 0.0
        guided = top is not None and self._examples.written_for(top.passage.chunk.document_id)
        scope = self._examples.margin(retrieval.mended_vector)
        if not self.answerable(best, scope, guided):
            return Draft(abstention(topics), (), True, best, scope, guided=guided)
        return _compose(in_context(self._select(candidates)), best, scope, guided)

    def stream(self, question: str, retrieval: Retrieval, topics: list[str]) -> Iterator[Draft]:
        yield self.answer(question, retrieval, topics)

    def answerable(self, best: float, scope: float, guided: bool = True) -> bool:
        """Whether to answer, from the best sentence's relevance and the scope margin.
        `guided`: the example questions were written for the best sentence's document;
        for any other document a relevance of `confident_relevance` answers whatever
        the question reads like (an agency's records policy answers a records question
        the examples call out of scope)."""
        if not guided and best >= self._settings.confident_relevance:
            return True
        return best >= self._settings.min_relevance and scope >= self._settings.scope_margin

    def candidates(self, retrieval: Retrieval) -> list[Candidate]:
        """Every quotable sentence of the top retrieved passages, scored."""
        found = [
            (p, (s, e), p.chunk.text[s:e])
            for i, p in enumerate(retrieval.passages)
            if i < self._settings.passages or p.via is not None
            for s, e in p.chunk.sentences
            if len(quote_text(p.chunk.text[s:e]).split()) >= MIN_WORDS
        ]
        if not found:
            return []
        sentences = self._embedder.embed([f"{p.chunk.section}: {t}" for p, _, t in found])
        queries = np.stack([retrieval.vector, retrieval.mended_vector])
        dense = (sentences @ queries.T).max(axis=1)
        lexical = retrieval.lexical
        terms = {stem: lexical.idf(stem) for stem in set(stems(retrieval.query))}
        support = self._examples.support(retrieval.mended_vector, [t for _, _, t in found])
        return [
            Candidate(p, span, text, float(d), _coverage(terms, text), a)
            for (p, span, text), d, a in zip(found, dense, support, strict=True)
        ]

    def _select(self, candidates: list[Candidate]) -> list[Candidate]:
        """The best sentences above the floor, unlike each other. When they all come from
        one document, the best sentence of another document that is relevant enough to
        answer from (`min_relevance`) joins them: an agency's own rule never silences the
        guidance, nor the guidance the agency's rule; each is quoted under its name."""
        ranked = sorted(candidates, key=lambda c: -c.rank)
        floor = max(c.rank for c in candidates) * self._settings.sentence_floor if candidates else 0
        chosen: list[Candidate] = []
        for candidate in (c for c in ranked if c.rank >= floor):
            if len(chosen) == self._settings.max_sentences:
                break
            if not any(self._similar(candidate, c) for c in chosen):
                chosen.append(candidate)
        documents = {c.passage.chunk.document_id for c in chosen}
        other = next(
            (
                c
                for c in ranked
                if c.passage.chunk.document_id not in documents
                and c.relevance >= self._settings.min_relevance
            ),
            None,
        )
        if len(documents) == 1 and other is not None:
            chosen = [*chosen[: self._settings.max_sentences - 1], other]
        return chosen

    def _similar(self, a: Candidate, b: Candidate) -> bool:
        va, vb = self._embedder.embed([a.text, b.text])
        return float(va @ vb) >= self._settings.redundancy


def in_context(chosen: list[Candidate]) -> list[Candidate]:
    """Each quote that opens with a reference to what comes before it ("This", "These
    actions", "Doing so") carries the sentences before it in its passage (at most
    CARRY), so its span may hold several sentences; a quote that another now holds is
    dropped, and one that holds another takes its place."""
    kept: list[Candidate] = []
    for candidate in map(_with_antecedent, chosen):
        if any(_holds(k, candidate) for k in kept):
            continue
        held = [i for i, k in enumerate(kept) if _holds(candidate, k)]
        if held:
            kept[held[0]] = candidate
            kept = [k for i, k in enumerate(kept) if i not in held[1:]]
        else:
            kept.append(candidate)
    return kept


def _with_antecedent(candidate: Candidate) -> Candidate:
    chunk = candidate.passage.chunk
    start = candidate.span[0]
    for _ in range(CARRY):
        before = [s for s in chunk.sentences if s[1] <= start]
        if not before or not OPENS_WITH_REFERENCE.match(quote_text(chunk.text[start:])):
            break
        start = before[-1][0]
    span = (start, candidate.span[1])
    return replace(candidate, span=span, text=chunk.text[span[0] : span[1]])


def _holds(outer: Candidate, inner: Candidate) -> bool:
    return (
        outer.passage.chunk.id == inner.passage.chunk.id
        and outer.span[0] <= inner.span[0]
        and inner.span[1] <= outer.span[1]
    )


def _sentences(candidate: Candidate) -> list[Span]:
    """The passage's sentences a (possibly carried) quote spans."""
    start, end = candidate.span
    inside = [s for s in candidate.passage.chunk.sentences if start <= s[0] and s[1] <= end]
    return inside or [candidate.span]


def _coverage(terms: dict[str, float], text: str) -> float:
    total = sum(terms.values())
    if not total:
        return 0.0
    present = set(stems(text))
    return sum(w for stem, w in terms.items() if stem in present) / total


def _compose(chosen: list[Candidate], best: float, scope: float, guided: bool) -> Draft:
    numbers: dict[str, int] = {}
    quotes: dict[str, list[Span]] = {}
    parts, checks = [], []
    several = len({c.passage.chunk.document_id for c in chosen}) > 1
    previous = None
    for candidate in by_passage(chosen):
        cid = candidate.passage.chunk.id
        n = numbers.setdefault(cid, len(numbers) + 1)
        title = candidate.passage.chunk.document_title
        said = f"{title}: " if several and title != previous else ""  # each voice named
        previous = title
        for start, end in _sentences(candidate):  # a carried sentence is its own quote
            quotes.setdefault(cid, []).append((start, end))
            quote = f"“{quote_text(candidate.passage.chunk.text[start:end])}”"
            parts.append(f"{said}{quote} [{n}]")
            said = ""
            checks.append(SentenceCheck(quote, (cid,), True, 1.0, (VERBATIM,), True, (n,)))
    by_id = {c.passage.chunk.id: c.passage for c in chosen}
    citations = tuple(
        Citation(n, by_id[cid], tuple(sorted(quotes[cid]))) for cid, n in numbers.items()
    )
    return Draft(
        " ".join(parts),
        citations,
        False,
        best,
        scope,
        tuple(checks),
        lead=lead_line(citations),
        guided=guided,
    )


def by_passage(chosen: list[Candidate]) -> list[Candidate]:
    """The quotes grouped by passage, the passage of the best quote first; within a
    passage, best first."""
    order = {cid: i for i, cid in enumerate(dict.fromkeys(c.passage.chunk.id for c in chosen))}
    return sorted(chosen, key=lambda c: order[c.passage.chunk.id])


def abstention(topics: list[str], outside: Sequence[str] = ()) -> str:
    """The refusal: what the guidance does not mention, and what it does cover."""
    missing = f" It says nothing about {' or '.join(outside)}." if outside else ""
    covered = f" It covers: {'; '.join(topics)}." if topics else ""
    return f"{ABSTAIN}{missing}{covered}"
