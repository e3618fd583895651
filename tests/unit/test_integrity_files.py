"""The index's files checked without Chroma: a verified fingerprint skips the child read,
and a folder without its database, or with one that is not SQLite, is damage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ingest import integrity
from swguide.errors import IndexDamagedError


def test_a_verified_fingerprint_skips_the_child_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "chroma"
    (store / "segment").mkdir(parents=True)
    (store / integrity.SQLITE).write_bytes(integrity.SQLITE_MAGIC + b"rest")
    (store / "segment" / "data_level0.bin").write_bytes(b"vectors")
    probes: list[Path] = []

    def probe(path: Path) -> dict[str, int]:
        probes.append(path)
        return {"c": 1}

    monkeypatch.setattr(integrity, "_probe", probe)
    assert integrity.verify(store) == {"c": 1}
    assert integrity.verify(store) == {}  # the files match the verified read
    (store / "segment" / "data_level0.bin").write_bytes(b"vectorz")
    assert integrity.verify(store) == {"c": 1} and len(probes) == 2


def test_a_store_folder_without_its_database_is_damage(tmp_path: Path) -> None:
    (tmp_path / "chroma" / "segment").mkdir(parents=True)
    with pytest.raises(IndexDamagedError, match=r"has no chroma\.sqlite3"):
        integrity.verify(tmp_path / "chroma")
    with pytest.raises(IndexDamagedError, match="not an SQLite database"):
        (tmp_path / "chroma" / integrity.SQLITE).write_bytes(b"garbage here")
        integrity.verify(tmp_path / "chroma")


@pytest.mark.parametrize(
    ("returncode", "stderr", "cause"),
    [(-11, b"", "crashed with SIGSEGV"), (3, b"noise\nInternalError: bad header", "bad header")],
)
def test_a_reader_that_crashes_or_raises_names_the_same_damage(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    returncode: int,
    stderr: bytes,
    cause: str,
) -> None:
    done = subprocess.CompletedProcess([], returncode, stdout=b"", stderr=stderr)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: done)
    with pytest.raises(IndexDamagedError, match="is damaged") as raised:
        integrity._probe(tmp_path)
    assert cause in str(raised.value) and "swguide ingest --rebuild" in str(raised.value)
