"""Example questions: the scope margin, the support they lend sentences, the bundled
file, and the vectors kept on disk."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder

import corpus
from assistant.retrieval.examples import NEIGHBOURS, ExampleQuestions, K
from swguide.errors import ConfigError

INSIDE = ["friend requests from clients", "a social media policy for clients", "venting online"]
OUTSIDE = ["hashtags on a post", "profile photo size", "reset my password"]


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return super().embed(texts)


def write(path: Path, examples: list[tuple[str, str]]) -> Path:
    body = "".join(f'[[examples]]\ntext = "{t}"\nscope = "{s}"\n\n' for t, s in examples)
    path.write_text(body, encoding="utf-8")
    return path


def examples_file(tmp_path: Path) -> Path:
    pairs = [(t, "in") for t in INSIDE] + [(t, "out") for t in OUTSIDE]
    return write(tmp_path / "scope.toml", pairs)


def test_the_margin_is_positive_inside_and_negative_outside() -> None:
    embedder = FakeEmbedder()
    scope = ExampleQuestions(INSIDE, OUTSIDE, embedder)
    inside, outside = embedder.embed(["friend requests from my clients", "hashtags on my post"])
    assert scope.margin(inside) > 0 > scope.margin(outside)


def test_the_bundled_examples_load_with_both_kinds(tmp_path: Path) -> None:
    path = corpus.DIRECTORY / "example_questions.toml"
    scope = ExampleQuestions.load(path, FakeEmbedder(), tmp_path)
    inside, outside = scope.vectors()
    assert len(inside) >= 100 and len(outside) >= 100


def test_vectors_are_kept_on_disk_and_read_back(tmp_path: Path) -> None:
    path, cache = examples_file(tmp_path), tmp_path / "cache"
    first = CountingEmbedder()
    vectors = ExampleQuestions.load(path, first, cache).vectors()
    assert first.calls == 1 and len(list(cache.glob("examples-*.npy"))) == 1
    again = CountingEmbedder()
    read = ExampleQuestions.load(path, again, cache).vectors()
    assert again.calls == 0
    for a, b in zip(vectors, read, strict=True):
        np.testing.assert_array_equal(a, b)


def test_changed_examples_replace_the_kept_vectors(tmp_path: Path) -> None:
    path, cache = examples_file(tmp_path), tmp_path / "cache"
    ExampleQuestions.load(path, FakeEmbedder(), cache).vectors()
    (old,) = cache.glob("examples-*.npy")
    pairs = [(t, "in") for t in [*INSIDE, "liking a client's post"]] + [(t, "out") for t in OUTSIDE]
    changed = CountingEmbedder()
    ExampleQuestions.load(write(path, pairs), changed, cache).vectors()
    (new,) = cache.glob("examples-*.npy")
    assert changed.calls == 1 and new != old


@pytest.mark.parametrize("damage", [b"", b"not numpy", None])
def test_a_damaged_file_is_computed_again(tmp_path: Path, damage: bytes | None) -> None:
    path, cache = examples_file(tmp_path), tmp_path / "cache"
    expected = ExampleQuestions.load(path, FakeEmbedder(), cache).vectors()
    (kept,) = cache.glob("examples-*.npy")
    if damage is None:
        np.save(kept, np.zeros(3, dtype=np.float32))  # readable, wrong shape
    else:
        kept.write_bytes(damage)
    again = CountingEmbedder()
    found = ExampleQuestions.load(path, again, cache).vectors()
    assert again.calls == 1
    np.testing.assert_array_equal(found[0], expected[0])
    assert np.load(kept).shape == (len(INSIDE) + len(OUTSIDE), 64)  # replaced


def test_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    scope = ExampleQuestions.load(examples_file(tmp_path), FakeEmbedder(), blocker)
    assert len(scope.vectors()[0]) == len(INSIDE)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[[examples]]\ntext = 'x'\n", "cannot read the example questions"),
        ("examples = [", "cannot read the example questions"),
        ("[[examples]]\ntext = 'x'\nscope = 'maybe'\n", 'scope must be "in" or "out"'),
        ("[[examples]]\ntext = 'x'\nscope = 'in'\n", f"at least {K} of each scope"),
    ],
)
def test_a_bad_file_gets_one_line_that_says_the_fix(tmp_path: Path, body: str, says: str) -> None:
    path = tmp_path / "scope.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=says) as caught:
        ExampleQuestions.load(path, FakeEmbedder())
    assert "\n" not in str(caught.value)


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="examples_file"):
        ExampleQuestions.load(tmp_path / "absent.toml", FakeEmbedder())


def test_support_goes_to_the_sentences_that_answer_the_nearest_examples() -> None:
    embedder = FakeEmbedder()
    answers = [("Decline friend requests from clients.",), ("Write a policy.",), ("Vent offline.",)]
    examples = ExampleQuestions(INSIDE, OUTSIDE, embedder, answers)
    (question,) = embedder.embed(["friend requests from my clients"])
    answering, within, other = examples.support(
        question,
        [
            "Decline friend requests from clients. Say why.",
            "Decline friend requests",
            "Keep records for seven years.",
        ],
    )
    assert answering > 0 and within == answering and other == 0.0
    nearest, weight = examples.nearest(question)[0]
    assert nearest == answers[0] and weight == pytest.approx(answering * NEIGHBOURS)


def test_every_bundled_answer_is_a_sentence_of_the_article() -> None:
    article = (corpus.DIRECTORY / "tips-for-social-media-etiquette.md").read_text("utf-8")
    data = tomllib.loads((corpus.DIRECTORY / "example_questions.toml").read_text("utf-8"))
    for example in data["examples"]:
        answers = example.get("answers", [])
        assert (1 <= len(answers) <= 3) == (example["scope"] == "in"), example["text"]
        for answer in answers:
            assert answer in article and len(answer.split()) >= 4, answer


def test_a_question_that_reads_like_the_near_misses_gets_no_support() -> None:
    embedder = FakeEmbedder()
    answers = [("Decline friend requests from clients.",), ("Write a policy.",), ("Vent offline.",)]
    examples = ExampleQuestions(INSIDE, OUTSIDE, embedder, answers)
    (question,) = embedder.embed(["hashtags on a post about clients"])
    assert examples.margin(question) <= 0
    assert examples.nearest(question) == []
    assert examples.support(question, ["Write a policy.", "Vent offline."]) == [0.0, 0.0]
