"""What the learned verifier reads of a claim against a passage (with bag-of-words fake
vectors here): a quote lines up everywhere, and each kind of change moves its own
feature."""

from __future__ import annotations

import numpy as np
from conftest import FakeEmbedder

from assistant.guard.features import FLAGS, NAMES, features, warm

PASSAGE = (
    "Clinical social workers should share a social media policy with their clients. "
    "The policy should be discussed during the initial interview."
)
QUOTE = "Clinical social workers should share a social media policy with their clients."


def row(claim: str, question: str = "") -> dict[str, float]:
    values = features([(claim, PASSAGE, question)], FakeEmbedder())[0]
    return dict(zip(NAMES, values.tolist(), strict=True))


def test_a_quote_lines_up_everywhere() -> None:
    quote = row(QUOTE)
    assert quote["similarity"] > 0.99 and quote["coverage"] == 1.0
    assert quote["pair_coverage"] == 1.0 and quote["soft_coverage"] == 1.0
    assert quote["missing"] == 0.0 and not any(quote[f] for f in FLAGS)


def test_each_change_moves_its_own_feature() -> None:
    assert row("Clinical social workers should share a LinkedIn policy with clients.")["name"]
    assert row("Social workers should share the policy within 30 days.")["number"]
    assert row("Yes, social workers should share a social media policy.")["verdict"]
    assert row("Social workers have to share a social media policy.")["obligation"]
    assert row("Social workers should not share a social media policy.")["negation"]
    added = row("Clinical social workers should share a billing ledger with their clients.")
    assert added["missing"] > 0 and added["coverage"] < 1.0 and added["pair_coverage"] < 1.0


def test_words_the_question_supplies_are_counted_apart() -> None:
    asked = row("Social workers should share a policy on Instagram.", "What about Instagram?")
    assert asked["question_words"] == 1.0
    assert row("Social workers should share a policy on Instagram.")["question_words"] == 0.0


def test_rows_come_in_the_order_asked_and_warm_caches_the_passage() -> None:
    embedder = FakeEmbedder()
    warm([PASSAGE], embedder)
    table = features([(QUOTE, PASSAGE, ""), ("Nothing here at all.", PASSAGE, "")], embedder)
    assert table.shape == (2, len(NAMES)) and table.dtype == np.float32
    assert table[0, NAMES.index("coverage")] > table[1, NAMES.index("coverage")]
