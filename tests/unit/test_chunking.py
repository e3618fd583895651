"""Chunks: exact spans, sentence boundaries, stable ids, provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import corpus
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.manifest import load_manifest
from swguide.settings import ChunkingSettings

ARTICLE = corpus.DIRECTORY / "tips-for-social-media-etiquette.md"


def words(text: str) -> int:
    return len(text.split())


def chunks_of(path: Path, max_tokens: int = 230, min_tokens: int = 24, **kw: Any) -> list[Any]:
    doc = load_document(path, 10_000_000)
    settings = ChunkingSettings(max_tokens=max_tokens, min_tokens=min_tokens)
    return chunk_document(doc, "doc", doc.title, settings, words, **kw)


def test_chunks_are_exact_sentence_bounded_slices() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    chunks = chunks_of(ARTICLE, max_tokens=90)
    assert len(chunks) > 10  # paragraphs were split
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.sentences[0][0] == 0 and chunk.sentences[-1][1] == len(chunk.text)
        assert chunk.text[0].isupper()
        assert words(chunk.text) <= 90


def test_article_paragraphs_become_chunks_with_their_sources() -> None:
    sources = load_manifest(corpus.DIRECTORY).sources
    chunks = chunks_of(
        ARTICLE,
        sources=sources,
        byline="Denise Johnson, LCSW-C, Senior Practice Associate, Clinical Social Work",
    )
    assert len(chunks) == 8
    assert not any("Denise Johnson" in c.text or "Ventola" in c.text for c in chunks)
    by_section = {c.section: c for c in chunks}
    assert by_section["Introduction"].footnotes == (1,)
    assert by_section["Confidentiality and Privacy"].footnotes == (3,)
    assert by_section["Confidentiality and Privacy"].sources == (2,)
    assert by_section["Avoid Biases"].sources == (5,)
    assert [c.paragraph_index for c in chunks] == sorted(c.paragraph_index for c in chunks)
    assert chunks[0].heading_path == ("Tips for Social Media Etiquette in Social Work Practice",)


def test_long_paragraph_is_split_into_balanced_parts(write: Any) -> None:
    sentence = "Clinical social workers should keep a clear boundary online. "
    path = write("long.md", "# T\n\n## S\n\n" + sentence * 30)
    chunks = chunks_of(path, max_tokens=60)
    sizes = [words(c.text) for c in chunks]
    assert sizes == [54] * 5  # 270 words, budget 57 after the heading: 5 even parts
    assert all(c.section == "S" for c in chunks)


def test_overlong_sentence_is_cut_at_spaces(write: Any) -> None:
    path = write("runon.txt", "word " * 300)
    chunks = chunks_of(path, max_tokens=50)
    assert len(chunks) >= 7 and all(words(c.text) <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == ["word"] * 300


def test_short_paragraph_joins_the_next(write: Any) -> None:
    path = write("s.md", "# T\n\nShort note.\n\n" + "A much longer paragraph follows here. " * 8)
    chunks = chunks_of(path, max_tokens=100, min_tokens=5)
    assert len(chunks) == 1 and chunks[0].text.startswith("Short note.")


def test_ids_are_content_addressed(write: Any) -> None:
    path = write("a.md", "# T\n\nSame text here, long enough.\n\nSame text here, long enough.\n")
    first = chunks_of(path, min_tokens=0)
    again = chunks_of(path, min_tokens=0)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == 2
    path.write_text("# T\n\nNew opening paragraph.\n\nSame text here, long enough.\n")
    edited = chunks_of(path, min_tokens=0)
    assert edited[1].id == first[0].id
