"""The real `swguide` command in a subprocess: JSON contract, text output, clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import run_cli

from swguide.settings import Settings

pytestmark = pytest.mark.slow
QUESTION = "Can I accept a client's LinkedIn request?"


def no_traceback(result: Any) -> None:
    assert b"Traceback" not in result.stderr and b"Traceback" not in result.stdout


def test_ingest_prints_one_summary_line(make_settings: Any) -> None:
    settings = make_settings()
    first = run_cli(["ingest"], settings)
    again = run_cli(["ingest"], settings)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().strip().startswith("1 documents; chunks: 8 added, 0 updated")
    assert "8 unchanged" in again.stdout.decode()
    listing = run_cli(["ingest", "--list"], settings).stdout.decode()
    assert listing.startswith("tips-for-social-media-etiquette\t8 chunks\t")


def test_ask_json_contract(corpus_settings: Settings) -> None:
    result = run_cli(["ask", "--json", QUESTION], corpus_settings)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert {"answer", "abstained", "citations", "passages", "backend", "timings_ms"} <= set(answer)
    assert answer["backend"] == "extractive" and answer["abstained"] is False
    assert {"retrieve", "answer", "total", "load"} <= set(answer["timings_ms"])
    numbers = [c["n"] for c in answer["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    for n in numbers:
        assert f"[{n}]" in answer["answer"]
    passage_ids = [p["chunk_id"] for p in answer["passages"]]
    scores = [p["score"] for p in answer["passages"]]
    assert scores == sorted(scores, reverse=True)
    for citation in answer["citations"]:
        assert {"n", "text", "document", "section", "source_number", "url", "chunk_id"} <= set(
            citation
        )
        assert citation["chunk_id"] in passage_ids
        assert citation["source_number"] is None or isinstance(citation["source_number"], int)
    for passage in answer["passages"]:
        assert {"text", "score", "chunk_id", "document", "section"} <= set(passage)


def test_ask_prints_answer_then_numbered_citations(corpus_settings: Settings) -> None:
    result = run_cli(["ask", QUESTION], corpus_settings)
    text = result.stdout.decode()
    assert result.returncode == 0
    assert "” [1]" in text
    assert "\n[1] Tips for Social Media Etiquette in Social Work Practice › " in text
    assert "Cites source [" in text


def test_stdin_gives_one_json_object_per_line(corpus_settings: Settings) -> None:
    stdin = f"{QUESTION}\n\nWhat is the capital of Peru?\n".encode()
    result = run_cli(["ask", "--json"], corpus_settings, stdin=stdin)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [a["abstained"] for a in answers] == [False, True]
    assert answers[1]["citations"] == []


def test_stdin_line_errors_are_reported_in_place(corpus_settings: Settings) -> None:
    stdin = f"{QUESTION}\n{'x' * 3000}\n".encode() + b"caf\xe9 policy?\n" + QUESTION.encode()
    result = run_cli(["ask", "--json"], corpus_settings, stdin=stdin)
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert result.returncode == 2
    assert len(records) == 4
    assert "answer" in records[0] and "answer" in records[3]
    assert "over the limit" in records[1]["error"]
    assert records[2]["error"].startswith("Line 3 is not UTF-8") and records[2]["question"] is None


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (["ask", "   "], None, "The question is empty"),
        (["ask", "y" * 2001], None, "over the limit of 2,000"),
        (["ask", "--json"], b"\n\n", "No question given"),
        (["--config", "/nonexistent.toml", "ask", "hi"], None, "does not exist"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(
    corpus_settings: Settings, args: list[str], stdin: bytes | None, needle: str
) -> None:
    result = run_cli(args, corpus_settings, stdin=stdin)
    assert result.returncode == 2
    message = result.stderr.decode().strip()
    assert message.startswith("swguide: ") and needle in message
    assert len(message.splitlines()) == 1
    no_traceback(result)


def test_missing_index_says_to_ingest(make_settings: Any) -> None:
    result = run_cli(["ask", QUESTION], make_settings())
    assert result.returncode == 2
    assert "run `swguide ingest` first" in result.stderr.decode()
    no_traceback(result)


def test_corrupted_store_is_a_clear_error(make_settings: Any) -> None:
    settings = make_settings()
    assert run_cli(["ingest"], settings).returncode == 0
    database = settings.chroma_path / "chroma.sqlite3"
    database.write_bytes(b"this is not a database" * 100)
    result = run_cli(["ask", QUESTION], settings)
    assert result.returncode == 2
    assert "swguide ingest" in result.stderr.decode()
    assert len(result.stderr.decode().strip().splitlines()) == 1
    no_traceback(result)


def test_check_says_nothing_can_answer_without_an_index(make_settings: Any) -> None:
    result = run_cli(["check"], make_settings(), OLLAMA_HOST="127.0.0.1:9")
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("index: No index found") and "swguide ingest" in lines[0]
    assert lines[-1].startswith("auto would choose: extractive")
