"""The learned support verifier: a cross-encoder that reads a claim (and the question)
against one passage and gives the probability that the passage supports the claim.

Trained by `make train-verifier` (tools/train_verifier.py) from the bundled MiniLM
encoder on HaluEval and in-domain pairs; shipped in `assistant/guard/model/` as ONNX
with its tokenizer and a record (`verifier.json`: SHA-256 of both files, the threshold
chosen on the tune split, the held split's figures). Both files are checked against
the record on every load. Pairs are scored in batches of similar length.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.embedding import checked_record, onnx_feed

FOLDER = Path(__file__).with_name("model")
RECORD = "verifier.json"
BATCH = 16


def claim_text(claim: str, question: str) -> str:
    """The first segment the cross-encoder reads (as in training)."""
    return f"{claim} (question: {question})" if question else claim


class OnnxVerifier:
    """P(supported) for (claim, passage, question) triples."""

    def __init__(
        self, onnx: Path, tokenizer: Path, threshold: float, max_length: int = 256
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        onnxruntime.disable_telemetry_events()  # and ORT_DISABLE_TELEMETRY (offline.py)
        file = tokenizer / "tokenizer.json" if tokenizer.is_dir() else tokenizer
        self._tokenizer: Tokenizer = Tokenizer.from_file(str(file))
        self._tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(onnx), options, providers=["CPUExecutionProvider"]
        )
        self.threshold = threshold

    def probabilities(self, triples: Sequence[tuple[str, str, str]]) -> np.ndarray:
        """P(supported) for each (claim, passage, question), batched by length."""
        out = np.empty(len(triples), dtype=np.float32)
        order = sorted(range(len(triples)), key=lambda i: len(triples[i][0] + triples[i][1]))
        for at in range(0, len(order), BATCH):
            batch = order[at : at + BATCH]
            out[batch] = self._run([triples[i] for i in batch])
        return out

    def _run(self, triples: list[tuple[str, str, str]]) -> np.ndarray:
        feed = onnx_feed(
            self._tokenizer.encode_batch(
                [(claim_text(claim, question), passage) for claim, passage, question in triples]
            )
        )
        logits = np.asarray(self._session.run(None, feed)[0], dtype=np.float32).reshape(-1)
        return 1.0 / (1.0 + np.exp(-logits))


def load_verifier(folder: Path = FOLDER) -> OnnxVerifier:
    """The shipped verifier, after checking its files against its record."""
    record = shipped_record(folder)
    return OnnxVerifier(
        folder / "verifier.onnx",
        folder / "tokenizer.json",
        float(record["threshold"]),
        int(record["max_length"]),
    )


def shipped_record(folder: Path = FOLDER) -> dict[str, Any]:
    """The verifier's record, its weights and tokenizer checked against it."""
    return checked_record(
        folder / RECORD,
        (("verifier.onnx", "onnx_sha256"), ("tokenizer.json", "tokenizer_sha256")),
        "reinstall swguide or run `make train-verifier`",
    )
