"""Read a corpus manifest (`sources.toml`): its documents and their numbered sources."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swguide.errors import ConfigError
from swguide.types import Source

MANIFEST_NAME = "sources.toml"


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    """A document the manifest describes; its footnotes refer to the manifest's sources."""

    id: str
    file: str
    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    url: str | None = None
    footnotes: bool = False
    source: int | None = None  # the numbered source this document is (a fetched standard)
    original_sha256: str | None = None
    text_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    documents: tuple[DocumentEntry, ...] = ()
    sources: tuple[Source, ...] = ()

    def entry_for(self, path: Path) -> DocumentEntry | None:
        return next((d for d in self.documents if d.file == path.name), None)


def load_manifest(directory: Path) -> Manifest:
    """The manifest in `directory`, or an empty one where the directory has none."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return Manifest()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        documents = tuple(DocumentEntry(**d) for d in data.get("documents", []))
        return Manifest(documents, _resolve(data.get("sources", [])))
    except (tomllib.TOMLDecodeError, TypeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not a valid manifest ({error}): fix the file.") from None


def _resolve(raw: list[dict[str, Any]]) -> tuple[Source, ...]:
    """Follow each "ibid" to the source it repeats; an ibid must point backwards."""
    by_n: dict[int, Source] = {}
    for item in sorted(raw, key=lambda s: s["n"]):
        n, ibid = item["n"], item.get("ibid")
        if ibid is None:
            resolved = n
            fields = {k: item.get(k) for k in ("title", "reference", "publisher", "url")}
        elif ibid in by_n and ibid < n:
            target = by_n[ibid]
            resolved = target.resolves_to
            fields = {k: getattr(target, k) for k in ("title", "reference", "publisher", "url")}
        else:
            raise ConfigError(f"Source [{n}] is ibid of [{ibid}], which does not precede it.")
        by_n[n] = Source(
            n=n,
            ibid=ibid,
            resolves_to=resolved,
            ambiguity=item.get("ambiguity"),
            also=tuple(item.get("also", ())),
            **fields,
        )
    return tuple(by_n.values())
