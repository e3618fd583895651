"""What a process derives from the index's passages before it can search: the BM25
index, the vocabulary typos are mended against, and which passages read as instructions
to an assistant (ingest.screening). About 0.8 s at 2,000 passages on 2 cores, so it is
kept on disk under the data directory, in a folder named by a hash of the passages it
was derived from (content-addressed: a changed passage is a new name, never a stale
read), and the next process reads it instead. A folder that cannot be read is derived
again; one that cannot be written is skipped (the derivation is only ever a cost).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.retrieval.lexical import LexicalIndex
from ingest.screening import PATTERNS, instruction_like
from swguide.text import SPELLED_WORD
from swguide.types import Chunk

VERSION = "1"  # bump when what is derived, or how, changes
PREFIX = "snapshot-"


def fingerprint() -> str:
    """What the derivation depends on besides the passages: this module's version, the
    screening patterns and bm25s's version (a changed pattern is a new folder)."""
    from importlib.metadata import version

    parts = [VERSION, version("bm25s"), *(p.pattern for p in PATTERNS)]
    return "\0".join(parts)


@dataclass(frozen=True, slots=True)
class Derived:
    kept: tuple[str, ...]  # chunk ids, in order, that do not read as instructions
    vocabulary: frozenset[str]
    lexical: LexicalIndex


def derive(chunks: Sequence[Chunk], folder: Path | None = None) -> Derived:
    """The derived data for these chunks: read from `folder` when it holds them, else
    computed (and written there)."""
    if folder is None:
        return _compute(chunks)
    place = folder / f"{PREFIX}{_key(chunks)}"
    found = _read(place)
    if found is not None:
        return found
    derived = _compute(chunks)
    shutil.rmtree(place, ignore_errors=True)  # a damaged copy is replaced, not kept
    with contextlib.suppress(OSError):
        _write(derived, place)
    return derived


def _key(chunks: Sequence[Chunk]) -> str:
    digest = hashlib.sha256(fingerprint().encode("utf-8"))
    for chunk in chunks:
        for part in (chunk.id, chunk.section, chunk.text):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()[:32]


def _compute(chunks: Sequence[Chunk]) -> Derived:
    kept = [c for c in chunks if instruction_like(c.text) is None]
    texts = [f"{c.section}\n{c.text}" for c in kept]
    vocabulary = frozenset(w.lower() for t in texts for w in SPELLED_WORD.findall(t))
    return Derived(tuple(c.id for c in kept), vocabulary, LexicalIndex(texts))


def _read(place: Path) -> Derived | None:
    try:
        meta = json.loads((place / "derived.json").read_text(encoding="utf-8"))
        lexical = LexicalIndex.load(place / "lexical")
        return Derived(tuple(meta["kept"]), frozenset(meta["vocabulary"]), lexical)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(derived: Derived, place: Path) -> None:
    place.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=place.parent))
    try:
        derived.lexical.save(staging / "lexical")
        meta = {"kept": list(derived.kept), "vocabulary": sorted(derived.vocabulary)}
        (staging / "derived.json").write_text(json.dumps(meta), encoding="utf-8")
        staging.replace(place)  # whole or not at all; another process may have won
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for old in place.parent.glob(f"{PREFIX}*"):
        if old != place:
            shutil.rmtree(old, ignore_errors=True)
