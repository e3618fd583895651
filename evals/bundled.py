"""A fresh index of the bundled corpus in a temporary folder, for the suite and the
support checker's calibration: a user's own documents never change their figures.

With `distractors`, the index also holds `evals/distractors/`: 24 synthetic documents
(about 190 passages) on neighbouring topics of practice (telehealth, documentation,
supervision, fees, confidentiality in waiting rooms, ...) that use the guidance's
vocabulary but say nothing about being online, so ranking is tested among hundreds of
passages rather than the article's eight."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import corpus
from swguide.settings import Settings, load_settings
from swguide.types import Chunk, Passage

DISTRACTORS = Path(__file__).with_name("distractors")


@dataclass(frozen=True, slots=True)
class Bundled:
    settings: Settings
    embedder: Any
    store: Any

    def holding(self, span: str) -> list[Chunk]:
        """The indexed chunks that hold (part of) an exact span of a corpus file."""
        found = []
        for record in self.store.records().values():
            text = Path(record.path).read_text(encoding="utf-8")
            at = text.find(span)
            if at < 0:
                continue
            for chunk in self.store.chunks(record.chunk_ids):
                if at < chunk.end and at + len(span) > chunk.start:
                    found.append(chunk)
        return found

    def passages(self, spans: list[str]) -> list[Passage]:
        chunks = {c.id: c for span in spans for c in self.holding(span)}
        return [Passage(chunk, 1.0) for chunk in chunks.values()]


@contextmanager
def bundled_index(settings: Settings, distractors: bool = False) -> Iterator[Bundled]:
    from assistant.build import build_embedder, open_store
    from ingest.pipeline import ingest

    with tempfile.TemporaryDirectory(prefix="swguide-eval-") as tmp:
        local = load_settings(
            data_dir=Path(tmp),
            models_dir=settings.model_cache,
            **settings.model_dump(include={"llm", "guard", "answer", "retrieval", "chunking"}),
        )
        embedder = build_embedder(local)
        store = open_store(local, create=True)
        folders = [corpus.DIRECTORY, DISTRACTORS] if distractors else [corpus.DIRECTORY]
        ingest(folders, store, embedder, local)
        yield Bundled(local, embedder, store)
