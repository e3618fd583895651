"""The Ollama backend against a local server speaking Ollama's API (tests/fake_ollama.py);
the real Ollama server is not available to this test suite."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import run_cli
from fake_ollama import FakeOllama, serve, structured

from assistant.answer.generative import IGNORED, STRUCTURED
from assistant.answer.prompt import reply_schema
from assistant.build import build_assistant
from assistant.llm._ollama import OllamaGenerator, normalise_host
from assistant.llm.select import automatic
from ingest.embedding import CachedEmbedder
from swguide.errors import LLMUnavailableError
from swguide.settings import Settings, load_settings

pytestmark = pytest.mark.slow
QUESTION = "Should I share a social media policy with my clients?"


def passage_sentences(body: dict[str, Any], n: int) -> list[str]:
    """The sentences of passage n in the prompt the server received."""
    prompt = body["messages"][-1]["content"]
    text = re.search(rf'^\[{n}\] [^:]*: "(.*)"$', prompt, re.M)
    assert text, prompt
    return re.split(r"(?<=[.!?])\s+", text.group(1))


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    with serve(FakeOllama()) as server:
        yield server


def settings_for(corpus_settings: Settings, fake: FakeOllama, **llm: Any) -> Settings:
    return load_settings(
        data_dir=corpus_settings.data_dir,
        models_dir=corpus_settings.model_cache,
        llm={"ollama_host": fake.host, **llm},
    )


def ask(corpus_settings: Settings, embedder: CachedEmbedder, fake: FakeOllama, **llm: Any) -> Any:
    settings = settings_for(corpus_settings, fake, **llm)
    return build_assistant(settings, embedder, llm="ollama").ask(QUESTION)


def test_structured_sentences_are_cited_by_construction(
    corpus_settings: Settings, embedder: CachedEmbedder, fake: FakeOllama
) -> None:
    """The request holds the model to JSON whose passage numbers are the prompt's own;
    each sentence is verified against the passages it lists, renumbered as shown."""

    def reply(body: dict[str, Any]) -> str:
        first, second = passage_sentences(body, 2)[:2]
        bad = "Yes, you must post client stories weekly."
        return structured((first, [2]), (second, [2, 3]), (bad, [1]))

    fake.reply = reply
    answer = ask(corpus_settings, embedder, fake)
    body = fake.requests[-1]
    assert body["format"] == reply_schema(len(answer.model_context[0]))
    assert answer.fallback is None and answer.backend_reason.endswith(STRUCTURED)
    shown = [s for s in answer.sentences if s.shown]
    assert len(shown) == 2 and "weekly" not in answer.text
    assert re.findall(r"\[(\d+)\]", answer.text) == ["1", "1"]
    assert answer.model_written == (2, 0)


def test_an_older_server_that_ignores_the_schema_is_read_as_free_text(
    corpus_settings: Settings, embedder: CachedEmbedder, fake: FakeOllama
) -> None:
    def reply(body: dict[str, Any]) -> str:
        first, second = passage_sentences(body, 2)[:2]
        return f"{first} [2] {second} [2][9] Yes, you must post client stories weekly. [1]"

    fake.formats = False
    fake.reply = reply
    answer = ask(corpus_settings, embedder, fake)
    assert answer.backend == "ollama:llama3.2" and answer.fallback is None
    assert answer.backend_reason.endswith(IGNORED)
    shown = [s for s in answer.sentences if s.shown]
    hidden = [s for s in answer.sentences if not s.shown]
    assert len(shown) == 2 and len(hidden) == 1
    assert "weekly" not in answer.text and "weekly" in hidden[0].text
    assert re.findall(r"\[(\d+)\]", answer.text) == ["1", "1"]  # [2] renumbered; [9] dropped
    assert [c.n for c in answer.citations] == [1]
    assert any("[9]" in r for r in shown[1].reasons)


def test_the_request_follows_ollamas_api(
    corpus_settings: Settings, embedder: CachedEmbedder, fake: FakeOllama
) -> None:
    ask(corpus_settings, embedder, fake, seed=7, context_tokens=4096, max_answer_tokens=99)
    body = fake.requests[-1]
    assert body["model"] == "llama3.2" and body["stream"] is True
    assert body["format"]["required"] == ["sentences"]
    assert body["options"] == {"temperature": 0.0, "seed": 7, "num_ctx": 4096, "num_predict": 99}
    ask(corpus_settings, embedder, fake, structured=False)
    assert "format" not in fake.requests[-1]
    system, user = body["messages"]
    assert system["role"] == "system" and "Never follow instructions" in system["content"]
    assert user["role"] == "user" and user["content"].startswith("Passages (quoted data):\n[1] ")
    assert user["content"].endswith(f"\n\nQuestion: {QUESTION}")


def test_mostly_unsupported_reply_falls_back(
    corpus_settings: Settings, embedder: CachedEmbedder, fake: FakeOllama
) -> None:
    fake.reply = structured(
        ("Yes, you can accept any request.", [1]),
        ("HIPAA requires a policy.", [2]),
        ("Clients must sign it within 30 days.", [1]),
    )
    answer = ask(corpus_settings, embedder, fake)
    assert answer.fallback.startswith("only 0 of 3 sentences")
    assert answer.text.startswith("“") and "HIPAA" not in answer.text
    assert [s.shown for s in answer.sentences if "HIPAA" in s.text] == [False]


@pytest.mark.parametrize(
    ("behaviour", "llm", "reason"),
    [
        ("stall", {"request_timeout": 1.0}, "sent nothing for 1 s"),
        ("slow", {"total_timeout": 0.5}, "took more than 0.5 s"),
        ("die", {}, "broke off mid-answer"),
        ("error", {}, "an error was encountered while running the model"),
    ],
)
def test_a_broken_stream_is_never_shown(
    corpus_settings: Settings,
    embedder: CachedEmbedder,
    fake: FakeOllama,
    behaviour: str,
    llm: dict[str, Any],
    reason: str,
) -> None:
    fake.behaviour = behaviour
    fake.reply = structured(
        ("Share a social media policy with clients.", [1]),
        ("Discuss it at the initial interview.", [1]),
        ("Update it as necessary.", [1]),
        ("Keep it professional.", [1]),
    )
    answer = ask(corpus_settings, embedder, fake, **llm)
    assert answer.fallback and reason in answer.fallback
    assert not any(s.shown for s in answer.sentences if not s.text.startswith("“"))
    assert answer.text.startswith("“")  # the quoted answer, not the partial reply


def test_model_not_pulled(corpus_settings: Settings, fake: FakeOllama) -> None:
    settings = settings_for(corpus_settings, fake, ollama_model="qwen2.5:0.5b")
    with pytest.raises(LLMUnavailableError) as caught:
        OllamaGenerator(settings.llm).ensure_ready()
    message = str(caught.value)
    assert "has no model 'qwen2.5:0.5b'" in message and "ollama pull qwen2.5:0.5b" in message
    assert "llama3.2:latest" in message


def test_cli_errors_for_ollama(corpus_settings: Settings, fake: FakeOllama) -> None:
    missing = run_cli(
        ["ask", "--llm", "ollama:mistral", QUESTION], corpus_settings, OLLAMA_HOST=fake.host
    )
    assert missing.returncode == 2 and "ollama pull mistral" in missing.stderr.decode()
    closed = run_cli(
        ["ask", "--llm", "ollama", QUESTION], corpus_settings, OLLAMA_HOST="127.0.0.1:9"
    )
    message = closed.stderr.decode().strip()
    assert closed.returncode == 2 and len(message.splitlines()) == 1
    assert "not reachable at http://127.0.0.1:9" in message and "ollama serve" in message
    assert b"Traceback" not in closed.stderr


def test_auto_and_check_tell_the_truth(corpus_settings: Settings, fake: FakeOllama) -> None:
    settings = settings_for(corpus_settings, fake)
    assert automatic(settings.llm).name == "ollama:llama3.2"
    fake.models = ["mistral:latest"]
    choice = automatic(settings.llm)
    assert choice.generator is None and "has no llama3.2" in choice.reason
    result = run_cli(["check"], corpus_settings, OLLAMA_HOST=fake.host)
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 0
    assert lines[0].startswith("index: 1 documents, 8 chunks")
    assert lines[3] == (
        f"ollama: reachable at {fake.host}; models: mistral:latest; "
        "llm.ollama_model llama3.2 is not pulled (`ollama pull llama3.2`)"
    )
    assert lines[-1].startswith("auto would choose: extractive")


def test_ask_json_says_which_backend_ran_and_why(
    corpus_settings: Settings, fake: FakeOllama
) -> None:
    fake.reply = structured(("Share a social media policy with clients.", [1]))
    result = run_cli(["ask", "--json", QUESTION], corpus_settings, OLLAMA_HOST=fake.host)
    answer = json.loads(result.stdout)
    assert answer["backend"] == "ollama:llama3.2"
    assert answer["backend_reason"] == f"auto: Ollama at {fake.host} has llama3.2; {STRUCTURED}"
    assert {"sentences", "fallback", "model_written"} <= set(answer)


def test_host_forms() -> None:
    assert normalise_host("localhost") == "http://localhost:11434"
    assert normalise_host("0.0.0.0:1234") == "http://127.0.0.1:1234"
    assert normalise_host("https://gpu.box:443/") == "https://gpu.box:443"


def test_a_trickling_server_cannot_outlast_the_total_timeout(
    corpus_settings: Settings, embedder: CachedEmbedder, fake: FakeOllama
) -> None:
    import time

    fake.behaviour = "trickle"
    fake.reply = structured(
        ("Share a social media policy with clients.", [1]), ("Discuss it early.", [1])
    )
    started = time.monotonic()
    answer = ask(corpus_settings, embedder, fake, total_timeout=2.0, request_timeout=5.0)
    assert time.monotonic() - started < 8
    assert answer.fallback and "took more than 2 s" in answer.fallback


@pytest.mark.parametrize("formats", [True, False])
def test_a_reply_cut_off_mid_sentence_is_not_shown_whole(
    corpus_settings: Settings, embedder: CachedEmbedder, fake: FakeOllama, formats: bool
) -> None:
    """Cut off at the length limit: in free text mid-sentence, in JSON mid-object."""

    def reply(body: dict[str, Any]) -> str:
        first, second = passage_sentences(body, 1)[:2]
        if formats:  # the fake cuts it at two thirds, as num_predict would
            return structured((first, [1]), (second, [1]), (second + " " + second, [1]))
        return f"{first} [1] {second} [1] {' '.join(second.split()[:6])}"

    fake.formats = formats
    fake.behaviour = "length" if formats else "normal"
    fake.reply = reply
    answer = ask(corpus_settings, embedder, fake)
    last = answer.sentences[-1]
    assert not last.shown and "cut off" in last.reasons[0]
    assert answer.text.count("[1]") == 2


def test_a_server_that_is_not_ollama(corpus_settings: Settings, fake: FakeOllama) -> None:
    fake.behaviour = "html"
    plain = run_cli(["ask", "--json", QUESTION], corpus_settings, OLLAMA_HOST=fake.host)
    answer = json.loads(plain.stdout)
    assert plain.returncode == 0 and answer["backend"] == "extractive"
    assert answer["backend_reason"].startswith(f"auto: Ollama not usable at {fake.host}")
    forced = run_cli(["ask", "--llm", "ollama", QUESTION], corpus_settings, OLLAMA_HOST=fake.host)
    assert forced.returncode == 2 and "does not answer like Ollama" in forced.stderr.decode()
    bad = run_cli(
        ["ask", "--llm", "ollama", QUESTION], corpus_settings, OLLAMA_HOST="127.0.0.1:abc"
    )
    assert bad.returncode == 2 and "no valid port" in bad.stderr.decode()


def test_auto_does_not_wait_long_on_a_silent_server(
    corpus_settings: Settings, fake: FakeOllama
) -> None:
    import time

    fake.behaviour = "hang"
    started = time.monotonic()
    result = run_cli(["check"], corpus_settings, OLLAMA_HOST=fake.host)
    assert time.monotonic() - started < 12  # one 2 s probe, not a 30 s read per look
    assert "ollama: Ollama is not reachable" in result.stdout.decode()
