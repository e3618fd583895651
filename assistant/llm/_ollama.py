"""The Ollama backend, through the official `ollama` client, streaming."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import ollama

from assistant.llm import Message
from swguide.errors import LLMError, LLMIncompleteError, LLMUnavailableError
from swguide.settings import LLMSettings

DEFAULT_PORT = 11434


def normalise_host(host: str) -> str:
    """'localhost', ':11434' or '0.0.0.0:11434' as a URL the client can reach."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    scheme, _, rest = host.partition("://")
    name, _, port = rest.partition(":")
    name = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1"}.get(name, name)
    return f"{scheme}://{name}:{port or DEFAULT_PORT}"


class OllamaGenerator:
    def __init__(self, settings: LLMSettings, model: str | None = None, **client: Any) -> None:
        self._settings = settings
        self.host = normalise_host(settings.ollama_host)
        self.model = model or settings.ollama_model
        timeout = httpx.Timeout(settings.request_timeout, connect=min(settings.request_timeout, 3))
        self._client = ollama.Client(host=self.host, timeout=timeout, **client)

    @property
    def name(self) -> str:
        return f"ollama:{self.model}"

    @property
    def context_tokens(self) -> int:
        return self._settings.context_tokens

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1  # no tokenizer over the API: a cautious estimate

    def models(self) -> list[str]:
        """The models the server has pulled; LLMUnavailableError when it cannot be reached."""
        try:
            listed = self._client.list()
        except (ConnectionError, httpx.HTTPError) as error:
            raise LLMUnavailableError(self._unreachable(error)) from None
        except ollama.ResponseError as error:
            raise LLMUnavailableError(
                f"Ollama at {self.host} answered {error.status_code} "
                f"({error.error}): check the server."
            ) from None
        return [m.model for m in listed.models if m.model]

    def ensure_ready(self) -> None:
        """Fail now, with the fix, if the server is down or the model is not pulled."""
        models = self.models()
        if not has_model(models, self.model):
            raise LLMUnavailableError(self._not_pulled(models))

    def stream(self, messages: list[Message]) -> Iterator[str]:
        deadline = time.monotonic() + self._settings.total_timeout
        options = {
            "temperature": self._settings.temperature,
            "seed": self._settings.seed,
            "num_ctx": self._settings.context_tokens,
            "num_predict": self._settings.max_answer_tokens,
        }
        try:
            finished = False
            for part in self._client.chat(self.model, messages, stream=True, options=options):
                if part.message.content:
                    yield part.message.content
                finished = finished or bool(part.done)
                if not finished and time.monotonic() > deadline:
                    raise LLMIncompleteError(self._too_slow())
            if not finished:
                raise LLMIncompleteError(
                    f"Ollama at {self.host} stopped before finishing its "
                    "answer: check the server's log, or retry."
                )
        except ollama.ResponseError as error:
            raise self._response_error(error) from None
        except (ConnectionError, httpx.ConnectError) as error:
            raise LLMUnavailableError(self._unreachable(error)) from None
        except httpx.TimeoutException:
            raise LLMIncompleteError(
                f"Ollama at {self.host} sent nothing for {self._settings.request_timeout:g} s: "
                "it may be overloaded; retry, or raise llm.request_timeout."
            ) from None
        except (httpx.HTTPError, json.JSONDecodeError) as error:
            raise LLMIncompleteError(
                f"The connection to Ollama at {self.host} broke off mid-answer "
                f"({type(error).__name__}): retry, or check the server."
            ) from None

    def _response_error(self, error: ollama.ResponseError) -> LLMError:
        if error.status_code == 404:
            return LLMUnavailableError(self._not_pulled([]))
        return LLMIncompleteError(
            f"Ollama at {self.host} failed ({error.error}): check its log, "
            "or choose --llm extractive."
        )

    def _unreachable(self, error: Exception) -> str:
        return (
            f"Ollama is not reachable at {self.host} ({type(error).__name__}): start it "
            "with `ollama serve`, set OLLAMA_HOST, or choose --llm extractive."
        )

    def _not_pulled(self, models: list[str]) -> str:
        have = f" (it has: {', '.join(models)})" if models else ""
        return (
            f"Ollama at {self.host} has no model '{self.model}'{have}: pull it with "
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
