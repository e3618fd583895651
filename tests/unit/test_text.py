"""Sentence spans, footnote markers and document structure."""

from __future__ import annotations

from ingest.structure import markdown_blocks, plain_blocks
from swguide.text import footnotes_in, sentence_spans, strip_footnotes


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


def test_unicode_line_separators_do_not_shift_spans() -> None:
    text = "# T\n\nFirst line\u2028 goes on.\n\n## S\n\nSecond\x0c para.\r\n\r\nThird.\n"
    blocks = markdown_blocks(text)
    assert [b.text for b in blocks] == [
        "T",
        "First line\u2028 goes on.",
        "S",
        "Second\x0c para.",
        "Third.",
    ]
    for b in blocks:
        if not b.is_heading:
            assert text[b.start : b.end] == b.text


def test_quotes_show_only_our_citations_and_no_markup() -> None:
    from swguide.text import plain, quote_text

    assert quote_text("The 2017 standards [2017] require it.[3]") == (
        "The 2017 standards (2017) require it."
    )
    assert (
        quote_text("See [the policy](https://example.org/p) now ![x](https://e.org/x.png)")
        == "See the policy now"
    )
    assert "https://e.org/x.png" not in plain("![pixel](https://e.org/x.png) text")
