"""The bundled guidance corpus: the article as Markdown and its manifest, sources.toml."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
