"""The eval suite's fixed questions (`evals/questions.toml`), read and checked."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from swguide.errors import InputError

QUESTIONS = Path(__file__).with_name("questions.toml")
CATEGORIES = {
    "direct",
    "paraphrase",
    "typo",
    "multi-passage",
    "follow-up",
    "out-of-scope",
    "request",  # not a question about the guidance: a poem, an email, small talk
    "indirect",  # a concrete dilemma whose answer is one of the guidance's principles
    "injection",
}


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    category: str
    text: str
    expected: str
    gold: tuple[str, ...] = ()
    must_mention: tuple[tuple[str, ...], ...] = ()
    must_not: tuple[str, ...] = ()
    follows: str | None = None
    topic: str | None = None
    split: str | None = None  # "fit" or "held" in a file that has splits

    @property
    def answerable(self) -> bool:
        return self.expected == "answer"


@dataclass(frozen=True, slots=True)
class Dataset:
    questions: tuple[Question, ...] = field(default_factory=tuple)
    name: str = QUESTIONS.name  # the file, and the split when one was chosen
    fixed: bool = True  # the suite's own questions, which the recorded baselines are for
    distractors: bool = False  # asked of the index with evals/distractors/ added


def load(path: Path = QUESTIONS, split: str | None = None) -> Dataset:
    """The questions of a file; with `split`, only those of that split."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"Cannot read questions from {path} ({error}): check the file.") from None
    questions = tuple(
        Question(
            id=q["id"],
            category=q["category"],
            text=q["text"],
            expected=q["expected"],
            gold=tuple(q.get("gold", ())),
            must_mention=tuple(tuple(alts) for alts in q.get("must_mention", ())),
            must_not=tuple(q.get("must_not", ())),
            follows=q.get("follows"),
            topic=q.get("topic"),
            split=q.get("split"),
        )
        for q in data.get("questions", ())
        if split is None or q.get("split") == split
    )
    if not questions:
        which = f" of split {split!r}" if split else ""
        raise InputError(f"{path} has no questions{which}: check the file and --split.")
    fixed = path.resolve() == QUESTIONS.resolve() and split is None
    return Dataset(questions, f"{path.name} ({split})" if split else path.name, fixed)


def with_distractors(dataset: Dataset) -> Dataset:
    """The answerable questions, to be asked of the index with the distractors added.
    Refusals are not scored there: the distractors speak of fees and records, so a
    question on billing may rightly be answered from them."""
    answerable = tuple(q for q in dataset.questions if q.answerable and not q.follows)
    return Dataset(answerable, f"{dataset.name} + distractors", fixed=False, distractors=True)


def problems(dataset: Dataset, corpus_text: str) -> list[str]:
    """What is wrong with the question file itself (checked by the test suite)."""
    found = []
    seen: set[str] = set()
    for q in dataset.questions:
        if q.id in seen:
            found.append(f"{q.id}: duplicate id")
        if q.category not in CATEGORIES or q.expected not in {"answer", "abstain"}:
            found.append(f"{q.id}: unknown category or expected behaviour")
        if q.follows and q.follows not in seen:
            found.append(f"{q.id}: follows {q.follows}, which does not come before it")
        if q.answerable and not (q.gold and 2 <= len(q.must_mention) <= 5):
            found.append(f"{q.id}: an answerable question needs gold spans and 2-5 facts")
        found += [
            f"{q.id}: gold span not in the corpus: {g[:40]}…"
            for g in q.gold
            if g not in corpus_text
        ]
        seen.add(q.id)
    return found
