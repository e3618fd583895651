"""Explicit construction: the one place that turns settings into working parts."""

from __future__ import annotations

import sys

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.generative import GenerativeAnswerer
from assistant.followup import FollowUps
from assistant.guard.guard import GroundingGuard
from assistant.llm.select import Choice, choose
from assistant.retrieval.examples import ExampleQuestions
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.query import Lexicon
from assistant.service import Answerer, Assistant
from ingest.embedding import CachedEmbedder, load_embedder, model_id
from ingest.integrity import settle, verify
from ingest.store import ChunkStore, collection_name, connect
from swguide.errors import IndexMissingError
from swguide.protocols import Embedder
from swguide.settings import Settings


def store_location(settings: Settings) -> str:
    if settings.chroma.host:
        return f"the Chroma server at {settings.chroma.host}:{settings.chroma.port}"
    return str(settings.chroma_path)


def open_store(settings: Settings, create: bool = False) -> ChunkStore:
    """The chunk store; an embedded one is verified first (ingest.integrity)."""
    embedded = not settings.chroma.host
    if embedded and settings.chroma_path.is_dir():
        verify(settings.chroma_path, reader=not create)
    elif embedded and not create:
        raise IndexMissingError(
            f"No index found in {settings.chroma_path}: run `swguide ingest` first."
        )
    client = connect(settings.chroma, settings.chroma_path)
    name = collection_name(model_id(settings.embedding), settings.chunking)
    store = ChunkStore.open(client, name, store_location(settings), create=create)
    if embedded:
        settle(settings.chroma_path, store.touch)
    return store


def build_embedder(settings: Settings) -> CachedEmbedder:
    return CachedEmbedder(load_embedder(settings.embedding, settings.model_cache, notify=_tell))


def _tell(message: str) -> None:
    print(message, file=sys.stderr)


def build_assistant(
    settings: Settings,
    embedder: Embedder | None = None,
    llm: str | None = None,
    choice: Choice | None = None,
) -> Assistant:
    """The assistant the settings describe; `llm` overrides llm.backend (--llm)."""
    store = open_store(settings)
    embedder = embedder or build_embedder(settings)
    lexicon = Lexicon.load(settings.lexicon_path)
    examples = ExampleQuestions.load(settings.examples_path, embedder, settings.cache_dir)
    retriever = HybridRetriever(
        store, embedder, settings.retrieval, lexicon, settings.cache_dir, examples
    )
    extractive = ExtractiveAnswerer(embedder, settings.answer, examples)
    choice = choice or choose(settings.llm, llm)
    answerer: Answerer = extractive
    if choice.generator is not None:
        guard = build_guard(settings, embedder)
        answerer = GenerativeAnswerer(
            choice.generator, guard=guard, extractive=extractive, settings=settings
        )
    return Assistant(
        retriever,
        extractive=extractive,
        limits=settings.limits,
        answerer=answerer,
        follow_ups=FollowUps(choice.generator),
        backend_reason=choice.reason,
        settings_hash=answer_fingerprint(settings),
    )


def answer_fingerprint(settings: Settings) -> str:
    """The settings' hash, the prompt's included: what the answers' `settings_hash` is."""
    from assistant.answer.prompt import PROMPT_SHA256

    return settings.fingerprint(PROMPT_SHA256)


def build_guard(settings: Settings, embedder: Embedder) -> GroundingGuard:
    """The grounding guard `guard.checker` names: the learned verifier (its files checked
    against their SHA-256) or the heuristic checks."""
    from assistant.guard.verifier import load_verifier

    verifier = load_verifier(embedder) if settings.guard.checker == "learned" else None
    return GroundingGuard(embedder, settings.guard, verifier)
