"""Local language models that write answers: one private module per backend.

A backend is a `Generator`: it streams the text of a reply to chat messages and counts
tokens for the context budget. `select.choose` builds the one the settings ask for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

Message = dict[str, str]


class Generator(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def context_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: list[Message]) -> Iterator[str]: ...
