"""The generative answerer: a local LLM writes, the grounding guard decides what is shown.

The extractive answerer runs first: when it abstains (nothing relevant was retrieved)
no model is asked. Otherwise the model sees the top passages (as many as its context
allows) and its reply is checked sentence by sentence as it streams. Only supported
sentences are shown, their citations renumbered in order of first use; a sentence with
no usable passage number is shown citing the passage that supports it alone, if any. When fewer than
`guard.min_supported_share` of the sentences are supported (or none), when the model
says the passages do not cover the question, or when it fails midway, the extractive
answer is shown instead and `fallback` says why; the supported sentences streamed
before then are provisional and never become the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

from assistant.answer.draft import ABSTAIN, Draft, cited_text, lead_line
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.prompt import Prompt, build_prompt
from assistant.guard.claims import Claim, complete, parse_claims, parse_json_claims
from assistant.guard.guard import ATTRIBUTED, REPEAT, GroundingGuard
from assistant.retrieval.hybrid import Retrieval
from swguide.errors import LLMError
from swguide.protocols import Generator
from swguide.settings import Settings
from swguide.types import Citation, SentenceCheck

CUT = "the reply stopped mid-sentence (cut off at the length limit)"
STRUCTURED = "structured output: JSON sentences, each with its passage numbers"
FREE_TEXT = "free text with [n] markers"
IGNORED = "free text with [n] markers (the model did not reply in JSON)"


class GenerativeAnswerer:
    def __init__(
        self,
        generator: Generator,
        *,
        guard: GroundingGuard,
        extractive: ExtractiveAnswerer,
        settings: Settings,
    ) -> None:
        self.generator = generator
        self._guard = guard
        self._extractive = extractive
        self._llm = settings.llm
        self._settings = settings.guard

    @property
    def name(self) -> str:
        return self.generator.name

    def stream(
        self, question: str, retrieval: Retrieval, topics: list[str]
    ) -> Iterator[SentenceCheck | Draft]:
        """Supported sentences as they are verified (provisional), then the final Draft."""
        base = self._extractive.answer(question, retrieval, topics)
        if base.abstained:
            yield base
            return
        checks: list[SentenceCheck] = []
        numbers: dict[str, int] = {}
        text = ""
        try:
            budget = self.generator.context_tokens - self._llm.max_answer_tokens
            prompt = build_prompt(
                question,
                retrieval.passages,
                self.generator.count_tokens,
                budget,
                structured=self._llm.structured,
            )
        except LLMError as error:
            yield _fallback(base, str(error), checks)
            return
        warming = threading.Thread(target=self._guard.prepare, args=(prompt.passages,))
        warming.start()  # the guard's evidence is embedded while the model writes
        try:
            for delta in self.generator.stream(prompt.messages, prompt.schema):
                text += delta
                done, _ = _read(text, prompt, final=False)
                yield from self._check_new(done, checks, prompt, question, numbers, final=False)
        except LLMError as error:
            yield _fallback(base, str(error), checks)
            return
        finally:
            warming.join()
        claims, mode = _read(text, prompt, final=True)
        yield from self._check_new(claims, checks, prompt, question, numbers, final=True)
        said = " ".join(c.text for c in claims)
        yield _written(replace(self._compose(base, said, checks, prompt), mode=mode))

    def _check_new(
        self,
        claims: list[Claim],
        checks: list[SentenceCheck],
        prompt: Prompt,
        question: str,
        numbers: dict[str, int],
        *,
        final: bool,
    ) -> Iterator[SentenceCheck]:
        """Check the claims not checked yet; yield those that may be shown. Only the last
        claim of the whole reply (`final`) can have been cut off: a line without a full
        stop that the stream has moved past (a bullet item) is judged like any other."""
        for at in range(len(checks), len(claims)):
            claim = claims[at]
            if final and at == len(claims) - 1 and not claim.ended:
                checks.append(SentenceCheck(claim.text, (), False, 0.0, (CUT,)))
                continue
            checks.append(self._check(claim, prompt, question, numbers))
            if checks[-1].shown:
                yield checks[-1]

    def _check(
        self, claim: Claim, prompt: Prompt, question: str, numbers: dict[str, int]
    ) -> SentenceCheck:
        check = self._guard.check(claim, prompt.passages, question)
        if not claim.cited:
            check = self._guard.attribute(claim, prompt.passages, question) or check
        if not check.supported:
            return check
        cited = tuple(numbers.setdefault(cid, len(numbers) + 1) for cid in check.cited)
        return replace(check, shown=True, citations=cited)

    def _compose(
        self, base: Draft, text: str, checks: list[SentenceCheck], prompt: Prompt
    ) -> Draft:
        shown = [c for c in checks if c.shown]
        counted = [c for c in checks if c.reasons != (REPEAT,)]
        if text.strip().rstrip(".") == ABSTAIN.rstrip("."):
            return _fallback(base, "the model found the passages do not cover the question", checks)
        if not checks:
            return _fallback(base, "the model wrote no answer", checks)
        if not shown or len(shown) < self._settings.min_supported_share * len(counted):
            reason = (
                f"only {len(shown)} of {len(counted)} sentences the model wrote were "
                "supported by the passages they cite"
            )
            return _fallback(base, reason, checks)
        by_id = {p.chunk.id: p for p in prompt.passages}
        order: dict[str, int] = {}
        for check in shown:
            for cid, n in zip(check.cited, check.citations, strict=True):
                order.setdefault(cid, n)
        citations = tuple(
            Citation(n, by_id[cid]) for cid, n in sorted(order.items(), key=lambda i: i[1])
        )
        body = cited_text(shown)
        return replace(
            base,
            text=body,
            citations=citations,
            sentences=tuple(checks),
            context=_context(prompt),
            lead=lead_line(citations),
        )


def _read(text: str, prompt: Prompt, *, final: bool) -> tuple[list[Claim], str]:
    """The claims of the reply so far (all of them when `final`) and how it was read."""
    passages = len(prompt.passages)
    if prompt.schema is not None:
        claims = parse_json_claims(text, passages, final=final)
        if claims is not None:
            return claims, STRUCTURED
    claims = parse_claims(text, passages)
    mode = FREE_TEXT if prompt.schema is None else IGNORED
    return (claims, mode) if final else (complete(claims, text), mode)


def _written(draft: Draft) -> Draft:
    """The draft with what the model contributed: its sentences shown, and how many of
    them were attributed after the fact (none when the quotes are shown instead)."""
    if draft.fallback:
        return replace(draft, written=(0, 0))
    shown = [c for c in draft.sentences if c.shown]
    return replace(draft, written=(len(shown), sum(ATTRIBUTED in c.reasons for c in shown)))


def _context(prompt: Prompt) -> tuple[tuple[str, ...], bool]:
    return tuple(p.chunk.id for p in prompt.passages), prompt.trimmed


def _fallback(base: Draft, reason: str, checks: list[SentenceCheck]) -> Draft:
    rejected = tuple(replace(c, shown=False, citations=()) for c in checks)
    return replace(
        base,
        fallback=f"{reason}; showing the quoted answer instead",
        sentences=base.sentences + rejected,
        written=(0, 0),
    )
