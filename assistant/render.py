"""Plain-text rendering of answers and ingest results for the terminal."""

from __future__ import annotations

import re
import textwrap

from ingest.sentences import strip_footnotes
from swguide.types import Answer, Citation, Source

IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
BRACKETED_NUMBER = re.compile(r"\[(\d+)\]")

WIDTH = 88


def plain(text: str) -> str:
    """Passage text for display: Markdown images dropped (nothing is fetched), links
    reduced to their words."""
    return LINK.sub(r"\1", IMAGE.sub("", text))


def quote_text(sentence: str) -> str:
    """A sentence as an answer quotes it: footnote markers and markup removed, and any
    other bracketed number shown in parentheses so that only citations look like [n]."""
    text = BRACKETED_NUMBER.sub(r"(\1)", plain(strip_footnotes(sentence)))
    return " ".join(text.split())


def answer_text(answer: Answer) -> str:
    parts = [textwrap.fill(answer.text, WIDTH)]
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
