"""One writer at a time: an inter-process lock on the data directory.

Two `swguide ingest` runs writing one Chroma store at once lose vectors (Chroma's own
locking does not cover two processes), so every writer holds this lock while it writes;
a second writer is told at once, in one line. Readers (ask, chat) never take it and
keep answering from the last committed state during an ingest.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from swguide.errors import StoreError

NAME = ".writer.lock"
# A reader's look at the lock (writer_active) holds it for microseconds; a writer that
# starts in that instant waits this long instead of being refused.
WAIT_SECONDS = 2


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's writer lock, or raise StoreError naming the fix."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(data_dir / NAME, timeout=WAIT_SECONDS)
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


def writer_active(data_dir: Path) -> bool:
    """Whether a writer holds the lock now (a read: never creates or waits on it)."""
    try:
        fd = os.open(data_dir / NAME, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a shared lock taken above
    return False
