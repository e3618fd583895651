"""The grounding guard: perturbed sentences are caught, faithful ones pass."""

from __future__ import annotations

import pytest

from assistant.guard.claims import parse_claims
from assistant.guard.guard import GroundingGuard
from assistant.guard.verifier import load_verifier
from assistant.service import Assistant
from swguide.settings import GuardSettings
from swguide.types import Passage

pytestmark = pytest.mark.slow
QUESTION = "Can I accept a client's LinkedIn request?"
OPENINGS = [
    "Establishing and maintaining",  # [1] Professional Boundaries
    "Lastly, NASW",  # [2] Develop a Social Media Policy
    "In addition to the professional",  # [3] Avoid Biases
    "Upholding the ethical",  # [4] Confidentiality and Privacy
    "There also may be",  # [5] Seek Professional Support
]


@pytest.fixture(scope="module")
def passages(assistant: Assistant) -> list[Passage]:
    chunks = list(assistant.retriever.chunks.values())
    return [Passage(next(c for c in chunks if c.text.startswith(o)), 1.0) for o in OPENINGS]


@pytest.fixture(scope="module", params=["learned", "heuristic"])
def guard(assistant: Assistant, request: pytest.FixtureRequest) -> GroundingGuard:
    """Both support checkers `guard.checker` can name, the shipped verifier's head
    SHA-256 checked."""
    embedder = assistant.extractive._embedder
    if request.param == "heuristic":
        return GroundingGuard(embedder, GuardSettings())
    return GroundingGuard(embedder, GuardSettings(), load_verifier(embedder))


SUPPORTED = [
    "They should also consider the risk of engaging in personal communication or developing "
    "overly friendly relationships with clients online, as this could lead to boundary "
    "violations and potentially harm the client. [1]",
    "Developing overly friendly relationships with clients online could lead to boundary "
    "violations and harm the client. [1]",
    "Clinical social workers should not share information about clients on social media that "
    "could be traced back to them. [4]",
    "Social workers should share a social media policy with clients and discuss it at the "
    "initial interview. [2]",
    "Sharing information about clients on social media that could be traced back to them "
    "should be avoided.[4]",
    "Instead of posting on public platforms, clinical social workers should use supervision "
    "or peer consultation. 【5】",
    "A social media policy should be discussed with the client during the initial interview "
    "[2, 4].",
    "Developing overly friendly relationships with clients online can lead to boundary "
    "violations and harm the client. [1]",
    "NASW has developed a Sample Social Media Policy for Clinical Social Workers in Private "
    "Practice as a template. [2]",
]
UNSUPPORTED = {
    "permission the text never gives": "Yes, you can accept a client's LinkedIn request. [1]",
    "flipped negation": "Clinical social workers should share personal opinions, views, or "
    "posts online. [3]",
    "negation added": "Upholding confidentiality and privacy when dealing with clients is not "
    "paramount. [4]",
    "should turned into must not": "This policy must not be discussed with the client during "
    "the initial interview. [2]",
    "should turned into must": "This policy must be discussed with the client during the "
    "initial interview. [2]",
    "invented number": "This policy should be discussed with the client within 30 days of the "
    "initial interview. [2]",
    "invented time frame": "This policy should be updated every two years. [2]",
    "wrong citation number": "This policy should be discussed with the client during the "
    "initial interview and updated as necessary. [1]",
    "added clause": "This policy should be discussed with the client during the initial "
    "interview and filed with the state licensing board. [2]",
    "named body not in the text": "The HIPAA Privacy Rule requires a social media policy for "
    "every client. [2]",
    "citation to no passage": "Clinical social workers should develop a social media policy. [7]",
    "no citation": "Clinical social workers should develop a social media policy.",
    "yes as a verdict": "Yes, clinical social workers can engage in personal communication "
    "with clients online. [1]",
    "permission never given": "It is acceptable to develop overly friendly relationships with "
    "clients online. [1]",
    "essential made optional": "Establishing and maintaining professional boundaries when "
    "interacting with clients via social media is optional. [1]",
    "paramount made unimportant": "Upholding the ethical principles of confidentiality and "
    "privacy when dealing with clients is unimportant. [4]",
    "cause turned around": "Developing overly friendly relationships with clients online could "
    "prevent boundary violations. [1]",
    "protect turned into expose": "A well-crafted policy can expose private information. [2]",
    "refusal instead of sharing": "Clinical social workers should refuse to share a social "
    "media policy with clients. [2]",
    "permission to do what is to be refrained from": "Clinical social workers may express "
    "personal opinions online. [3]",
    "body swapped": "ASWB has developed a Sample Social Media Policy for Clinical Social Workers "
    "in Private Practice. [2]",
    "frequency invented": "This policy should be discussed with the client and updated "
    "annually. [2]",
    # Unrelated sentences: trees once trained on HaluEval's dialogue passed the first at 0.94.
    "unrelated": "I love pizza. [1]",
    "unrelated, in the passage's frame": "This applies to both billing and tax returns. [1]",
    "unrelated advice": "It is important to file taxes early. [4]",
    "unrelated hobby": "Social workers enjoy hiking on weekends. [1]",
}


@pytest.mark.parametrize("sentence", SUPPORTED)
def test_faithful_sentences_pass(
    guard: GroundingGuard, passages: list[Passage], sentence: str
) -> None:
    (claim,) = parse_claims(sentence, len(passages))
    check = guard.check(claim, passages, QUESTION)
    assert check.supported, check.reasons
    assert check.score >= 0.6


@pytest.mark.parametrize("kind", UNSUPPORTED)
def test_perturbed_sentences_are_caught(
    guard: GroundingGuard, passages: list[Passage], kind: str
) -> None:
    (claim,) = parse_claims(UNSUPPORTED[kind], len(passages))
    check = guard.check(claim, passages, QUESTION)
    assert not check.supported and check.reasons


def test_names_from_the_question_are_context_not_claims(
    guard: GroundingGuard, passages: list[Passage]
) -> None:
    sentence = (
        "Developing overly friendly relationships with clients online, as on LinkedIn, "
        "could lead to boundary violations. [1]"
    )
    (claim,) = parse_claims(sentence, len(passages))
    if guard.checker == "heuristic":  # the learned verifier refuses it either way (0.26)
        assert guard.check(claim, passages, QUESTION).supported
    refused = guard.check(claim, passages, "Is Twitter different?")
    assert not refused.supported and any("'LinkedIn'" in r for r in refused.reasons)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "One. [1] Two.[2][3] Three [1, 2].",
            [("One.", (1,)), ("Two.", (2, 3)), ("Three.", (1, 2))],
        ),
        (
            "Alpha 【1】. Beta [Passage 2]. Gamma [1-3].",
            [("Alpha.", (1,)), ("Beta.", (2,)), ("Gamma.", (1, 2, 3))],
        ),
        ("- A bullet [1]\n- Another [9]", [("A bullet", (1,)), ("Another", ())]),
        ("[1] Leading marker. Tail. [2]", [("Leading marker.", (1,)), ("Tail.", (2,))]),
    ],
)
def test_citation_markers_as_models_write_them(
    text: str, expected: list[tuple[str, tuple[int, ...]]]
) -> None:
    claims = parse_claims(text, 3)
    assert [(c.text, c.cited) for c in claims] == expected


def test_repeats_and_streaming_completion() -> None:
    from assistant.guard.claims import complete

    claims = parse_claims("Same thing. [1] Same thing. [1] Other.", 3)
    assert [c.repeat for c in claims] == [False, True, False]
    assert not claims[-1].ended or claims[-1].text == "Other."
    partial = "One. [Pass"
    assert complete(parse_claims(partial, 3), partial) == []
    moving = "One. [Passage 1] Tw"
    done = complete(parse_claims(moving, 3), moving)
    assert [(c.text, c.cited) for c in done] == [("One.", (1,))]
    assert not parse_claims("Cut off in the midd", 3)[-1].ended
