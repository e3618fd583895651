from __future__ import annotations

from pathlib import Path

import pytest

import corpus
from assistant.retrieval.query import Lexicon, QueryRewriter
from swguide.errors import ConfigError

LEXICON = Lexicon.load(corpus.DIRECTORY / "lexicon.toml")
VOCABULARY = {"social", "media", "policy", "clients", "boundaries", "online", "accept"}


@pytest.fixture(scope="module")
def rewriter() -> QueryRewriter:
    return QueryRewriter(VOCABULARY, LEXICON)


@pytest.mark.parametrize(
    ("question", "mended"),
    [
        ("shuld i have a socal media polcy", "should i have a social media policy"),
        ("what about bounderies with cliants onlin", "what about boundaries with clients online"),
        ("can i acept a clents linkdin reqest", "can i accept a clients linkedin request"),
        ("Does HIPAA apply to NASW members?", "Does HIPAA apply to NASW members?"),
        ("Is my client's post ok?", "Is my client's post ok?"),
        # Real words stay (the whole dictionary, not only its commonest 40,000 words).
        ("getting chummy is riskier", "getting chummy is riskier"),
        # The likelier correction: first letter kept, a left-out letter put back.
        ("a formr client taged me", "a former client tagged me"),
        ("can i shar client info", "can i share client info"),
    ],
)
def test_typos_are_mended_and_acronyms_kept(
    rewriter: QueryRewriter, question: str, mended: str
) -> None:
    assert rewriter.rewrite(question).mended == mended


def test_lexicon_adds_the_guidance_terms(rewriter: QueryRewriter) -> None:
    rewrite = rewriter.rewrite("A former patient keeps messaging me on Instagram")
    assert rewrite.mended == "A former client keeps messaging me on Instagram"
    assert rewrite.expanded.endswith("(social media; electronic communication)")
    assert rewriter.rewrite("Is social media risky?").expanded == "Is social media risky?"


def test_lexicon_matches_whole_words_only(rewriter: QueryRewriter) -> None:
    assert rewriter.rewrite("threadsafe code").expanded == "threadsafe code"


def test_bad_lexicon_file(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.toml"
    bad.write_text("[[terms]]\nwords = ['x']\n")
    with pytest.raises(ConfigError, match="not a valid lexicon"):
        Lexicon.load(bad)
