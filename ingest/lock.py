"""One writer at a time: an inter-process lock on the data directory.

Two `swguide ingest` runs writing one Chroma store at once lose vectors (Chroma's own
locking does not cover two processes), so every writer holds this lock while it writes;
a second writer is told at once, in one line. Readers (ask, chat) never take it and
keep answering from the last committed state during an ingest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from swguide.errors import StoreError

NAME = ".writer.lock"


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's writer lock, or raise StoreError naming the fix."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(data_dir / NAME, blocking=False)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(
            f"Another swguide process is writing to the index in {data_dir} (an ingest or "
            "a removal): wait for it to finish, then run this again."
        ) from None
    try:
        yield
    finally:
        lock.release()
