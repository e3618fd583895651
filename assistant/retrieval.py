"""Hybrid retrieval: dense (Chroma) and BM25 (bm25s), fused by reciprocal rank.

The retriever loads a snapshot of the committed index once: the chunks that some
document record lists, and a BM25 index over their headings and text. Chroma answers
the dense half; its results are filtered to the same snapshot, so orphaned chunks of
an interrupted ingest are never returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.query import WORD, Lexicon, QueryRewriter
from ingest.embedding import Embedder
from ingest.sentences import english_stopwords
from ingest.store import ChunkStore
from swguide.errors import IndexMissingError
from swguide.settings import RetrievalSettings
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


class LexicalIndex:
    """BM25 over stemmed words, NLTK's English stop words removed."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer
        from bm25s.tokenization import Tokenizer

        self._stemmer = Stemmer.Stemmer("english")
        self._tokenizer = Tokenizer(stemmer=self._stemmer, stopwords=sorted(english_stopwords()))
        ids = self._tokenizer.tokenize(list(texts), return_as="ids", show_progress=False)
        self._bm25 = bm25s.BM25()
        self._bm25.index(ids, show_progress=False)
        self._n = len(texts)
        self._df: dict[str, int] = {}
        for text in texts:
            for stem in set(self.stems(text)):
                self._df[stem] = self._df.get(stem, 0) + 1

    def scores(self, query: str) -> np.ndarray:
        ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )[0]
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)

    def stems(self, text: str) -> list[str]:
        """The stemmed content words of `text`, analysed exactly as BM25 analyses them."""
        words = [
            w for w in self._tokenizer.splitter(text.lower()) if w not in self._tokenizer.stopwords
        ]
        return list(self._stemmer.stemWords(words))

    def share(self, stem: str) -> float:
        """The share of indexed passages that contain a stem."""
        return self._df.get(stem, 0) / self._n

    def idf(self, stem: str) -> float:
        """Inverse document frequency of a stem (unknown stems count as rare)."""
        count = self._df.get(stem, 0)
        return float(np.log(1 + (self._n - count + 0.5) / (count + 0.5)))


class HybridRetriever:
    """Finds the passages most relevant to a question."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        settings: RetrievalSettings,
        lexicon: Lexicon | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._settings = settings
        self.records: dict[str, DocumentRecord] = store.records()
        listed = [cid for r in self.records.values() for cid in r.chunk_ids]
        if not listed:
            raise IndexMissingError(
                f"The index in {store.where} is empty: run `swguide ingest` first."
            )
        self.chunks: dict[str, Chunk] = {c.id: c for c in store.chunks(listed)}
        self._order = list(self.chunks)
        texts = [f"{c.section}\n{c.text}" for c in self.chunks.values()]
        self.lexical = LexicalIndex(texts)
        vocabulary = {w.lower() for t in texts for w in WORD.findall(t)}
        self.rewriter = QueryRewriter(vocabulary, lexicon or Lexicon({}))

    def retrieve(self, question: str) -> Retrieval:
        rewrite = self.rewriter.rewrite(question)
        query = rewrite.expanded
        vectors = self._embedder.embed(list(dict.fromkeys([query, rewrite.mended])))
        vector = vectors[0]
        dense = [
            (cid, sim)
            for cid, sim in self._store.nearest(vector, self._settings.candidates)
            if cid in self.chunks
        ]
        bm25 = self.lexical.scores(query)
        top = np.argsort(-bm25)[: self._settings.candidates]
        lexical = [(self._order[i], float(bm25[i])) for i in top if bm25[i] > 0]
        fused = self._fuse([dense, lexical])
        dense_by = dict(dense)
        lexical_by = dict(lexical)
        passages = tuple(
            self._passage(cid, score, dense_by.get(cid), lexical_by.get(cid))
            for cid, score in fused[: self._settings.top_k]
        )
        return Retrieval(passages, query, vector, vectors[-1])

    def _fuse(self, rankings: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for ranking in rankings:
            for rank, (cid, _) in enumerate(ranking):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (self._settings.rrf_k + rank + 1)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))

    def _passage(
        self, cid: str, score: float, dense: float | None, lexical: float | None
    ) -> Passage:
        chunk = self.chunks[cid]
        record = self.records.get(chunk.document_id)
        sources = tuple(s for n in chunk.footnotes if record and (s := record.source(n)))
        return Passage(chunk, score, dense, lexical, sources, record.url if record else None)
