"""Client-identifying details are found before a question is answered, and redacted."""

from __future__ import annotations

import pytest

from assistant.ui import privacy


@pytest.mark.parametrize(
    ("question", "kind", "value"),
    [
        ("My client Jane Doe sent me a friend request.", "name", "Jane Doe"),
        ("my patient, Oluwaseun sent a request", "name", "Oluwaseun"),
        ("A client named O'Brien follows me on Instagram.", "name", "O'Brien"),
        ("Mrs. Alvarez left a review on Yelp.", "name", "Alvarez"),
        ("Her DOB is 03/04/1980.", "date", "03/04/1980"),
        ("born on March 4, 1980", "date", "March 4, 1980"),
        ("He was born 1980 in Ohio.", "date", "1980"),
        ("Call him at (415) 555-2671 tonight?", "phone", "(415) 555-2671"),
        ("Her number is 555-201-3344.", "phone", "555-201-3344"),  # unassigned, still hers
        ("She wrote from jane.doe+x@example.org.", "email", "jane.doe+x@example.org"),
        ("He lives at 42 Maple Street, Apt 3B.", "address", "42 Maple Street, Apt 3B"),
        ("Case #A12-3345 says otherwise.", "record number", "Case #A12-3345"),
        ("MRN: 00481516", "record number", "MRN: 00481516"),
        ("SSN 078-05-1120", "record number", "078-05-1120"),
    ],
)
def test_each_kind_is_found(question: str, kind: str, value: str) -> None:
    found = privacy.find(question)
    assert [(f.kind, f.text) for f in found] == [(kind, value)]
    assert question[found[0].start : found[0].end] == value
    assert value not in privacy.redact(question)
    assert privacy.LABELS[kind] in privacy.redact(question)


@pytest.mark.parametrize(
    "question",
    [
        "Can I accept a client's LinkedIn request?",
        "My client Facebook-messaged me, can I reply?",
        "What do Standards 1.06 and 3.02 (2017) say about dual relationships?",
        "Should my client sessions on Zoom be recorded?",
        "How many of my 25 clients may follow my page?",
        "Is it OK to vent about a hard case on social media?",
        "",
    ],
)
def test_questions_about_the_guidance_raise_no_notice(question: str) -> None:
    assert privacy.find(question) == []
    assert privacy.redact(question) == question


def test_redaction_keeps_the_sense_and_describes_without_repeating() -> None:
    question = "My client Jane Doe (DOB 03/04/1980, 555-201-3344) wants to friend me. Can I?"
    found = privacy.find(question)
    assert privacy.redact(question, found) == (
        "My client [CLIENT NAME] (DOB [DATE], [PHONE]) wants to friend me. Can I?"
    )
    described = privacy.describe(found)
    assert described == "a client's name, a date (of birth?), a phone number"
    assert "Jane" not in described and "1980" not in described
