"""Two writers on one data directory: the second is told in one line, nothing is lost,
and readers keep answering while an ingest runs."""

from __future__ import annotations

import fcntl
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BIN, cli_env, run_cli, topic_corpus

from ingest.embedding import model_id
from ingest.lock import NAME
from ingest.store import collection_name
from swguide.settings import Settings

pytestmark = pytest.mark.slow


def locked(lock: Path) -> bool:
    if not lock.exists():
        return False
    with lock.open("a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file, fcntl.LOCK_UN)
        return False


def test_a_second_writer_is_refused_while_the_first_writes_and_nothing_is_lost(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    import chromadb

    settings = corpus_settings.model_copy(update={"data_dir": tmp_path / "data"})
    first = topic_corpus(tmp_path / "a", "telehealth", 300)
    second = topic_corpus(tmp_path / "b", "texting", 40)
    writer = subprocess.Popen(
        [str(BIN / "swguide"), "ingest", str(first)],
        env=cli_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not locked(settings.data_dir / NAME) and time.monotonic() < deadline:
        assert writer.poll() is None, writer.communicate()
        time.sleep(0.05)
    refused = run_cli(["ingest", str(second)], settings)
    reader = run_cli(["ingest", "--list"], settings)
    _out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err.decode()
    assert refused.returncode == 2
    message = refused.stderr.decode().strip()
    assert "Another swguide process is writing" in message and len(message.splitlines()) == 1
    assert reader.returncode in (0, 2) and b"Traceback" not in reader.stderr
    again = run_cli(["ingest", str(second)], settings)
    assert again.returncode == 0, again.stderr.decode()
    client = chromadb.PersistentClient(path=str(settings.chroma_path))
    collection = client.get_collection(
        collection_name(model_id(settings.embedding), settings.chunking)
    )
    stored = collection.get(include=["embeddings"])
    vectors = stored["embeddings"]
    assert len(stored["ids"]) == 340 and vectors is not None
    assert all(e is not None and len(e) == 384 for e in vectors)


def test_list_never_creates_a_store(corpus_settings: Settings, tmp_path: Path) -> None:
    settings = corpus_settings.model_copy(update={"data_dir": tmp_path / "empty"})
    listed = run_cli(["ingest", "--list"], settings)
    assert listed.returncode == 2 and b"swguide ingest" in listed.stderr
    assert not settings.chroma_path.exists()
