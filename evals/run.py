"""`swguide eval`: run the fixed questions, score them, and gate on the thresholds.

The suite builds a fresh index of the bundled corpus in a temporary folder (so a
user's own documents never change its scores), asks every question through the real
assistant (a follow-up gets its pair's first turn as history), optionally rewrites each
answer with a sentinel baseline, scores it (`evals.scoring`), and compares the metrics
with `evals/thresholds.toml` and with the recorded baseline for the backend, so a
regression fails even above the thresholds.
"""

from __future__ import annotations

import json
import math
import re
import sysconfig
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evals.bundled import bundled_index
from evals.dataset import Dataset, Question, load
from evals.metrics import Value, compute
from evals.scoring import Scored, Scorer
from evals.sentinels import MODEL_ONLY, SENTINELS
from ingest.pipeline import Progress
from swguide.errors import ConfigError
from swguide.settings import Settings
from swguide.types import Answer

THRESHOLDS = Path(__file__).with_name("thresholds.toml")
BASELINES = Path(__file__).with_name("baselines")
K = 5


@dataclass(frozen=True, slots=True)
class Check:
    metric: str
    value: float
    rule: str
    passed: bool
    bound: float  # the threshold the rule names
    recorded: bool = False  # a no-regression check against the recorded baseline


@dataclass(frozen=True, slots=True)
class Run:
    backend: str
    sentinel: str | None
    scored: tuple[Scored, ...]
    metrics: dict[str, Value]
    checks: tuple[Check, ...]
    seconds: float
    settings_hash: str
    questions: str = "questions.toml"
    verifier: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def summary(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "sentinel": self.sentinel,
            "question_set": self.questions,
            "questions": len(self.scored),
            "seconds": round(self.seconds, 1),
            "settings_hash": self.settings_hash,
            "passed": self.passed,
            "verifier": self.verifier,
            "metrics": {
                k: {"value": _finite(v.value), "ci95": [_finite(v.low), _finite(v.high)]}
                for k, v in self.metrics.items()
            },
            "checks": [
                {"metric": c.metric, "value": c.value, "rule": c.rule, "passed": c.passed}
                for c in self.checks
            ],
        }


@dataclass(frozen=True, slots=True)
class Asked:
    """One question's answer and the indexed chunks that hold its gold spans."""

    question: Question
    answer: Answer
    relevant: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Answers:
    """The real assistant's answers to the whole suite, ready to score (or to spoil)."""

    backend: str
    asked: tuple[Asked, ...]
    scorer: Scorer
    seconds: float
    settings_hash: str
    dataset: Dataset = field(default_factory=Dataset)
    verifier: dict[str, Any] = field(default_factory=dict)


def _finite(value: float) -> float | None:
    """NaN (a metric with nothing to measure) as JSON null."""
    return None if math.isnan(value) else value


def run(
    settings: Settings,
    llm: str | None = None,
    sentinel: str | None = None,
    progress: Progress | None = None,
    dataset: Dataset | None = None,
) -> Run:
    """Ask every question, score the answers (rewritten by `sentinel`, if any), and gate."""
    if sentinel is not None:
        known(sentinel)
    return score(ask_all(settings, llm, progress, dataset), sentinel)


def known(sentinel: str) -> str:
    if sentinel not in SENTINELS:
        raise ConfigError(f"Unknown baseline {sentinel!r}: choose one of {', '.join(SENTINELS)}.")
    return sentinel


def ask_all(
    settings: Settings,
    llm: str | None = None,
    progress: Progress | None = None,
    dataset: Dataset | None = None,
) -> Answers:
    """Index the bundled corpus afresh in a temporary folder and ask every question."""
    from assistant.build import answer_fingerprint, build_assistant, build_guard
    from assistant.guard.guard import GroundingGuard
    from evals.support import judge_pairs

    dataset = dataset or load()
    started = time.perf_counter()
    with bundled_index(settings, dataset.distractors) as index:
        assistant = build_assistant(index.settings, index.embedder, llm=llm)
        asked: dict[str, Asked] = {}
        for done, question in enumerate(dataset.questions):
            if progress:
                progress(done, len(dataset.questions), question.id)
            answer = assistant.ask(question.text, _history(question, asked))
            relevant = tuple(
                dict.fromkeys(c.id for span in question.gold for c in index.holding(span))
            )
            asked[question.id] = Asked(question, answer, relevant)
        if progress:
            progress(len(dataset.questions), len(dataset.questions), "done")
        verifier = judge_pairs(build_guard(index.settings, index.embedder), index)
    return Answers(
        assistant.answerer.name,
        tuple(asked.values()),
        Scorer(GroundingGuard(index.embedder, index.settings.guard)),
        time.perf_counter() - started,
        answer_fingerprint(settings),
        dataset,
        verifier,
    )


def _history(question: Question, asked: dict[str, Asked]) -> list[Any]:
    from assistant.followup import Turn

    if not question.follows:
        return []
    first = asked[question.follows]
    return [Turn(first.question.text, first.answer.text, first.answer.standalone_question)]


def score(answers: Answers, sentinel: str | None = None) -> Run:
    """Score the answers (after the sentinel's rewrite) and gate the metrics."""
    spoil = SENTINELS[sentinel] if sentinel else None
    if sentinel in MODEL_ONLY and answers.backend == "extractive":
        raise ConfigError(
            f"The {sentinel} baseline spoils what a language model adds: run it with --llm."
        )
    scored = []
    for item in answers.asked:
        answer = spoil(item.answer) if spoil else item.answer
        result = answers.scorer.score(item.question, answer, item.relevant)
        scored.append(replace(result, retrieval=_retrieval(result)))
    metrics = compute(scored)
    return Run(
        answers.backend,
        sentinel,
        tuple(scored),
        metrics,
        gate(metrics, answers.backend, answers.dataset),
        answers.seconds,
        answers.settings_hash,
        answers.dataset.name,
        answers.verifier,
    )


def _retrieval(result: Scored) -> dict[str, float]:
    """hit@1, hit@5, recall@5, MRR and nDCG@5 by llama-index's metric implementations."""
    if not result.question.answerable or not result.relevant:
        return {}
    from llama_index.core.evaluation.retrieval.metrics import MRR, NDCG, HitRate, Recall

    top = list(result.retrieved[:K])
    expected = list(result.relevant)
    return {
        "hit@1": HitRate().compute(expected_ids=expected, retrieved_ids=top[:1]).score,
        "hit@5": HitRate().compute(expected_ids=expected, retrieved_ids=top).score,
        "recall@5": Recall().compute(expected_ids=expected, retrieved_ids=top).score,
        "mrr": MRR().compute(expected_ids=expected, retrieved_ids=list(result.retrieved)).score,
        "ndcg@5": NDCG().compute(expected_ids=expected, retrieved_ids=top).score,
    }


def thresholds() -> dict[str, Any]:
    return tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))


def baseline_path(backend: str) -> Path:
    """Where a backend's scores are recorded: one file per answerer and model."""
    return BASELINES / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', backend)}.json"


def gate(metrics: dict[str, Value], backend: str, dataset: Dataset) -> tuple[Check, ...]:
    """The thresholds for this kind of backend (or for the index with distractors), then
    (for the fixed questions, which the baseline was recorded on) no regression from its
    baseline."""
    config = thresholds()
    rules = dict(config["distractors"]) if dataset.distractors else rules_for(config, backend)
    checks = [_check(name, metrics[name].value, rule) for name, rule in rules.items()]
    recorded = baseline_path(backend)
    if dataset.fixed and recorded.is_file():
        before = json.loads(recorded.read_text(encoding="utf-8"))["metrics"]
        tolerance = config["regression"]["tolerance"]
        for name, rule in rules.items():
            if before.get(name, {}).get("value") is not None:
                bound = before[name]["value"]
                key = "min" if "min" in rule else "max"
                allowed = {key: bound - tolerance if key == "min" else bound + tolerance}
                name_vs = f"{name} (vs recorded {bound:.3f})"
                checks.append(_check(name_vs, metrics[name].value, allowed, recorded=True))
    return tuple(checks)


def rules_for(config: dict[str, Any], backend: str) -> dict[str, dict[str, float]]:
    """The thresholds of this kind of backend; a model's also the share of answers it
    wrote, at its own floor (`[model_written]`, by model name) or the default."""
    if backend == "extractive":
        return dict(config["extractive"])
    model = Path(backend.partition(":")[2]).name
    floors = config["model_written"]
    return {**config["generative"], "model_written": {"min": floors.get(model, floors["default"])}}


def _check(name: str, value: float, rule: dict[str, float], recorded: bool = False) -> Check:
    if "min" in rule:
        bound = rule["min"]
        return Check(name, value, f"≥ {bound:g}", value >= bound - 1e-9, bound, recorded)
    bound = rule["max"]
    return Check(name, value, f"≤ {bound:g}", value <= bound + 1e-9, bound, recorded)


def record(result: Run) -> Path:
    """Save this run's metrics as the baseline its backend's later runs must not fall below.

    Baselines belong to the source tree (they are reviewed and committed), so an installed
    copy of swguide refuses to write into its own site-packages.
    """
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if BASELINES.resolve().is_relative_to(site):
        raise ConfigError(
            f"swguide eval --record updates the baselines of a source checkout, not of the "
            f"installed copy in {site}: run it from the repository (pip install -e .)."
        )
    BASELINES.mkdir(exist_ok=True)
    path = baseline_path(result.backend)
    summary = result.summary()
    kept = {k: summary[k] for k in ("backend", "questions", "settings_hash", "metrics")}
    path.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
