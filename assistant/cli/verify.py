"""`swguide verify`: check claims against passages with exactly the guard the answers use.

    swguide verify CLAIM --passage TEXT [--passage TEXT …] [--question Q] [--json]
    swguide verify --json < claims.jsonl

A JSON line in is `{"claim": str, "passages": [str, ...], "question": str}` (question
optional); a line out is `{"supported": bool, "score": float, "passage": the index of
the best-supporting passage or null, "reasons": [str, ...]}`. A bad line gives
`{"error": ...}` in its place, the others are checked, and the exit code is 2.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from swguide.console import say
from swguide.errors import InputError
from swguide.text import json_line, sentence_spans
from swguide.types import Chunk, Passage

if TYPE_CHECKING:
    from assistant.guard.guard import GroundingGuard, Judgement
    from swguide.console import Context

MAX_PASSAGES = 20
MAX_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Item:
    claim: str
    passages: tuple[str, ...]
    question: str = ""


@click.command()
@click.argument("claim", required=False)
@click.option("--passage", "passages", multiple=True, help="A passage it cites (repeatable).")
@click.option("--question", default="", help="The question the claim answers (optional).")
@click.option("--json", "as_json", is_flag=True, help="JSON out; with no CLAIM, JSON lines in.")
@click.pass_obj
def verify(
    obj: Context, claim: str | None, passages: tuple[str, ...], question: str, as_json: bool
) -> None:
    """Check whether passages support a claim, as the grounding guard does."""
    if claim is None and not as_json:
        raise InputError("Give a CLAIM with --passage, or --json and JSON lines on stdin.")
    if claim is not None and not passages:
        raise InputError("Give at least one --passage TEXT with the claim.")
    items: list[Item | InputError] = (
        _stdin_items()
        if claim is None
        else [_item({"claim": claim, "passages": list(passages), "question": question})]
    )
    guard = _guard(obj)
    good = [i for i in items if isinstance(i, Item)]
    judged = iter(guard.judge_many([(i.claim, _passages(i), i.question) for i in good]))
    for item in items:
        if isinstance(item, InputError):
            say(json_line({"error": str(item)}))
            continue
        verdict = _record(next(judged))
        say(json_line(verdict) if as_json else _line(verdict))
    if any(isinstance(i, InputError) for i in items):
        sys.exit(2)


def _guard(obj: Context) -> GroundingGuard:
    from assistant.build import build_embedder, build_guard

    settings = obj.settings()
    return build_guard(settings, build_embedder(settings))


def _stdin_items() -> list[Item | InputError]:
    if sys.stdin.isatty():
        raise InputError("No claims given: send JSON lines on standard input.")
    items: list[Item | InputError] = []
    for number, raw in enumerate(sys.stdin.buffer.read().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            items.append(_item(json.loads(raw)))
        except (ValueError, InputError) as error:
            items.append(InputError(f"Line {number}: {_why(error)}"))
    return items


def _why(error: Exception) -> str:
    if isinstance(error, InputError):
        return str(error)
    return f"not JSON ({str(error).split(':')[0]}): send one JSON object per line"


def _item(data: Any) -> Item:
    """An item from its JSON, or an InputError that says what is wrong."""
    if not isinstance(data, dict):
        raise InputError("send an object with claim, passages and (optional) question")
    claim, passages, question = data.get("claim"), data.get("passages"), data.get("question")
    if not isinstance(claim, str) or not claim.strip():
        raise InputError("claim must be a non-empty string")
    if not isinstance(passages, list) or not passages or len(passages) > MAX_PASSAGES:
        raise InputError(f"passages must be a list of 1 to {MAX_PASSAGES} strings")
    if not all(isinstance(p, str) and p.strip() for p in passages):
        raise InputError("each passage must be a non-empty string")
    if question is not None and not isinstance(question, str):
        raise InputError("question must be a string")
    if len(claim) + sum(map(len, passages)) > MAX_CHARS:
        raise InputError(f"claim and passages together are over {MAX_CHARS:,} characters")
    return Item(claim.strip(), tuple(passages), (question or "").strip())


def _passages(item: Item) -> list[Passage]:
    return [
        Passage(
            Chunk(
                f"p{n}", "given", "given", text, (), n, 0, len(text), tuple(sentence_spans(text))
            ),
            1.0,
        )
        for n, text in enumerate(item.passages)
    ]


def _record(judged: Judgement) -> dict[str, Any]:
    return {
        "supported": judged.supported,
        "score": round(judged.score, 4),
        "passage": judged.best if judged.supported else None,
        "reasons": list(judged.reasons),
    }


def _line(verdict: dict[str, Any]) -> str:
    if verdict["supported"]:
        return f"supported ({verdict['score']:.2f}) by passage {verdict['passage'] + 1}"
    return f"not supported ({verdict['score']:.2f}): {'; '.join(verdict['reasons'])}"
