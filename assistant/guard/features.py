"""What the learned verifier reads of a (claim, passage, question) triple: a few numbers
on how the claim lines up with the passage, word by word and sentence by sentence.

- similarity: the claim's embedding against the passage's closest sentence, or pair of
  adjacent sentences, and against the whole passage;
- coverage: the share of the claim's content words (stemmed) in the passage, in its
  two closest sentences, and of its word pairs; the share of words it lacks that the
  question holds (a restated question is not a new fact);
- soft coverage: each content word the passage lacks is matched to the passage's
  closest word by embedding ("clinicians" to "practitioners"), the mean and the worst;
  how many match nothing;
- the hard checks (`assistant.guard.checks.check_flags`), each a 0/1 flag.

All embeddings come from the index's own embedder (its weights checked on load), so the
verifier adds only a small learned head on top.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.guard.checks import best_window, check_flags, coverage
from swguide.protocols import Embedder
from swguide.text import TOKEN, english_stopwords, sentence_spans, stemmer, stems

FLAGS = ("verdict", "number", "name", "directive", "stance", "negation", "obligation")
NAMES = (
    "similarity",
    "passage_similarity",
    "coverage",
    "window_coverage",
    "pair_coverage",
    "question_words",
    "soft_coverage",
    "worst_word",
    "missing",
    "unmatched",
    "aligned",
    "claim_only",
    "substitutions",
    *FLAGS,
)
UNMATCHED = 0.6  # a missing word whose closest passage word is below this matches nothing
WORD = re.compile(r"[a-z][a-z'-]*[a-z]")


@dataclass(frozen=True, slots=True)
class _Passage:
    text: str
    sentences: list[str]
    words: list[str]  # distinct content words, as spelled (lower case)
    stems: frozenset[str]
    pairs: frozenset[tuple[str, str]]


def features(triples: Sequence[tuple[str, str, str]], embedder: Embedder) -> np.ndarray:
    """One row of len(NAMES) numbers per (claim, passage, question)."""
    passages = {text: _read(text) for _, text, _ in triples}
    _embed_all(triples, passages, embedder)
    rows = [_row(claim, passages[text], question, embedder) for claim, text, question in triples]
    return np.array(rows, dtype=np.float32).reshape(len(triples), len(NAMES))


def warm(passages: Sequence[str], embedder: Embedder) -> None:
    """Embed what the rows will need of these passages now (the embedder caches it),
    e.g. while a model is still writing the claims."""
    read = [_read(text) for text in passages]
    embedder.embed(list(dict.fromkeys(t for p in read for t in (p.text, *p.sentences, *p.words))))


def _read(text: str) -> _Passage:
    sentences = [text[s:e] for s, e in sentence_spans(text)] or [text]
    content = stems(text)
    return _Passage(
        text,
        sentences,
        _content_words(text),
        frozenset(content),
        frozenset(itertools.pairwise(content)),
    )


def _content_words(text: str) -> list[str]:
    stop = english_stopwords()
    return list(dict.fromkeys(w for w in WORD.findall(text.lower()) if w not in stop))


def _embed_all(
    triples: Sequence[tuple[str, str, str]], passages: dict[str, _Passage], embedder: Embedder
) -> None:
    """Embed every text the rows need in one call (the embedder caches them)."""
    texts = [claim for claim, _, _ in triples]
    for passage in passages.values():
        texts += [passage.text, *passage.sentences]
    for claim, text, _ in triples:
        missing = _missing_words(claim, passages[text])
        if missing:
            texts += missing + passages[text].words
    embedder.embed(list(dict.fromkeys(texts)))


def _missing_words(claim: str, passage: _Passage) -> list[str]:
    words = _content_words(claim)
    found = stemmer().stemWords(words)
    return [w for w, s in zip(words, found, strict=True) if s not in passage.stems]


def _row(claim: str, passage: _Passage, question: str, embedder: Embedder) -> list[float]:
    vector = embedder.embed([claim])[0]
    evidence = windows(embedder.embed(passage.sentences))
    similarity = evidence @ vector
    closest = [passage.sentences[i] for i in np.argsort(-similarity[: len(passage.sentences)])[:2]]
    missing = _missing_words(claim, passage)
    soft, worst, unmatched = _soft(claim, missing, passage, embedder)
    flags = check_flags(claim, passage.text, closest, question)
    return [
        float(similarity.max()),
        float(embedder.embed([passage.text])[0] @ vector),
        coverage(claim, passage.text),
        coverage(claim, " ".join(closest)),
        _pair_coverage(claim, passage),
        _question_share(claim, passage, question),
        soft,
        worst,
        min(1.0, len(missing) / 10),
        min(1.0, unmatched / 5),
        *alignment(claim, passage.sentences),
        *(float(flags[name]) for name in FLAGS),
    ]


def alignment(claim: str, sentences: Sequence[str]) -> tuple[float, float, float]:
    """The claim's words in order against the passage's best-matching sentence or pair
    of adjacent sentences: the share matched in sequence, the share the claim adds
    (words with no counterpart there), and how many short replacements ("should" for
    "may", "ASWB" for "NASW") there are, of at most three words each side (/3, at most 1)."""
    words = TOKEN.findall(claim)
    if not words:
        return 1.0, 0.0, 0.0
    best = best_window(claim, sentences).match
    matched = sum(b.size for b in best.get_matching_blocks())
    ops = best.get_opcodes()
    added = sum(i2 - i1 for op, i1, i2, _, _ in ops if op == "delete")
    short = sum(op == "replace" and i2 - i1 <= 3 and j2 - j1 <= 3 for op, i1, i2, j1, j2 in ops)
    return matched / len(words), added / len(words), min(1.0, short / 3)


def windows(vectors: np.ndarray) -> np.ndarray:
    """Each sentence's vector, then each pair of adjacent ones' (their mean direction)."""
    pairs = vectors[:-1] + vectors[1:]
    norms = np.linalg.norm(pairs, axis=1, keepdims=True)
    return np.concatenate([vectors, pairs / np.maximum(norms, 1e-9)])


def _soft(
    claim: str, missing: list[str], passage: _Passage, embedder: Embedder
) -> tuple[float, float, int]:
    """Mean and worst closeness of the claim's content words to the passage's words
    (1 for a word it holds), and how many of the `missing` ones match nothing."""
    if not missing:
        return 1.0, 1.0, 0
    if not passage.words:
        return 0.0, 0.0, len(missing)
    closeness = (embedder.embed(missing) @ embedder.embed(passage.words).T).max(axis=1)
    words = len(_content_words(claim))
    mean = (words - len(missing) + float(closeness.sum())) / words
    return mean, float(closeness.min()), int((closeness < UNMATCHED).sum())


def _pair_coverage(claim: str, passage: _Passage) -> float:
    pairs = list(itertools.pairwise(stems(claim)))
    return sum(p in passage.pairs for p in pairs) / len(pairs) if pairs else 1.0


def _question_share(claim: str, passage: _Passage, question: str) -> float:
    missing = set(stems(claim)) - passage.stems
    return len(missing & set(stems(question))) / len(missing) if missing else 0.0
