"""The llama.cpp backend, through llama-cpp-python, on a GGUF file."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.llm import Message
from swguide.errors import LLMIncompleteError, LLMUnavailableError
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


class LlamaCppGenerator:
    """One loaded model; calls are serialised, as a llama.cpp context is not thread-safe."""

    def __init__(self, settings: LLMSettings, path: Path) -> None:
        self._settings = settings
        self.path = path
        self._lock = threading.Lock()
        self._llm = _load(settings, path)

    @property
    def name(self) -> str:
        return f"llamacpp:{self.path.name}"

    @property
    def context_tokens(self) -> int:
        return int(self._llm.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[Message]) -> Iterator[str]:
        deadline = time.monotonic() + self._settings.total_timeout
        with self._lock:
            try:
                parts: Any = self._llm.create_chat_completion(
                    messages=messages,
                    stream=True,
                    temperature=self._settings.temperature,
                    seed=self._settings.seed,
                    max_tokens=self._settings.max_answer_tokens,
                    stop=STOP,
                    repeat_penalty=1.15,
                )
                for part in parts:
                    delta = part["choices"][0]["delta"].get("content")
                    if delta:
                        yield delta
                    if time.monotonic() > deadline:
                        raise LLMIncompleteError(
                            f"llama.cpp took more than {self._settings.total_timeout:g} s: "
                            "lower llm.max_answer_tokens, or raise llm.total_timeout."
                        )
            except (ValueError, RuntimeError) as error:  # e.g. the prompt overflows the context
                raise LLMIncompleteError(
                    f"llama.cpp could not answer ({error}): shorten the question, or raise "
                    "llm.context_tokens."
                ) from None


def _load(settings: LLMSettings, path: Path) -> Any:
    if not path.is_file():
        raise LLMUnavailableError(
            f"The GGUF file {path} does not exist: fix llm.gguf or "
            "--llm llamacpp:PATH, or choose --llm extractive."
        )
    try:
        import llama_cpp
    except ImportError:
        raise LLMUnavailableError(
            "llama-cpp-python is not installed: run `make llamacpp`, or choose --llm extractive."
        ) from None
    _silence(llama_cpp)
    try:
        llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=settings.context_tokens,
            n_threads=settings.threads or None,
            seed=settings.seed,
            chat_format=settings.chat_format,
            verbose=False,
        )
    except (ValueError, RuntimeError) as error:
        raise LLMUnavailableError(
            f"llama.cpp cannot load {path} ({error}): check it is a GGUF model file."
        ) from None
    template = any(k.startswith("tokenizer.chat_template") for k in llm.metadata)
    family = str(llm.metadata.get("general.architecture", ""))
    if not settings.chat_format and not template and family.startswith("gemma"):
        llm.chat_format = "gemma"  # a base Gemma GGUF carries no template of its own
    return llm


_SILENT: Any = None


def _silence(llama_cpp: Any) -> None:
    """Route llama.cpp's own log (loading chatter on stderr) to nowhere, once."""
    global _SILENT
    if _SILENT is None:
        _SILENT = llama_cpp.llama_log_callback(lambda level, text, data: None)
        llama_cpp.llama_log_set(_SILENT, ctypes.c_void_p(0))
