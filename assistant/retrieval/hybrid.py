"""Hybrid retrieval: dense (Chroma) and BM25 (bm25s), fused by reciprocal rank.

The retriever loads a snapshot of the committed index once: the chunks that some
document record lists, less those that read as instructions to an assistant
(ingest.screening), and a BM25 index over their headings and text. Chroma answers
the dense half; its results are filtered to the same snapshot, so orphaned chunks of
an interrupted ingest are never returned.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.retrieval.derived import derive
from assistant.retrieval.examples import ExampleQuestions
from assistant.retrieval.lexical import LexicalIndex
from assistant.retrieval.query import Lexicon, QueryRewriter
from ingest.store import ChunkStore
from swguide.errors import IndexMissingError
from swguide.protocols import Embedder
from swguide.settings import RetrievalSettings
from swguide.text import stems
from swguide.types import Chunk, DocumentRecord, Passage


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What one search found: fused passages, best first, and the query it ran.

    `query` is the question with typos mended and the guidance's terms added; `vector`
    embeds it. `mended_vector` embeds the mended question alone, in the asker's words.
    """

    passages: tuple[Passage, ...]
    query: str
    vector: np.ndarray
    mended_vector: np.ndarray
    lexical: LexicalIndex
    mapped: tuple[tuple[str, str], ...] = ()
    outside: tuple[str, ...] = ()  # topics the question names that the index never mentions


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The committed index as one search sees it: chunks, BM25 and vocabulary."""

    signature: tuple[tuple[str, str], ...]
    records: dict[str, DocumentRecord]
    chunks: dict[str, Chunk]
    order: list[str]
    lexical: LexicalIndex
    rewriter: QueryRewriter
    by_source: dict[int, str]  # numbered source -> the indexed document that is it
    topics: list[str]  # what the index covers, for abstentions to name


EXAMPLE_PASSAGES = 1  # the examples vote for their best passage (two outvote a standard's clause)


class HybridRetriever:
    """Finds the passages most relevant to a question.

    It works on a snapshot of the committed index and takes a new one when a document
    record changes (one small query per question), so a chat page that keeps running
    while documents are ingested answers from the current index.
    """

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        settings: RetrievalSettings,
        lexicon: Lexicon | None = None,
        cache: Path | None = None,
        examples: ExampleQuestions | None = None,
    ) -> None:
        self._store = store
        self._examples = examples
        self._answering: dict[str, tuple[str, ...]] = {}  # an answer's chunks, this snapshot
        self._embedder = embedder
        self._settings = settings
        self._lexicon = lexicon or Lexicon({})
        self._cache = cache  # where derived data is kept between processes (derived.py)
        self._lock = threading.Lock()
        self._snapshot = self._load(store.signature())

    @property
    def chunks(self) -> dict[str, Chunk]:
        return self._snapshot.chunks

    @property
    def topics(self) -> list[str]:
        return self._snapshot.topics

    def current(self) -> Snapshot:
        """The snapshot for the index as it is now, reloaded if a record changed."""
        signature = self._store.signature()
        with self._lock:
            if signature != self._snapshot.signature:
                self._snapshot = self._load(signature)
                self._answering = {}
            return self._snapshot

    def _load(self, signature: tuple[tuple[str, str], ...]) -> Snapshot:
        records = self._store.records()
        listed = [cid for r in records.values() for cid in r.chunk_ids]
        if not listed:
            raise IndexMissingError(
                f"The index in {self._store.where} is empty: run `swguide ingest` first."
            )
        stored = {c.id: c for c in self._store.chunks(listed)}
        derived = derive(list(stored.values()), self._cache)
        chunks = {cid: stored[cid] for cid in derived.kept}
        return Snapshot(
            signature,
            records,
            chunks,
            list(chunks),
            derived.lexical,
            QueryRewriter(derived.vocabulary, self._lexicon),
            {r.source_number: r.id for r in records.values() if r.source_number},
            topics(chunks),
        )

    def retrieve(self, question: str) -> Retrieval:
        snap = self.current()
        rewrite = snap.rewriter.rewrite(question)
        query = rewrite.expanded
        vectors = self._embedder.embed(list(dict.fromkeys([query, rewrite.mended])))
        vector = vectors[0]
        dense = [
            (cid, sim)
            for cid, sim in self._store.nearest(vector, self._settings.candidates)
            if cid in snap.chunks
        ]
        bm25 = snap.lexical.scores(query)
        top = np.argsort(-bm25)[: self._settings.candidates]
        lexical = [(snap.order[i], float(bm25[i])) for i in top if bm25[i] > 0]
        fused = self._fuse([dense, lexical, self._by_examples(snap, vectors[-1])])
        dense_by = dict(dense)
        lexical_by = dict(lexical)
        found = [
            _passage(snap, cid, score, dense_by.get(cid), lexical_by.get(cid))
            for cid, score in fused[: self._settings.top_k]
        ]
        passages = tuple(self._with_linked(snap, found, vector))
        unknown = tuple(
            dict.fromkeys(
                topic
                for w, topic in rewrite.outside
                if not all(snap.lexical.share(s) for s in stems(w))
            )
        )
        return Retrieval(
            passages, query, vector, vectors[-1], snap.lexical, rewrite.mapped, unknown
        )

    def _by_examples(self, snap: Snapshot, vector: np.ndarray) -> list[tuple[str, float]]:
        """Passages ranked by how many of the question's closest example questions they
        answer, weighted by the examples' similarity (assistant.retrieval.examples)."""
        if self._examples is None:
            return []
        scores: dict[str, float] = {}
        for answers, weight in self._examples.nearest(vector):
            for cid in {c for a in answers for c in self._chunks_holding(snap, a)}:
                scores[cid] = scores.get(cid, 0.0) + weight
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:EXAMPLE_PASSAGES]

    def _chunks_holding(self, snap: Snapshot, text: str) -> tuple[str, ...]:
        with self._lock:
            found = self._answering.get(text)
        if found is None:
            found = tuple(cid for cid, c in snap.chunks.items() if text in c.text)
            with self._lock:
                self._answering[text] = found
        return found

    def _with_linked(
        self, snap: Snapshot, found: list[Passage], vector: np.ndarray
    ) -> list[Passage]:
        """The passages, each followed by the closest passage of an indexed source its
        footnotes cite (at most `retrieval.linked` of them), so the standard can be cited
        next to the article's paraphrase of it."""
        documents = {p.chunk.document_id for p in found}
        out: list[Passage] = []
        added = 0
        for passage in found:
            out.append(passage)
            for n in passage.chunk.sources:
                doc = snap.by_source.get(n)
                if doc is None or doc in documents or added >= self._settings.linked:
                    continue
                hits = self._store.nearest(vector, 1, document_id=doc)
                if hits and hits[0][0] in snap.chunks:
                    cid, similarity = hits[0]
                    linked = _passage(snap, cid, passage.score, similarity, None)
                    out.append(replace(linked, via=n))
                    documents.add(doc)
                    added += 1
        return out

    def _fuse(self, rankings: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for ranking in rankings:
            for rank, (cid, _) in enumerate(ranking):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (self._settings.rrf_k + rank + 1)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _passage(
    snap: Snapshot, cid: str, score: float, dense: float | None, lexical: float | None
) -> Passage:
    chunk = snap.chunks[cid]
    record = snap.records.get(chunk.document_id)
    numbers = (record.source_number,) if record and record.source_number else chunk.footnotes
    sources = tuple(s for n in numbers if record and (s := record.source(n)))
    return Passage(chunk, score, dense, lexical, sources, record.url if record else None)


TOPICS_SHOWN = 8


def topics(chunks: dict[str, Chunk]) -> list[str]:
    """What the index covers: its sections in reading order, or its documents' titles
    when there are too many sections to list."""
    ordered = sorted(chunks.values(), key=lambda c: (c.document_id, c.start))
    sections = list(dict.fromkeys(c.section for c in ordered if c.section != "Introduction"))
    if len(sections) <= TOPICS_SHOWN:
        return sections
    titles = list(dict.fromkeys(c.document_title for c in ordered))
    more = len(titles) - TOPICS_SHOWN
    return titles[:TOPICS_SHOWN] + ([f"and {more} more documents"] if more > 0 else [])
