"""`swguide check`: one line for each part that answering needs, and whether it works."""

from __future__ import annotations

from pathlib import Path

from assistant.build import open_store, store_location
from assistant.llm.select import automatic, probe_ollama
from ingest.embedding import RECORD, OnnxEmbedder, export_dir, file_sha256, model_id
from ingest.integrity import verify
from ingest.lock import writer_active
from ingest.screening import flag_reason, instruction_like
from swguide.errors import SwguideError
from swguide.settings import Settings
from swguide.types import DocumentRecord


def report(settings: Settings) -> tuple[list[str], bool]:
    """The report's lines, and whether anything can answer (the index is usable)."""
    index, records = _index(settings)
    index_ok = bool(records)
    model, model_ok = _embedding(settings)
    sources = _sources(settings, records) if index_ok else "sources: no index yet"
    probed = probe_ollama(settings.llm)
    choice = automatic(settings.llm, probed)
    lines = [
        index,
        sources,
        model,
        f"ollama: {probed.detail}",
        _gguf(settings.llm.gguf),
        _screening(settings) if index_ok else "screening: no index yet",
        _guard(settings),
        f"auto would choose: {choice.name} ({choice.reason})",
    ]
    return lines, index_ok and model_ok


def _index(settings: Settings) -> tuple[str, dict[str, DocumentRecord]]:
    """The index's line, and its document records (none when it is missing or empty)."""
    try:
        if not settings.chroma.host and settings.chroma_path.is_dir():
            busy = writer_active(settings.data_dir)  # mid-write files are not damage
            verify(settings.chroma_path, force=not busy)  # every vector read, in a child
        store = open_store(settings)
        records = store.records()
    except SwguideError as error:
        return f"index: {error}", {}
    chunks = sum(len(r.chunk_ids) for r in records.values())
    if not chunks:
        return f"index: empty in {store_location(settings)}: run `swguide ingest`", {}
    checked = "" if settings.chroma.host else ", every vector read back"
    return (
        f"index: {len(records)} documents, {chunks} chunks, embedding model "
        f"{model_id(settings.embedding)}, in {store_location(settings)} ({store.name}){checked}",
        records,
    )


def _screening(settings: Settings) -> str:
    """Which documents carry passages that read as instructions to an assistant."""
    store = open_store(settings)
    records = store.records()
    chunks = store.chunks([cid for r in records.values() for cid in r.chunk_ids])
    flagged: dict[str, list[str]] = {}
    for chunk in chunks:
        if hit := instruction_like(chunk.text):
            flagged.setdefault(chunk.document_id, []).append(hit)
    if not flagged:
        return "screening: no passage reads as instructions to an assistant"
    parts = [
        f"{records[doc].title} ({records[doc].path}): "
        f"{flag_reason(len(hits), len(records[doc].chunk_ids), hits[0])}"
        for doc, hits in sorted(flagged.items())
    ]
    return "screening: " + "; ".join(parts)


def _guard(settings: Settings) -> str:
    """Which checker decides support, and whether it can load."""
    from assistant.guard.verifier import shipped_record

    if settings.guard.checker == "heuristic":
        return (
            f"guard: heuristic checks (similarity >= {settings.guard.min_similarity}, word "
            f"coverage >= {settings.guard.min_coverage}); guard.checker = learned for the verifier"
        )
    try:
        record = shipped_record()
    except SwguideError as error:
        return f"guard: {error}"
    held = record["held"]
    return (
        f"guard: learned verifier, SHA-256 checked, threshold {record['threshold']} "
        f"(held: HaluEval balanced accuracy {held['halueval']:.3f}, the labelled pairs "
        f"{record['calibration_held']['balanced_accuracy']:.3f})"
    )


def _sources(settings: Settings, records: dict[str, DocumentRecord]) -> str:
    """Which of the article's numbered sources are in the index, and why not the others."""
    from ingest.fetch import records as fetch_records
    from ingest.manifest import load_manifest

    indexed = {r.source_number: r for r in records.values() if r.source_number}
    fetched = {r.n: r for r in fetch_records(settings.sources_dir)}
    parts = []
    for source in load_manifest(settings.corpus_path).sources:
        if source.ibid is not None:
            continue
        if source.n in indexed:
            parts.append(f"[{source.n}] in the index ({len(indexed[source.n].chunk_ids)} chunks)")
        elif source.n in fetched and fetched[source.n].ok:
            parts.append(f"[{source.n}] fetched, not ingested (run `swguide ingest`)")
        elif source.n in fetched:
            parts.append(f"[{source.n}] not fetched ({fetched[source.n].error})")
        else:
            parts.append(f"[{source.n}] not fetched (run `swguide corpus fetch`)")
    return "sources: " + "; ".join(parts)


def _embedding(settings: Settings) -> tuple[str, bool]:
    folder = export_dir(settings.embedding, settings.model_cache)
    if not (folder / RECORD).is_file():
        return (
            f"embedding model: not prepared yet in {folder}: the first `swguide ingest` or "
            "`swguide ask` prepares it (about 10 s)"
        ), True
    try:
        OnnxEmbedder(folder)
    except SwguideError as error:
        return f"embedding model: {error}", False
    return (
        f"embedding model: {model_id(settings.embedding)} ready in {folder} (SHA-256 checked)",
        True,
    )


def _gguf(path: Path | None) -> str:
    if path is None:
        return "llama.cpp: no GGUF file configured (set llm.gguf, or use --llm llamacpp:PATH)"
    if not path.is_file():
        return f"llama.cpp: the GGUF file {path} does not exist: fix llm.gguf"
    size = path.stat().st_size / 1e6
    return f"llama.cpp: {path} ({size:.0f} MB, SHA-256 {file_sha256(path)})"
