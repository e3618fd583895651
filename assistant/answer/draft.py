"""What an answerer hands back to the assistant: the answer before its bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swguide.types import Citation, SentenceCheck

LEAD = "The guidance speaks to this"

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
    scope: float = 0.0  # the question's scope margin (assistant.retrieval.examples)
    sentences: tuple[SentenceCheck, ...] = ()
    fallback: str | None = None
    context: tuple[tuple[str, ...], bool] | None = None  # chunk ids a model saw; trimmed
    lead: str = ""
    mode: str = ""  # how a model's reply was read (structured output or free text)
    written: tuple[int, int] | None = None  # a model's sentences shown; of them attributed
    guided: bool = False  # the example questions were written for the best passage's document


def lead_line(citations: Sequence[Citation]) -> str:
    """One line that is true of any answer: where the guidance speaks to the question
    ("… under *Professional Boundaries* [1] and *Confidentiality and Privacy* [2]:"),
    each place once with all its markers, documents named when there are several."""
    places: dict[str, list[int]] = {}
    several = len({c.passage.chunk.document_id for c in citations}) > 1
    for citation in citations:
        chunk = citation.passage.chunk
        place = f"*{chunk.section}*"
        if several:
            place = f"{place} in *{chunk.document_title}*"
        places.setdefault(place, []).append(citation.n)
    named = [f"{place} " + "".join(f"[{n}]" for n in ns) for place, ns in places.items()]
    if not named:
        return ""
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + f" and {named[-1]}"
    return f"{LEAD} under {listed}:"
