"""The llama.cpp backend: a GGUF model in a runner child process, as Ollama runs its models.

llama.cpp is native code: an instruction the CPU cannot run (SIGILL), a segfault, an
abort or the out-of-memory killer would end any process that holds the model. So the
model lives in `_llamacpp_runner`, a child process; this side speaks JSON lines to it.
When the runner dies, the answer in flight fails with one line naming the signal and the
fix (the answerer then shows the quotes), and the next request starts a new runner, so a
chat server keeps serving. A runner that overruns `llm.total_timeout` is killed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from swguide.errors import LLMError, LLMIncompleteError, LLMUnavailableError
from swguide.protocols import Message
from swguide.settings import LLMSettings

# End-of-turn tokens of common chat formats, and the prompt's own headings: a model that
# starts writing a new passage list or question has stopped answering.
STOP = [
    "<end_of_turn>",
    "<|eot_id|>",
    "<|im_end|>",
    "\nPassages",
    "\nQuestion:",
]
RUNNER = [sys.executable, "-I", "-m", "assistant.llm._llamacpp_runner"]
LOAD_SECONDS = 120.0

# What a runner's death by each signal most likely means, and what to do about it.
CAUSES = {
    signal.SIGILL: "an instruction this CPU cannot run: rebuild llama-cpp-python portably "
    "with `make llamacpp`",
    signal.SIGSEGV: "a crash inside llama.cpp: check the GGUF file with `swguide check`",
    signal.SIGBUS: "a crash inside llama.cpp (a bus error, often a truncated or changed "
    "GGUF file): check it with `swguide check`",
    signal.SIGABRT: "llama.cpp aborted: check the GGUF file with `swguide check`",
    signal.SIGKILL: "killed, often by the out-of-memory killer: use a smaller model or "
    "lower llm.context_tokens",
}


def threads(setting: int) -> int:
    """llm.threads, where 0 means one per core this process may run on."""
    return setting or len(os.sched_getaffinity(0))


class LlamaCppGenerator:
    """One GGUF model in a runner process; calls are serialised, one at a time."""

    def __init__(self, settings: LLMSettings, path: Path, runner: list[str] | None = None) -> None:
        self._settings = settings
        self.path = path
        self._command = runner or RUNNER
        self._lock = threading.Lock()
        self._runner: _Runner | None = None
        self.system = ""  # llama.cpp's system info: the CPU features its backend uses
        _check_file(path)
        with self._lock:
            self.context_tokens = self._start().context

    @property
    def name(self) -> str:
        return f"llamacpp:{self.path.name}"

    @property
    def pid(self) -> int | None:
        """The runner's process id, while one runs."""
        return self._runner.process.pid if self._runner else None

    def count_tokens(self, text: str) -> int:
        with self._lock:
            reply = self._request({"op": "count", "text": text}, LOAD_SECONDS)
            return int(reply["tokens"])

    def stream(
        self, messages: list[Message], schema: dict[str, Any] | None = None
    ) -> Iterator[str]:
        """The reply's text as it is written; with `schema`, llama.cpp's grammar holds
        the model to JSON of that schema."""
        deadline = time.monotonic() + self._settings.total_timeout
        options: dict[str, Any] = {
            "temperature": self._settings.temperature,
            "seed": self._settings.seed,
            "max_tokens": self._settings.max_answer_tokens,
            "stop": STOP,
            "repeat_penalty": 1.15,
        }
        if schema is not None:
            options["response_format"] = {"type": "json_object", "schema": schema}
        with self._lock:
            runner = self._ready()
            self._send(runner, {"op": "chat", "messages": messages, "options": options})
            finished = False
            try:
                while "done" not in (reply := self._answer(runner, deadline)):
                    yield reply["delta"]
                finished = True
            finally:
                if not finished:  # a reader that stopped early: its reply must not linger
                    self._discard(runner)

    def close(self) -> None:
        with self._lock:
            if self._runner is not None:
                self._runner.stop()
                self._runner = None

    def _start(self) -> _Runner:
        load = {
            "op": "load",
            "path": str(self.path),
            "n_ctx": self._settings.context_tokens,
            "n_threads": threads(self._settings.threads),
            "seed": self._settings.seed,
            "chat_format": self._settings.chat_format,
        }
        runner = _Runner(self._command)
        self._runner = runner
        try:
            self._send(runner, load)
            reply = self._receive(runner, time.monotonic() + LOAD_SECONDS)
        except LLMError as error:
            raise LLMUnavailableError(f"llama.cpp cannot load {self.path}: {error}") from None
        if "error" in reply:
            self._discard(runner)
            raise LLMUnavailableError(
                f"llama.cpp cannot load {self.path} ({reply['error']}): check it is a whole "
                "GGUF model file (`swguide check` shows its SHA-256), or choose --llm extractive."
            )
        runner.context = int(reply["n_ctx"])
        self.system = str(reply.get("system", ""))
        return runner

    def _ready(self) -> _Runner:
        if self._runner is None or self._runner.process.poll() is not None:
            return self._start()
        return self._runner

    def _request(self, message: dict[str, Any], seconds: float) -> dict[str, Any]:
        runner = self._ready()
        self._send(runner, message)
        return self._answer(runner, time.monotonic() + seconds)

    def _answer(self, runner: _Runner, deadline: float) -> dict[str, Any]:
        reply = self._receive(runner, deadline)
        if "error" in reply:
            raise LLMIncompleteError(
                f"llama.cpp could not answer ({reply['error']}): shorten the question, "
                "or raise llm.context_tokens."
            )
        return reply

    def _send(self, runner: _Runner, message: dict[str, Any]) -> None:
        try:
            runner.send(message)
        except (BrokenPipeError, OSError):
            raise self._died(runner) from None

    def _receive(self, runner: _Runner, deadline: float) -> dict[str, Any]:
        try:
            reply = runner.replies.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            self._discard(runner)
            raise LLMIncompleteError(
                f"llama.cpp took longer than its time limit "
                f"(llm.total_timeout {self._settings.total_timeout:g} s, loading "
                f"{LOAD_SECONDS:g} s): lower llm.max_answer_tokens, or raise llm.total_timeout."
            ) from None
        if reply is None:
            raise self._died(runner)
        return reply

    def _died(self, runner: _Runner) -> LLMIncompleteError:
        code = runner.process.wait()
        self._discard(runner)
        return LLMIncompleteError(f"the llama.cpp runner {_death(code, runner.last_words())}")

    def _discard(self, runner: _Runner) -> None:
        runner.stop()
        if self._runner is runner:
            self._runner = None


class _Runner:
    """The child process, a thread reading its replies, and the tail of its stderr."""

    def __init__(self, command: list[str]) -> None:
        self.context = 0
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=5)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        assert self.process.stdout and self.process.stderr
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def last_words(self) -> str:
        return self._stderr[-1].strip() if self._stderr else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self.replies.put(json.loads(line))
        self.replies.put(None)

    def _drain(self, stderr: IO[str]) -> None:
        for line in stderr:
            if line.strip():
                self._stderr.append(line)


def _check_file(path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMUnavailableError(
            "llama-cpp-python is not installed: run `make llamacpp`, or choose --llm extractive."
        )
    if not path.is_file():
        raise LLMUnavailableError(
            f"The GGUF file {path} does not exist: fix llm.gguf or "
            "--llm llamacpp:PATH, or choose --llm extractive."
        )
    with path.open("rb") as file:
        magic = file.read(4)
    if magic != b"GGUF":
        raise LLMUnavailableError(
            f"llama.cpp cannot load {path}: it is not a GGUF model file (it does not "
            "start with 'GGUF'); choose a .gguf model, or --llm extractive."
        )


def _death(code: int, last_words: str) -> str:
    if code < 0:
        sig = signal.Signals(-code)
        cause = CAUSES.get(sig, "check the GGUF file with `swguide check`")
        return f"died of {sig.name} ({cause})"
    said = f": {last_words}" if last_words else ""
    return f"exited with status {code}{said} (check the GGUF file with `swguide check`)"
