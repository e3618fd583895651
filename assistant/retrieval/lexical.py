"""BM25 over the index's passages (bm25s), analysed as `swguide.text.stems` analyses
words, and the document frequencies the answerers weigh question words by."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from swguide.text import WORDS, english_stopwords, stemmer, stems


class LexicalIndex:
    """BM25 over stemmed words, NLTK's English stop words removed; document frequencies."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s
        from bm25s.tokenization import Tokenizer

        self._tokenizer = Tokenizer(
            splitter=WORDS, stemmer=stemmer(), stopwords=sorted(english_stopwords())
        )
        ids = self._tokenizer.tokenize(list(texts), return_as="ids", show_progress=False)
        self._bm25 = bm25s.BM25()
        self._bm25.index(ids, show_progress=False)
        self._n = len(texts)
        self._df: dict[str, int] = {}
        for text in texts:
            for stem in set(stems(text)):
                self._df[stem] = self._df.get(stem, 0) + 1

    def scores(self, query: str) -> np.ndarray:
        ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )[0]
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)

    def share(self, stem: str) -> float:
        """The share of indexed passages that contain a stem."""
        return self._df.get(stem, 0) / self._n

    def idf(self, stem: str) -> float:
        """Inverse document frequency of a stem (unknown stems count as rare)."""
        count = self._df.get(stem, 0)
        return float(np.log(1 + (self._n - count + 0.5) / (count + 0.5)))
