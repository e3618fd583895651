"""End to end with a real instruct model: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) through
llama.cpp, asked for JSON sentences under the schema. Its own sentences must reach the
user, cited and verified, in the CLI and in the chat page; greedy decoding makes which
ones reach it repeatable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli, shot
from test_chat_page import start_chat
from test_llamacpp import problems
from test_servers import stop

from assistant.answer.generative import STRUCTURED
from swguide.settings import Settings

pytestmark = pytest.mark.slow
BACKEND = "llamacpp:qwen2.5-coder-0.5b-instruct.gguf"
QUESTIONS = [
    "When should a social media policy be discussed with a client?",
    "Where can NASW members find peer support?",
]


def model_sentences(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The shown sentences the model wrote (the extractive ones are quotes in “…”)."""
    return [s for s in answer["sentences"] if s["shown"] and not s["text"].startswith("“")]


def test_the_models_own_sentences_reach_the_cli_cited_and_verified(
    corpus_settings: Settings, instruct_gguf: Path
) -> None:
    stdin = "\n".join(QUESTIONS).encode()
    args = ["ask", "--json", "--llm", f"llamacpp:{instruct_gguf}"]
    result = run_cli(args, corpus_settings, stdin=stdin)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == len(QUESTIONS)
    for answer in answers:
        assert answer["backend"] == BACKEND
        assert answer["backend_reason"].endswith(STRUCTURED)
        assert answer["fallback"] is None, answer["fallback"]
        assert problems(answer) == [], answer["answer"]
        written = model_sentences(answer)
        assert written and all(s["verdict"] == "supported" for s in written)
        assert answer["model_written"]["sentences_shown"] == len(written)
        for sentence in written:
            assert sentence["text"] in answer["answer"]  # shown as the model wrote it
            assert all(f"[{n}]" in answer["answer"] for n in sentence["citations"])


def test_the_models_own_sentences_reach_the_chat_page(
    corpus_settings: Settings,
    instruct_gguf: Path,
    tmp_path: Path,
    browser: Any,
) -> None:
    server = start_chat(corpus_settings, tmp_path, "--llm", f"llamacpp:{instruct_gguf}")
    try:
        page = browser.new_page()
        page.goto(server.url)
        page.locator("#swg-question textarea").fill(QUESTIONS[1])
        page.click("#swg-ask")
        page.wait_for_selector("#swg-chat a[href='#swg-t1-c1']", timeout=120_000)
        status = page.inner_text("#swg-status")
        assert f"Answered by {BACKEND}" in status, status
        assert "the model wrote 1 verified sentence" in status, status
        shown = page.locator("#swg-chat .message-row").last.inner_text()
        assert "MyNASW" in shown and "[1]" in shown
        assert not shown.count("“")  # the model's words, not a quote
        shot(page, "instruct-model")
    finally:
        stop(server.process)
    assert "Traceback" not in server.logs()
