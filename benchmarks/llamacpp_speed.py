"""llama.cpp speed through llama-cpp-python: prompt and generation tokens a second.

    python benchmarks/llamacpp_speed.py MODEL.gguf [MODEL.gguf …] [--threads 1,2] [--rounds 3]

Each measurement runs in a fresh process that loads the model the way swguide's runner
does (the same backend loading, so the CPU variant ggml picks is the one answers use):
a 512-token prompt evaluated at once, then 64 tokens generated one by one (greedy, no
stop at end of text). Prints the CPU features llama.cpp uses and the load average before
and after, medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROMPT_TOKENS = 512
GENERATED = 64
TEXT = (
    "Clinical social workers should keep personal and professional profiles separate, "
    "decline friend requests from clients, and explain their social media policy. "
)


def measure(path: str, threads: int) -> dict[str, float | str]:
    from assistant.llm._llamacpp_runner import _load, _system

    request = {"path": path, "n_ctx": 1024, "n_threads": threads, "seed": 42}
    llm = _load({**request, "chat_format": None})
    tokens = llm.tokenize((TEXT * 40).encode())[:PROMPT_TOKENS]
    started = time.perf_counter()
    llm.eval(tokens)
    prompt = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(GENERATED):
        llm.eval([llm.sample(temp=0.0)])
    generated = time.perf_counter() - started
    return {
        "prompt_tps": len(tokens) / prompt,
        "generate_tps": GENERATED / generated,
        "system": _system(),
    }


def run(path: str, threads: int) -> dict[str, float | str]:
    call = f"benchmarks.llamacpp_speed.measure({path!r}, {threads})"
    code = f"import json, benchmarks.llamacpp_speed; print(json.dumps({call}))"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    result: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    for model in args.models:
        for threads in (int(t) for t in args.threads.split(",")):
            runs = [run(model, threads) for _ in range(args.rounds)]
            prompt = statistics.median(float(r["prompt_tps"]) for r in runs)
            generate = statistics.median(float(r["generate_tps"]) for r in runs)
            print(
                f"{Path(model).name}, {threads} thread(s): prompt {prompt:.0f} tokens/s, "
                f"generation {generate:.1f} tokens/s (median of {args.rounds})"
            )
    print(f"CPU features in use: {runs[-1]['system']}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
