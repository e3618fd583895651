"""What the chat page shows, as strings: answers with linked markers, evidence cards,
the verification view and the status line. Pure functions of the conversation, so they
are tested without a browser.

Every passage text, question and section is HTML-escaped; a marker is rendered only as
a link to a card that exists (its number is one of the answer's citations), and any
other bracketed number is dropped, so a marker that does not resolve never appears.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from assistant.answer.draft import cited_text
from assistant.followup import Turn
from assistant.guard.claims import parse_claims
from assistant.render import source_line
from swguide.text import MARKER, plain, stems, strip_footnotes
from swguide.types import Answer, Citation, SentenceCheck

SEARCHED = "_Searched for: "


@dataclass(slots=True)
class Exchange:
    question: str  # as sent: the redacted text when the user chose it
    answer: Answer
    asked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


@dataclass(slots=True)
class Conversation:
    """One browser session's conversation; it lives in the session's state only."""

    exchanges: list[Exchange] = field(default_factory=list)
    pending: str | None = None  # a question held back by the privacy notice

    def turns(self) -> list[Turn]:
        return [
            Turn(e.question, e.answer.text, e.answer.standalone_question) for e in self.exchanges
        ]


def card_id(turn: int, n: int) -> str:
    return f"swg-t{turn}-c{n}"


def linked(text: str, citations: Sequence[Citation], turn: int) -> str:
    """Answer text (Markdown) with each resolving [n] a link to its card, others dropped."""
    numbers = {c.n for c in citations}
    escaped = text.replace("<", "&lt;").replace(">", "&gt;")

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f" [[{n}]](#{card_id(turn, n)})" if n in numbers else ""

    return MARKER.sub(link, escaped)


def answer_markdown(answer: Answer, turn: int) -> str:
    searched = f"{SEARCHED}{answer.standalone_question}_\n\n" if answer.standalone_question else ""
    return searched + linked(answer.shown_text, answer.citations, turn)


def streaming_markdown(checks: Sequence[SentenceCheck]) -> str:
    """The sentences verified so far, while the model is still writing."""
    body = cited_text(checks)
    return f"{body} …" if body else "…"


def status(answer: Answer) -> str:
    parts = [f"Answered by **{answer.backend}**"]
    if answer.fallback:
        parts.append(f"fell back to quotes: {answer.fallback}")
    elif answer.backend_reason and answer.backend_reason != answer.backend:
        parts.append(answer.backend_reason)
    if answer.model_written and answer.model_written[0]:
        parts.append(written(*answer.model_written))
    total = answer.timings_ms.get("total")
    if total is not None:
        parts.append(f"{total / 1000:.2f} s")
    return " · ".join(parts)


def written(shown: int, attributed: int) -> str:
    """What a model added to the answer, in words."""
    after = f" ({attributed} attributed after the fact)" if attributed else ""
    return f"the model wrote {shown} verified sentence{'' if shown == 1 else 's'}{after}"


def supporting(citation: Citation, answer: Answer) -> set[int]:
    """Indexes of the passage's sentences that best support the answer sentences citing
    it: the quoted sentence itself, or the one sharing the most words."""
    chunk = citation.passage.chunk
    sentences = chunk.sentence_texts()
    words = [set(stems(strip_footnotes(s))) for s in sentences]
    found = set()
    for claim in parse_claims(answer.text, max((c.n for c in answer.citations), default=0)):
        if citation.n not in claim.cited or not words:
            continue
        said = set(stems(claim.text))
        overlap = [len(said & w) / max(len(said | w), 1) for w in words]
        best = max(range(len(words)), key=overlap.__getitem__)
        if overlap[best] > 0.2:
            found.add(best)
    return found


def card(citation: Citation, answer: Answer, turn: int) -> str:
    chunk = citation.passage.chunk
    marked = supporting(citation, answer)
    parts, at = [], 0
    for i, (start, end) in enumerate(chunk.sentences):
        parts.append(html.escape(plain(chunk.text[at:start])))
        sentence = html.escape(plain(chunk.text[start:end]))
        parts.append(f"<mark>{sentence}</mark>" if i in marked else sentence)
        at = end
    parts.append(html.escape(plain(chunk.text[at:])))
    sources = "".join(
        f'<p class="swg-source">{html.escape(source_line(s)).replace(chr(10), "<br>")}</p>'
        for s in citation.passage.sources
    )
    url = citation.passage.url or next((s.url for s in citation.passage.sources if s.url), None)
    original = (
        f'<p class="swg-link"><a href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer">Open the original ↗</a></p>'
        if url
        else ""
    )
    page = f" (p. {chunk.page})" if chunk.page is not None else ""
    return (
        f'<article class="swg-card" id="{card_id(turn, citation.n)}" tabindex="-1" '
        f'aria-label="Citation {citation.n}">'
        f'<header><span class="swg-n">[{citation.n}]</span> '
        f"<b>{html.escape(chunk.document_title)}</b> › {html.escape(chunk.section)}{page}"
        f"</header>{sources}{original}"
        f"<blockquote>{''.join(parts)}</blockquote></article>"
    )


def evidence_html(conversation: Conversation) -> str:
    """Every turn's cited passages, the newest turn first."""
    if not conversation.exchanges:
        return '<p class="swg-empty">Cited passages appear here.</p>'
    sections = []
    for turn, exchange in reversed(list(enumerate(conversation.exchanges, start=1))):
        answer = exchange.answer
        cards = "".join(card(c, answer, turn) for c in answer.citations)
        body = cards or '<p class="swg-empty">No passage cited: the guidance does not cover it.</p>'
        sections.append(
            f'<section class="swg-turn" aria-label="Evidence for question {turn}">'
            f"<h4>Question {turn}: {html.escape(exchange.question)}</h4>{body}</section>"
        )
    return "".join(sections)


def verification_html(conversation: Conversation) -> str:
    """Per sentence: verdict, score, cited passages, and why; the newest turn first."""
    if not conversation.exchanges:
        return '<p class="swg-empty">Verdicts appear here after the first answer.</p>'
    out = []
    for turn, exchange in reversed(list(enumerate(conversation.exchanges, start=1))):
        rows = "".join(_verdict_row(check, turn) for check in exchange.answer.sentences)
        fallback = exchange.answer.fallback
        note = (
            f'<p class="swg-note">Fell back to quotes: {html.escape(fallback)}</p>'
            if (fallback)
            else ""
        )
        table = (
            '<table class="swg-verdicts"><thead><tr><th>sentence</th><th>verdict</th>'
            f"<th>score</th><th>cites</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>"
            if rows
            else '<p class="swg-empty">No sentence to check (the answer abstained).</p>'
        )
        out.append(
            f'<section class="swg-turn"><h4>Question {turn}: '
            f"{html.escape(exchange.question)}</h4>{note}{table}</section>"
        )
    return "".join(out)


def _verdict_row(check: SentenceCheck, turn: int) -> str:
    cites = " ".join(f'<a href="#{card_id(turn, n)}">[{n}]</a>' for n in check.citations)
    shown = "" if check.shown or not check.supported else " (not shown)"
    label = "✓ supported" if check.supported else "✗ unsupported, not shown"
    return (
        f'<tr class="swg-{check.verdict}"><td>{html.escape(check.text)}</td>'
        f"<td>{label}{shown}</td><td>{check.score:.2f}</td><td>{cites or '—'}</td>"
        f"<td>{html.escape('; '.join(check.reasons)) or '—'}</td></tr>"
    )
