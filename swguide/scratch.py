"""Scratch folders named after the process that made them, swept once it is gone.

A process killed mid-way (a first model export, a chat server) cannot remove its own
scratch folder; the next process that makes one of the same kind removes every folder
whose owner is no longer running.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def make(base: Path, prefix: str) -> Path:
    """A new folder `{prefix}{pid}-…` in `base`, after sweeping the dead owners' ones."""
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(prefix + "*"):
        owner = stale.name.removeprefix(prefix).split("-")[0]
        if stale.is_dir() and not _alive(owner):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=base))


def _alive(pid: str) -> bool:
    """Whether process `pid` runs; a name without a pid is from an older release: dead."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
