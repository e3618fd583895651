from __future__ import annotations

import threading
from pathlib import Path

import pytest

from swguide.errors import ConfigError
from swguide.settings import load_settings


def test_environment_sets_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SWGUIDE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SWGUIDE_CHROMA__PORT", "9123")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "d"
    assert settings.chroma.port == 9123
    assert settings.chroma_path == tmp_path / "d" / "chroma"


def test_precedence_flags_then_environment_then_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "swguide.toml"
    config.write_text('data_dir = "/from/file"\n[retrieval]\ntop_k = 7\n[chroma]\nport = 1\n')
    monkeypatch.setenv("SWGUIDE_CHROMA__PORT", "2")
    settings = load_settings(config, data_dir=tmp_path / "flag")
    assert settings.data_dir == tmp_path / "flag"
    assert settings.chroma.port == 2
    assert settings.retrieval.top_k == 7


def test_named_config_file_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[answer]\nmax_sentences = 2\n")
    monkeypatch.setenv("SWGUIDE_CONFIG", str(config))
    assert load_settings().answer.max_sentences == 2


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[retrieval]\ntop_k = 0\n", "retrieval.top_k"),
        ("[retrieval]\nunknown = 1\n", "retrieval.unknown"),
        ("not = [valid", "TOML"),
        ("[chunking]\nmax_tokens = 240\n[embedding]\nmax_tokens = 200\n", "chunking.max_tokens"),
    ],
)
def test_bad_settings_give_one_line_naming_the_field(
    tmp_path: Path, content: str, needle: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_fingerprint_follows_answer_settings(tmp_path: Path) -> None:
    a = load_settings(data_dir=tmp_path)
    b = load_settings(data_dir=tmp_path / "elsewhere")
    c = load_settings(data_dir=tmp_path, answer={"max_sentences": 5})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    words = tmp_path / "lexicon.toml"
    words.write_bytes(a.lexicon_path.read_bytes() + b"\n# one more line\n")
    assert load_settings(data_dir=tmp_path, lexicon_file=words).fingerprint() != a.fingerprint()


def test_ollama_clients_are_built_without_touching_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Answers run in threads: building a client must never hide OLLAMA_HOST from another
    thread's load_settings(), even for a moment."""
    from assistant.llm._ollama import OllamaGenerator

    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:11500")
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(load_settings().llm.ollama_host)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    generator = OllamaGenerator(load_settings().llm)
    for _ in range(60):
        generator._client(1.0).close()  # type: ignore[no-untyped-call]
    done.set()
    for reader in readers:
        reader.join()
    assert len(seen) > 20 and set(seen) == {"127.0.0.1:11500"}


def test_the_answers_hash_changes_with_the_prompt(tmp_path: Path) -> None:
    from assistant.answer.prompt import PROMPT_SHA256
    from assistant.build import answer_fingerprint

    settings = load_settings(data_dir=tmp_path)
    assert answer_fingerprint(settings) == settings.fingerprint(PROMPT_SHA256)
    assert settings.fingerprint(PROMPT_SHA256) != settings.fingerprint("another prompt")
