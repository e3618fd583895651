"""The assistant: a question in, a cited answer (or an abstention) out."""

from __future__ import annotations

import time
import unicodedata

from assistant.extractive import ExtractiveAnswerer
from assistant.retrieval import HybridRetriever
from swguide.errors import InputError
from swguide.settings import LimitSettings
from swguide.types import Answer

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


class Assistant:
    """Retrieves passages for a question and answers from them."""

    def __init__(
        self, retriever: HybridRetriever, answerer: ExtractiveAnswerer, limits: LimitSettings
    ) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self._limits = limits
        self.topics = _topics(retriever)

    def ask(self, question: str) -> Answer:
        started = time.perf_counter()
        text = clean_question(question, self._limits)
        retrieval = self.retriever.retrieve(text)
        retrieved = time.perf_counter()
        draft = self.answerer.answer(text, retrieval, self.topics)
        done = time.perf_counter()
        return Answer(
            question=text,
            text=draft.text,
            abstained=draft.abstained,
            citations=draft.citations,
            passages=retrieval.passages,
            backend=self.answerer.name,
            timings_ms={
                "retrieve": (retrieved - started) * 1000,
                "answer": (done - retrieved) * 1000,
                "total": (done - started) * 1000,
            },
        )


def _topics(retriever: HybridRetriever) -> list[str]:
    """The sections the index covers, in reading order, for abstentions to name."""
    ordered = sorted(retriever.chunks.values(), key=lambda c: (c.document_id, c.start))
    sections = [c.section for c in ordered if c.section != "Introduction"]
    return list(dict.fromkeys(sections))
