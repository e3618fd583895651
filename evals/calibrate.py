"""Calibrate the extractive answerer's abstention thresholds on `evals/scope.toml`.

    python -m evals.calibrate [--data-dir DIR]

For every question it prints the best sentence relevance and the question-specific
words the quotes contain, then the threshold pair (`answer.min_relevance`,
`answer.confident_relevance`) that abstains on every out-of-scope question while
answering the most in-scope ones, with the widest margin to the nearest question, and
the hit rate and MRR of retrieval on the in-scope questions (llama-index's evaluator).
"""

from __future__ import annotations

import argparse
import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from swguide import offline

QUESTIONS = Path(__file__).with_name("scope.toml")


@dataclass(frozen=True, slots=True)
class ScopeMeasure:
    text: str
    in_scope: bool
    relevance: float
    specific: float
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    low: float
    high: float
    coverage: float
    wrong_answers: int
    refusals: int
    margin: float
    low_margin: float

    def answers(self, m: ScopeMeasure) -> bool:
        return m.relevance >= self.high or (m.relevance >= self.low and m.specific >= self.coverage)


def load_questions(split: str = "fit", path: Path = QUESTIONS) -> list[tuple[str, bool]]:
    """The questions of one split: "fit" chooses the thresholds, "check" is held out."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        (q["text"], q["scope"] == "in") for q in data["questions"] if q.get("split", "fit") == split
    ]


def load_gold_sections(path: Path = QUESTIONS) -> dict[str, list[str]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {q["text"]: q["sections"] for q in data["questions"] if q["scope"] == "in"}


def retrieval_scores(assistant: object, gold: dict[str, list[str]]) -> dict[str, float]:
    """Hit rate and MRR of the top passages, by llama-index's RetrieverEvaluator."""
    from llama_index.core.evaluation import RetrieverEvaluator

    from assistant.retrieval.llamaindex import LlamaIndexRetriever
    from assistant.service import Assistant

    assert isinstance(assistant, Assistant)
    chunks = assistant.retriever.chunks.values()
    evaluator = RetrieverEvaluator.from_metric_names(
        ["hit_rate", "mrr"], retriever=LlamaIndexRetriever(assistant.retriever)
    )
    totals = {"hit_rate": 0.0, "mrr": 0.0}
    for question, sections in gold.items():
        expected = [c.id for c in chunks if c.section in sections]
        result = evaluator.evaluate(question, expected_ids=expected)
        for name in totals:
            totals[name] += result.metric_vals_dict[name] / len(gold)
    return totals


def measure(assistant: object, questions: list[tuple[str, bool]]) -> list[ScopeMeasure]:
    from assistant.service import Assistant

    assert isinstance(assistant, Assistant)
    out = []
    for text, in_scope in questions:
        retrieval = assistant.retriever.retrieve(text)
        draft = assistant.extractive.answer(text, retrieval, assistant.topics)
        out.append(ScopeMeasure(text, in_scope, draft.relevance, draft.specific, draft.matched))
    return out


def evaluate(measured: list[ScopeMeasure], low: float, high: float, coverage: float) -> Outcome:
    probe = Outcome(low, high, coverage, 0, 0, 0.0, 0.0)
    wrong = sum(1 for m in measured if not m.in_scope and probe.answers(m))
    refused = sum(1 for m in measured if m.in_scope and not probe.answers(m))
    margin = min(abs(m.relevance - high) for m in measured)
    low_margin = min(
        (abs(m.relevance - low) for m in measured if m.specific >= coverage), default=1.0
    )
    return Outcome(low, high, coverage, wrong, refused, margin, low_margin)


def choose(measured: list[ScopeMeasure], coverage: float) -> Outcome:
    """The threshold pair with no wrong answers, fewest refusals, then widest margins."""
    values = sorted({round(m.relevance, 4) for m in measured})
    cuts = [(a + b) / 2 for a, b in itertools.pairwise(values)]
    outcomes = [evaluate(measured, lo, hi, coverage) for lo in cuts for hi in cuts if hi >= lo]
    return min(outcomes, key=lambda o: (o.wrong_answers, o.refusals, -o.margin, -o.low_margin))


def main(argv: list[str] | None = None) -> int:
    offline.enforce()
    from assistant.build import build_assistant
    from swguide.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    settings = load_settings(data_dir=args.data_dir)
    assistant = build_assistant(settings, llm="extractive")
    measured = measure(assistant, load_questions("fit"))
    held_out = measure(assistant, load_questions("check"))
    for label, group in (("fit", measured), ("check", held_out)):
        for m in sorted(group, key=lambda m: -m.relevance):
            scope = "in " if m.in_scope else "out"
            words = ",".join(m.matched)[:28]
            print(f"{label:5} {scope} {m.relevance:6.3f} {m.specific:4.2f} {words:28} {m.text}")
    answer = settings.answer
    best = choose(measured, answer.specific_coverage)
    current = evaluate(
        measured, answer.min_relevance, answer.confident_relevance, answer.specific_coverage
    )
    check = evaluate(
        held_out, answer.min_relevance, answer.confident_relevance, answer.specific_coverage
    )
    for label, o in (
        ("best on fit", best),
        ("configured, fit", current),
        ("configured, held out", check),
    ):
        print(
            f"{label}: min_relevance={o.low:.3f} confident_relevance={o.high:.3f} "
            f"out-of-scope answered={o.wrong_answers} in-scope refused={o.refusals} "
            f"margins={o.margin:.3f}/{o.low_margin:.3f}"
        )
    scores = retrieval_scores(assistant, load_gold_sections())
    k = settings.retrieval.top_k
    print(
        f"retrieval of in-scope questions: hit@{k}={scores['hit_rate']:.2f} MRR={scores['mrr']:.2f}"
    )
    return 0 if current.wrong_answers == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
