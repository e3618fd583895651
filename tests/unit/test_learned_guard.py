"""The guard with a learned verifier (a fake one here): one cited passage must support
the sentence, the precise checks still apply, and pairs are read in one batch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder

from assistant.guard.checks import precise_checks
from assistant.guard.claims import Claim
from assistant.guard.guard import GroundingGuard
from assistant.guard.verifier import load_verifier
from swguide.errors import ModelError
from swguide.settings import GuardSettings
from swguide.text import sentence_spans
from swguide.types import Chunk, Passage

POLICY = "Clinical social workers should share a social media policy with their clients."
BILLING = "Billing codes are listed in the agency's handbook."


class WordVerifier:
    """P(supported) = the share of the claim's words that the passage holds."""

    threshold = 0.8

    def __init__(self) -> None:
        self.calls: list[int] = []

    def probabilities(self, triples: Sequence[tuple[str, str, str]]) -> np.ndarray:
        self.calls.append(len(triples))
        out = []
        for claim, passage, _ in triples:
            words = {w.strip(".,").lower() for w in claim.split()}
            held = {w.strip(".,").lower() for w in passage.split()}
            out.append(len(words & held) / len(words))
        return np.array(out, dtype=np.float32)


def passage(n: int, text: str) -> Passage:
    spans = tuple(sentence_spans(text))
    return Passage(Chunk(f"c{n}", "d", "D", text, (), n, 0, len(text), spans), 1.0)


@pytest.fixture
def guard() -> GroundingGuard:
    return GroundingGuard(FakeEmbedder(), GuardSettings(), WordVerifier())


def test_one_cited_passage_must_support_the_sentence(guard: GroundingGuard) -> None:
    passages = [passage(1, BILLING), passage(2, POLICY)]
    check = guard.check(
        Claim("Social workers should share a social media policy.", (1, 2)), passages, ""
    )
    assert check.supported and check.score == 1.0
    assert guard.judge("Social workers should share a social media policy.", passages, "").best == 1
    spliced = "Social workers should share billing codes listed in the handbook."
    assert not guard.check(Claim(spliced, (1, 2)), passages, "").supported  # not from one


def test_the_precise_checks_still_apply(guard: GroundingGuard) -> None:
    cited = [passage(1, POLICY)]
    for text, reason in [
        ("Yes, clinical social workers should share a social media policy.", "yes or no"),
        ("Clinical social workers have to share a social media policy.", "obligation"),
        ("Clinical social workers should share a social media policy within 30 days.", "'30'"),
    ]:
        judged = guard.judge(text, cited, "")
        assert not judged.supported and any(reason in r for r in judged.reasons), text
    assert precise_checks("Staff should review it.", "Staff should review it.") == []


def test_many_sentences_are_read_in_one_batch(guard: GroundingGuard) -> None:
    verifier = guard._verifier
    assert isinstance(verifier, WordVerifier)
    cited = [passage(1, POLICY), passage(2, BILLING)]
    judged = guard.judge_many([(POLICY, cited, ""), (BILLING, cited, ""), ("Nothing.", cited, "")])
    assert [j.supported for j in judged] == [True, True, False]
    assert [j.best for j in judged[:2]] == [0, 1]
    assert verifier.calls == [6]
    assert guard.checker == "learned"
    assert GroundingGuard(FakeEmbedder(), GuardSettings()).checker == "heuristic"


def test_a_missing_verifier_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="make train-verifier"):
        load_verifier(FakeEmbedder(), tmp_path)


def test_the_precise_checks_read_what_the_passage_lacks_outright() -> None:
    passage = (
        "NASW has developed a Sample Social Media Policy. "
        "NASW, ASWB, CSWE and CSWA wrote the Technology Standards. "
        "Maintaining professional boundaries is essential."
    )
    cases = {
        "ASWB has developed a Sample Social Media Policy.": "name 'ASWB'",
        "It is acceptable to be friends with clients online.": "permission 'acceptable'",
        "Maintaining professional boundaries is optional.": "stance word 'option'",
        "NASW has developed a Sample Social Media Policy twice.": "number or frequency '2'",
    }
    for claim, reason in cases.items():
        assert any(reason in r for r in precise_checks(claim, passage)), claim
    for faithful in (
        "NASW has developed a Sample Social Media Policy.",
        "ASWB, CSWE and CSWA wrote the Technology Standards with NASW.",
        "Maintaining professional boundaries on LinkedIn is essential.",  # the question's
    ):
        assert precise_checks(faithful, passage, "Can I use LinkedIn?") == [], faithful
