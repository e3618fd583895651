"""Turn a loaded document into chunks: section-aware, sentence-bounded, about a paragraph.

A paragraph is one chunk when it fits the token budget; a longer one is cut at sentence
boundaries into balanced parts; a very short one joins the next paragraph of its section.
A chunk's id is a hash of its document id, the exact text that is embedded (headings
included) and its occurrence, so unchanged text keeps its id and its vector.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ingest.loaders import LoadedDocument
from ingest.standards import clause_id, clause_letter, standard_heading
from ingest.structure import REFERENCE_HEADINGS, Block
from swguide.settings import ChunkingSettings
from swguide.text import footnotes_in, sentence_spans
from swguide.types import Chunk, Source, Span

TokenCounter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class _Paragraph:
    index: int
    headings: tuple[str, ...]
    sentences: tuple[Span, ...]

    @property
    def start(self) -> int:
        return self.sentences[0][0]

    @property
    def end(self) -> int:
        return self.sentences[-1][1]


def embedded_text(title: str, headings: tuple[str, ...], text: str) -> str:
    """What the model embeds: the text under its document title and headings."""
    path = " › ".join(dict.fromkeys(h for h in (title, *headings) if h))
    return f"{path}\n\n{text}"


def chunk_document(
    doc: LoadedDocument,
    document_id: str,
    title: str,
    settings: ChunkingSettings,
    count_tokens: TokenCounter,
    sources: tuple[Source, ...] = (),
    byline: str | None = None,
) -> list[Chunk]:
    """The document's chunks in reading order; a byline paragraph is metadata, not text."""
    by_n = {s.n: s for s in sources}
    seen: Counter[str] = Counter()
    chunks = []
    for path, clause, group in _sections(doc, byline):
        headings = tuple(h for h in path if h != doc.title) if doc.title != title else path
        prefix_tokens = count_tokens(embedded_text(title, headings, ""))
        budget = max(settings.max_tokens - prefix_tokens, 16)
        for first, spans in _pack(doc.text, group, budget, settings.min_tokens, count_tokens):
            start, end = spans[0][0], spans[-1][1]
            text = doc.text[start:end]
            embedded = embedded_text(title, headings, text)
            seen[embedded] += 1
            footnotes = footnotes_in(text) if by_n else ()
            chunks.append(
                Chunk(
                    id=chunk_id(document_id, embedded, seen[embedded]),
                    document_id=document_id,
                    document_title=title,
                    text=text,
                    heading_path=headings,
                    paragraph_index=first,
                    start=start,
                    end=end,
                    sentences=tuple((s - start, e - start) for s, e in spans),
                    footnotes=footnotes,
                    sources=tuple(
                        dict.fromkeys(by_n[n].resolves_to for n in footnotes if n in by_n)
                    ),
                    page=doc.page_at(start),
                    clause=clause,
                )
            )
    return chunks


def chunk_id(document_id: str, embedded: str, occurrence: int) -> str:
    key = f"{document_id}\x00{embedded}\x00{occurrence}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def _sections(
    doc: LoadedDocument, byline: str | None
) -> Iterator[tuple[tuple[str, ...], str | None, list[_Paragraph]]]:
    """Paragraphs grouped by heading path and clause; reference lists and bylines are left
    out. A one-line paragraph naming a numbered standard is read as its heading, and each
    lettered clause under a standard is a group of its own."""
    stack: list[tuple[int, str]] = []
    group: list[_Paragraph] = []
    clause: str | None = None
    index = 0
    for block in doc.blocks:
        heading = _heading_level(block, stack)
        here = None if heading is not None else _clause(stack, block.text)
        if group and (heading is not None or here != clause):
            yield _path(stack), clause, group
            group = []
        if heading is not None:
            title = block.text.strip(" *_#")
            stack = [(lvl, h) for lvl, h in stack if lvl < heading] + [(heading, title)]
            continue
        if any(h.lower() in REFERENCE_HEADINGS for _, h in stack) or block.text == byline:
            continue
        spans = [(block.start + s, block.start + e) for s, e in sentence_spans(block.text)]
        if spans:
            clause = here
            group.append(_Paragraph(index, _path(stack), tuple(spans)))
            index += 1
    if group:
        yield _path(stack), clause, group


def _heading_level(block: Block, stack: list[tuple[int, str]]) -> int | None:
    """A heading's level; a paragraph naming a standard is a heading below the last real
    one (a sibling of the standard before it)."""
    standard = standard_heading(block.text)
    if standard is None:
        return block.level if block.is_heading else None
    previous = standard_heading(stack[-1][1]) if stack else None
    if previous is not None and "." in previous.number and "." in standard.number:
        return stack[-1][0]  # a sibling of the standard before
    if block.is_heading:
        return block.level
    return (stack[-1][0] if stack else 0) + 1


def _clause(stack: list[tuple[int, str]], text: str) -> str | None:
    return clause_id(stack[-1][1], clause_letter(text)) if stack else None


def _path(stack: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(h for _, h in stack)


def _pack(
    text: str,
    paragraphs: list[_Paragraph],
    budget: int,
    min_tokens: int,
    count: TokenCounter,
) -> Iterator[tuple[int, list[Span]]]:
    """(first paragraph index, sentence spans) for each chunk of one section."""
    pending: list[Span] = []
    pending_index = 0
    for para in paragraphs:
        spans = list(para.sentences)
        if pending and count(text[pending[0][0] : para.end]) <= budget:
            spans = pending + spans
            para = _Paragraph(pending_index, para.headings, tuple(spans))
        elif pending:
            yield pending_index, pending
        pending = []
        if count(text[para.start : para.end]) < min_tokens:
            pending, pending_index = spans, para.index
            continue
        for piece in _split(text, spans, budget, count):
            yield para.index, piece
    if pending:
        yield pending_index, pending


def _split(text: str, spans: list[Span], budget: int, count: TokenCounter) -> list[list[Span]]:
    """Cut a paragraph at sentence boundaries into the fewest balanced parts under budget."""
    sizes = [count(text[s:e]) for s, e in spans]
    total = count(text[spans[0][0] : spans[-1][1]])
    if total <= budget:
        return [spans]
    target = total / math.ceil(total / budget)
    parts: list[list[Span]] = [[]]
    size = 0
    for span, n in zip(spans, sizes, strict=True):
        if parts[-1] and (size + n > budget or size >= target):
            parts.append([])
            size = 0
        if n > budget:
            parts[-1:] = [p for p in (parts[-1], *_words(text, span, budget, count)) if p]
            size = budget
            continue
        parts[-1].append(span)
        size += n
    return [p for p in parts if p]


def _words(text: str, span: Span, budget: int, count: TokenCounter) -> list[list[Span]]:
    """A sentence longer than the budget, cut at spaces (rare: run-on PDF text)."""
    start, end = span
    pieces: list[list[Span]] = []
    while start < end:
        cut = end
        while count(text[start:cut]) > budget:
            space = text.rfind(" ", start, start + (cut - start) * 3 // 4)
            cut = space if space > start else start + (cut - start) // 2
        pieces.append([(start, cut)])
        start = cut
        while start < end and text[start].isspace():
            start += 1
    return pieces
