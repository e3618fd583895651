"""Ingest: files to chunks to vectors, incrementally and idempotently.

Each document is loaded, chunked and embedded completely before anything is written,
so a bad document is skipped with its reason and leaves nothing behind. Unchanged
documents are skipped; a changed one keeps the vectors of its unchanged chunks, gets
new ones for new text, and loses the chunks that are gone; documents removed from an
ingested folder are removed from the index.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ingest.chunking import chunk_document, embedded_text
from ingest.embedding import Embedder
from ingest.loaders import LoadedDocument, is_supported, load_document
from ingest.manifest import DocumentEntry, Manifest, load_manifest
from ingest.store import ChunkStore
from swguide.errors import DocumentError
from swguide.settings import Settings
from swguide.types import Chunk, DocumentRecord, IngestReport

Progress = Callable[[int, int, str], None]


@dataclass
class _Tally:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    documents: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Found:
    path: Path
    root: Path | None


def discover(paths: Sequence[Path]) -> tuple[list[_Found], list[tuple[str, str]]]:
    """Supported files under the given paths, and the paths that cannot be used."""
    found: list[_Found] = []
    problems: list[tuple[str, str]] = []
    for given in paths:
        path = given.expanduser().resolve()
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and is_supported(p)
                and not any(part.startswith((".", "__")) for part in p.relative_to(path).parts)
            )
            found += [_Found(p, path) for p in files]
        elif path.is_file():
            found.append(_Found(path, None))
        else:
            problems.append((str(given), "does not exist: check the path"))
    return found, problems


def ingest(
    paths: Sequence[Path],
    store: ChunkStore,
    embedder: Embedder,
    settings: Settings,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in line with the documents under `paths`."""
    started = time.perf_counter()
    tally = _Tally()
    found, tally.skipped = discover(paths)
    records = store.records()
    tally.removed += _drop_orphans(store, records)
    manifests: dict[Path, Manifest] = {}
    for done, item in enumerate(found):
        if progress:
            progress(done, len(found), item.path.name)
        manifest = manifests.setdefault(item.path.parent, load_manifest(item.path.parent))
        try:
            _ingest_one(item, manifest, records, store, embedder, settings, tally)
        except DocumentError as error:
            tally.skipped.append((str(item.path), str(error)))
    present = {str(f.path) for f in found}
    for root in {f.root for f in found if f.root} | {p.resolve() for p in paths if p.is_dir()}:
        for record in list(records.values()):
            if record.root == str(root) and record.path not in present:
                store.remove(record)
                tally.removed += len(record.chunk_ids)
    if progress:
        progress(len(found), len(found), "done")
    return IngestReport(
        documents=tally.documents,
        skipped=tuple(tally.skipped),
        added=tally.added,
        updated=tally.updated,
        removed=tally.removed,
        unchanged=tally.unchanged,
        seconds=time.perf_counter() - started,
    )


def remove_documents(names: Sequence[str], store: ChunkStore) -> IngestReport:
    """Remove documents by id or path; an unknown name is reported, not guessed."""
    started = time.perf_counter()
    records = store.records()
    removed, skipped = 0, []
    for name in names:
        path = str(Path(name).expanduser().resolve())
        match = records.get(name) or next((r for r in records.values() if r.path == path), None)
        if match is None:
            skipped.append((name, "is not in the index: see `swguide ingest --list`"))
            continue
        store.remove(match)
        removed += len(match.chunk_ids)
    return IngestReport(
        removed=removed, skipped=tuple(skipped), seconds=time.perf_counter() - started
    )


def _drop_orphans(store: ChunkStore, records: dict[str, DocumentRecord]) -> int:
    listed = {cid for r in records.values() for cid in r.chunk_ids}
    orphans = sorted(store.stored_ids() - listed)
    store.delete_chunks(orphans)
    return len(orphans)


def document_id(item: _Found, entry: DocumentEntry | None) -> str:
    if entry is not None:
        return entry.id
    name = item.path.relative_to(item.root) if item.root else Path(item.path.name)
    slug = re.sub(r"[^a-z0-9/]+", "-", str(name.with_suffix("")).lower()).strip("-/")
    return slug or "document"


def _ingest_one(
    item: _Found,
    manifest: Manifest,
    records: dict[str, DocumentRecord],
    store: ChunkStore,
    embedder: Embedder,
    settings: Settings,
    tally: _Tally,
) -> None:
    doc = load_document(item.path, settings.limits.max_document_bytes)
    entry = manifest.entry_for(item.path)
    doc_id = document_id(item, entry)
    old = records.get(doc_id)
    if old is not None and old.path != str(item.path):
        raise DocumentError(
            f"its id {doc_id!r} is already used by {old.path}: rename one of them, or "
            f"remove the other with `swguide ingest --remove {doc_id}`"
        )
    record = _record(doc, doc_id, item, entry, manifest)
    tally.documents += 1
    if old is not None and _same(old, record):
        tally.unchanged += len(old.chunk_ids)
        return
    chunks = chunk_document(
        doc,
        doc_id,
        record.title,
        settings.chunking,
        embedder.count_tokens,
        record.sources if entry and entry.footnotes else (),
        byline=record.author,
    )
    record = _with_chunks(record, chunks)
    stored = {c.id: c for c in store.chunks(list(old.chunk_ids))} if old else {}
    added = [c for c in chunks if c.id not in stored]
    updated = [c for c in chunks if c.id in stored and stored[c.id] != c]
    vectors = embedder.embed(
        [embedded_text(c.document_title, c.heading_path, c.text) for c in added]
    )
    stale = set(stored) - {c.id for c in chunks}
    store.write(record, added, vectors, updated, stale)
    records[doc_id] = record
    tally.added += len(added)
    tally.updated += len(updated)
    tally.removed += len(stale)
    tally.unchanged += len(chunks) - len(added) - len(updated)


def _record(
    doc: LoadedDocument,
    doc_id: str,
    item: _Found,
    entry: DocumentEntry | None,
    manifest: Manifest,
) -> DocumentRecord:
    return DocumentRecord(
        id=doc_id,
        title=(entry.title if entry and entry.title else doc.title),
        path=str(item.path),
        kind=doc.kind,
        sha256=doc.sha256,
        chunk_ids=(),
        root=str(item.root) if item.root else None,
        author=entry.author if entry else None,
        url=entry.url if entry else None,
        sources=manifest.sources if entry and entry.footnotes else (),
    )


def _with_chunks(record: DocumentRecord, chunks: list[Chunk]) -> DocumentRecord:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return replace(record, chunk_ids=tuple(c.id for c in chunks), ingested_at=stamp)


def _same(old: DocumentRecord, new: DocumentRecord) -> bool:
    keys = ("sha256", "title", "author", "url", "sources", "root", "kind")
    return all(getattr(old, k) == getattr(new, k) for k in keys)
