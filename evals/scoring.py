"""Score one answer against its question, as ALCE scores citations.

The answer's text is read as statements (sentences with their [n] markers, as
`assistant.guard.claims` reads a model's reply), whoever wrote it, so the sentinel baselines
are scored exactly like the real answerers. The project's support checker, the
grounding guard, stands in for ALCE's NLI model:

- citation recall: a statement counts when its cited passages, together, support it;
- citation precision: a citation counts unless it is removable: it cannot support the
  statement alone, and the statement's other citations support it without it;
  citations of a statement its citations do not support do not count;
- unsupported: a statement no retrieved passage supports (all of them together);
- mis-cited: a statement the retrieved passages support but its own citations do not.

What the answer holds is scored on the sentences it shows: a gold span counts when it is
inside a shown sentence (or a shown sentence of at least MIN_GOLD_WORDS words is inside
it: a gold span can run over two sentences); a quote is dangling when it opens with a
reference to what came before it ("This", "Doing so", "Failure to do so", ...) and the
sentence shown before it is not that sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.answer.draft import VERBATIM
from assistant.guard.claims import parse_claims
from evals.dataset import Question
from swguide.protocols import SupportChecker
from swguide.text import MARKER, OPENS_WITH_REFERENCE, english_stopwords, quote_text, stems
from swguide.types import Answer, Passage, SentenceCheck

MIN_GOLD_WORDS = 8
WORD_RULE = 0.7  # the second opinion on shown model sentences: this share of their words


def word_supported(sentence: str, passages: list[str]) -> bool:
    """A rule that is not the guard: at least WORD_RULE of the sentence's content words
    (stems, stop words aside) occur in the passages it cites."""
    stop = english_stopwords()
    words = set(stems(" ".join(w for w in _words(sentence) if w not in stop)))
    held = set(stems(" ".join(passages)))
    return not words or len(words & held) >= WORD_RULE * len(words)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", quote_text(text).lower())


def normal(text: str) -> str:
    """Lower case words only: how gold spans and shown sentences are compared."""
    return " ".join(_words(text))


def holds_gold(sentence: str, gold: tuple[str, ...]) -> bool:
    said = normal(sentence)
    return any(
        g in said or (len(said.split()) >= MIN_GOLD_WORDS and said in g) for g in map(normal, gold)
    )


def dangling(sentence: str, before: str | None, passages: tuple[str, ...]) -> bool:
    """A quote that opens with a reference, unless the sentence shown before it is the
    one before it in a passage."""
    if not OPENS_WITH_REFERENCE.match(_strip_quotes(sentence)):
        return False
    joined = f"{normal(before)} {normal(sentence)}" if before else None
    return not joined or not any(joined in normal(p) for p in passages)


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    citations: int
    supported: bool  # by its cited passages, together (citation recall)
    precise: int  # citations that are not removable (citation precision)
    grounded: bool  # by the retrieved passages, together


@dataclass(frozen=True, slots=True)
class Scored:
    """Everything the report needs about one question's answer."""

    question: Question
    answer: Answer
    abstained: bool
    relevant: tuple[str, ...]
    retrieved: tuple[str, ...]
    markers: int
    resolved: int
    statements: tuple[Statement, ...]
    mentioned: tuple[bool, ...]
    violations: tuple[str, ...]
    shown: tuple[str, ...] = ()  # the sentences the answer shows, in order
    retrieval: dict[str, float] = field(default_factory=dict)

    @property
    def gold_shown(self) -> bool:
        return any(holds_gold(s, self.question.gold) for s in self.shown)

    @property
    def gold_first(self) -> bool:
        """The first quote holds a gold span: the first shown sentence, with the ones
        after it that refer back to it (the extractive answer carries them together)."""
        texts = self._texts()
        first = self.shown[:1]
        for before, sentence in zip(self.shown, self.shown[1:], strict=False):
            if not OPENS_WITH_REFERENCE.match(_strip_quotes(sentence)):
                break
            if dangling(sentence, before, texts):
                break
            first += (sentence,)
        return any(holds_gold(s, self.question.gold) for s in first)

    @property
    def dangling(self) -> int:
        before = (None, *self.shown)[: len(self.shown)]
        texts = self._texts()
        return sum(dangling(s, b, texts) for s, b in zip(self.shown, before, strict=True))

    @property
    def model_sentences(self) -> tuple[SentenceCheck, ...]:
        """The sentences a language model wrote (shown or not)."""
        return tuple(s for s in self.answer.sentences if VERBATIM not in s.reasons)

    @property
    def shown_unsupported(self) -> int:
        """Shown model sentences that the word rule, not the guard, finds unsupported."""
        by_id = {p.chunk.id: p.chunk.text for p in self.answer.passages}
        return sum(
            not word_supported(s.text, [by_id[c] for c in s.cited if c in by_id])
            for s in self.model_sentences
            if s.shown
        )

    def _texts(self) -> tuple[str, ...]:
        return tuple(c.passage.chunk.text for c in self.answer.citations)

    @property
    def as_expected(self) -> bool:
        """Answered or abstained as the question expects, saying nothing it must not."""
        return self.abstained != self.question.answerable and not self.violations

    def to_dict(self) -> dict[str, Any]:
        q = self.question
        return {
            "id": q.id,
            "category": q.category,
            "question": q.text,
            "expected": q.expected,
            "abstained": self.abstained,
            "answer": self.answer.shown_text,
            "fallback": self.answer.fallback,
            "retrieval": self.retrieval,
            "markers": self.markers,
            "resolved_markers": self.resolved,
            "statements": [_statement(s) for s in self.statements],
            "must_mention": [
                {"facts": list(alts), "mentioned": ok}
                for alts, ok in zip(q.must_mention, self.mentioned, strict=True)
            ],
            "must_not_violations": list(self.violations),
            "gold_shown": self.gold_shown,
            "gold_first": self.gold_first,
            "sentences": [s.to_dict() for s in self.answer.sentences],
            "citations": [c.to_dict() for c in self.answer.citations],
            "passages": [p.to_dict() for p in self.answer.passages],
        }


def _statement(s: Statement) -> dict[str, Any]:
    return {
        "text": s.text,
        "citations": s.citations,
        "supported": s.supported,
        "precise_citations": s.precise,
        "grounded": s.grounded,
    }


class Scorer:
    def __init__(self, checker: SupportChecker) -> None:
        self._checker = checker

    def score(self, question: Question, answer: Answer, relevant: tuple[str, ...]) -> Scored:
        text = answer.text.lower()
        markers = [int(n) for n in MARKER.findall(answer.text)]
        numbers = {c.n for c in answer.citations}
        statements = () if answer.abstained else tuple(self._statements(question, answer))
        return Scored(
            question=question,
            answer=answer,
            abstained=answer.abstained,
            relevant=relevant,
            retrieved=tuple(p.chunk.id for p in answer.passages),
            markers=len(markers),
            resolved=sum(n in numbers for n in markers),
            statements=statements,
            mentioned=tuple(
                not answer.abstained and any(alt.lower() in text for alt in alts)
                for alts in question.must_mention
            ),
            violations=tuple(m for m in question.must_not if m.lower() in text),
            shown=() if answer.abstained else tuple(s.text for s in answer.sentences if s.shown),
        )

    def _statements(self, question: Question, answer: Answer) -> list[Statement]:
        cited = {c.n: c.passage for c in answer.citations}
        out = []
        for claim in parse_claims(answer.text, max(cited, default=0)):
            passages = [cited[n] for n in claim.cited if n in cited]
            out.append(self._statement(question.text, claim.text, passages, list(answer.passages)))
        return out

    def _statement(
        self, question: str, text: str, passages: list[Passage], retrieved: list[Passage]
    ) -> Statement:
        supported = bool(passages) and self.supports(question, text, passages)
        precise = 0
        if supported:
            for i, passage in enumerate(passages):
                rest = passages[:i] + passages[i + 1 :]
                alone = self.supports(question, text, [passage])
                removable = not alone and bool(rest) and self.supports(question, text, rest)
                precise += not removable
        grounded = supported or self.supports(question, text, retrieved)
        return Statement(_strip_quotes(text), len(passages), supported, precise, grounded)

    def supports(self, question: str, text: str, passages: list[Passage]) -> bool:
        """Whether the passages, together, support the statement (the guard's verdict)."""
        return bool(passages) and self._checker.supports(_strip_quotes(text), passages, question)


# The name an answer quoting several documents puts before each one's first quote
# ("Tips for Social Media Etiquette: “…”"): the voice, not part of what is claimed.
VOICE = re.compile(r'^[^“”"\n]{1,200}?:\s*(?=“)')


def _strip_quotes(text: str) -> str:
    return VOICE.sub("", text.strip()).strip('“”"').strip()
