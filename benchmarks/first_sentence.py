"""Time to the first verified model sentence, and to the whole answer, through llama.cpp.

    python benchmarks/first_sentence.py GGUF [--questions N]

Indexes the bundled corpus in a temporary folder (as the eval suite does), loads the
model once, warms it with one question, then asks the first N answerable questions of
evals/questions.toml that have no history, in order, and reports for each: the time to
the first sentence the guard showed (none when the answer fell back to the quotes) and
to the whole answer, both from the question being asked. Prints the load average before
and after; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.build import build_assistant
from assistant.service import Assistant
from benchmarks.timing import percentile
from evals.bundled import bundled_index
from evals.dataset import load
from swguide.settings import load_settings
from swguide.types import SentenceCheck


def timed(assistant: Assistant, question: str) -> tuple[float | None, float]:
    """Seconds to the first shown sentence (None if none was shown) and to the answer."""
    started = time.perf_counter()
    first = None
    for event in assistant.stream(question):
        if first is None and isinstance(event, SentenceCheck) and event.shown:
            first = time.perf_counter() - started
    return first, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gguf", type=Path)
    parser.add_argument("--questions", type=int, default=12)
    args = parser.parse_args()
    questions = [q for q in load().questions if q.answerable and q.follows is None]
    questions = questions[: args.questions]
    print(f"load average before: {os.getloadavg()}")
    with bundled_index(load_settings()) as index:
        assistant = build_assistant(index.settings, index.embedder, llm=f"llamacpp:{args.gguf}")
        timed(assistant, "What does the guidance say about professional boundaries?")
        rows = [(q.id, *timed(assistant, q.text)) for q in questions]
    for qid, first, total in rows:
        shown = f"{first:.2f} s" if first is not None else "fell back"
        print(f"{qid:>5}  first shown sentence {shown:>10}  whole answer {total:.2f} s")
    firsts = [f for _, f, _ in rows if f is not None]
    totals = [t for _, _, t in rows]
    if firsts:
        print(
            f"first shown sentence ({len(firsts)} of {len(rows)} answers): median "
            f"{statistics.median(firsts):.2f} s, p95 {percentile(firsts, 95):.2f} s"
        )
    print(
        f"whole answer ({len(rows)}): median {statistics.median(totals):.2f} s, "
        f"p95 {percentile(totals, 95):.2f} s"
    )
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
