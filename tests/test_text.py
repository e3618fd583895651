"""Sentence spans, footnote markers and document structure."""

from __future__ import annotations

from ingest.sentences import footnotes_in, sentence_spans, strip_footnotes
from ingest.structure import markdown_blocks, plain_blocks


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_marker_after_full_stop_belongs_to_the_sentence_before() -> None:
    text = "Share a policy with clients.[3] Then review it. Done so.[2][5]"
    assert sentences(text) == [
        "Share a policy with clients.[3]",
        "Then review it.",
        "Done so.[2][5]",
    ]


def test_missing_space_after_full_stop_still_ends_a_sentence() -> None:
    text = "The client may lose trust in the profession.NASW advises a policy."
    assert sentences(text) == [
        "The client may lose trust in the profession.",
        "NASW advises a policy.",
    ]


def test_abbreviations_do_not_end_sentences() -> None:
    assert len(sentences("Dr. Smith met Mr. Jones. They talked.")) == 2


def test_footnote_helpers() -> None:
    assert footnotes_in("a[2] b[5] c[2]") == (2, 5)
    assert strip_footnotes("with clients.[3]") == "with clients."


def test_markdown_blocks_are_exact_slices() -> None:
    text = "# Title\n\nFirst para\nwraps here.\n\n## Part\n\n- item one\n\nLast.[1]\n\n[1]: #r\n"
    blocks = markdown_blocks(text)
    assert [(b.level, b.text) for b in blocks] == [
        (1, "Title"),
        (0, "First para\nwraps here."),
        (2, "Part"),
        (0, "- item one"),
        (0, "Last.[1]"),
    ]
    for b in blocks:
        if not b.is_heading:
            assert text[b.start : b.end] == b.text


def test_plain_text_headings_are_short_unpunctuated_lines() -> None:
    text = "Policy Basics\n\nA policy should be shared with clients early on.\n\nShort line."
    blocks = plain_blocks(text)
    assert [(b.level, b.text[:12]) for b in blocks] == [
        (1, "Policy Basic"),
        (0, "A policy sho"),
        (0, "Short line."),
    ]
