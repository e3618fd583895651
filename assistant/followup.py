"""Follow-up questions: rewritten into a standalone question before retrieval.

"What about former clients?" after "Can I accept a client's LinkedIn request?" means
nothing on its own. With a language model, the model rewrites it, and the rewrite is
kept only if it is one plausible question that still contains every content word of
the follow-up; otherwise (and with no model) a rule joins the follow-up to the previous
standalone question. Citations always come from this turn's retrieval.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from swguide.errors import InputError, LLMError
from swguide.protocols import Generator

OPENERS = (
    "what about",
    "how about",
    "and ",
    "what if",
    "also",
    "same ",
    "but ",
    "or ",
    "then ",
    "so ",
    "is that",
    "does that",
    "does it",
    "is it",
    "can i still",
)
DEPENDENT_WORDS = {"it", "that", "this", "they", "them", "those", "these", "there", "same"}
WORD = re.compile(r"[a-z']+")
REWRITE = (
    "Rewrite the user's last question as one standalone question that can be understood "
    "without the conversation. Keep all of its words and details. Reply with the question "
    "only."
)


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    answer: str = ""
    standalone: str | None = None

    @property
    def asked(self) -> str:
        return self.standalone or self.question


def load_history(path: Path) -> list[Turn]:
    """Earlier turns from a JSON array or JSON lines, as `swguide ask --json` prints them."""
    try:
        raw = path.read_text(encoding="utf-8").strip()
        items = (
            json.loads(raw)
            if raw.startswith("[")
            else [json.loads(line) for line in raw.splitlines() if line.strip()]
        )
        return [
            Turn(i["question"], i.get("answer", ""), i.get("standalone_question")) for i in items
        ]
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            f"Cannot read the history file {path} ({error}): check the path."
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InputError(
            f'The history file {path} is not JSON turns with a "question" '
            "each: give the output of `swguide ask --json`."
        ) from None


def is_follow_up(question: str) -> bool:
    """Opens like a follow-up, leans on a pronoun, or is a bare phrase ("Former clients?")."""
    lowered = question.lower().strip()
    words = WORD.findall(lowered)
    return lowered.startswith(OPENERS) or len(words) <= 3 or bool(DEPENDENT_WORDS & set(words[:4]))


def by_rule(question: str, history: Sequence[Turn]) -> str:
    return f"{history[-1].asked} {question}"


class FollowUps:
    def __init__(self, generator: Generator | None = None) -> None:
        self._generator = generator

    def standalone(self, question: str, history: Sequence[Turn]) -> tuple[str, str | None]:
        """The question to retrieve with, and how it was made (None, "model" or "rule")."""
        if not history or not is_follow_up(question):
            return question, None
        if self._generator is not None:
            rewrite = self._rewrite(question, history)
            if rewrite:
                return rewrite, "model"
        return by_rule(question, history), "rule"

    def _rewrite(self, question: str, history: Sequence[Turn]) -> str | None:
        assert self._generator is not None
        lines = [f"Q: {t.asked}\nA: {t.answer[:400]}" for t in history[-3:]]
        messages = [
            {"role": "system", "content": REWRITE},
            {"role": "user", "content": "\n\n".join(lines) + f"\n\nLast question: {question}"},
        ]
        try:
            text = "".join(self._generator.stream(messages)).strip().strip('"')
        except LLMError:
            return None
        return text if _plausible(text, question, history) else None


def _plausible(rewrite: str, question: str, history: Sequence[Turn]) -> bool:
    """One line, a question, not rambling, and every content word of the follow-up kept."""
    from swguide.text import stems

    limit = 2 * len(f"{history[-1].asked} {question}") + 20
    return (
        "\n" not in rewrite
        and rewrite.endswith("?")
        and 8 <= len(rewrite) <= limit
        and set(stems(question)) <= set(stems(rewrite))
    )
