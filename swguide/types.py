"""The records that cross swguide's seams: ingest, retrieval, answers, CLI and UI.

Chroma and llama-index types stay inside the modules that talk to them; everything
else passes these plain, frozen dataclasses around.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

Span = tuple[int, int]
# A numbered standard's heading begins "1.06 ", "Standard 1.06: " (ingest.standards).
STANDARD_NUMBER = r"^[*_#\s]*(?:standard\s+)?(?P<number>\d{1,2}\.\d{1,2})[:.]?\s+"
NUMBERED = re.compile(STANDARD_NUMBER, re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Source:
    """One of a document's numbered sources (the article's footnotes [1]..[6])."""

    n: int
    title: str | None = None
    reference: str | None = None
    publisher: str | None = None
    url: str | None = None
    ibid: int | None = None
    resolves_to: int = 0
    ambiguity: str | None = None
    also: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "resolves_to": self.resolves_to,
            "title": self.title,
            "publisher": self.publisher,
            "url": self.url,
            "ibid": self.ibid,
            "ambiguity": self.ambiguity,
            "also": list(self.also),
        }


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document as it is stored: text, position and provenance."""

    id: str
    document_id: str
    document_title: str
    text: str
    heading_path: tuple[str, ...]
    paragraph_index: int
    start: int
    end: int
    sentences: tuple[Span, ...]
    footnotes: tuple[int, ...] = ()
    sources: tuple[int, ...] = ()
    page: int | None = None
    clause: str | None = None

    @property
    def section(self) -> str:
        """The heading the chunk sits under, below the document's own title; for a clause
        of a numbered standard, the clause and the standard's title ("1.06(e) Conflicts
        of Interest")."""
        if self.clause and self.heading_path:
            title = NUMBERED.sub("", self.heading_path[-1]).strip(" *_")
            return f"{self.clause} {title}"
        path = [h for h in self.heading_path if h != self.document_title]
        return " › ".join(path) if path else "Introduction"

    def sentence_texts(self) -> list[str]:
        return [self.text[s:e] for s, e in self.sentences]


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """What the index remembers of one ingested document (its commit record)."""

    id: str
    title: str
    path: str
    kind: str
    sha256: str
    chunk_ids: tuple[str, ...]
    root: str | None = None
    author: str | None = None
    publisher: str | None = None
    url: str | None = None
    sources: tuple[Source, ...] = ()
    ingested_at: str = ""
    source_number: int | None = None  # the article's numbered source this document is

    def source(self, n: int) -> Source | None:
        return next((s for s in self.sources if s.n == n), None)


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its scores; `score` orders passages (fused rank)."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None
    sources: tuple[Source, ...] = ()
    url: str | None = None
    via: int | None = None  # found through the article's footnote [via] to this source

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk.id,
            "via_source": self.via,
            "clause": self.chunk.clause,
            "document": self.chunk.document_title,
            "document_id": self.chunk.document_id,
            "section": self.chunk.section,
            "text": self.chunk.text,
            "score": round(self.score, 6),
            "dense": None if self.dense is None else round(self.dense, 6),
            "lexical": None if self.lexical is None else round(self.lexical, 6),
        }


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered reference [n] from an answer to one retrieved passage."""

    n: int
    passage: Passage
    quotes: tuple[Span, ...] = ()

    @property
    def source(self) -> Source | None:
        """The article's numbered source this passage cites, if it cites one."""
        return self.passage.sources[0] if self.passage.sources else None

    def to_dict(self) -> dict[str, Any]:
        chunk = self.passage.chunk
        source = self.source
        return {
            "n": self.n,
            "text": chunk.text,
            "document": chunk.document_title,
            "document_id": chunk.document_id,
            "section": chunk.section,
            "source_number": source.n if source else None,
            "sources": [s.to_dict() for s in self.passage.sources],
            "url": self.passage.url,
            "chunk_id": chunk.id,
            "quotes": [list(span) for span in self.quotes],
            "span": [chunk.start, chunk.end],
            "page": chunk.page,
            "clause": chunk.clause,
            "text_sha256": hashlib.sha256(chunk.text.encode("utf-8")).hexdigest(),
        }


@dataclass(frozen=True, slots=True)
class SentenceCheck:
    """The grounding guard's verdict on one sentence of an answer."""

    text: str
    cited: tuple[str, ...]
    supported: bool
    score: float
    reasons: tuple[str, ...] = ()
    shown: bool = False
    citations: tuple[int, ...] = ()

    @property
    def verdict(self) -> str:
        return "supported" if self.supported else "unsupported"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": list(self.citations),
            "cited_chunk_ids": list(self.cited),
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "reasons": list(self.reasons),
            "shown": self.shown,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer with its citations, everything retrieved, and how it was made."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    backend: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    sentences: tuple[SentenceCheck, ...] = ()
    fallback: str | None = None
    backend_reason: str = ""
    standalone_question: str | None = None
    settings_hash: str = ""
    model_context: tuple[tuple[str, ...], bool] | None = None
    lead: str = ""  # where the guidance speaks to the question, shown before `text`
    # For a model's answer: how many shown sentences it wrote, and how many of those
    # were attributed after the fact (written without a usable passage number).
    model_written: tuple[int, int] | None = None

    @property
    def contribution(self) -> dict[str, int] | None:
        if self.model_written is None:
            return None
        shown, attributed = self.model_written
        return {"sentences_shown": shown, "attributed": attributed}

    @property
    def shown_text(self) -> str:
        """The answer as every face shows it: the lead line, then the cited sentences."""
        return f"{self.lead}\n\n{self.text}" if self.lead else self.text

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.shown_text,
            "lead": self.lead,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "sentences": [s.to_dict() for s in self.sentences],
            "fallback": self.fallback,
            "model_context": None
            if self.model_context is None
            else {"chunk_ids": list(self.model_context[0]), "trimmed": self.model_context[1]},
            "passages": [p.to_dict() for p in self.passages],
            "backend": self.backend,
            "backend_reason": self.backend_reason,
            "model_written": self.contribution,
            "settings_hash": self.settings_hash,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest run did, for its summary line."""

    documents: int = 0
    skipped: tuple[tuple[str, str], ...] = ()
    flagged: tuple[tuple[str, str], ...] = ()  # documents with text aimed at an assistant
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        return (
            f"{self.documents} documents{skipped}; chunks: {self.added} added, "
            f"{self.updated} updated, {self.removed} removed, {self.unchanged} unchanged; "
            f"{self.seconds:.1f} s"
        )
