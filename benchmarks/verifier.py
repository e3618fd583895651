"""The learned verifier's cost: `python benchmarks/verifier.py`.

- a 4-sentence answer, each sentence citing two passages of the bundled corpus (8 pairs):
  the guard's time per answer (median and max of 20);
- `swguide verify --json` on 300 claims as a whole process (claims/s, start included),
  and the same claims judged in process (claims/s).
Prints the machine's load average before and after.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from swguide import offline  # noqa: E402

offline.enforce()

from assistant.build import build_embedder, build_guard  # noqa: E402
from assistant.guard.claims import Claim  # noqa: E402
from assistant.guard.guard import GroundingGuard  # noqa: E402
from swguide.settings import load_settings  # noqa: E402
from swguide.text import sentence_spans  # noqa: E402
from swguide.types import Chunk, Passage  # noqa: E402


def corpus_passages() -> list[str]:
    import corpus

    text = (corpus.DIRECTORY / "tips-for-social-media-etiquette.md").read_text("utf-8")
    return [p for p in text.split("\n\n") if len(p.split()) > 40][:8]


def passage(n: int, text: str) -> Passage:
    return Passage(
        Chunk(f"c{n}", "d", "D", text, (), n, 0, len(text), tuple(sentence_spans(text))), 1.0
    )


def answer_cost(guard: GroundingGuard, texts: list[str]) -> list[float]:
    passages = [passage(n, t) for n, t in enumerate(texts[:2], start=1)]
    sentences = [t.split(". ")[0] + "." for t in texts[:4]]
    times = []
    for _ in range(20):
        started = time.perf_counter()
        for sentence in sentences:
            guard.check(Claim(sentence, (1, 2)), passages, "")
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_settings(data_dir=Path(scratch), guard={"checker": "learned"})
        guard = build_guard(settings, build_embedder(settings))
        texts = corpus_passages()
        times = answer_cost(guard, texts)
        print(
            f"4-sentence answer, 2 cited passages each: median {statistics.median(times):.1f}"
            f" ms, max {max(times):.1f} ms (20 runs)"
        )
        claims = [
            {"claim": t.split(". ")[i % 2] + ".", "passages": [t, texts[(n + 1) % len(texts)]]}
            for n, t in enumerate(texts)
            for i in range(38)
        ][:300]
        stdin = "\n".join(json.dumps(c) for c in claims).encode()
        started = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "swguide"), "verify", "--json"],
            input=stdin,
            capture_output=True,
            check=False,
            cwd=REPO,
            env={**os.environ, "SWGUIDE_DATA_DIR": scratch, "SWGUIDE_GUARD__CHECKER": "learned"},
        )
        whole = time.perf_counter() - started
        assert done.returncode == 0, done.stderr.decode()
        print(
            f"swguide verify --json, {len(claims)} claims: {len(claims) / whole:.0f} claims/s"
            f" as a whole process ({whole:.1f} s)"
        )
        items = [
            (c["claim"], [passage(i, p) for i, p in enumerate(c["passages"])], "") for c in claims
        ]
        started = time.perf_counter()
        guard.judge_many(items)
        inner = time.perf_counter() - started
        print(f"judged in process: {len(claims) / inner:.0f} claims/s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
