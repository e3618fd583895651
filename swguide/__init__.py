"""swguide: cited answers from the professional guidance on social media."""

from swguide.errors import (
    ConfigError,
    DocumentError,
    IndexMissingError,
    InputError,
    ModelError,
    StoreError,
    SwguideError,
)
from swguide.settings import Settings, load_settings
from swguide.types import Answer, Chunk, Citation, DocumentRecord, IngestReport, Passage, Source

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "ConfigError",
    "DocumentError",
    "DocumentRecord",
    "IndexMissingError",
    "IngestReport",
    "InputError",
    "ModelError",
    "Passage",
    "Settings",
    "Source",
    "StoreError",
    "SwguideError",
    "__version__",
    "load_settings",
]
