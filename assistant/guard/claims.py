"""Read a model's reply as claims: sentences, each with the passages it cites.

Citation markers are read in the forms models produce ([1], [1][2], [1, 2], [1-3], 【1】,
[Passage 2], [^1]); a marker after the full stop, or alone on the next line, belongs to
the sentence before it, and a sentence without one takes the marks of the next marked
sentence of its paragraph. Numbers that name no passage of this answer are kept apart as
`invalid`, never as citations. Markdown, HTML and web addresses are removed from the
text (nothing a model writes is rendered as a link or an image), and a sentence the
reply already made is marked as a repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pydantic_core

from swguide.text import CITATION, plain, sentence_spans

BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
TAG = re.compile(r"</?[A-Za-z][^>]*>")
EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")
OPEN_MARKER = re.compile(r"[\[【][^\]】]*$")
END = re.compile(r"[.!?][\"'”’)]*$")


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of a reply: its text (markers and markup removed) and what it cites."""

    text: str
    cited: tuple[int, ...]
    invalid: tuple[int, ...] = ()
    repeat: bool = False
    ended: bool = True


def parse_claims(reply: str, passages: int) -> list[Claim]:
    """The sentences of `reply` with their citation numbers (1..passages kept); a
    sentence without marks takes those of the next marked sentence of its paragraph."""
    claims: list[Claim] = []
    seen: set[str] = set()
    paragraph = 0  # where the current paragraph's claims begin
    for line in reply.splitlines():
        if not line.strip():
            _share_marks(claims, paragraph)
            paragraph = len(claims)
        body = BULLET.sub("", _markup_free(line))
        for start, end in sentence_spans(body):
            claim = _claim(body[start:end], passages)
            if not claim.text and claims and (claim.cited or claim.invalid):
                claims[-1] = _merge(claims[-1], claim)  # markers alone on their own line
            elif claim.text:
                key = " ".join(claim.text.lower().split())
                claims.append(
                    Claim(
                        claim.text,
                        claim.cited,
                        claim.invalid,
                        key in seen,
                        bool(END.search(claim.text)),
                    )
                )
                seen.add(key)
    _share_marks(claims, paragraph)
    return claims


def _share_marks(claims: list[Claim], start: int) -> None:
    """An unmarked sentence of a paragraph takes the marks of the next marked sentence
    of the same paragraph ("A. B. C. [2][3]": all three cite 2 and 3)."""
    marks: tuple[int, ...] = ()
    for at in reversed(range(start, len(claims))):
        if claims[at].cited or claims[at].invalid:
            marks = claims[at].cited
        elif marks:
            claims[at] = _merge(claims[at], Claim("", marks))


def complete(claims: list[Claim], reply: str) -> list[Claim]:
    """The claims a streaming reply has moved past: all but the last, once the last has
    words in it and the reply does not end inside a citation marker ("[Pass"), less any
    unmarked ones at their end (a later sentence's marks may yet become theirs)."""
    if OPEN_MARKER.search(reply.rstrip()):
        return []
    if len(claims) > 1 and any(c.isalpha() for c in claims[-1].text):
        done = claims[:-1]
        while done and not (done[-1].cited or done[-1].invalid):
            done.pop()
        return done
    return []


def _markup_free(line: str) -> str:
    line = URL.sub("", plain(line))
    line = TAG.sub("", line)
    return EMPHASIS.sub("", line)


def _claim(sentence: str, passages: int) -> Claim:
    numbers: list[int] = []
    for match in CITATION.finditer(sentence):
        numbers += _numbers(match.group(1))
    text = re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub("", sentence)).strip()
    valid = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= passages))
    invalid = tuple(dict.fromkeys(n for n in numbers if not 1 <= n <= passages))
    return Claim(text, valid, invalid)


def _merge(claim: Claim, markers: Claim) -> Claim:
    cited = tuple(dict.fromkeys(claim.cited + markers.cited))
    invalid = tuple(dict.fromkeys(claim.invalid + markers.invalid))
    return Claim(claim.text, cited, invalid, claim.repeat, claim.ended)


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", group):
        bounds = [int(n) for n in re.split(r"\s*[-–]\s*", part) if n.isdigit()]
        if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 20:
            out += range(bounds[0], bounds[1] + 1)
        else:
            out += bounds
    return out


def parse_json_claims(reply: str, passages: int, *, final: bool) -> list[Claim] | None:
    """The claims of a structured reply, `{"sentences": [{"text": ..., "passages": [...]}]}`,
    or None when the reply is not that JSON (a server that ignored the schema: read it as
    free text). While it streams (`final` false) only the sentence objects the reply has
    moved past count; at the end, a reply cut off inside its JSON leaves its last claim
    not `ended`."""
    if not reply.strip():
        return []
    if not reply.lstrip().startswith("{"):
        return None
    whole, data = _json(reply)
    items = data.get("sentences") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None if whole or data is None else []
    closed = len(items) if whole else _closed(reply)
    if not final:
        items = items[:closed]
    claims: list[Claim] = []
    seen: set[str] = set()
    for at, item in enumerate(items):
        cut = at >= closed
        for claim in _item_claims(item, passages):
            key = " ".join(claim.text.lower().split())
            claims.append(Claim(claim.text, claim.cited, claim.invalid, key in seen, not cut))
            seen.add(key)
    return claims


def _json(reply: str) -> tuple[bool, Any]:
    """(whether the JSON is whole, what it holds so far); (False, None) if it is not JSON."""
    try:
        return True, pydantic_core.from_json(reply)
    except ValueError:
        pass
    try:
        return False, pydantic_core.from_json(reply, allow_partial="trailing-strings")
    except ValueError:
        return False, None


def _closed(reply: str) -> int:
    """How many objects of the reply's sentence list are closed (the list's items sit
    two levels deep: {"sentences": [{...}, ...]})."""
    depth, closed, quoted, escaped = 0, 0, False, False
    for char in reply:
        if quoted:
            escaped, quoted = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            quoted = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            closed += char == "}" and depth == 2
    return closed


def _item_claims(item: Any, passages: int) -> list[Claim]:
    """One sentence object's claims (a text holding several sentences gives several),
    each citing the object's passage numbers and any markers written in its text."""
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return []
    listed = item.get("passages")
    numbers = [n for n in listed if isinstance(n, int)] if isinstance(listed, list) else []
    valid, invalid = _split(numbers, passages)
    body = BULLET.sub("", _markup_free(" ".join(item["text"].split())))
    claims = []
    for start, end in sentence_spans(body):
        claim = _claim(body[start:end], passages)
        if claim.text:
            claims.append(_merge(Claim(claim.text, valid, invalid), claim))
    return claims


def _split(numbers: list[int], passages: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    valid = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= passages))
    invalid = tuple(dict.fromkeys(n for n in numbers if not 1 <= n <= passages))
    return valid, invalid
