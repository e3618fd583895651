"""Split a document's text into headings and paragraphs, each with its character span."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_LINE_BREAK = re.compile(r"\r\n?|\n")
_END_PUNCTUATION = (".", ",", ";", ":", "?", "!", ")", '"', "”")
REFERENCE_HEADINGS = {"references", "bibliography", "works cited", "footnotes", "endnotes"}
_TEXT_BLOCKS = {"paragraph_open", "fence", "code_block", "html_block"}


@dataclass(frozen=True, slots=True)
class Block:
    """A heading (level > 0) or a paragraph (level 0), with its span in the text."""

    level: int
    start: int
    end: int
    text: str

    @property
    def is_heading(self) -> bool:
        return self.level > 0


def markdown_blocks(text: str) -> list[Block]:
    """Headings and paragraphs of Markdown, as exact slices of its source lines."""
    offsets = _line_offsets(text)
    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[Block] = []
    for i, token in enumerate(tokens):
        if token.map is None or (token.type not in _TEXT_BLOCKS and token.type != "heading_open"):
            continue
        start, end = offsets[token.map[0]], offsets[token.map[1]]
        if token.type == "heading_open":
            inline = tokens[i + 1]
            blocks.append(_block(text, start, end, int(token.tag[1:]), inline.content))
        elif token.type == "html_block" and not _has_text(token.content):
            continue
        else:
            blocks.append(_block(text, start, end, 0))
    return blocks


def _has_text(html: str) -> bool:
    return bool(re.sub(r"<[^>]*>", "", html).strip())


def _block(text: str, start: int, end: int, level: int, title: str | None = None) -> Block:
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    body = raw.strip()
    start += lead
    return Block(level, start, start + len(body), title.strip() if title else body)


def _line_offsets(text: str) -> list[int]:
    """Where each line starts, breaking lines only where markdown-it does (\n, \r\n, \r),
    not at the other separators str.splitlines() knows (U+2028, form feed, ...)."""
    return [0, *(m.end() for m in _LINE_BREAK.finditer(text)), len(text)]


def plain_blocks(text: str) -> list[Block]:
    """Paragraphs separated by blank lines; a short unpunctuated line before text is a heading."""
    blocks: list[Block] = []
    pos = 0
    pieces = [*_PARAGRAPH_BREAK.finditer(text), None]
    for match in pieces:
        end = match.start() if match else len(text)
        raw = text[pos:end]
        if raw.strip():
            blocks.append(_block(text, pos, end, 0))
        pos = match.end() if match else len(text)
    return _mark_headings(blocks)


def _mark_headings(blocks: list[Block]) -> list[Block]:
    marked: list[Block] = []
    seen_heading = False
    for i, block in enumerate(blocks):
        if i < len(blocks) - 1 and looks_like_heading(block.text):  # text follows a title
            marked.append(Block(2 if seen_heading else 1, block.start, block.end, block.text))
            seen_heading = True
        else:
            marked.append(block)
    return marked


def looks_like_heading(line: str) -> bool:
    """A short, unpunctuated, capitalised line (one with text after it is a title: over a
    longer paragraph, or a document title over a section title)."""
    line = line.strip()
    return (
        0 < len(line) <= 80
        and "\n" not in line
        and len(line.split()) <= 12
        and not line.endswith(_END_PUNCTUATION)
        and (line[0].isupper() or line[0].isdigit())
    )
