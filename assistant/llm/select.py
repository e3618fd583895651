"""Which answerer runs: the --llm choice, or what `auto` finds available."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from swguide.errors import ConfigError, LLMUnavailableError
from swguide.protocols import Generator
from swguide.settings import LLMSettings, parse_backend

if TYPE_CHECKING:
    from assistant.llm._llamacpp import LlamaCppGenerator
    from assistant.llm._ollama import OllamaGenerator, Probe


@dataclass(frozen=True, slots=True)
class Choice:
    generator: Generator | None
    reason: str

    @property
    def name(self) -> str:
        return self.generator.name if self.generator else "extractive"


def parse(spec: str) -> tuple[str, str | None]:
    """`--llm` in the settings' own grammar (`swguide.settings.parse_backend`)."""
    try:
        return parse_backend(spec)
    except ValueError as error:
        raise ConfigError(f"--llm: {str(error)[0].upper()}{str(error)[1:]}.") from None


def probe_ollama(settings: LLMSettings) -> Probe:
    """Whether Ollama answers, and has the model (for `swguide check`)."""
    from assistant.llm._ollama import probe

    return probe(settings)


def choose(settings: LLMSettings, spec: str | None = None) -> Choice:
    """Build the backend `spec` (default: llm.backend) names; errors say the fix."""
    kind, argument = parse(spec or settings.backend)
    reason = f"{kind}: chosen in the settings or with --llm"
    if kind == "extractive":
        return Choice(None, reason)
    if kind == "ollama":
        return Choice(ollama(settings, argument), reason)
    if kind == "llamacpp":
        return Choice(llamacpp(settings, argument), reason)
    return automatic(settings)


def automatic(settings: LLMSettings, probed: Probe | None = None) -> Choice:
    """Ollama when reachable with the model, else llama.cpp when a GGUF is set, else none.

    `probed` is an Ollama probe already made (by `swguide check`), so it is not repeated.
    """
    from assistant.llm._ollama import probe

    found = probed or probe(settings)
    if found.generator is not None:
        return Choice(found.generator, f"auto: {found.note}")
    notes = [found.note]
    if settings.gguf is None:
        notes.append("no GGUF file configured")
    else:
        try:
            generator = llamacpp(settings, None)
            return Choice(generator, f"auto: {'; '.join(notes)}; llama.cpp on {settings.gguf}")
        except LLMUnavailableError as error:
            notes.append(f"the GGUF file is unusable ({error})")
    return Choice(None, f"auto: {'; '.join(notes)}; extractive")


def ollama(settings: LLMSettings, model: str | None) -> OllamaGenerator:
    from assistant.llm._ollama import OllamaGenerator

    generator = OllamaGenerator(settings, model)
    generator.ensure_ready()
    return generator


def llamacpp(settings: LLMSettings, path: str | None) -> LlamaCppGenerator:
    from assistant.llm._llamacpp import LlamaCppGenerator

    chosen = Path(path).expanduser() if path else settings.gguf
    if chosen is None:
        raise LLMUnavailableError(
            "No GGUF file is configured: use --llm llamacpp:PATH.gguf or set "
            "llm.gguf (SWGUIDE_LLM__GGUF)."
        )
    return LlamaCppGenerator(settings, chosen)
