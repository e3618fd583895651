"""Client-identifying details in a question, found before it is answered.

Phone numbers come from `phonenumbers` (Google's libphonenumber); the rest from careful
patterns: a name after "my client" (or patient, clinician's titles such as "Mr."),
dates (of birth or any full date), e-mail and street addresses, and record, case or
social security numbers. Each finding says what it is and where; `redact` replaces them
with a bracketed label, so the question keeps its sense ("Can I accept [CLIENT NAME]'s
request?"). Nothing here is logged or stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency

ROLE = r"(?:client|patient|consumer|service user|counselee|customer|mentee)"
WORD = r"(?:[A-Z]['’][A-Z][a-z]+|[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b"
NAME = rf"{WORD}(?:\s+{WORD})?"
MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
STREET = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|"
    r"Pl|Terrace|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq)"
)
PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "name": [
        re.compile(
            rf"\b(?i:(?:my|our|a|the|this|his|her|their)\s+(?:former\s+|current\s+|new\s+)?"
            rf"{ROLE}(?:'s)?,?\s+(?:(?:named|called|is)\s+)?)({NAME})",
        ),
        re.compile(rf"\b(?i:{ROLE}\s+(?:named|called)\s+)({NAME})"),
        re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+({NAME})"),
    ],
    "date": [
        re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b"),
        re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
        re.compile(rf"\b{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"),
        re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\.?,?\s+\d{{4}}\b"),
        re.compile(
            r"\b(?i:DOB|D\.O\.B\.|date of birth|born(?:\s+on|\s+in)?)\s*:?\s*"
            r"(\d{4}|\S+\s+\d{1,2},?\s+\d{4})"
        ),
    ],
    "email": [re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")],
    "address": [
        re.compile(
            rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){{1,3}}{STREET}\b\.?"
            r"(?:,?\s+(?:Apt|Apartment|Unit|Suite|#)\.?\s*\w+)?"
        )
    ],
    "record number": [
        re.compile(
            r"\b(?:case|record|file|chart|member|client|patient|account|MRN|ID|medical record)"
            r"\s*(?:number|no\.?|num\.?|#|ID)?\s*[:#]?\s*(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,}\b",
            re.IGNORECASE,
        ),
        re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),  # social security number
    ],
}
LABELS = {
    "name": "[CLIENT NAME]",
    "date": "[DATE]",
    "email": "[EMAIL]",
    "address": "[ADDRESS]",
    "record number": "[RECORD NUMBER]",
    "phone": "[PHONE]",
}
# Capitalised words after "my client" that are not names: platforms, the guidance's terms.
NOT_NAMES = frozenset(
    [
        "LinkedIn",
        "Facebook",
        "Instagram",
        "Twitter",
        "X",
        "TikTok",
        "Snapchat",
        "WhatsApp",
        "Reddit",
        "YouTube",
        "Google",
        "Zoom",
        "Signal",
        "Telegram",
        "Messenger",
        "Yelp",
        "NASW",
        "Code",
        "Standards",
        "Social",
        "Media",
        "Is",
        "Has",
        "Was",
        "Who",
        "Wants",
        "Keeps",
        "Sent",
        "Asked",
        "Said",
        "Posted",
        "Followed",
        "Added",
        "Tagged",
        "Messaged",
        "Commented",
    ]
)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    text: str
    start: int
    end: int


def find(text: str, region: str = "US") -> list[Finding]:
    """Client-identifying details in `text`, in order, without overlaps."""
    found = [
        Finding("phone", m.raw_string, m.start, m.end)
        # POSSIBLE, not VALID: a made-up or unassigned number still identifies someone.
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE)
    ]
    for kind, patterns in PATTERNS.items():
        for pattern in patterns:
            for match in pattern.finditer(text):
                group = 1 if pattern.groups else 0
                found += _finding(kind, match, group)
    return _without_overlaps(found)


def _finding(kind: str, match: re.Match[str], group: int) -> list[Finding]:
    value = match.group(group)
    if kind == "name":
        words = value.split()
        while words and words[-1] in NOT_NAMES:
            words.pop()
        if not words or words[0] in NOT_NAMES:
            return []
        value = " ".join(words)
    start = match.start(group)
    return [Finding(kind, value, start, start + len(value))]


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return kept


def redact(text: str, findings: list[Finding] | None = None) -> str:
    findings = find(text) if findings is None else findings
    out, at = [], 0
    for f in findings:
        out += [text[at : f.start], LABELS[f.kind]]
        at = f.end
    return "".join([*out, text[at:]])


def describe(findings: list[Finding]) -> str:
    """ "a client's name, a phone number" for the notice (the values themselves are not
    repeated)."""
    names = {
        "name": "a client's name",
        "date": "a date (of birth?)",
        "email": "an e-mail address",
        "address": "a street address",
        "record number": "a record or case number",
        "phone": "a phone number",
    }
    return ", ".join(dict.fromkeys(names[f.kind] for f in findings))
