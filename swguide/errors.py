"""The exceptions swguide raises on purpose.

Every message names the cause and the fix, in one line, so the CLI and the chat page
can show it as it is.

    SwguideError
    ├── ConfigError         settings file or value is wrong
    ├── InputError          a question is empty, too long or not text
    ├── DocumentError       a document cannot be ingested (it is skipped)
    ├── ModelError          the bundled embedding model is missing or corrupt
    ├── StoreError          the Chroma store cannot be used
    │   ├── IndexMissingError   nothing has been ingested yet
    │   └── IndexDamagedError   the index's files are damaged (`ingest --rebuild`)
    └── LLMError            a language model cannot be used
        ├── LLMUnavailableError      not reachable, model not pulled, no GGUF file
        └── LLMIncompleteError       the answer stalled, timed out or broke off midway
"""

from __future__ import annotations


class SwguideError(Exception):
    """Base class: a problem the user can fix; the message says how."""


class ConfigError(SwguideError):
    pass


class InputError(SwguideError):
    pass


class DocumentError(SwguideError):
    pass


class ModelError(SwguideError):
    pass


class StoreError(SwguideError):
    pass


class IndexMissingError(StoreError):
    pass


class IndexDamagedError(StoreError):
    pass


class LLMError(SwguideError):
    pass


class LLMUnavailableError(LLMError):
    pass


class LLMIncompleteError(LLMError):
    pass
