"""Follow-up questions become standalone questions before retrieval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeGenerator, run_cli

from assistant.followup import FollowUps, Turn, is_follow_up, load_history
from swguide.errors import InputError
from swguide.settings import Settings

FIRST = "Can I accept a client's LinkedIn request?"
HISTORY = [Turn(FIRST, "“They should also consider the risk …” [1]")]


@pytest.mark.parametrize(
    ("question", "follows"),
    [
        ("what about former clients?", True),
        ("And on Instagram?", True),
        ("Is that also true for supervisors?", True),
        ("Can I accept a client's LinkedIn request?", False),
        ("Should I share my political opinions on my public accounts?", False),
        ("Is venting online OK?", False),
        ("Former clients?", True),
    ],
)
def test_follow_ups_are_recognised(question: str, follows: bool) -> None:
    assert is_follow_up(question) is follows


def test_rule_joins_the_previous_question() -> None:
    standalone, how = FollowUps().standalone("what about former clients?", HISTORY)
    assert (standalone, how) == (f"{FIRST} what about former clients?", "rule")
    assert FollowUps().standalone(FIRST, HISTORY) == (FIRST, None)
    assert FollowUps().standalone("what about former clients?", []) == (
        "what about former clients?",
        None,
    )


@pytest.mark.parametrize(
    ("rewrite", "how"),
    [
        ("Can I accept a LinkedIn request from a former client?", "model"),
        ("Can I accept a LinkedIn request?", "rule"),  # dropped "former clients"
        ("Sure! Here is the question:\nCan former clients add me?", "rule"),
        ("former clients", "rule"),  # not a question
    ],
)
def test_model_rewrites_are_kept_only_when_plausible(rewrite: str, how: str) -> None:
    model = FakeGenerator(rewrite)
    _, used = FollowUps(model).standalone("what about former clients?", HISTORY)
    assert used == how
    assert FIRST in model.prompts[0][-1]["content"]


def test_history_file_forms(tmp_path: Path) -> None:
    lines = tmp_path / "turns.jsonl"
    lines.write_text(json.dumps({"question": FIRST, "answer": "a", "citations": []}) + "\n")
    array = tmp_path / "turns.json"
    array.write_text(json.dumps([{"question": FIRST, "standalone_question": "x"}]))
    assert load_history(lines) == [Turn(FIRST, "a", None)]
    assert load_history(array)[0].asked == "x"
    bad = tmp_path / "bad.json"
    bad.write_text('[{"q": 1}]')
    with pytest.raises(InputError, match="not JSON turns"):
        load_history(bad)


@pytest.mark.slow
def test_follow_up_through_the_cli(corpus_settings: Settings, tmp_path: Path) -> None:
    first = run_cli(["ask", "--json", "--llm", "extractive", FIRST], corpus_settings)
    history = tmp_path / "history.jsonl"
    history.write_bytes(first.stdout)
    second = run_cli(
        [
            "ask",
            "--json",
            "--llm",
            "extractive",
            "--history",
            str(history),
            "what about former clients?",
        ],
        corpus_settings,
    )
    assert second.returncode == 0, second.stderr
    answer: dict[str, Any] = json.loads(second.stdout)
    assert answer["question"] == "what about former clients?"
    assert answer["standalone_question"] == f"{FIRST} what about former clients?"
    assert not answer["abstained"]
    passages = {p["chunk_id"] for p in answer["passages"]}
    assert {c["chunk_id"] for c in answer["citations"]} <= passages


@pytest.mark.slow
def test_bad_history_file_is_one_line(corpus_settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "h.json"
    bad.write_text("{not json")
    result = run_cli(["ask", "--history", str(bad), "and then?"], corpus_settings)
    assert result.returncode == 2
    assert "is not JSON turns" in result.stderr.decode() and b"Traceback" not in result.stderr


@pytest.mark.slow
def test_the_chat_conversation_becomes_turns(assistant: Any) -> None:
    from assistant.ui.view import Conversation, Exchange

    conversation = Conversation()
    for question in (FIRST, "what about former clients?"):
        answer = assistant.ask(question, conversation.turns())
        conversation.exchanges.append(Exchange(question, answer))
    found = conversation.turns()
    assert found[0] == Turn(FIRST, conversation.exchanges[0].answer.text)
    assert found[1].asked == f"{FIRST} what about former clients?"
    standalone, _ = FollowUps().standalone("and on Instagram?", found)
    assert standalone == f"{FIRST} what about former clients? and on Instagram?"
