"""The llama.cpp runner process: a native crash is one line and a fallback, never the end
of swguide. Fast tier: a runner that speaks the protocol and then really dies by a signal
(tests/dying_runner.py); the real model's runner is in test_llamacpp.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

from assistant.llm._llamacpp import LlamaCppGenerator, threads
from swguide.errors import LLMIncompleteError, LLMUnavailableError
from swguide.settings import LLMSettings

DYING = Path(__file__).parent.parent / "dying_runner.py"
FIXES = {
    "SIGILL": "make llamacpp",
    "SIGSEGV": "swguide check",
    "SIGABRT": "swguide check",
    "SIGKILL": "out-of-memory",
}


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    return path


def dying(gguf: Path, sig: str, deltas: int = 2) -> LlamaCppGenerator:
    runner = [sys.executable, str(DYING), sig, str(deltas)]
    return LlamaCppGenerator(LLMSettings(), gguf, runner=runner)


@pytest.mark.parametrize("sig", sorted(FIXES))
def test_a_runner_that_dies_mid_answer_is_one_line_naming_the_signal_and_the_fix(
    gguf: Path, sig: str
) -> None:
    model = dying(gguf, sig)
    first = model.pid
    assert first is not None and first != os.getpid()
    assert model.count_tokens("Social media policy") == 5
    pieces: list[str] = []
    with pytest.raises(LLMIncompleteError) as raised:
        for piece in model.stream([{"role": "user", "content": "Hello"}]):
            pieces.append(piece)
    message = str(raised.value)
    assert len(pieces) == 2, "the runner died mid-answer, after two pieces"
    assert f"died of {sig}" in message and FIXES[sig] in message
    assert "\n" not in message
    assert model.pid is None, "a dead runner is not kept"


def test_the_next_request_starts_a_new_runner(gguf: Path) -> None:
    model = dying(gguf, "SIGSEGV")
    first = model.pid
    with pytest.raises(LLMIncompleteError):
        list(model.stream([{"role": "user", "content": "Hello"}]))
    assert model.count_tokens("abcdefgh") == 3
    assert model.pid not in (None, first)


def test_a_reader_that_stops_early_leaves_no_stale_reply(gguf: Path) -> None:
    model = dying(gguf, "SIGSEGV", deltas=1)
    stream = model.stream([{"role": "user", "content": "Hello"}])
    assert isinstance(stream, Generator)
    assert next(stream) == "Clinical social workers "
    stream.close()
    assert model.pid is None
    assert model.count_tokens("abcd") == 2


def test_a_runner_that_dies_while_loading_is_a_clear_error(gguf: Path) -> None:
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    with pytest.raises(LLMUnavailableError, match=r"cannot load .*died of SIGSEGV"):
        LlamaCppGenerator(LLMSettings(), gguf, runner=crash)
    said = [sys.executable, "-c", "import sys; sys.exit('no CPU backend here')"]
    with pytest.raises(LLMUnavailableError, match="exited with status 1: no CPU backend here"):
        LlamaCppGenerator(LLMSettings(), gguf, runner=said)


def test_a_runner_that_hangs_is_given_up_on_and_killed(gguf: Path) -> None:
    hang = [sys.executable, str(DYING), "HANG", "1"]
    model = LlamaCppGenerator(LLMSettings(total_timeout=1.0), gguf, runner=hang)
    runner = model.pid
    assert runner is not None
    with pytest.raises(LLMIncompleteError, match="time limit"):
        list(model.stream([{"role": "user", "content": "Hello"}]))
    assert model.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(runner, 0)


def test_files_that_are_not_gguf_models_are_refused_before_any_runner(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailableError, match="does not exist"):
        LlamaCppGenerator(LLMSettings(), tmp_path / "missing.gguf")
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(LLMUnavailableError, match="not a GGUF model file"):
        LlamaCppGenerator(LLMSettings(), text, runner=["/nonexistent/runner"])


def test_threads_default_to_the_cores_this_process_may_use() -> None:
    assert threads(0) == len(os.sched_getaffinity(0))
    assert threads(3) == 3
