"""A damaged index is one line with the right fix, never a segfault, never advice that
throws away a healthy index; `ingest --rebuild` repairs it and keeps the old folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import BIN, cli_env, run_cli, topic_corpus

from assistant.build import open_store
from ingest import integrity
from ingest.embedding import CachedEmbedder
from ingest.pipeline import ingest
from swguide.settings import Settings

QUESTION = "Should I review telehealth decisions with a supervisor?"


class RandomVectors:
    """The real tokenizer with random unit vectors: a large index built in seconds."""

    def __init__(self, embedder: CachedEmbedder) -> None:
        self._embedder = embedder
        self._random = np.random.default_rng(7)
        self.model_id = embedder.model_id

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self._random.standard_normal((len(texts), 384)).astype(np.float32)
        unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit


def one_line(done: subprocess.CompletedProcess[bytes]) -> str:
    err = done.stderr.decode().strip()
    assert b"Traceback" not in done.stderr and len(err.splitlines()) == 1, err
    return err


def damage(file: Path) -> None:
    size = file.stat().st_size
    with file.open("r+b") as handle:
        handle.seek(size // 3)
        handle.write(np.random.default_rng(1).bytes(size // 3))


@pytest.mark.slow
def test_a_damaged_vector_file_is_one_line_not_a_segfault(
    corpus_settings: Settings, embedder: CachedEmbedder, tmp_path: Path
) -> None:
    settings = corpus_settings.model_copy(update={"data_dir": tmp_path / "data"})
    folder = topic_corpus(tmp_path / "docs", "telehealth", 1500)
    store = open_store(settings, create=True)
    report = ingest([folder], store, RandomVectors(embedder), settings)  # type: ignore[arg-type]
    assert report.added >= 1500
    integrity.seal(settings.chroma_path, store.records())
    assert run_cli(["ask", QUESTION], settings).returncode == 0
    # Chroma rewrote its files reading them; the files as that reader left them are the
    # verified ones, so the next process does not read every vector again
    verified = json.loads((settings.chroma_path / integrity.VERIFIED).read_text())
    assert verified["fingerprint"] == integrity.fingerprint(settings.chroma_path)
    vectors = max(settings.chroma_path.glob("*/data_level0.bin"), key=lambda p: p.stat().st_size)
    damage(vectors)

    asked = run_cli(["ask", QUESTION], settings)
    assert asked.returncode == 2  # was 139: Chroma's reader segfaulted
    message = one_line(asked)
    assert "is damaged" in message and "swguide ingest --rebuild" in message
    again = run_cli(["ingest", str(folder)], settings)
    # not "unchanged"; Chroma's reader may crash or raise on the same damage, both are damage
    assert again.returncode == 2 and "is damaged" in one_line(again)
    checked = run_cli(["check"], settings)
    assert checked.returncode == 1 and b"is damaged" in checked.stdout


@pytest.mark.slow
def test_an_empty_database_is_damage_and_rebuild_keeps_titles_and_the_old_folder(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    settings = corpus_settings.model_copy(update={"data_dir": tmp_path / "data"})
    policy = topic_corpus(tmp_path / "docs", "telehealth", 3) / "telehealth.md"
    done = run_cli(["ingest", str(policy), "--label", "Agency policy"], settings)
    assert done.returncode == 0, done.stderr.decode()
    (settings.chroma_path / integrity.SQLITE).write_bytes(b"")

    for args in (["ask", QUESTION], ["ingest", "--list"]):
        failed = run_cli(args, settings)
        assert failed.returncode == 2
        assert "chroma.sqlite3 is empty (0 bytes)" in one_line(failed)
    assert (settings.chroma_path / integrity.SQLITE).stat().st_size == 0  # not recreated

    rebuilt = run_cli(["ingest", "--rebuild"], settings)
    assert rebuilt.returncode == 0, rebuilt.stderr.decode()
    kept = [p for p in settings.data_dir.iterdir() if p.name.startswith("chroma.old-")]
    assert len(kept) == 1 and (kept[0] / integrity.SQLITE).exists()
    listed = run_cli(["ingest", "--list"], settings).stdout.decode()
    assert "Agency policy" in listed and str(policy) in listed
    answered = run_cli(["ask", QUESTION], settings)
    assert answered.returncode == 0 and "Agency policy" in answered.stdout.decode()


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to run as nobody"
)
def test_a_read_only_index_is_not_called_damaged(corpus_settings: Settings) -> None:
    shared = Path("/tmp") / f"swguide-readonly-{os.getpid()}"
    shutil.rmtree(shared, ignore_errors=True)
    shutil.copytree(corpus_settings.data_dir, shared / "data")
    shutil.copytree(corpus_settings.model_cache, shared / "models")
    subprocess.run(["chown", "-R", "nobody", str(shared)], check=True)
    subprocess.run(["chmod", "-R", "a-w", str(shared / "data" / "chroma")], check=True)
    settings = corpus_settings.model_copy(
        update={"data_dir": shared / "data", "models_dir": shared / "models"}
    )
    before = sorted((p.name, p.stat().st_mtime) for p in settings.chroma_path.rglob("*"))
    try:
        done = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                str(BIN / "swguide"),
                "ask",
                QUESTION,
            ],
            capture_output=True,
            env=cli_env(settings, HOME=str(shared)),
            timeout=300,
            check=False,
        )
        assert done.returncode == 2
        message = one_line(done)
        assert "read-only" in message and "not changed" in message
        assert "damaged" not in message and "rebuild" not in message
        assert sorted((p.name, p.stat().st_mtime) for p in settings.chroma_path.rglob("*")) == (
            before
        )
    finally:
        shutil.rmtree(shared, ignore_errors=True)
