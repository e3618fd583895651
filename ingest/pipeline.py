"""Ingest: files to chunks to vectors, incrementally and idempotently.

Each document is loaded, chunked and embedded completely before anything is written,
so a bad document is skipped with its reason and leaves nothing behind. Unchanged
documents are skipped; a changed one keeps the vectors of its unchanged chunks, gets
new ones for new text, and loses the chunks that are gone. A document whose file is
gone is removed when its file or folder is ingested again; a document found at a new
path (a moved folder) keeps its id.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest.chunking import chunk_document, embedded_text
from ingest.loaders import LoadedDocument, is_supported, load_document
from ingest.manifest import DocumentEntry, Manifest, load_manifest
from ingest.screening import flag_reason, instruction_like
from ingest.store import ChunkStore
from swguide.errors import DocumentError
from swguide.protocols import Embedder
from swguide.settings import Settings
from swguide.types import Chunk, DocumentRecord, IngestReport

Progress = Callable[[int, int, str], None]
# Unlisted chunks younger than this may belong to an ingest still running elsewhere.
ORPHAN_GRACE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Found:
    path: Path
    root: Path | None


@dataclass
class _Tally:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    documents: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    flagged: list[tuple[str, str]] = field(default_factory=list)

    def report(self, started: float) -> IngestReport:
        return IngestReport(
            documents=self.documents,
            skipped=tuple(self.skipped),
            flagged=tuple(self.flagged),
            added=self.added,
            updated=self.updated,
            removed=self.removed,
            unchanged=self.unchanged,
            seconds=time.perf_counter() - started,
        )


@dataclass
class _Job:
    """A document chunked and waiting to be written: what changed, and its vectors."""

    record: DocumentRecord
    chunks: int
    added: list[Chunk]
    updated: list[Chunk]
    stale: set[str]
    texts: list[str]
    vectors: Future[np.ndarray] | None = None


@dataclass
class Discovery:
    """What the given paths hold: documents to ingest, paths that do not exist, and
    paths that exist but cannot be used (each with its reason)."""

    found: list[Found] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    unusable: list[tuple[str, str]] = field(default_factory=list)


def discover(paths: Sequence[Path]) -> Discovery:
    """Supported files under the given paths; a loop, a FIFO or an unreadable folder is
    reported and skipped, never the end of the run."""
    seen = Discovery()
    for given in paths:
        try:
            path = given.expanduser().resolve(strict=True)
        except FileNotFoundError:
            seen.missing.append(Path(os.path.realpath(given.expanduser())))
            continue
        except (OSError, RuntimeError) as error:
            seen.unusable.append((str(given), _unusable(error)))
            continue
        if path.is_dir():
            seen.found += [Found(p, path) for p in _walk(path, seen.unusable)]
        elif path.is_file():
            seen.found.append(Found(path, None))
        else:
            seen.unusable.append((str(path), NOT_A_FILE))
    return seen


NOT_A_FILE = "is not a regular file (a FIFO, socket or device): give a document file"


def _unusable(error: Exception) -> str:
    if isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP:
        return "is a symlink loop: point it at a real file or folder"
    strerror = getattr(error, "strerror", None) or type(error).__name__
    return f"cannot be read ({strerror}): check its permissions"


def _walk(folder: Path, unusable: list[tuple[str, str]]) -> list[Path]:
    """Supported files under `folder`, following links to folders once each and leaving
    out hidden and dunder names; what cannot be read is added to `unusable`."""

    def failed(error: OSError) -> None:
        unusable.append((str(error.filename), _unusable(error) + "; what it held stays indexed"))

    files: list[Path] = []
    visited: set[str] = set()
    for root, dirs, names in os.walk(folder, onerror=failed, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            unusable.append((root, "leads to a folder already read (a symlink loop): skipped"))
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        for name in names:
            path = Path(root) / name
            if name.startswith((".", "__")) or not is_supported(path):
                continue
            if path.is_file():
                files.append(path)
            elif path.is_symlink() and not path.exists():
                unusable.append((str(path), "is a broken link or a symlink loop: fix the link"))
            else:
                unusable.append((str(path), NOT_A_FILE))
    return sorted(files)


def ingest(
    paths: Sequence[Path],
    store: ChunkStore,
    embedder: Embedder,
    settings: Settings,
    progress: Progress | None = None,
    labels: dict[Path, str] | None = None,
) -> IngestReport:
    """Bring the index in line with the documents under `paths`; `labels` gives the title
    to cite some documents by (their resolved path to the title)."""
    return _Run(store, embedder, settings, labels or {}).run(paths, progress)


def remove_documents(names: Sequence[str], store: ChunkStore) -> IngestReport:
    """Remove documents by id or path; an unknown name is reported, not guessed."""
    started = time.perf_counter()
    records = store.records()
    tally = _Tally()
    for name in names:
        path = str(Path(name).expanduser().resolve())
        match = records.get(name) or next((r for r in records.values() if r.path == path), None)
        if match is None:
            tally.skipped.append((name, "is not in the index: see `swguide ingest --list`"))
            continue
        store.remove(match)
        tally.removed += len(match.chunk_ids)
    return tally.report(started)


class _Run:
    """One ingest run: the store's records as they change, and what happened."""

    def __init__(
        self, store: ChunkStore, embedder: Embedder, settings: Settings, labels: dict[Path, str]
    ) -> None:
        self.labels = labels
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.records = store.records()
        self.tally = _Tally()
        self.stored = self._drop_orphans()

    def run(self, paths: Sequence[Path], progress: Progress | None) -> IngestReport:
        """Documents are read and chunked while the one before them is embedded (ONNX
        Runtime releases the GIL), and each is written once its vectors are all there."""
        started = time.perf_counter()
        seen = discover(paths)
        found = seen.found
        self.tally.skipped += seen.unusable
        manifests: dict[Path, Manifest] = {}
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="swguide-embed") as pool:
            waiting: _Job | None = None
            for done, item in enumerate(found):
                if progress:
                    progress(done, len(found), item.path.name)
                folder = item.path.parent
                if folder not in manifests:
                    manifests[folder] = load_manifest(folder)
                job = self._job(item, manifests[folder], pool)
                if waiting is not None:
                    self._write(waiting)
                waiting = job
            if waiting is not None:
                self._write(waiting)
        self._remove_gone(paths, seen.missing)
        if progress:
            progress(len(found), len(found), "done")
        return self.tally.report(started)

    def _job(self, item: Found, manifest: Manifest, pool: ThreadPoolExecutor) -> _Job | None:
        """The document read, chunked and sent to be embedded; None when it is unchanged
        or skipped (with its reason)."""
        try:
            job = self._prepare(item, manifest)
        except DocumentError as error:
            self.tally.skipped.append((str(item.path), str(error)))
            return None
        if job is not None:
            job.vectors = pool.submit(self.embedder.embed, job.texts)
        return job

    def _prepare(self, item: Found, manifest: Manifest) -> _Job | None:
        doc = load_document(item.path, self.settings.limits.max_document_bytes)
        entry = manifest.entry_for(item.path)
        record = self._record(doc, self._document_id(item, entry), item, entry, manifest)
        old = self.records.get(record.id)
        self.tally.documents += 1
        if old is not None and _same(old, record) and set(old.chunk_ids) <= self.stored:
            self.tally.unchanged += len(old.chunk_ids)
            return None
        chunks = chunk_document(
            doc,
            record.id,
            record.title,
            self.settings.chunking,
            self.embedder.count_tokens,
            record.sources if entry and entry.footnotes else (),
            byline=record.author,
        )
        if not chunks:
            self.tally.documents -= 1
            raise DocumentError(
                "has no passages to index (only headings, references or a "
                "byline): add text or remove it"
            )
        self._screen(item.path, [c.text for c in chunks])
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        record = replace(record, chunk_ids=tuple(c.id for c in chunks), ingested_at=stamp)
        previous = {c.id: c for c in self.store.chunks(old.chunk_ids)} if old else {}
        added = [c for c in chunks if c.id not in previous]
        updated = [c for c in chunks if c.id in previous and previous[c.id] != c]
        texts = [embedded_text(c.document_title, c.heading_path, c.text) for c in added]
        stale = set(previous) - set(record.chunk_ids)
        self.records[record.id] = record  # its id is taken from now on
        return _Job(record, len(chunks), added, updated, stale, texts)

    def _write(self, job: _Job) -> None:
        assert job.vectors is not None
        record = job.record
        self.store.write(record, job.added, job.vectors.result(), job.updated, job.stale)
        self.stored |= set(record.chunk_ids)
        self.tally.added += len(job.added)
        self.tally.updated += len(job.updated)
        self.tally.removed += len(job.stale)
        self.tally.unchanged += job.chunks - len(job.added) - len(job.updated)

    def _screen(self, path: Path, texts: list[str]) -> None:
        hits = [hit for text in texts if (hit := instruction_like(text))]
        if hits:
            self.tally.flagged.append((str(path), flag_reason(len(hits), len(texts), hits[0])))

    def _document_id(self, item: Found, entry: DocumentEntry | None) -> str:
        """The manifest's id, else a slug of the path; a clash with another existing file
        gets a short hash of the path appended, a clash with a vanished one is a move."""
        if entry is not None:
            return entry.id
        name = item.path.relative_to(item.root) if item.root else Path(item.path.name)
        slug = re.sub(r"[^\w/]+", "-", str(name.with_suffix("")).lower()).strip("-/")
        slug = slug or "document"
        other = self.records.get(slug)
        if other is None or other.path == str(item.path) or not Path(other.path).exists():
            return slug
        return f"{slug}-{hashlib.sha256(str(item.path).encode()).hexdigest()[:8]}"

    def _record(
        self,
        doc: LoadedDocument,
        doc_id: str,
        item: Found,
        entry: DocumentEntry | None,
        manifest: Manifest,
    ) -> DocumentRecord:
        return DocumentRecord(
            id=doc_id,
            title=self.labels.get(item.path)
            or (entry.title if entry and entry.title else doc.title),
            path=str(item.path),
            kind=doc.kind,
            sha256=doc.sha256,
            chunk_ids=(),
            root=str(item.root) if item.root else None,
            author=entry.author if entry else None,
            publisher=entry.publisher if entry else None,
            url=entry.url if entry else None,
            sources=manifest.sources if entry and (entry.footnotes or entry.source) else (),
            source_number=entry.source if entry else None,
        )

    def _remove_gone(self, paths: Sequence[Path], missing: list[Path]) -> None:
        """Remove records whose file is gone, when that file or its folder was given."""
        given = [p.expanduser().resolve() for p in paths]
        before = list(self.records.values())
        for record in before:
            path = Path(record.path)
            if not _gone(path) or not any(_within(path, g) for g in given):
                continue
            self.store.remove(record)
            del self.records[record.id]
            self.tally.removed += len(record.chunk_ids)
        for path in missing:
            if not any(_within(Path(r.path), path) for r in before):
                self.tally.skipped.append((str(path), "does not exist: check the path"))

    def _drop_orphans(self) -> set[str]:
        """Delete chunks no record lists (left by an interrupted ingest); the ids left."""
        listed = {cid for r in self.records.values() for cid in r.chunk_ids}
        stored = self.store.stored_times()
        cutoff = time.time() - ORPHAN_GRACE_SECONDS
        orphans = sorted(c for c, written in stored.items() if c not in listed and written < cutoff)
        self.store.delete_chunks(orphans)
        self.tally.removed += len(orphans)
        return set(stored) - set(orphans)


def _gone(path: Path) -> bool:
    """True only when the file is known to be gone: one that cannot be read (a folder
    without permission) is still there, and its record stays."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _within(path: Path, given: Path) -> bool:
    return path == given or given in path.parents


def _same(old: DocumentRecord, new: DocumentRecord) -> bool:
    keys = (
        "sha256",
        "title",
        "author",
        "publisher",
        "url",
        "sources",
        "root",
        "kind",
        "path",
        "source_number",
    )
    return all(getattr(old, k) == getattr(new, k) for k in keys)
