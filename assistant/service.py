"""The assistant: a question in, a cited answer (or an abstention) out."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.answer.draft import Draft
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.followup import FollowUps, Turn
from assistant.retrieval.hybrid import HybridRetriever, Retrieval
from swguide.errors import InputError
from swguide.settings import LimitSettings
from swguide.types import Answer, SentenceCheck

EXAMPLE = 'swguide ask "Can I accept a client\'s LinkedIn request?"'


def clean_question(raw: str, limits: LimitSettings) -> str:
    """The question, trimmed; an InputError says what is wrong with it."""
    text = raw.strip()
    if not text:
        raise InputError(f"The question is empty: type a question, for example {EXAMPLE}.")
    if len(text) > limits.max_question_chars:
        raise InputError(
            f"The question is {len(text):,} characters, over the limit of "
            f"{limits.max_question_chars:,}: shorten it, or raise limits.max_question_chars."
        )
    if "\ufffd" in text or any(
        unicodedata.category(ch) in {"Cc", "Cs", "Co"} and ch not in "\n\t\r" for ch in text
    ):
        raise InputError(
            "The question contains binary or control characters: type it as plain text."
        )
    return text


class Answerer(Protocol):
    @property
    def name(self) -> str: ...

    def stream(
        self, question: str, retrieval: Retrieval, topics: list[str]
    ) -> Iterator[SentenceCheck | Draft]: ...


class Assistant:
    """Retrieves passages for a question and answers from them."""

    def __init__(
        self,
        retriever: HybridRetriever,
        *,
        extractive: ExtractiveAnswerer,
        limits: LimitSettings,
        answerer: Answerer | None = None,
        follow_ups: FollowUps | None = None,
        backend_reason: str = "extractive",
        settings_hash: str = "",
    ) -> None:
        self.retriever = retriever
        self.extractive = extractive
        self.answerer: Answerer = answerer or extractive
        self.follow_ups = follow_ups or FollowUps()
        self.backend_reason = backend_reason
        self.settings_hash = settings_hash
        self._limits = limits

    @property
    def topics(self) -> list[str]:
        return self.retriever.topics

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        *_, answer = self.stream(question, history)
        assert isinstance(answer, Answer)
        return answer

    def stream(
        self, question: str, history: Sequence[Turn] = ()
    ) -> Iterator[SentenceCheck | Answer]:
        """Verified sentences as a model writes them (provisional), then the Answer."""
        started = time.perf_counter()
        text = clean_question(question, self._limits)
        standalone, _ = self.follow_ups.standalone(text, history)
        retrieval = self.retriever.retrieve(standalone)
        retrieved = time.perf_counter()
        draft = None
        for event in self.answerer.stream(standalone, retrieval, self.topics):
            if isinstance(event, Draft):
                draft = event
            else:
                yield event
        assert draft is not None
        done = time.perf_counter()
        yield Answer(
            question=text,
            standalone_question=standalone if standalone != text else None,
            text=draft.text,
            abstained=draft.abstained,
            citations=draft.citations,
            passages=retrieval.passages,
            backend=self.answerer.name,
            backend_reason=f"{self.backend_reason}; {draft.mode}"
            if draft.mode
            else self.backend_reason,
            model_written=draft.written,
            settings_hash=self.settings_hash,
            sentences=draft.sentences,
            fallback=draft.fallback,
            model_context=draft.context,
            lead=draft.lead,
            timings_ms={
                "retrieve": (retrieved - started) * 1000,
                "answer": (done - retrieved) * 1000,
                "total": (done - started) * 1000,
            },
        )
