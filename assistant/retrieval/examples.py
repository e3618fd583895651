"""Example questions: whether a question is one the guidance speaks to, and which of its
sentences answer questions like it.

Closeness between a question and the guidance's sentences cannot tell "Can I share my
election takes on my own page?" (the guidance speaks to opinions posted online) from
"How many hashtags should I use?" (it does not): both land at the same middling score.
Questions of both kinds, written from the guidance alone (`corpus/example_questions.toml`),
can. A question's scope margin is its mean similarity to its K closest in-scope examples
less that to its K closest out-of-scope ones.

Each in-scope example also names the guidance's sentences that answer it. A sentence's
example support for a question is the similarity-weighted share of the question's
NEIGHBOURS closest in-scope examples that it answers: the FAQ reading of the guidance,
which lifts the sentence a clinician needs above one that merely shares the question's
words. A question that reads more like the near misses gets no support, so the
guidance is not pushed ahead of an agency's own document on records or fees.

The examples' vectors are computed once and kept under the data directory, in a file
named by a hash of the examples and the embedding model (about 2 s for 1,000 questions
on 2 cores); a file that cannot be read is computed again, one that cannot be written is
skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from swguide.errors import ConfigError
from swguide.protocols import Embedder

K = 3
NEIGHBOURS = 5  # chosen on the tuning splits (fit, fit2) and the fixed questions
PREFIX = "examples-"


class ExampleQuestions:
    """Example questions inside and outside the guidance's scope, the sentences that
    answer the inside ones, and the questions' vectors."""

    def __init__(
        self,
        inside: list[str],
        outside: list[str],
        embedder: Embedder,
        answers: Sequence[Sequence[str]] = (),
        cache_dir: Path | None = None,
        documents: Sequence[str] = (),
    ) -> None:
        if len(inside) < K or len(outside) < K:
            raise ConfigError(f"example questions need at least {K} of each scope")
        self._inside = inside
        self._outside = outside
        self._answers = [tuple(a) for a in answers] or [() for _ in inside]
        self._embedder = embedder
        self._cache = cache_dir
        self._documents = frozenset(documents)
        self._vectors: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def load(
        cls, path: Path, embedder: Embedder, cache_dir: Path | None = None
    ) -> ExampleQuestions:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            documents = [str(d) for d in data.get("documents", [])]
            examples = [
                (str(e["text"]), str(e["scope"]), [str(a) for a in e.get("answers", [])])
                for e in data["examples"]
            ]
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
            raise ConfigError(
                f"cannot read the example questions {path}: {error}; fix the file or unset "
                "examples_file to use the bundled one"
            ) from None
        unknown = {s for _, s, _ in examples} - {"in", "out"}
        if unknown:
            raise ConfigError(f'{path}: scope must be "in" or "out", not {sorted(unknown)}')
        inside = [(t, a) for t, s, a in examples if s == "in"]
        return cls(
            [t for t, _ in inside],
            [t for t, s, _ in examples if s == "out"],
            embedder,
            [a for _, a in inside],
            cache_dir,
            documents,
        )

    def written_for(self, document_id: str) -> bool:
        """Whether the examples were written for this document (their answers are its
        sentences, their near misses what it does not cover)."""
        return document_id in self._documents

    def margin(self, question: np.ndarray) -> float:
        """Mean similarity to the K closest in-scope examples less that to the K closest
        out-of-scope ones: above zero, the question reads like the guidance's questions."""
        inside, outside = self.vectors()
        near_in = np.sort(inside @ question)[-K:].mean()
        near_out = np.sort(outside @ question)[-K:].mean()
        return float(near_in - near_out)

    def nearest(self, question: np.ndarray) -> list[tuple[tuple[str, ...], float]]:
        """The answers of the question's NEIGHBOURS closest in-scope examples, each with
        the example's similarity to the question (at least 0); none for a question that
        reads more like the near misses (a margin of 0 or less), whose closest in-scope
        examples say nothing about what answers it."""
        if self.margin(question) <= 0:
            return []
        similarity = self.vectors()[0] @ question
        order = np.argsort(-similarity)[:NEIGHBOURS]
        return [(self._answers[i], max(float(similarity[i]), 0.0)) for i in order]

    def support(self, question: np.ndarray, sentences: Sequence[str]) -> list[float]:
        """For each sentence, the similarity-weighted share of the question's closest
        in-scope examples whose answers it holds (a quote holds an answer it contains,
        or lies within)."""
        near = self.nearest(question)
        return [
            sum(w for answers, w in near if any(a in s or s.strip() in a for a in answers))
            / NEIGHBOURS
            for s in sentences
        ]

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self._vectors is None:
            texts = self._inside + self._outside
            matrix = self._read_or_embed(texts)
            self._vectors = (matrix[: len(self._inside)], matrix[len(self._inside) :])
        return self._vectors

    def _read_or_embed(self, texts: list[str]) -> np.ndarray:
        if self._cache is None:
            return self._embedder.embed(texts)
        digest = hashlib.sha256(self._embedder.model_id.encode("utf-8"))
        for text in texts:
            digest.update(b"\0" + text.encode("utf-8"))
        path = self._cache / f"{PREFIX}{digest.hexdigest()[:32]}.npy"
        with contextlib.suppress(OSError, ValueError, EOFError):
            found: np.ndarray = np.load(path, allow_pickle=False)
            if found.ndim == 2 and len(found) == len(texts) and found.dtype == np.float32:
                return found
        matrix = np.asarray(self._embedder.embed(texts), dtype=np.float32)
        with contextlib.suppress(OSError):
            _write(matrix, path)
        return matrix


def _write(matrix: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".staging-", suffix=".npy", dir=path.parent)
    staging = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            np.save(file, matrix, allow_pickle=False)
        staging.replace(path)  # whole or not at all
    finally:
        staging.unlink(missing_ok=True)
    for old in path.parent.glob(f"{PREFIX}*.npy"):
        if old != path:
            old.unlink(missing_ok=True)
