"""What an answerer hands back to the assistant: the answer before its bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from swguide.types import Citation, SentenceCheck

ABSTAIN = "The guidance here does not address this question."  # how every refusal begins
VERBATIM = "verbatim quote"  # the reason on every sentence the extractive answerer quotes


def cited_text(checks: Iterable[SentenceCheck]) -> str:
    """Sentences joined as an answer shows them, each followed by its markers."""
    return " ".join(f"{c.text} " + "".join(f"[{n}]" for n in c.citations) for c in checks)


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
