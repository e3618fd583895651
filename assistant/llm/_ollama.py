"""The Ollama backend, through the official `ollama` client, streaming.

Each answer gets its own client, and a watchdog closes it when `llm.total_timeout`
passes, so a server that trickles bytes cannot hold an answer past its deadline; a
server that sends nothing for `llm.request_timeout` is given up on sooner.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pydantic

from swguide.errors import LLMError, LLMIncompleteError, LLMUnavailableError
from swguide.protocols import Message
from swguide.settings import LLMSettings

if TYPE_CHECKING:
    import ollama

DEFAULT_PORT = 11434
PROBE_SECONDS = 2.0


def _ollama() -> Any:
    """The `ollama` client module, without touching the environment.

    Importing the `ollama` package builds a default client from OLLAMA_HOST and raises on
    a malformed value; its `_client` module is complete by then, and swguide passes the
    host itself, so that module is used whether or not the package's own import failed.
    """
    with contextlib.suppress(ValueError):
        importlib.import_module("ollama")
    return importlib.import_module("ollama._client")


def normalise_host(host: str) -> str:
    """'localhost', ':11434' or '0.0.0.0:11434' as a URL the client can reach."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    scheme, _, rest = host.partition("://")
    name, _, port = rest.partition(":")
    name = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1"}.get(name, name)
    if port and not port.isdigit():
        raise LLMUnavailableError(
            f"OLLAMA_HOST {host!r} has no valid port: set it like 127.0.0.1:11434."
        )
    return f"{scheme}://{name}:{port or DEFAULT_PORT}"


class OllamaGenerator:
    def __init__(self, settings: LLMSettings, model: str | None = None, **client: Any) -> None:
        self._settings = settings
        self._client_options = client
        self.host = normalise_host(settings.ollama_host)
        self.model = model or settings.ollama_model

    @property
    def name(self) -> str:
        return f"ollama:{self.model}"

    @property
    def context_tokens(self) -> int:
        return self._settings.context_tokens

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1  # no tokenizer over the API: a cautious estimate

    def models(self) -> list[str]:
        """The models the server has pulled (a quick probe); LLMUnavailableError if it
        cannot be reached or is not an Ollama server."""
        try:
            with self._client(min(PROBE_SECONDS, self._settings.request_timeout)) as client:
                listed = client.list()
        except (ConnectionError, httpx.HTTPError) as error:
            raise LLMUnavailableError(self._unreachable(error)) from None
        except _ollama().ResponseError as error:
            raise LLMUnavailableError(
                f"Ollama at {self.host} answered {error.status_code} "
                f"({error.error}): check the server."
            ) from None
        except (ValueError, pydantic.ValidationError):
            raise LLMUnavailableError(
                f"The server at {self.host} does not answer like Ollama: check OLLAMA_HOST."
            ) from None
        return [m.model for m in listed.models if m.model]

    def ensure_ready(self) -> None:
        """Fail now, with the fix, if the server is down or the model is not pulled."""
        models = self.models()
        if not has_model(models, self.model):
            raise LLMUnavailableError(self._not_pulled(models))

    def stream(
        self, messages: list[Message], schema: dict[str, Any] | None = None
    ) -> Iterator[str]:
        """The reply's text as it streams; with `schema`, Ollama's structured outputs
        (`format`) hold the model to JSON of that schema."""
        total = self._settings.total_timeout
        options = {
            "temperature": self._settings.temperature,
            "seed": self._settings.seed,
            "num_ctx": self._settings.context_tokens,
            "num_predict": self._settings.max_answer_tokens,
        }
        client = self._client(min(self._settings.request_timeout, total))
        watchdog = threading.Timer(total, client.close)
        watchdog.start()
        started = time.monotonic()
        try:
            yield from self._parts(client, messages, options, schema)
        except (
            _ollama().ResponseError,
            ConnectionError,
            httpx.HTTPError,
            ValueError,
            pydantic.ValidationError,
        ) as error:
            if time.monotonic() - started >= total:
                raise LLMIncompleteError(self._too_slow()) from None
            raise self._error(error) from None
        finally:
            watchdog.cancel()
            client.close()

    def _parts(
        self,
        client: ollama.Client,
        messages: list[Message],
        options: dict[str, Any],
        schema: dict[str, Any] | None,
    ) -> Iterator[str]:
        finished = False
        parts = client.chat(self.model, messages, stream=True, options=options, format=schema)
        for part in parts:
            if part.message.content:
                yield part.message.content
            finished = finished or bool(part.done)
        if not finished:
            raise LLMIncompleteError(
                f"Ollama at {self.host} stopped before finishing its "
                "answer: check the server's log, or retry."
            )

    def _client(self, timeout: float) -> ollama.Client:
        timeouts = httpx.Timeout(timeout, connect=min(timeout, PROBE_SECONDS))
        client: ollama.Client = _ollama().Client(
            host=self.host, timeout=timeouts, **self._client_options
        )
        return client

    def _error(self, error: Exception) -> LLMError:
        if isinstance(error, _ollama().ResponseError):
            if error.status_code == 404:
                return LLMUnavailableError(self._not_pulled([], error.error))
            return LLMIncompleteError(
                f"Ollama at {self.host} failed ({error.error}): check "
                "its log, or choose --llm extractive."
            )
        if isinstance(error, (ConnectionError, httpx.ConnectError)):
            return LLMUnavailableError(self._unreachable(error))
        if isinstance(error, httpx.TimeoutException):
            return LLMIncompleteError(
                f"Ollama at {self.host} sent nothing for {self._settings.request_timeout:g} s: "
                "it may be overloaded; retry, or raise llm.request_timeout."
            )
        if isinstance(error, (ValueError, pydantic.ValidationError)) and not isinstance(
            error, json.JSONDecodeError
        ):
            return LLMIncompleteError(
                f"The server at {self.host} does not answer like Ollama: check OLLAMA_HOST."
            )
        return LLMIncompleteError(
            f"The connection to Ollama at {self.host} broke off "
            f"mid-answer ({type(error).__name__}): retry, or check the "
            "server."
        )

    def _unreachable(self, error: Exception) -> str:
        return (
            f"Ollama is not reachable at {self.host} ({type(error).__name__}): start it "
            "with `ollama serve`, set OLLAMA_HOST, or choose --llm extractive."
        )

    def _not_pulled(self, models: list[str], said: str | None = None) -> str:
        have = f" (it has: {', '.join(models)})" if models else ""
        told = f" (it said: {said})" if said else ""
        return (
            f"Ollama at {self.host} has no model '{self.model}'{have}{told}: pull it with "
            f"`ollama pull {self.model}`, or choose another with --llm ollama:MODEL."
        )

    def _too_slow(self) -> str:
        return (
            f"Ollama took more than {self._settings.total_timeout:g} s to answer: retry, "
            "choose a smaller model, or raise llm.total_timeout."
        )


def has_model(models: list[str], wanted: str) -> bool:
    """Whether `wanted` is pulled ("llama3.2" matches "llama3.2:latest")."""
    names = set(models) | {m.removesuffix(":latest") for m in models}
    return wanted in names


@dataclass(frozen=True, slots=True)
class Probe:
    """What a quick look at the Ollama server found: the backend when it can answer, a
    short note for `auto`'s reason, and a full line (with the fix) for `swguide check`."""

    generator: OllamaGenerator | None
    note: str
    detail: str


def probe(settings: LLMSettings) -> Probe:
    try:
        candidate = OllamaGenerator(settings)
        models = candidate.models()
    except LLMUnavailableError as error:
        host = settings.ollama_host
        return Probe(None, f"Ollama not usable at {host}", str(error))
    if has_model(models, candidate.model):
        note = f"Ollama at {candidate.host} has {candidate.model}"
        return Probe(candidate, note, f"reachable at {candidate.host}; models: {', '.join(models)}")
    listed = ", ".join(models) or "none"
    return Probe(
        None,
        f"Ollama at {candidate.host} has no {candidate.model}",
        f"reachable at {candidate.host}; models: {listed}; llm.ollama_model "
        f"{candidate.model} is not pulled (`ollama pull {candidate.model}`)",
    )
