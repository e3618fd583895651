"""Sentinel baselines: deliberately bad answerers that the gate must fail.

Each one rewrites the real assistant's answer the way a broken answerer would; CI runs
each with `swguide eval --baseline NAME` and checks that the gate fails it, which is how
we know the thresholds can fail at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from assistant.answer.extractive import abstention
from swguide.text import MARKER, OPENS_WITH_REFERENCE
from swguide.types import Answer, Citation, SentenceCheck

INVENTED = (
    "Clinical social workers must answer every client message on social media within 24 hours."
)


def no_citations(answer: Answer) -> Answer:
    """Right words, no markers and no citations."""
    return replace(answer, text=MARKER.sub("", answer.text), citations=())


def cite_everything(answer: Answer) -> Answer:
    """Every sentence cites every retrieved passage."""
    if answer.abstained:
        return answer
    citations = tuple(Citation(n, p) for n, p in enumerate(answer.passages, start=1))
    every = "".join(f"[{c.n}]" for c in citations)
    text = re.sub(r"([.!?][”\"]?)(?=\s|$)", rf"\1 {every}", MARKER.sub("", answer.text))
    return replace(answer, text=text, citations=citations)


def wrong_citation_numbers(answer: Answer) -> Answer:
    """Each marker moved to the next retrieved passage: citations that point elsewhere."""
    if answer.abstained:
        return answer
    citations = tuple(Citation(n, p) for n, p in enumerate(answer.passages, start=1))
    current = {
        c.n: answer.passages.index(c.passage) + 1
        for c in answer.citations
        if c.passage in answer.passages
    }
    count = len(citations)

    def shift(match: re.Match[str]) -> str:
        n = current.get(int(match.group(1)), int(match.group(1)))
        return f" [{n % count + 1}]"

    return replace(answer, text=MARKER.sub(shift, answer.text), citations=citations)


def always_abstain(answer: Answer) -> Answer:
    return replace(answer, text=abstention([]), abstained=True, citations=())


def invented_sentence(answer: Answer) -> Answer:
    """A confident rule the guidance never states, added with a citation."""
    if answer.abstained or not answer.citations:
        return answer
    return replace(answer, text=f"{answer.text} {INVENTED} [1]")


def _shown(answer: Answer, sentences: list[SentenceCheck]) -> Answer:
    """The answer showing these sentences (each with its first citation), in this order."""
    text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
    return replace(answer, text=text, sentences=tuple(sentences))


def dangling_quotes(answer: Answer) -> Answer:
    """Quotes without the sentences they refer back to ("Failure to do so ...")."""
    shown = [s for s in answer.sentences if s.shown and s.citations]
    if answer.abstained or not shown:
        return answer
    kept = [
        s
        for s, after in zip(shown, [*shown[1:], None], strict=True)
        if after is None or not OPENS_WITH_REFERENCE.match(after.text.strip("“”"))
    ]
    return _shown(answer, kept)


def buried_answer(answer: Answer) -> Answer:
    """The best quote last: the same sentences, least relevant first."""
    shown = [s for s in answer.sentences if s.shown and s.citations]
    if answer.abstained or not shown:
        return answer
    return _shown(answer, shown[::-1])


def model_silent(answer: Answer) -> Answer:
    """A model that adds nothing: each answer it wrote shown as if it fell back to quotes."""
    if answer.model_written is None or answer.abstained:
        return answer
    withheld = "the model's sentences withheld (sentinel); showing the quoted answer instead"
    return replace(answer, fallback=withheld, model_written=(0, 0))


SENTINELS: dict[str, Callable[[Answer], Answer]] = {
    "no-citations": no_citations,
    "cite-everything": cite_everything,
    "wrong-citation-numbers": wrong_citation_numbers,
    "always-abstain": always_abstain,
    "invented-sentence": invented_sentence,
    "dangling-quotes": dangling_quotes,
    "buried-answer": buried_answer,
    "model-silent": model_silent,
}
MODEL_ONLY = {"model-silent"}  # these spoil what a language model adds: --llm runs only
