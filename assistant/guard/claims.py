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
