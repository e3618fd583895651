"""The llama-index adapter: same passages, and llama-index's globals never touched."""

from __future__ import annotations

import pytest

from assistant.service import Assistant
from evals.calibrate import load_gold_sections, retrieval_scores

pytestmark = pytest.mark.slow


def test_adapter_returns_our_passages_in_order(assistant: Assistant) -> None:
    from llama_index.core import Settings

    from assistant.retrieval.llamaindex import LlamaIndexRetriever

    question = "Should I share a social media policy with clients?"
    nodes = LlamaIndexRetriever(assistant.retriever).retrieve(question)
    ours = assistant.retriever.retrieve(question).passages
    assert [n.node.node_id for n in nodes] == [p.chunk.id for p in ours]
    assert nodes[0].node.metadata["section"] == ours[0].chunk.section
    assert Settings._llm is None and Settings._embed_model is None


def test_retrieval_scores_by_llamaindex_evaluator(assistant: Assistant) -> None:
    from llama_index.core import Settings

    scores = retrieval_scores(assistant, load_gold_sections())
    assert scores["hit_rate"] >= 0.9
    assert 0.5 <= scores["mrr"] <= 1.0
    assert Settings._llm is None and Settings._embed_model is None
