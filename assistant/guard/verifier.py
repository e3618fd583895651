"""The learned support verifier: P(the passage supports the claim) for (claim, passage,
question) triples.

It reads what `assistant.guard.features` measures of each triple (through the index's
own embedder) with a small trained head, shipped in `assistant/guard/model/` as ONNX
with a record (`verifier.json`: the head's SHA-256, checked on every load, the feature
names it was trained on, the threshold chosen on the tune split, the held split's
figures). Trained by `make train-verifier` (tools/train_verifier.py); see the model card
(`assistant/guard/model/CARD.md`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.guard.features import NAMES, features
from ingest.embedding import checked_record
from swguide.errors import ModelError
from swguide.protocols import Embedder

FOLDER = Path(__file__).with_name("model")
RECORD = "verifier.json"
HEAD = "verifier.onnx"
FIX = "reinstall swguide or run `make train-verifier`"


class FeatureVerifier:
    """P(supported) for (claim, passage, question) triples."""

    def __init__(self, embedder: Embedder, head: Path, threshold: float) -> None:
        import onnxruntime

        onnxruntime.disable_telemetry_events()  # and ORT_DISABLE_TELEMETRY (offline.py)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1  # a few hundred multiply-adds a row
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(head), options, providers=["CPUExecutionProvider"]
        )
        self._embedder = embedder
        self.threshold = threshold

    def probabilities(self, triples: Sequence[tuple[str, str, str]]) -> np.ndarray:
        """P(supported) for each (claim, passage, question), all in one batch."""
        if not triples:
            return np.zeros(0, dtype=np.float32)
        return self.score(features(triples, self._embedder))

    def score(self, rows: np.ndarray) -> np.ndarray:
        """P(supported) for rows of features (as `features` makes them)."""
        out = self._session.run(["probabilities"], {"features": rows.astype(np.float32)})[0]
        return np.asarray(out, dtype=np.float32)[:, 1]


def load_verifier(embedder: Embedder, folder: Path = FOLDER) -> FeatureVerifier:
    """The shipped verifier, after checking its head against its record."""
    record = shipped_record(folder)
    return FeatureVerifier(embedder, folder / HEAD, float(record["threshold"]))


def shipped_record(folder: Path = FOLDER) -> dict[str, Any]:
    """The verifier's record, its head checked against it and its features the ones
    this code measures."""
    record = checked_record(folder / RECORD, ((HEAD, "onnx_sha256"),), FIX)
    if tuple(record.get("features", ())) != NAMES:
        raise ModelError(f"{folder / HEAD} was trained on other features: {FIX}.")
    return record
