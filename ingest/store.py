"""The Chroma index: chunk vectors plus one commit record per document.

Chunks live in one collection, named after the embedding model and the chunking
settings, so a change to either starts a fresh index instead of mixing vectors. Each
document's record (a second collection) lists its chunk ids and is written after its
chunks: readers only see chunks that a record lists, so a crash mid-write leaves at
worst unlisted orphans, which the next ingest deletes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from swguide.errors import IndexMissingError, StoreError
from swguide.settings import ChromaSettings, ChunkingSettings
from swguide.types import Chunk, DocumentRecord, Source

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

SCHEMA_VERSION = 1
GET_BATCH = 5000  # Chroma's SQLite allows about 32,000 ids in one query
RECORDS_SUFFIX = "-documents"


def collection_name(model_id: str, chunking: ChunkingSettings) -> str:
    """A name that changes whenever the vectors or the chunk boundaries would."""
    key = json.dumps([SCHEMA_VERSION, model_id, chunking.model_dump()], sort_keys=True)
    model = model_id.split("@")[0].lower().replace("_", "-")
    return f"swguide-{model}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def connect(chroma: ChromaSettings, path: Path) -> ClientAPI:
    """A Chroma client: the embedded store at `path`, or the server `chroma` names."""
    import chromadb
    from chromadb.config import Settings as ChromaConfig

    config = ChromaConfig(anonymized_telemetry=False, allow_reset=False)
    try:
        if chroma.host:
            client = chromadb.HttpClient(
                host=chroma.host, port=chroma.port, ssl=chroma.ssl, settings=config
            )
            client.heartbeat()
            return client
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=config)
    except Exception as error:  # chromadb raises many unrelated types here
        raise StoreError(_connect_hint(chroma, path, error)) from None


def _connect_hint(chroma: ChromaSettings, path: Path, error: Exception) -> str:
    if chroma.host:
        where = f"{chroma.host}:{chroma.port}"
        return (
            f"The Chroma server at {where} is not reachable ({type(error).__name__}): "
            f"start it with `chroma run --host {chroma.host} --port {chroma.port}`, or unset "
            "chroma.host to use the embedded store."
        )
    return (
        f"The index in {path} cannot be opened ({type(error).__name__}: {error}): run "
        "`swguide check` to verify it; `swguide ingest --rebuild` rebuilds it, keeping this "
        "folder aside."
    )


class ChunkStore:
    """Chunks with their vectors and the commit records of their documents."""

    def __init__(self, chunks: Collection, records: Collection, where: str) -> None:
        self._chunks = chunks
        self._records = records
        self.where = where

    @classmethod
    def open(cls, client: ClientAPI, name: str, where: str, create: bool) -> ChunkStore:
        try:
            if create:
                chunks = client.get_or_create_collection(
                    name, metadata={"hnsw:space": "cosine"}, embedding_function=None
                )
                records = client.get_or_create_collection(
                    name + RECORDS_SUFFIX, embedding_function=None
                )
            else:
                chunks = client.get_collection(name, embedding_function=None)
                records = client.get_collection(name + RECORDS_SUFFIX, embedding_function=None)
        except Exception as error:
            if not create and _is_missing(error):
                raise IndexMissingError(
                    f"No index found in {where}: run `swguide ingest` first."
                ) from None
            raise StoreError(
                f"The index in {where} cannot be read ({type(error).__name__}: {error}): run "
                "`swguide check` to verify it; `swguide ingest --rebuild` rebuilds it."
            ) from None
        return cls(chunks, records, where)

    def touch(self) -> None:
        """Read one item of each collection (Chroma loads a collection's files then)."""
        self._guard(lambda: self._chunks.get(limit=1, include=[]))
        self._guard(lambda: self._records.get(limit=1, include=[]))

    @property
    def name(self) -> str:
        return self._chunks.name

    def records(self) -> dict[str, DocumentRecord]:
        got = self._guard(lambda: self._records.get(include=["documents"]))
        return {
            rid: _record_from_json(doc)
            for rid, doc in zip(got["ids"], got["documents"] or [], strict=True)
        }

    def signature(self) -> tuple[tuple[str, str], ...]:
        """Changes whenever a document is written or removed (for readers' snapshots)."""
        got = self._guard(lambda: self._records.get(include=["metadatas"]))
        metas = got["metadatas"] or []
        return tuple(
            sorted(
                (rid, str((m or {}).get("ingested_at", "")))
                for rid, m in zip(got["ids"], metas, strict=True)
            )
        )

    def stored_times(self) -> dict[str, float]:
        """Every stored chunk id, with the time it was written (0 when unknown)."""
        got = self._guard(lambda: self._chunks.get(include=["metadatas"]))
        metas = got["metadatas"] or []
        return {
            cid: float((m or {}).get("written", 0))
            for cid, m in zip(got["ids"], metas, strict=True)
        }

    def chunks(self, ids: Sequence[str] | None = None) -> list[Chunk]:
        """The chunks with these ids (all stored chunks when ids is None)."""
        if ids is None:
            return self._get(None)
        ids = list(ids)
        return [
            c for at in range(0, len(ids), GET_BATCH) for c in self._get(ids[at : at + GET_BATCH])
        ]

    def _get(self, ids: list[str] | None) -> list[Chunk]:
        if ids is not None and not ids:
            return []
        got = self._guard(lambda: self._chunks.get(ids=ids, include=["documents", "metadatas"]))
        metas = got["metadatas"] or []
        docs = got["documents"] or []
        return [_chunk(cid, d, m) for cid, d, m in zip(got["ids"], docs, metas, strict=True)]

    def nearest(
        self, vector: np.ndarray, n: int, document_id: str | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the n nearest stored chunks (of one document)."""
        count = self._guard(self._chunks.count)
        if count == 0:
            return []
        where: Any = {"document_id": document_id} if document_id else None
        got = self._guard(
            lambda: self._chunks.query(
                query_embeddings=[vector.tolist()],
                n_results=min(n, count),
                include=["distances"],
                where=where,
            )
        )
        distances = (got["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], distances, strict=True)]

    def write(
        self,
        record: DocumentRecord,
        added: Sequence[Chunk],
        vectors: np.ndarray,
        updated: Sequence[Chunk],
        stale: Iterable[str],
    ) -> None:
        """Store a document's new chunks, commit its record, then drop its stale chunks."""
        written = time.time()
        for at in range(0, len(added), 256):
            part = added[at : at + 256]
            self._guard(
                lambda p=part, v=vectors[at : at + 256]: self._chunks.upsert(
                    ids=[c.id for c in p],
                    embeddings=v,
                    documents=[c.text for c in p],
                    metadatas=[{**_metadata(c), "written": written} for c in p],
                )
            )
        if updated:
            self._guard(
                lambda: self._chunks.update(
                    ids=[c.id for c in updated],
                    metadatas=[{**_metadata(c), "written": written} for c in updated],
                )
            )
        self._guard(
            lambda: self._records.upsert(
                ids=[record.id],
                embeddings=np.ones((1, 1), dtype=np.float32),
                documents=[_record_to_json(record)],
                metadatas=[
                    {
                        "sha256": record.sha256,
                        "path": record.path,
                        "ingested_at": record.ingested_at,
                    }
                ],
            )
        )
        self.delete_chunks(list(stale))

    def remove(self, record: DocumentRecord) -> None:
        self._guard(lambda: self._records.delete(ids=[record.id]))
        self.delete_chunks(list(record.chunk_ids))

    def delete_chunks(self, ids: list[str]) -> None:
        for at in range(0, len(ids), 1000):
            self._guard(lambda part=ids[at : at + 1000]: self._chunks.delete(ids=part))

    def _guard(self, call: Any) -> Any:
        try:
            return call()
        except Exception as error:
            raise StoreError(
                f"The index in {self.where} failed ({type(error).__name__}: {error}): check the "
                "store is reachable, and run `swguide check` to verify it."
            ) from None


def _is_missing(error: Exception) -> bool:
    return "does not exist" in str(error) or type(error).__name__ == "NotFoundError"


def _metadata(chunk: Chunk) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "document_id": chunk.document_id,
        "document_title": chunk.document_title,
        "section": chunk.section,
        "heading_path": json.dumps(chunk.heading_path),
        "paragraph_index": chunk.paragraph_index,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(chunk.sentences),
        "footnotes": json.dumps(chunk.footnotes),
        "sources": json.dumps(chunk.sources),
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.clause is not None:
        meta["clause"] = chunk.clause
    return meta


def _chunk(chunk_id: str, text: str, meta: Any) -> Chunk:
    return Chunk(
        id=chunk_id,
        document_id=meta["document_id"],
        document_title=meta["document_title"],
        text=text,
        heading_path=tuple(json.loads(meta["heading_path"])),
        paragraph_index=int(meta["paragraph_index"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        sentences=tuple((int(a), int(b)) for a, b in json.loads(meta["sentences"])),
        footnotes=tuple(json.loads(meta["footnotes"])),
        sources=tuple(json.loads(meta["sources"])),
        page=int(meta["page"]) if "page" in meta else None,
        clause=meta.get("clause"),
    )


def _record_to_json(record: DocumentRecord) -> str:
    return json.dumps(asdict(record))


def _record_from_json(text: str | None) -> DocumentRecord:
    data = json.loads(text or "{}")
    data["chunk_ids"] = tuple(data["chunk_ids"])
    data["sources"] = tuple(
        Source(**{**s, "also": tuple(s.get("also", ()))}) for s in data.get("sources", ())
    )
    return DocumentRecord(**data)
