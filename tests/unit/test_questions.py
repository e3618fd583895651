"""Questions are checked before anything runs: one clear line for each problem."""

from __future__ import annotations

import pytest

from assistant.service import clean_question
from swguide.errors import InputError
from swguide.settings import LimitSettings

LIMITS = LimitSettings(max_question_chars=100)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 101, "over the limit of 100"),
        ("why\x00not", "binary or control"),
        ("bad \udcff byte", "binary or control"),
        ("replacement \ufffd char", "binary or control"),
    ],
)
def test_bad_questions(raw: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        clean_question(raw, LIMITS)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_good_question_is_trimmed() -> None:
    assert clean_question("  Can I post?\n", LIMITS) == "Can I post?"
    assert clean_question("Line one\nline two", LIMITS) == "Line one\nline two"
