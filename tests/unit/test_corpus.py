"""The bundled article keeps the original text; its manifest resolves the footnotes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import corpus
from ingest.manifest import load_manifest
from ingest.structure import markdown_blocks
from swguide.errors import ConfigError

ARTICLE = corpus.DIRECTORY / "tips-for-social-media-etiquette.md"
SHARED = corpus.DIRECTORY.parent.parent / "shared" / "corpus"
ORIGINAL = SHARED / "tips-for-social-media-etiquette.txt"
SECTIONS = [
    "Professional Conduct",
    "Confidentiality and Privacy",
    "Professional Boundaries",
    "Avoid Biases",
    "Seek Professional Support",
    "Develop a Social Media Policy",
    "References",
]


def test_article_structure() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    blocks = markdown_blocks(text)
    assert blocks[0].level == 1
    assert blocks[0].text == "Tips for Social Media Etiquette in Social Work Practice"
    assert [b.text for b in blocks if b.level == 2] == SECTIONS
    assert "sharp pencil" not in text
    body = text.split("## References")[0]
    assert re.findall(r"\[(\d)\]", body) == list("123456")
    for n in range(1, 7):
        assert f'<a id="ref-{n}"></a>[{n}]' in text
        assert f"[{n}]: #ref-{n}" in text


def rebuilt_original() -> str:
    """The article's text as handed to us, rebuilt from the Markdown's blocks."""
    blocks = markdown_blocks(ARTICLE.read_text(encoding="utf-8"))
    kept = [re.sub(r'^<a id="ref-\d"></a>', "", b.text) for b in blocks if b.text != "References"]
    return "\n\n".join(kept)


def test_paragraphs_are_exactly_as_written() -> None:
    entry = load_manifest(corpus.DIRECTORY).entry_for(ARTICLE)
    assert entry is not None and entry.text_sha256
    rebuilt = rebuilt_original()
    assert hashlib.sha256(rebuilt.encode()).hexdigest() == entry.text_sha256
    assert len(rebuilt.split("\n\n")) == 22  # title, byline, 8 paragraphs, 6 headings, 6 refs


@pytest.mark.skipif(not ORIGINAL.is_file(), reason="the shared original is not beside the repo")
def test_recorded_hashes_match_the_shared_original() -> None:
    entry = load_manifest(corpus.DIRECTORY).entry_for(ARTICLE)
    assert entry is not None
    data = ORIGINAL.read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry.original_sha256
    without_alt_text = "\n".join(data.decode().split("\n")[2:]).strip()
    assert without_alt_text == rebuilt_original()


def test_manifest_resolves_ibid_and_keeps_the_ambiguity() -> None:
    manifest = load_manifest(corpus.DIRECTORY)
    by_n = {s.n: s for s in manifest.sources}
    assert sorted(by_n) == [1, 2, 3, 4, 5, 6]
    assert [by_n[n].resolves_to for n in range(1, 7)] == [1, 2, 2, 2, 5, 5]
    assert by_n[4].title == by_n[2].title and by_n[4].ibid == 3
    assert by_n[6].ambiguity and by_n[6].also == (2,)
    assert all(s.url and s.url.startswith("https://") for s in manifest.sources)
    entry = manifest.entry_for(ARTICLE)
    assert entry is not None and entry.footnotes


def test_ibid_must_point_backwards(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text("[[sources]]\nn = 1\nibid = 2\n")
    with pytest.raises(ConfigError, match="does not precede"):
        load_manifest(tmp_path)
