"""What an answerer hands back to the assistant: the answer before its bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass

from swguide.types import Citation, SentenceCheck


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    relevance: float = 0.0
    specific: float = 0.0
    matched: tuple[str, ...] = ()
    sentences: tuple[SentenceCheck, ...] = ()
    fallback: str | None = None
    context: tuple[tuple[str, ...], bool] | None = None  # chunk ids a model saw; trimmed
