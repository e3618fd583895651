"""Ingest against Chroma on disk with the real model: idempotent, incremental, atomic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.build import open_store
from assistant.retrieval.examples import ExampleQuestions
from assistant.retrieval.hybrid import HybridRetriever
from ingest.embedding import CachedEmbedder
from ingest.pipeline import ingest, remove_documents
from ingest.store import collection_name
from swguide.settings import ChunkingSettings

pytestmark = pytest.mark.slow

POLICY = (
    "# Agency policy\n\n## Friend requests\n\n"
    "Staff must not accept friend requests from current clients on any platform.\n\n"
    "## Photographs\n\n"
    "Staff should never post photographs taken inside the agency building.\n"
)
RECORDS = "# Records\n\nElectronic records of client contact are kept for seven years.\n"


def stored(settings: Any) -> dict[str, str]:
    store = open_store(settings)
    return {c.id: c.text for c in store.chunks()}


def test_ingest_twice_changes_nothing(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    folder = write("policy.md", POLICY).parent
    first = ingest([folder], open_store(settings, create=True), embedder, settings)
    ids = stored(settings)
    second = ingest([folder], open_store(settings), embedder, settings)
    assert (first.added, first.unchanged) == (2, 0)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 2)
    assert stored(settings) == ids


def test_edits_replace_only_what_changed(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    path = write("policy.md", POLICY)
    store = open_store(settings, create=True)
    ingest([path.parent], store, embedder, settings)
    before = stored(settings)
    edited = POLICY.replace(
        "## Friend requests",
        "## Purpose\n\nThis policy sets out how staff use social media.\n\n## Friend requests",
    )
    path.write_text(edited.replace("building.", "building or car."))
    report = ingest([path.parent], store, embedder, settings)
    after = stored(settings)
    assert report.removed == 1 and report.added == 2 and report.unchanged == 0
    assert report.updated == 1  # same text, new position: metadata only, same vector
    kept = set(before) & set(after)
    assert len(kept) == 1 and "friend requests" in after[kept.pop()]
    assert not any("building." in t for t in after.values())
    assert len(store.records()["policy"].chunk_ids) == len(after)


def test_removed_document_disappears(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    policy = write("policy.md", POLICY)
    write("records.md", RECORDS)
    store = open_store(settings, create=True)
    ingest([policy.parent], store, embedder, settings)
    policy.unlink()
    report = ingest([policy.parent], store, embedder, settings)
    assert report.removed == 2 and report.unchanged == 1
    assert set(store.records()) == {"records"}
    assert all("Staff" not in text for text in stored(settings).values())


def test_remove_by_id_or_path(make_settings: Any, embedder: CachedEmbedder, write: Any) -> None:
    settings = make_settings()
    policy, records = write("policy.md", POLICY), write("records.md", RECORDS)
    store = open_store(settings, create=True)
    ingest([policy, records], store, embedder, settings)
    report = remove_documents(["policy", str(records), "unknown"], store)
    assert report.removed == 3
    assert report.skipped == (("unknown", "is not in the index: see `swguide ingest --list`"),)
    assert store.records() == {} and stored(settings) == {}


def test_bad_documents_are_skipped_and_leave_nothing(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings(limits={"max_document_bytes": 2000})
    good = write("good.md", POLICY)
    write("empty.md", "")
    write("binary.txt", b"\x00\xff" * 50)
    write("huge.md", "word " * 1000)
    write("latin.txt", "caf\xe9".encode("latin-1"))
    report = ingest(
        [good.parent, good.parent / "missing.pdf"],
        open_store(settings, create=True),
        embedder,
        settings,
    )
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert set(reasons) == {"empty.md", "binary.txt", "huge.md", "latin.txt", "missing.pdf"}
    assert report.documents == 1
    assert set(open_store(settings).records()) == {"good"}


def test_interrupted_write_is_invisible_and_cleaned(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    folder = write("policy.md", POLICY).parent
    store = open_store(settings, create=True)
    ingest([folder], store, embedder, settings)
    orphan = store._chunks  # a chunk written by an ingest that died before its commit
    orphan.add(
        ids=["orphan"],
        embeddings=embedder.embed(["Staff must not"]),
        documents=["Staff must not accept anything at all."],
        metadatas=[{"document_id": "policy"}],
    )
    retriever = HybridRetriever(store, embedder, settings.retrieval)
    found = retriever.retrieve("Staff must not accept")
    assert "orphan" not in {p.chunk.id for p in found.passages}
    report = ingest([folder], store, embedder, settings)
    assert report.removed == 1 and "orphan" not in store.stored_times()


def test_collection_name_follows_model_and_chunking() -> None:
    a = collection_name("m@1", ChunkingSettings())
    assert a == collection_name("m@1", ChunkingSettings())
    assert a != collection_name("m@2", ChunkingSettings())
    assert a != collection_name("m@1", ChunkingSettings(max_tokens=100))


def test_vectors_are_stored_for_the_embedded_text(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    ingest([write("records.md", RECORDS)], open_store(settings, create=True), embedder, settings)
    got = open_store(settings)._chunks.get(include=["embeddings", "documents"])
    documents = got["documents"]
    assert documents is not None
    expected = embedder.embed([f"Records\n\n{documents[0]}"])
    assert np.allclose(np.asarray(got["embeddings"]), expected, atol=1e-5)


def test_deleted_files_and_folders_leave_the_index(
    make_settings: Any, embedder: CachedEmbedder, write: Any, tmp_path: Path
) -> None:
    settings = make_settings()
    single = write("single.md", RECORDS)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "policy.md").write_text(POLICY)
    store = open_store(settings, create=True)
    ingest([single, folder], store, embedder, settings)
    single.unlink()
    (folder / "policy.md").unlink()
    folder.rmdir()
    report = ingest([single, folder], store, embedder, settings)
    assert report.removed == 3 and not report.skipped
    assert store.records() == {}


def test_a_moved_folder_keeps_its_ids_and_vectors(
    make_settings: Any, embedder: CachedEmbedder, tmp_path: Path
) -> None:
    settings = make_settings()
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    (old / "policy.md").write_text(POLICY)
    store = open_store(settings, create=True)
    ingest([old], store, embedder, settings)
    ids = set(store.records()["policy"].chunk_ids)
    old.rename(new)
    report = ingest([new], store, embedder, settings)
    assert (report.added, report.removed, report.unchanged) == (0, 0, 2)
    record = store.records()["policy"]
    assert set(record.chunk_ids) == ids and record.path == str(new / "policy.md")


def test_clashing_names_get_distinct_ids(
    make_settings: Any, embedder: CachedEmbedder, tmp_path: Path
) -> None:
    settings = make_settings()
    for name in ("f1/policy.md", "f2/policy.md", "caps/A.md", "caps/a.md", "intl/é.md"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n\nText of {name} about social media policy for clients.\n")
    store = open_store(settings, create=True)
    folders = [tmp_path / f for f in ("f1", "f2", "caps", "intl")]
    report = ingest(folders, store, embedder, settings)
    assert report.documents == 5 and not report.skipped
    ids = set(store.records())
    assert len(ids) == 5 and "é" in ids and "policy" in ids
    again = ingest(folders, store, embedder, settings)
    assert again.unchanged == again.documents == 5 and set(store.records()) == ids


def test_a_document_with_no_passages_is_skipped(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    path = write("refs.md", "# Title\n\n## References\n\n[1] Somebody, 2020.\n")
    report = ingest([path], open_store(settings, create=True), embedder, settings)
    assert report.documents == 0
    assert report.skipped[0][1].startswith("has no passages to index")


def test_recent_unlisted_chunks_survive_another_ingest(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    """Chunks written moments ago may belong to an ingest still running elsewhere."""
    import time

    settings = make_settings()
    folder = write("policy.md", POLICY).parent
    store = open_store(settings, create=True)
    ingest([folder], store, embedder, settings)
    store._chunks.add(
        ids=["in-flight"],
        embeddings=embedder.embed(["x"]),
        documents=["x"],
        metadatas=[{"document_id": "other", "written": time.time()}],
    )
    report = ingest([folder], store, embedder, settings)
    assert report.removed == 0 and "in-flight" in store.stored_times()


def test_reads_are_batched(
    make_settings: Any, embedder: CachedEmbedder, write: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()
    ingest([write("policy.md", POLICY)], open_store(settings, create=True), embedder, settings)
    monkeypatch.setattr("ingest.store.GET_BATCH", 1)
    store = open_store(settings)
    ids = list(store.records()["policy"].chunk_ids)
    assert [c.id for c in store.chunks(ids)] == ids


def test_a_running_retriever_sees_new_documents(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    ingest([write("policy.md", POLICY)], open_store(settings, create=True), embedder, settings)
    retriever = HybridRetriever(open_store(settings), embedder, settings.retrieval)
    assert "records" not in retriever.current().records
    ingest([write("records.md", RECORDS)], open_store(settings), embedder, settings)
    found = retriever.retrieve("How long are electronic records of client contact kept?")
    assert found.passages[0].chunk.document_id == "records"


def test_passages_answering_the_closest_example_questions_rank_higher(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    settings = make_settings()
    ingest([write("policy.md", POLICY)], open_store(settings, create=True), embedder, settings)
    question = "A client sent me a friend request. Can I accept it?"
    photographs = "Staff should never post photographs taken inside the agency building."
    examples = ExampleQuestions(
        ["Can I accept a client's friend request?", "Should I friend clients?", "Any rules?"],
        ["What is the weather?", "Tell me a joke.", "What time is it?"],
        embedder,
        [(photographs,)] * 3,  # deliberately the other passage, to see the ranking follow it
    )
    plain, guided = (
        {
            p.chunk.text: p.score
            for p in HybridRetriever(open_store(settings), embedder, settings.retrieval, examples=e)
            .retrieve(question)
            .passages
        }
        for e in (None, examples)
    )
    first = 1 / (settings.retrieval.rrf_k + 1)  # reciprocal rank fusion, first place
    assert guided[photographs] == pytest.approx(plain[photographs] + first)
    friends = next(t for t in plain if "friend requests" in t)
    assert guided[friends] == plain[friends] and plain[friends] > plain[photographs]
