"""Calibrate the support checker (the grounding guard) on a labelled set of pairs.

    python -m evals.support [--write]

Every (sentence, passages, label) pair in `evals/calibration/pairs.toml` is measured once
against a fresh index of the bundled corpus: the sentence's best similarity to the
passages' sentences, the share of its words they contain, and the hard checks it fails.
The two thresholds (`guard.min_similarity`, `guard.min_coverage`) are chosen on the tune
split: the best balanced accuracy, then the fewest unsupported sentences passed, then
the stricter pair (grounded or silent). Balanced accuracy, Cohen's kappa and the
confusion matrix are then reported on the held split, which played no part in the
choice. `--write` saves them in `evals/calibration/guard.json`, versioned with the
embedding model, the chunking settings and the pairs file: a test fails when any of
them changes without a new calibration, or when the guard's defaults differ from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from swguide import offline
from swguide.settings import Settings, load_settings

if TYPE_CHECKING:
    from assistant.guard.guard import GroundingGuard, Measure
    from evals.bundled import Bundled

FOLDER = Path(__file__).with_name("calibration")
PAIRS = FOLDER / "pairs.toml"
RESULT = FOLDER / "guard.json"
SIMILARITIES = np.round(np.arange(0.40, 0.9001, 0.025), 3)
COVERAGES = np.round(np.arange(0.40, 0.9501, 0.05), 2)


@dataclass(frozen=True, slots=True)
class Pair:
    id: str
    kind: str
    split: str
    label: bool
    sentence: str
    evidence: tuple[str, ...]
    question: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class PairMeasure:
    pair: Pair
    measure: Measure

    def supported(self, min_similarity: float, min_coverage: float) -> bool:
        return self.measure.supported(min_similarity, min_coverage)


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Pair(**{**p, "evidence": tuple(p["evidence"])}) for p in data["pair"]]


def version(settings: Settings, path: Path = PAIRS) -> dict[str, str]:
    """What the thresholds hold for: the embedding model, the chunking, the pairs."""
    chunking = json.dumps(settings.chunking.model_dump(mode="json"), sort_keys=True)
    return {
        "embedding": f"{settings.embedding.name} {settings.embedding.weights_sha256}",
        "chunking": hashlib.sha256(chunking.encode()).hexdigest()[:16],
        "pairs": hashlib.sha256(path.read_bytes()).hexdigest()[:16],
    }


def measure(settings: Settings, pairs: list[Pair]) -> list[PairMeasure]:
    from assistant.guard.guard import GroundingGuard
    from evals.bundled import bundled_index

    with bundled_index(settings) as index:
        guard = GroundingGuard(index.embedder, index.settings.guard)
        out = []
        for pair in pairs:
            passages = index.passages(list(pair.evidence))
            if not passages:
                raise ValueError(f"{pair.id}: no indexed passage holds its evidence")
            m = guard.measure(pair.sentence, passages, pair.question)
            out.append(PairMeasure(pair, m))
    return out


def scores(
    measured: list[PairMeasure], min_similarity: float, min_coverage: float
) -> dict[str, Any]:
    from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score, confusion_matrix

    truth = [m.pair.label for m in measured]
    said = [m.supported(min_similarity, min_coverage) for m in measured]
    (tn, fp), (fn, tp) = confusion_matrix(truth, said, labels=[False, True]).tolist()
    return {
        "pairs": len(measured),
        "balanced_accuracy": round(float(balanced_accuracy_score(truth, said)), 4),
        "kappa": round(float(cohen_kappa_score(truth, said)), 4),
        "unsupported_passed": fp,
        "supported_refused": fn,
        "confusion": {
            "true_negative": tn,
            "false_positive": fp,
            "false_negative": fn,
            "true_positive": tp,
        },
    }


def choose(tune: list[PairMeasure]) -> tuple[float, float]:
    """The best balanced accuracy on tune; then fewest false passes; then the stricter."""
    best: tuple[float, int, float, float] | None = None
    for s in SIMILARITIES:
        for c in COVERAGES:
            got = scores(tune, float(s), float(c))
            key = (got["balanced_accuracy"], -got["unsupported_passed"], float(s), float(c))
            if best is None or key > best:
                best = key
    assert best is not None
    return best[2], best[3]


def calibrate(settings: Settings) -> dict[str, Any]:
    measured = measure(settings, load_pairs())
    tune = [m for m in measured if m.pair.split == "tune"]
    held = [m for m in measured if m.pair.split == "held"]
    sim, cov = choose(tune)
    kinds = sorted({m.pair.kind for m in held})
    return {
        "version": version(settings),
        "min_similarity": sim,
        "min_coverage": cov,
        "tune": scores(tune, sim, cov),
        "held": scores(held, sim, cov),
        "held_by_kind": {
            k: _accuracy([m for m in held if m.pair.kind == k], sim, cov) for k in kinds
        },
        "held_mistakes": [m.pair.id for m in held if m.supported(sim, cov) != m.pair.label],
    }


def _accuracy(measured: list[PairMeasure], sim: float, cov: float) -> float:
    right = sum(m.supported(sim, cov) == m.pair.label for m in measured)
    return round(right / len(measured), 3)


def checker_figures(settings: Settings, split: str = "held") -> dict[str, Any]:
    """The guard `settings.guard.checker` names, judged on one split of the labelled
    pairs (see `judge_pairs`)."""
    from assistant.build import build_guard
    from evals.bundled import bundled_index

    with bundled_index(settings) as index:
        return judge_pairs(build_guard(index.settings, index.embedder), index, split)


def judge_pairs(guard: GroundingGuard, index: Bundled, split: str = "held") -> dict[str, Any]:
    """A guard on one split of the labelled pairs: balanced accuracy, precision and
    recall of "unsupported", right per kind, true paraphrases passed, and milliseconds
    per pair (judged in one batch)."""
    import time

    pairs = [p for p in load_pairs() if p.split == split]
    items = [(p.sentence, index.passages(list(p.evidence)), p.question) for p in pairs]
    started = time.perf_counter()
    said = [j.supported for j in guard.judge_many(items)]
    seconds = time.perf_counter() - started
    truth = [p.label for p in pairs]
    caught = sum(not s and not t for s, t in zip(said, truth, strict=True))
    flagged, unsupported = said.count(False), truth.count(False)
    kinds = sorted({p.kind for p in pairs})
    right = [s == t for s, t in zip(said, truth, strict=True)]
    return {
        "checker": guard.checker,
        "pairs": len(pairs),
        "balanced_accuracy": round(_balanced(truth, said), 4),
        "unsupported_precision": round(caught / flagged, 4) if flagged else None,
        "unsupported_recall": round(caught / unsupported, 4) if unsupported else None,
        "by_kind": {
            k: round(
                sum(r for r, p in zip(right, pairs, strict=True) if p.kind == k)
                / sum(p.kind == k for p in pairs),
                3,
            )
            for k in kinds
        },
        "paraphrases_passed": _share(
            [s for s, p in zip(said, pairs, strict=True) if p.kind == "paraphrase" and p.label]
        ),
        "ms_per_pair": round(1000 * seconds / max(1, len(pairs)), 2),
    }


def _balanced(truth: list[bool], said: list[bool]) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(truth, said))


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def main() -> None:
    offline.enforce()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"save the result in {RESULT}")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="judge the held pairs with each support checker (heuristic, learned) instead",
    )
    args = parser.parse_args()
    if args.compare:
        for checker in ("heuristic", "learned"):
            settings = load_settings(guard={"checker": checker})
            print(json.dumps(checker_figures(settings)))
        return
    result = calibrate(load_settings())
    print(json.dumps(result, indent=2))
    if args.write:
        RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
