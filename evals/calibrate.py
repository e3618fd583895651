"""Calibrate the extractive answerer's abstention thresholds on the fit split of
`evals/scope.toml` and of the clinician questions; `scope.toml`'s check split is held out.

    python -m evals.calibrate [--data-dir DIR]

For every question it prints the best sentence relevance and the scope margin (against
`corpus/example_questions.toml`), then the thresholds (`answer.min_relevance`,
`answer.confident_relevance`, `answer.scope_margin`) that abstain on every out-of-scope
question while answering the most in-scope ones, with the widest margin to the nearest
question, and the hit rate and MRR of retrieval on the in-scope questions (llama-index's
evaluator).
"""

from __future__ import annotations

import argparse
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from swguide import offline

QUESTIONS = Path(__file__).with_name("scope.toml")
CLINICIAN = Path(__file__).with_name("clinician_questions.toml")
FIT2 = Path(__file__).with_name("fit2_questions.toml")
SLACK = 0.05


@dataclass(frozen=True, slots=True)
class ScopeMeasure:
    text: str
    in_scope: bool
    relevance: float
    scope: float  # the question's scope margin against the scope examples
    guided: bool  # the examples were written for the best passage's document


@dataclass(frozen=True, slots=True)
class Outcome:
    low: float
    high: float
    scope: float
    wrong_answers: int
    refusals: int
    margin: float
    scope_margin: float

    def answers(self, m: ScopeMeasure) -> bool:
        if not m.guided and m.relevance >= self.high:
            return True
        return m.relevance >= self.low and m.scope >= self.scope


def load_questions(split: str = "fit", path: Path = QUESTIONS) -> list[tuple[str, bool]]:
    """The questions of one split: "fit" chooses the thresholds, "check" is held out."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        (q["text"], q["scope"] == "in") for q in data["questions"] if q.get("split", "fit") == split
    ]


def load_clinician_fit() -> list[tuple[str, bool]]:
    """The tuning splits of the clinician questions: `fit` and `fit2` (their held splits,
    `held` and `held2`, are never calibrated on)."""
    found = []
    for path, split in ((CLINICIAN, "fit"), (FIT2, "fit2")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        found += [
            (q["text"], q["expected"] == "answer") for q in data["questions"] if q["split"] == split
        ]
    return found


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
        out.append(ScopeMeasure(text, in_scope, draft.relevance, draft.scope, draft.guided))
    return out


def evaluate(measured: list[ScopeMeasure], low: float, high: float, scope: float) -> Outcome:
    probe = Outcome(low, high, scope, 0, 0, 0.0, 0.0)
    wrong = sum(1 for m in measured if not m.in_scope and probe.answers(m))
    refused = sum(1 for m in measured if m.in_scope and not probe.answers(m))
    margin = min(abs(m.relevance - high) for m in measured)
    band = [m for m in measured if low <= m.relevance < high]
    scope_margin = min((abs(m.scope - scope) for m in band), default=1.0)
    return Outcome(low, high, scope, wrong, refused, margin, scope_margin)


def choose(measured: list[ScopeMeasure]) -> Outcome:
    """The scope cut with the fewest mistakes (out-of-scope questions answered and
    in-scope ones refused, alike), then the fewest answered, then the widest margin from
    any question's scope margin (each cut lies halfway between two questions' values).

    The relevance thresholds are not searched. The floor, `min_relevance`, sits SLACK
    under the least relevant in-scope question: below it nothing is close enough to
    quote, whatever the question reads like. The ceiling, `confident_relevance`, sits
    SLACK over the most relevant out-of-scope one: from it up a passage of a document
    the examples were not written for answers whatever the question reads like, which
    lets an agency's own documents answer questions on subjects the examples call out of
    scope (the calibration questions are all about the guidance, which they were)."""
    low = min(m.relevance for m in measured if m.in_scope) - SLACK
    high = max(m.relevance for m in measured if not m.in_scope) + SLACK
    cuts = _midpoints(np.array([m.scope for m in measured]))
    outcomes = [evaluate(measured, low, high, float(cut)) for cut in cuts]
    return min(
        outcomes,
        key=lambda o: (o.wrong_answers + o.refusals, o.wrong_answers, -o.scope_margin),
    )


def _midpoints(values: np.ndarray) -> np.ndarray:
    ordered: np.ndarray = np.unique(np.round(values, 4))
    middle: np.ndarray = (ordered[:-1] + ordered[1:]) / 2
    return middle


def main(argv: list[str] | None = None) -> int:
    offline.enforce()
    from assistant.build import build_assistant
    from swguide.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    settings = load_settings(data_dir=args.data_dir)
    assistant = build_assistant(settings, llm="extractive")
    measured = measure(assistant, load_questions("fit") + load_clinician_fit())
    held_out = measure(assistant, load_questions("check"))
    for label, group in (("fit", measured), ("check", held_out)):
        for m in sorted(group, key=lambda m: -m.relevance):
            scope = "in " if m.in_scope else "out"
            print(f"{label:5} {scope} {m.relevance:6.3f} {m.scope:+6.3f} {m.text}")
    answer = settings.answer
    best = choose(measured)
    configured = (answer.min_relevance, answer.confident_relevance, answer.scope_margin)
    current = evaluate(measured, *configured)
    check = evaluate(held_out, *configured)
    for label, o in (
        ("best on fit", best),
        ("configured, fit", current),
        ("configured, held out", check),
    ):
        print(
            f"{label}: min_relevance={o.low:.3f} confident_relevance={o.high:.3f} "
            f"scope_margin={o.scope:.3f} out-of-scope answered={o.wrong_answers} "
            f"in-scope refused={o.refusals} margins={o.margin:.3f}/{o.scope_margin:.3f}"
        )
    scores = retrieval_scores(assistant, load_gold_sections())
    k = settings.retrieval.top_k
    print(
        f"retrieval of in-scope questions: hit@{k}={scores['hit_rate']:.2f} MRR={scores['mrr']:.2f}"
    )
    return 0 if current.wrong_answers == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
