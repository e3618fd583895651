"""What every `swguide` command shares: the group's context and printing for a
terminal (nothing a document or a question carries can drive it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from swguide.settings import Settings, load_settings
from swguide.text import terminal_safe

LLM_HELP = "extractive, auto, ollama[:MODEL] or llamacpp[:PATH.gguf] (default: llm.backend)."


def say(text: str, err: bool = False, nl: bool = True) -> None:
    """Print for a terminal: what documents and questions carry cannot drive it."""
    click.echo(terminal_safe(text), err=err, nl=nl)


class Context:
    """What the group's options decided, shared with the subcommands."""

    def __init__(self, overrides: dict[str, Any], config: Path | None, debug: bool) -> None:
        self._overrides = overrides
        self._config = config
        self.debug = debug

    def settings(self, **more: Any) -> Settings:
        return load_settings(self._config, **{**self._overrides, **more})
