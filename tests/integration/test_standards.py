"""The linked standards: fetched from a (local) publisher, parsed into numbered clauses,
cited by clause id, and linked from the article's footnotes."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from publishers import CODE, TECHNOLOGY, Publisher, html_page, journal_page, pdf_bytes, serve

import corpus
from assistant.build import build_assistant, open_store
from ingest.embedding import CachedEmbedder
from ingest.fetch import fetch_sources, records
from ingest.manifest import load_manifest
from ingest.pipeline import ingest
from swguide.settings import FetchSettings, Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Publisher]:
    code = pdf_bytes("Example Code of Ethics", CODE, tmp_path / "code.pdf")
    technology = html_page("Example Technology Standards", TECHNOLOGY).encode()
    routes = {
        "/technology": (200, "text/html; charset=utf-8", technology, 0.0),
        "/code.pdf": (200, "application/pdf", code, 0.0),
        "/journal": (200, "text/html", journal_page().encode(), 0.0),
        "/slow": (200, "text/html", technology, 3.0),
        "/plain": (200, "text/plain", b"just text", 0.0),
        "/huge": (200, "text/html", b"<p>x</p>" * 200_000, 0.0),
        "/flaky": (200, "text/html", technology, 0.0),
        "/fake.pdf": (200, "application/pdf", b"<html>not a pdf</html>", 0.0),
    }
    with serve(Publisher(routes)) as server:
        yield server


def corpus_with(tmp_path: Path, addresses: dict[int, str]) -> Path:
    """The bundled corpus, its sources' addresses pointed at the local publisher."""
    folder = tmp_path / "corpus"
    shutil.copytree(corpus.DIRECTORY, folder, ignore=shutil.ignore_patterns("__*"))
    text = (folder / "sources.toml").read_text()
    for n, url in addresses.items():
        text = re.sub(rf'(n = {n}\n(?:.*\n)*?url = )"[^"]*"', rf'\g<1>"{url}"', text, count=1)
    (folder / "sources.toml").write_text(text)
    return folder


def fetched(tmp_path: Path, publisher: Publisher, settings: Settings) -> Path:
    folder = corpus_with(
        tmp_path,
        {
            1: publisher.url("/journal"),
            2: publisher.url("/technology"),
            5: publisher.url("/code.pdf"),
        },
    )
    fetch_sources(load_manifest(folder), settings.sources_dir, FetchSettings(), 5_000_000)
    return folder


def sections(settings: Settings, document_id: str) -> list[str]:
    store = open_store(settings)
    chunks = store.chunks(store.records()[document_id].chunk_ids)
    return [c.section for c in chunks]


def test_fetch_records_what_happened(tmp_path: Path, publisher: Publisher) -> None:
    folder = corpus_with(
        tmp_path,
        {1: publisher.url("/missing"), 2: publisher.url("/slow"), 5: publisher.url("/plain")},
    )
    cache = tmp_path / "cache"
    manifest = load_manifest(folder)
    results = fetch_sources(manifest, cache, FetchSettings(timeout=1.0, retries=1), 1_000_000)
    reasons = {r.n: r.error for r in results}
    assert reasons == {
        1: "the server answered 404",
        2: "the server did not answer in time",
        5: "the server sent text/plain, not HTML or PDF",
    }
    assert publisher.hits["/missing"] == 1 and publisher.hits["/slow"] == 2  # one retry
    for path, route, expected in (
        ("/huge", 1, "over the 1.0 MB limit"),
        ("/fake.pdf", 2, "labelled a PDF but is not one"),
    ):
        folder = corpus_with(tmp_path / path.strip("/"), {route: publisher.url(path)})
        (result,) = [
            r
            for r in fetch_sources(load_manifest(folder), cache, FetchSettings(), 1_000_000)
            if r.n == route
        ]
        assert expected in (result.error or "")
    assert [r.n for r in records(cache)] == [1, 2, 5]
    assert not list(cache.glob("source-*.html")) and not list(cache.glob("source-*.pdf"))


def test_a_good_fetch_and_a_failed_refetch(tmp_path: Path, publisher: Publisher) -> None:
    folder = corpus_with(tmp_path, {2: publisher.url("/flaky"), 5: publisher.url("/code.pdf")})
    cache = tmp_path / "cache"
    first = {
        r.n: r for r in fetch_sources(load_manifest(folder), cache, FetchSettings(), 5_000_000)
    }
    assert first[2].ok and publisher.hits["/flaky"] == 2  # a 503, then a retry
    assert first[5].content_type == "application/pdf"
    saved = (cache / "source-5.pdf").read_bytes()
    assert first[5].bytes == len(saved) and first[5].status == 200
    assert len(first[5].sha256 or "") == 64
    publisher.routes.pop("/code.pdf")
    again = {
        r.n: r for r in fetch_sources(load_manifest(folder), cache, FetchSettings(), 5_000_000)
    }
    assert again[5].error == "the server answered 404"
    assert (cache / "source-5.pdf").read_bytes() == saved  # nothing lost
    documents = {d.id: d for d in load_manifest(cache).documents}
    assert documents["source-5"].source == 5 and documents["source-5"].file == "source-5.pdf"


def test_standards_become_clause_level_chunks(
    make_settings: Any, embedder: CachedEmbedder, tmp_path: Path, publisher: Publisher
) -> None:
    settings = make_settings()
    fetched(tmp_path, publisher, settings)
    report = ingest([settings.sources_dir], open_store(settings, create=True), embedder, settings)
    assert report.documents == 3 and not report.skipped
    technology = sections(settings, "source-2")
    assert technology == [
        "2.06(a) Boundaries Online",
        "2.06(b) Boundaries Online",
        "2.06(c) Boundaries Online",
        "2.07 Searching for Clients Online",
    ]
    code = sections(settings, "source-5")  # from the PDF
    assert code == ["1.01 Commitment to the People Served"] + [
        f"1.06({x}) Conflicts of Interest" for x in "abcde"
    ]
    assert sections(settings, "source-1") == ["Abstract", "Methods", "Results"]
    texts = " ".join(c.text for c in open_store(settings).chunks())
    for noise in ("cookies", "Copyright", "Shop", "First Street", "Journal home"):
        assert noise not in texts


def test_an_answer_from_a_standard_cites_its_clause(
    corpus_settings: Settings,
    make_settings: Any,
    embedder: CachedEmbedder,
    tmp_path: Path,
    publisher: Publisher,
) -> None:
    settings = make_settings()
    folder = fetched(tmp_path, publisher, settings)
    ingest([folder, settings.sources_dir], open_store(settings, create=True), embedder, settings)
    assistant = build_assistant(settings, embedder, llm="extractive")
    answer = assistant.ask(
        "Should I avoid personal contact with the people I serve on social networking sites?"
    )
    cited = {c.passage.chunk.section: c for c in answer.citations}
    assert "1.06(e) Conflicts of Interest" in cited
    clause = cited["1.06(e) Conflicts of Interest"].to_dict()
    assert clause["source_number"] == 5 and clause["document"].startswith("NASW Code")
    assert clause["text"].startswith("(e) Members should avoid personal contact")


def test_article_footnotes_bring_in_the_standard_they_cite(
    make_settings: Any, embedder: CachedEmbedder, tmp_path: Path, publisher: Publisher
) -> None:
    settings = make_settings()
    folder = fetched(tmp_path, publisher, settings)
    ingest([folder, settings.sources_dir], open_store(settings, create=True), embedder, settings)
    assistant = build_assistant(settings, embedder, llm="extractive")
    passages = assistant.retriever.retrieve("What should my social media policy cover?").passages
    article = [p for p in passages if p.chunk.document_id == "tips-for-social-media-etiquette"]
    linked = [p for p in passages if p.via is not None]
    assert article and linked
    code = next(p for p in linked if p.chunk.document_id == "source-5")
    assert code.via == 5 and code.chunk.section.startswith("1.0")
    citing = passages[passages.index(code) - 1]  # right after the passage that cites it
    assert citing.chunk.document_id == "tips-for-social-media-etiquette"
    assert 5 in citing.chunk.sources and code.to_dict()["via_source"] == 5
    friend = assistant.ask("Can I accept a client's friend request?")
    assert "2.06(a) Boundaries Online" in {c.passage.chunk.section for c in friend.citations}


def test_fetch_and_check_through_the_cli(
    make_settings: Any, tmp_path: Path, publisher: Publisher
) -> None:
    folder = corpus_with(
        tmp_path,
        {1: "http://127.0.0.1:9/x", 2: publisher.url("/technology"), 5: publisher.url("/gone")},
    )
    settings = make_settings(corpus_dir=folder)
    result = run_cli(["corpus", "fetch"], settings, SWGUIDE_CORPUS_DIR=str(folder))
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("source [1] Social media and health care professionals")
    assert "not fetched, the server could not be reached" in lines[0]
    assert (
        lines[1].startswith("source [2] NASW, ASWB, CSWE & CSWA Standards")
        and "fetched" in lines[1]
    )
    assert "not fetched, the server answered 404" in lines[2]
    assert run_cli(["ingest"], settings, SWGUIDE_CORPUS_DIR=str(folder)).returncode == 0
    check = run_cli(["check"], settings, SWGUIDE_CORPUS_DIR=str(folder), OLLAMA_HOST="127.0.0.1:9")
    sources = check.stdout.decode().splitlines()[1]
    assert sources.startswith("sources: [1] not fetched (the server could not be reached")
    assert "[2] in the index (4 chunks)" in sources  # 2.06(a)-(c) and 2.07
    assert "[5] not fetched (the server answered 404)" in sources


def test_user_documents_with_a_label(
    corpus_settings: Settings, make_settings: Any, tmp_path: Path
) -> None:
    settings = make_settings()
    assert run_cli(["ingest"], settings).returncode == 0
    policy = tmp_path / "agency-social-media-policy.pdf"
    pdf_bytes(
        "Social media",
        [
            (
                "Staff accounts",
                ["Staff must never accept friend requests from clients on any platform."],
            )
        ],
        policy,
    )
    added = run_cli(["ingest", str(policy), "--label", "Agency policy"], settings)
    assert added.returncode == 0, added.stderr
    asked = run_cli(
        ["ask", "--json", "--llm", "extractive", "Can staff accept friend requests from clients?"],
        settings,
    )
    documents = {c["document"] for c in json.loads(asked.stdout)["citations"]}
    assert "Agency policy" in documents
    removed = run_cli(["ingest", "--remove", str(policy)], settings)
    assert removed.returncode == 0 and "removed" in removed.stdout.decode()
    listing = run_cli(["ingest", "--list"], settings).stdout.decode()
    assert "Agency policy" not in listing
    both = run_cli(["ingest", str(policy), str(policy), "--label", "x"], settings)
    assert both.returncode == 2 and "--label names one document" in both.stderr.decode()
