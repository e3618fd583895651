"""Read a document file into canonical text and blocks, or say why it cannot be read.

Markdown and plain text keep their exact source text (chunk spans index the file);
HTML becomes the Markdown of its main content (trafilatura drops navigation, footers
and banners); PDF becomes the text of its pages (pypdf), paragraphs re-joined.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.standards import clause_letter, standard_heading
from ingest.structure import Block, looks_like_heading, markdown_blocks, plain_blocks
from swguide.errors import DocumentError

SUFFIXES = {
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\n(?=[a-z])")


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    path: Path
    kind: str
    sha256: str
    text: str
    blocks: tuple[Block, ...]
    title: str
    page_starts: tuple[int, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """1-based page number of a character offset (PDF only)."""
        if not self.page_starts:
            return None
        return sum(1 for start in self.page_starts if start <= offset) or 1


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def load_document(path: Path, max_bytes: int) -> LoadedDocument:
    """Load one file; a DocumentError names what is wrong with it and what to do."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(
            f"unsupported file type {path.suffix or '(none)'}: use .md, .txt, .html or .pdf"
        )
    data = _read_bytes(path, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        text, page_starts = _pdf_text(data)
        return _finish(path, kind, digest, text, plain_blocks(text), page_starts)
    if kind == "html":
        text, title = _html_markdown(data)
        return _finish(path, kind, digest, text, markdown_blocks(text), title=title)
    text = _decode(data)
    blocks = markdown_blocks(text) if kind == "md" else plain_blocks(text)
    return _finish(path, kind, digest, text, blocks)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit: split it or "
                "raise limits.max_document_bytes"
            )
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"cannot be read ({error.strerror}): check the path") from None
    if not data.strip():
        raise DocumentError("is empty: add text or remove it")
    return data


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise DocumentError("looks binary, not text: give a .md, .txt, .html or .pdf file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"is not UTF-8 text (bad byte at {error.start}): save it as UTF-8"
        ) from None


def _html_markdown(data: bytes) -> tuple[str, str | None]:
    import trafilatura

    try:
        text = trafilatura.extract(
            data,
            output_format="markdown",
            include_formatting=True,
            include_links=False,
            include_tables=True,
            favor_recall=True,
        )
    except Exception as error:  # lxml and its helpers raise many types on broken markup
        raise DocumentError(
            f"cannot be parsed as HTML ({type(error).__name__}): check the file"
        ) from None
    if not text or not text.strip():
        raise DocumentError("has no main text that could be extracted: check it is an article")
    metadata = trafilatura.extract_metadata(data)
    return text, metadata.title if metadata else None


def _pdf_text(data: bytes) -> tuple[str, tuple[int, ...]]:
    from pypdf import PdfReader

    if not data.startswith(b"%PDF-"):
        raise DocumentError("is not a PDF (no %PDF header): check the file")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its repair notes are not for users
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = [] if encrypted else [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many types for damaged or exotic files
        raise DocumentError(
            f"is a damaged or unsupported PDF ({type(error).__name__}): re-export it"
        ) from None
    if encrypted:
        raise DocumentError("is an encrypted PDF: save an unencrypted copy")
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        body = _rejoin_lines(page)
        parts.append(body)
        offset += len(body) + 2
    return "\n\n".join(parts), tuple(starts)


def _rejoin_lines(page: str) -> str:
    """Join a PDF page's wrapped lines into paragraphs. Title lines (short, unpunctuated)
    and numbered standards ("1.06 Conflicts of Interest") stand alone; a lettered clause
    ("(b) ...") starts a paragraph."""
    lines = [line.strip() for line in _HYPHEN_BREAK.sub("", page).splitlines()]
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        current = paragraphs[-1]
        apart = (
            not current or current[-1].endswith((".", ":", ";")) or looks_like_heading(current[-1])
        )
        if not line:
            paragraphs.append([])
        elif standard_heading(line) or (looks_like_heading(line) and apart):
            paragraphs += [[line], []]
        elif clause_letter(line):
            paragraphs.append([line])
        else:
            current.append(line)
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


def _finish(
    path: Path,
    kind: str,
    digest: str,
    text: str,
    blocks: list[Block],
    page_starts: tuple[int, ...] = (),
    title: str | None = None,
) -> LoadedDocument:
    if not any(not b.is_heading for b in blocks):
        raise DocumentError("has no text paragraphs: add text or remove it")
    first_heading = next((b.text for b in blocks if b.level == 1), None)
    return LoadedDocument(
        path=path,
        kind=kind,
        sha256=digest,
        text=text,
        blocks=tuple(blocks),
        title=title or first_heading or path.stem.replace("-", " ").replace("_", " "),
        page_starts=page_starts,
    )
