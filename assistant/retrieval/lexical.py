"""BM25 over the index's passages (bm25s), analysed as `swguide.text.stems` analyses
words, and the document frequencies the answerers weigh question words by."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from swguide.text import WORDS, english_stopwords, stemmer, stems


class LexicalIndex:
    """BM25 over stemmed words, NLTK's English stop words removed; document frequencies."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self._tokenizer = _tokenizer()
        # As a (ids, vocabulary) tuple, so the saved index names its terms as strings.
        tokens = self._tokenizer.tokenize(list(texts), return_as="tuple", show_progress=False)
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokens, show_progress=False)
        self._n = len(texts)
        self._df: dict[str, int] = {}
        for text in texts:
            for stem in set(stems(text)):
                self._df[stem] = self._df.get(stem, 0) + 1

    def save(self, folder: Path) -> None:
        """Write the index to `folder` (bm25s's own files and JSON; nothing pickled)."""
        self._bm25.save(str(folder), show_progress=False)
        self._tokenizer.save_vocab(str(folder))
        meta = {"n": self._n, "df": self._df}
        (folder / "frequencies.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """An index `save` wrote; OSError or ValueError when the folder does not hold one."""
        import bm25s

        meta = json.loads((folder / "frequencies.json").read_text(encoding="utf-8"))
        index = cls.__new__(cls)
        index._tokenizer = _tokenizer()
        index._tokenizer.load_vocab(str(folder))
        index._bm25 = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        index._n = int(meta["n"])
        index._df = {str(k): int(v) for k, v in meta["df"].items()}
        return index

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


def _tokenizer() -> Any:
    from bm25s.tokenization import Tokenizer

    return Tokenizer(splitter=WORDS, stemmer=stemmer(), stopwords=sorted(english_stopwords()))
