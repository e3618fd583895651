"""The seams between the parts, as protocols: an embedding model, a language model and a
support checker. Each part is built in one place (`assistant.build`) and handed to what
uses it; tests hand in fakes (`tests/conftest.py`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from swguide.types import Passage

Message = dict[str, str]  # one chat message: {"role": ..., "content": ...}


class Embedder(Protocol):
    """What ingest, retrieval and the answerers need from an embedding model."""

    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class Generator(Protocol):
    """A local language model: streams the text of a reply to chat messages (JSON under
    `schema`, when one is given and the model can be held to it) and counts tokens for
    the context budget."""

    @property
    def name(self) -> str: ...

    @property
    def context_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self, messages: list[Message], schema: dict[str, Any] | None = None
    ) -> Iterator[str]: ...


class SupportChecker(Protocol):
    """Whether passages, together, support a sentence (the guard, or a learned verifier)."""

    def supports(self, sentence: str, passages: Sequence[Passage], question: str) -> bool: ...
