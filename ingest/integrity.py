"""A damaged embedded index is named in one line before Chroma's native code reads it.

Chroma segfaults on a damaged HNSW file, and reports an empty database as an empty
index. So before a process opens the embedded store: the SQLite file is checked by its
header, and the segment files are hashed; if their fingerprint is not one a child
process has already read every vector from (`ingest.probe`), that child reads them now,
and its crash or error is the finding. Each write records the documents it indexed
beside the store, so `swguide ingest --rebuild` can rebuild from them even when the
store's own records are what is damaged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.lock import writer_active
from swguide.errors import IndexDamagedError, StoreError
from swguide.types import DocumentRecord

SQLITE = "chroma.sqlite3"
SQLITE_MAGIC = b"SQLite format 3\x00"
VERIFIED = "swguide-verified.json"
DOCUMENTS = "swguide-documents.json"
PROBE_TIMEOUT_SECONDS = 300
REBUILD = (
    "run `swguide ingest --rebuild` to rebuild it from your documents "
    "(the damaged folder is kept aside)"
)


@dataclass(frozen=True, slots=True)
class Indexed:
    """What a rebuild needs to ingest one document again."""

    path: str
    root: str | None
    title: str


def check_files(path: Path) -> None:
    """Raise the one-line finding for a store whose files are plainly wrong or unwritable."""
    sqlite = path / SQLITE
    if not sqlite.exists():
        if any(path.iterdir()):
            raise IndexDamagedError(f"The index in {path} has no {SQLITE}: {REBUILD}.")
        return
    if not os.access(path, os.W_OK) or not os.access(sqlite, os.W_OK):
        raise StoreError(
            f"The index in {path} is read-only for this user, and Chroma writes to its folder "
            f"even to read: give write access (`chmod -R u+w {path}`) or point "
            "SWGUIDE_DATA_DIR at a writable copy. The index itself is not changed."
        )
    with sqlite.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        what = "is empty (0 bytes)" if not head else "is not an SQLite database"
        raise IndexDamagedError(f"The index in {path} is damaged: {SQLITE} {what}: {REBUILD}.")


def fingerprint(path: Path) -> str:
    """A hash of every segment file (the vectors; SQLite changes on every open)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.glob("*/*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def verify(path: Path, force: bool = False, reader: bool = True) -> dict[str, int]:
    """Check the embedded store at `path`; {collection: count} when a child read it now,
    {} when its files match the last verified read (or, for a reader, while a writer is
    changing them: it verifies them when it commits). Raises IndexDamagedError."""
    check_files(path)
    if not (path / SQLITE).exists():
        return {}
    now = fingerprint(path)
    if not force and _read_json(path / VERIFIED).get("fingerprint") == now:
        return {}
    if not force and reader and writer_active(path.parent):
        return {}
    counts = _probe(path)
    _write_json(path / VERIFIED, {"fingerprint": fingerprint(path), "counts": counts})
    return counts


def settle(path: Path, touch: Callable[[], object]) -> None:
    """Chroma rewrites a collection's vector files the first time a process reads it (the
    same vectors, other bytes), so the fingerprint just verified is stale once this
    process reads, and every later process would read every vector again. `touch` makes
    those first reads; the files as this process's reader left them are then recorded as
    verified, when they were verified just before (not while a writer holds the lock)."""
    before = _read_json(path / VERIFIED)
    trusted = before.get("fingerprint") == fingerprint(path) and not writer_active(path.parent)
    touch()
    if trusted:
        with contextlib.suppress(OSError):  # only a saving: the next reader verifies again
            _write_json(path / VERIFIED, {**before, "fingerprint": fingerprint(path)})


def _probe(path: Path) -> dict[str, int]:
    command = [sys.executable, "-I", "-m", "ingest.probe", str(path)]
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise IndexDamagedError(
            f"Reading the index in {path} took over {PROBE_TIMEOUT_SECONDS} s: it may be "
            f"damaged; {REBUILD}."
        ) from None
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        raise IndexDamagedError(
            f"The index in {path} is damaged (Chroma's reader crashed with {name} reading its "
            f"vectors): {REBUILD}."
        )
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        raise IndexDamagedError(
            f"The index in {path} is damaged (Chroma's reader failed reading its vectors: "
            f"{lines[-1][:300]}): {REBUILD}."
        )
    counts: dict[str, int] = json.loads(done.stdout)
    return counts


def seal(path: Path, records: dict[str, DocumentRecord]) -> None:
    """After a write: record the indexed documents, and verify the files as they are now."""
    documents = [
        {"path": r.path, "root": r.root, "title": r.title}
        for r in sorted(records.values(), key=lambda r: r.id)
    ]
    _write_json(path / DOCUMENTS, {"documents": documents})
    verify(path, force=True)


def indexed(path: Path) -> list[Indexed]:
    """The documents the last write recorded (none for an index older than this record)."""
    return [Indexed(**d) for d in _read_json(path / DOCUMENTS).get("documents", [])]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
    partial.replace(path)


def set_aside(path: Path) -> Path:
    """Move the store folder out of the way (never delete it); the new place."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.old-{stamp}")
    path.rename(aside)
    return aside
