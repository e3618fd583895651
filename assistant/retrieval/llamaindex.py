"""Our retriever as a llama-index retriever, for llama-index's evaluators and pipelines.

Constructed explicitly from our parts: nothing here reads or sets llama-index's global
`Settings`, so no default LLM or embedding model is ever resolved (or downloaded).
Kept out of the CLI's import path: llama-index costs about a second to import.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.retrieval.hybrid import HybridRetriever
from swguide.types import Passage


def to_node(passage: Passage) -> NodeWithScore:
    chunk = passage.chunk
    node = TextNode(
        id_=chunk.id,
        text=chunk.text,
        metadata={
            "document_id": chunk.document_id,
            "document": chunk.document_title,
            "section": chunk.section,
            "start": chunk.start,
            "end": chunk.end,
            "footnotes": list(chunk.footnotes),
        },
    )
    return NodeWithScore(node=node, score=passage.score)


class LlamaIndexRetriever(BaseRetriever):
    """`HybridRetriever` behind llama-index's `BaseRetriever` template method."""

    def __init__(self, retriever: HybridRetriever, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hybrid = retriever

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = self._hybrid.retrieve(query_bundle.query_str)
        return [to_node(p) for p in found.passages]
