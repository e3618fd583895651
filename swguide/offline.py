"""Keep every library offline and quiet: no hub downloads, no telemetry, no analytics.

`enforce()` runs first in every entry point, before chromadb, gradio or the Hugging Face
libraries are imported, because several of them read these variables at import time.
"""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "CHROMA_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
    # ONNX Runtime 1.2x+ starts a telemetry uploader at import on Linux too (DNS for
    # mobile.events.data.microsoft.com, ~/.cache/Microsoft/DeveloperTools/.onnxruntime).
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce() -> None:
    """Set the offline and no-telemetry switches; a user's explicit value is overridden."""
    os.environ.update(OFFLINE_ENV)
