"""Numbered standards and their lettered clauses, as publishers lay them out.

Codes of ethics and practice standards number their standards ("1.06 Conflicts of
Interest", "Standard 2.01: Competence", "Section 3. Gathering, Managing, and Storing
Information") and letter the clauses within them ("(a) Social workers should ...").
The layout is recognised from that structure, not from any one page: a short paragraph
or heading that is only a number and a title names a standard; a paragraph opening with
"(a)" to "(z)" under it is one of its clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from swguide.types import STANDARD_NUMBER

STANDARD = re.compile(
    STANDARD_NUMBER + r"(?P<title>[A-Z][^\n]{1,118}?)[*_\s]*$",
    re.IGNORECASE,
)
SECTION = re.compile(
    r"^[*_#\s]*section\s+(?P<number>\d{1,2})[:.]?\s+(?P<title>[A-Z].{1,118}?)[*_\s]*$",
    re.IGNORECASE,
)
CLAUSE = re.compile(r"^[*_\s]*\((?P<letter>[a-z])\)[*_\s]")


@dataclass(frozen=True, slots=True)
class Numbered:
    number: str
    title: str


def standard_heading(text: str) -> Numbered | None:
    """The standard a heading (or a one-line paragraph) names, if it names one."""
    line = text.strip()
    if "\n" in line or line.endswith((".", ";", ",")):
        return None
    match = STANDARD.match(line) or SECTION.match(line)
    if match is None:
        return None
    return Numbered(match["number"], match["title"].strip().rstrip(":."))


def clause_letter(paragraph: str) -> str | None:
    match = CLAUSE.match(paragraph)
    return match["letter"] if match else None


def clause_id(heading: str, letter: str | None) -> str | None:
    """ "1.06(e)" for clause (e) under "1.06 Conflicts of Interest"; "1.06" for the
    standard's own text; None outside numbered standards."""
    standard = standard_heading(heading)
    if standard is None or "." not in standard.number:
        return None
    return f"{standard.number}({letter})" if letter else standard.number
