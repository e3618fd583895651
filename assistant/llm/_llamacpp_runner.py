"""The llama.cpp runner: a child process that holds one GGUF model (see `_llamacpp`).

Native code that crashes (an instruction the CPU cannot run, a segfault, an abort, the
out-of-memory killer) takes down this process only; the parent turns its exit into one
line and answers from the quotes. The protocol is JSON lines: the parent's first line
loads the model, then each line is a request.

    → {"op": "load", "path": ..., "n_ctx": ..., "n_threads": ..., "seed": ..., "chat_format": ...}
    ← {"ok": true, "n_ctx": 2048}              or {"error": "..."} (and the runner exits)
    → {"op": "count", "text": ...}             ← {"tokens": 4}
    → {"op": "chat", "messages": [...], "options": {...}}
    ← {"delta": "..."} … then {"done": true}   or {"error": "..."}

Nothing is logged: llama.cpp's own log goes nowhere, and C code that prints to standard
output cannot corrupt the protocol, which runs on a private copy of that descriptor.

A reply held to a JSON schema (`"response_format"` in the options) is decoded greedily
under the schema's grammar, checking the likeliest tokens against the grammar first, as
llama.cpp's own sampler does, instead of the whole vocabulary at every token.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections import deque
from pathlib import Path
from typing import IO, Any

import numpy as np

_NO_LOG: Any = None
FIRST = 64  # the likeliest tokens checked against a grammar before the whole vocabulary
TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


def main() -> None:
    channel = _private_stdout()
    request = _read()
    if request is None:
        return
    try:
        llm = _load(request)
    except Exception as error:  # reported to the parent, which names the fix
        _send(channel, {"error": f"{type(error).__name__}: {error}"})
        return
    _send(channel, {"ok": True, "n_ctx": int(llm.n_ctx()), "system": _system()})
    while (request := _read()) is not None:
        _serve(llm, request, channel)


def _private_stdout() -> IO[str]:
    """The protocol's own copy of stdout; fd 1 then points at stderr for stray prints."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def _read() -> dict[str, Any] | None:
    line = sys.stdin.readline()
    return json.loads(line) if line else None


def _send(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")


def _load(request: dict[str, Any]) -> Any:
    import llama_cpp

    global _NO_LOG
    _NO_LOG = llama_cpp.llama_log_callback(lambda level, text, data: None)
    llama_cpp.llama_log_set(_NO_LOG, ctypes.c_void_p(0))
    _load_backends(llama_cpp.llama_cpp._lib, Path(llama_cpp.__file__).parent / "lib")
    llm = _model(llama_cpp)(
        model_path=request["path"],
        n_ctx=request["n_ctx"],
        n_threads=request["n_threads"],
        n_threads_batch=request["n_threads"],
        seed=request["seed"],
        chat_format=request["chat_format"],
        verbose=False,
    )
    template = any(k.startswith("tokenizer.chat_template") for k in llm.metadata)
    family = str(llm.metadata.get("general.architecture", ""))
    if not request["chat_format"] and not template and family.startswith("gemma"):
        llm.chat_format = "gemma"  # a base Gemma GGUF carries no template of its own
    return llm


def _load_backends(libllama: ctypes.CDLL, lib: Path) -> None:
    """A portable build (tools/llamacpp_wheel.py) ships ggml's CPU backend as variant
    libraries beside libggml; ggml loads the best one this CPU really runs. A build with
    the backend linked in has it registered already. The calls go through libllama's
    handle, so they reach the very libggml it uses (the wheel holds copies, not links)."""
    ggml = libllama
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    if ggml.ggml_backend_reg_count() == 0:
        ggml.ggml_backend_load_all_from_path(str(lib).encode())
    if ggml.ggml_backend_reg_count() == 0:
        raise RuntimeError(f"no ggml CPU backend in {lib}: reinstall it with `make llamacpp`")


def _grammar(schema: dict[str, Any]) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)


def _model(llama_cpp: Any) -> Any:
    """A Llama whose greedy decoding under a grammar checks the likeliest tokens first."""

    class Model(llama_cpp.Llama):  # type: ignore[misc]
        def _init_sampler(self, **options: Any) -> Any:
            grammar, temp = options.get("grammar"), options.get("temp", 0.8)
            if grammar is None or temp != 0.0 or options.get("logits_processor"):
                return super()._init_sampler(**options)
            return GreedyUnderGrammar(self, grammar, options.get("repeat_penalty", 1.0))

    return Model


class GreedyUnderGrammar:
    """The token llama.cpp's chain (repeat penalty, grammar, greedy) would pick, found by
    asking the grammar about the FIRST likeliest tokens, and about the whole vocabulary
    only when none of them fits."""

    def __init__(self, llm: Any, grammar: Any, penalty: float) -> None:
        import llama_cpp

        self._lib = llama_cpp
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._size = llama_cpp.llama_vocab_n_tokens(vocab)
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        self._penalty = penalty
        self._recent: deque[int] = deque(maxlen=llm.last_n_tokens_size)

    def __del__(self) -> None:
        self._lib.llama_sampler_free(self._grammar)

    def sample(self, ctx: Any, idx: int = -1) -> int:
        pointer = self._lib.llama_get_logits_ith(ctx.ctx, idx)
        logits = np.ctypeslib.as_array(pointer, shape=(self._size,)).copy()
        for token in set(self._recent):
            logits[token] *= self._penalty if logits[token] <= 0 else 1 / self._penalty
        likeliest = np.argpartition(-logits, FIRST)[:FIRST]
        found = self._fitting(likeliest, logits)
        if found is None:
            found = self._fitting(np.arange(self._size), logits)
        if found is None:
            raise RuntimeError("the JSON schema's grammar allows no next token")
        token = found
        self._lib.llama_sampler_accept(self._grammar, token)
        self._recent.append(token)
        return token

    def _fitting(self, tokens: np.ndarray, logits: np.ndarray) -> int | None:
        """The likeliest of `tokens` that the grammar allows next (the lowest id among
        equals, as greedy picks), if any."""
        lib = self._lib
        table = np.zeros(len(tokens), dtype=TOKEN_DATA)
        table["id"], table["logit"] = np.sort(tokens), logits[np.sort(tokens)]
        data = (lib.llama_token_data * len(tokens)).from_buffer(table)
        array = lib.llama_token_data_array(data, len(tokens), -1, False)
        lib.llama_sampler_apply(self._grammar, ctypes.byref(array))
        if np.isneginf(table["logit"]).all():
            return None
        return int(table["id"][np.argmax(table["logit"])])


def _system() -> str:
    import llama_cpp

    return bytes(llama_cpp.llama_print_system_info()).decode("utf-8", "replace").strip()


def _serve(llm: Any, request: dict[str, Any], channel: IO[str]) -> None:
    try:
        if request["op"] == "count":
            tokens = llm.tokenize(request["text"].encode("utf-8"), add_bos=False, special=True)
            _send(channel, {"tokens": len(tokens)})
            return
        options = dict(request["options"])
        if "response_format" in options:
            options["grammar"] = _grammar(options.pop("response_format")["schema"])
        parts = llm.create_chat_completion(messages=request["messages"], stream=True, **options)
        for part in parts:
            delta = part["choices"][0]["delta"].get("content")
            if delta:
                _send(channel, {"delta": delta})
        _send(channel, {"done": True})
    except (ValueError, RuntimeError) as error:  # e.g. the prompt overflows the context
        _send(channel, {"error": str(error)})


if __name__ == "__main__":
    main()
