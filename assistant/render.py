"""Plain-text rendering of answers and ingest results for the terminal."""

from __future__ import annotations

import textwrap

from swguide.text import plain
from swguide.types import Answer, Citation, Source

WIDTH = 88


def answer_text(answer: Answer) -> str:
    lead = [textwrap.fill(answer.lead.replace("*", ""), WIDTH)] if answer.lead else []
    parts = [*lead, textwrap.fill(answer.text, WIDTH)]
    for citation in answer.citations:
        parts.append(citation_text(citation))
    return "\n\n".join(parts)


def citation_text(citation: Citation) -> str:
    chunk = citation.passage.chunk
    head = f"[{citation.n}] {chunk.document_title} › {chunk.section}"
    if chunk.page is not None:
        head += f" (p. {chunk.page})"
    lines = [head]
    for source in citation.passage.sources:
        lines.append(f"    {source_line(source)}")
    if citation.passage.url:
        lines.append(f"    {citation.passage.url}")
    body = textwrap.fill(plain(chunk.text), WIDTH, initial_indent="    ", subsequent_indent="    ")
    lines.append(body)
    return "\n".join(lines)


def source_line(source: Source) -> str:
    """ "Cites source [4] (ibid, i.e. [2]): Title. Publisher. URL" plus any ambiguity."""
    via = f" (ibid, i.e. [{source.resolves_to}])" if source.ibid is not None else ""
    title = source.title or "untitled source"
    publisher = f", {source.publisher}" if source.publisher else ""
    url = f" {source.url}" if source.url else ""
    line = f"Cites source [{source.n}]{via}: {title}{publisher}.{url}"
    if source.ambiguity:
        line += f"\n    Note: {source.ambiguity}"
    return line
