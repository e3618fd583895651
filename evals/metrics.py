"""The suite's metrics over scored answers, with bootstrap confidence intervals.

Every metric is a ratio of per-question counts (so a resample of questions recomputes
it exactly); `DEFINITIONS` says what each one measures, for the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.guard.guard import ATTRIBUTED
from evals.scoring import Scored

RESAMPLES = 1000

DEFINITIONS = {
    "hit@1": "share of answerable questions whose best passage holds a gold span",
    "hit@5": "share of answerable questions with a passage holding a gold span in the top 5",
    "recall@5": "share of a question's gold passages in the top 5, averaged",
    "mrr": "mean reciprocal rank of the first passage holding a gold span",
    "ndcg@5": "normalised discounted cumulative gain of the top 5 (gold passages relevant)",
    "answer_recall": "share of answerable questions whose shown sentences hold a gold span "
    "(a refusal holds none)",
    "gold_first": "share of answerable questions whose first shown sentence holds a gold span",
    "self_contained": "share of shown sentences that do not open with a reference ('This', "
    "'Doing so', 'Failure to do so', ...) unless the sentence shown before it is the one "
    "before it in the passage",
    "citation_validity": "share of [n] markers in answers that name one of its citations",
    "citation_recall": "share of statements their cited passages, together, support (ALCE)",
    "citation_precision": "share of citations that are not removable (ALCE)",
    "unsupported_rate": "share of statements no retrieved passage supports",
    "miscitation_rate": "share of statements the retrieved passages support but the cited "
    "ones do not",
    "must_mention_recall": "share of each answerable question's facts its answer mentions, "
    "averaged",
    "must_not_violations": "answers containing a statement they must never make (count)",
    "abstention_accuracy": "share of out-of-scope questions refused",
    "over_refusal": "share of answerable questions refused",
    "model_sentences_shown": "share of the sentences a language model wrote that the guard showed",
    "shown_unsupported_words": "share of shown model sentences fewer than 70 % of whose "
    "content words occur in the passages they cite (a second opinion, not the guard)",
    "model_sentences_attributed": "share of shown model sentences written without a usable "
    "passage number and attributed by the verifier to the passage that supports them",
    "model_written": "share of answers a language model wrote whose own sentences were "
    "shown (the rest fell back to the extractive answer; none for the extractive backend)",
}
# Ratios: (numerator, denominator) per question; the metric is sum(num) / sum(den).
Ratio = Callable[[Scored], tuple[float, float]]


def _statements(s: Scored) -> int:
    return len(s.statements)


def _retrieval(key: str) -> Ratio:
    """A retrieval score, averaged over the questions that have gold passages."""
    return lambda s: (s.retrieval[key], 1.0) if s.retrieval else (0, 0)


RATIOS: dict[str, Ratio] = {
    **{key: _retrieval(key) for key in ("hit@1", "hit@5", "recall@5", "mrr", "ndcg@5")},
    "answer_recall": lambda s: (float(s.gold_shown), 1.0) if s.question.answerable else (0, 0),
    "gold_first": lambda s: (float(s.gold_first), 1.0) if s.question.answerable else (0, 0),
    "self_contained": lambda s: (len(s.shown) - s.dangling, len(s.shown)),
    "citation_validity": lambda s: (s.resolved, s.markers),
    "citation_recall": lambda s: (sum(x.supported for x in s.statements), _statements(s)),
    "citation_precision": lambda s: (
        sum(x.precise for x in s.statements),
        sum(x.citations for x in s.statements),
    ),
    "unsupported_rate": lambda s: (sum(not x.grounded for x in s.statements), _statements(s)),
    "miscitation_rate": lambda s: (
        sum(x.grounded and not x.supported for x in s.statements),
        _statements(s),
    ),
    "must_mention_recall": lambda s: (
        (sum(s.mentioned) / len(s.mentioned), 1.0)
        if s.question.answerable and s.mentioned
        else (0, 0)
    ),
    "must_not_violations": lambda s: (float(bool(s.violations)), 0.0),
    "abstention_accuracy": lambda s: (
        (float(s.abstained), 1.0) if not s.question.answerable else (0, 0)
    ),
    "over_refusal": lambda s: (float(s.abstained), 1.0) if s.question.answerable else (0, 0),
    "model_sentences_shown": lambda s: (
        sum(x.shown for x in s.model_sentences),
        len(s.model_sentences),
    ),
    "shown_unsupported_words": lambda s: (
        s.shown_unsupported,
        sum(x.shown for x in s.model_sentences),
    ),
    "model_sentences_attributed": lambda s: (
        sum(x.shown and ATTRIBUTED in x.reasons for x in s.model_sentences),
        sum(x.shown for x in s.model_sentences),
    ),
    "model_written": lambda s: (
        (float(not s.answer.fallback), 1.0)
        if not s.answer.backend.startswith("extractive") and not s.abstained
        else (0, 0)
    ),
}


@dataclass(frozen=True, slots=True)
class Value:
    value: float
    low: float
    high: float


def compute(scored: Sequence[Scored]) -> dict[str, Value]:
    rng = np.random.default_rng(0)
    samples = rng.integers(0, len(scored), size=(RESAMPLES, len(scored)))
    out = {}
    for name, ratio in RATIOS.items():
        pairs = np.array([ratio(s) for s in scored], dtype=float)
        value = _ratio(pairs, name)
        boots = np.array([_ratio(pairs[row], name) for row in samples])
        low, high = (
            np.nanpercentile(boots, [2.5, 97.5]) if not np.isnan(boots).all() else (np.nan, np.nan)
        )
        out[name] = Value(value, float(low), float(high))
    return out


def _ratio(pairs: np.ndarray, name: str) -> float:
    if name == "must_not_violations":
        return float(pairs[:, 0].sum())
    den = pairs[:, 1].sum()
    return float(pairs[:, 0].sum() / den) if den else float("nan")
