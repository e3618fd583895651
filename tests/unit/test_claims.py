"""Reading a model's reply as claims: marks shared within a paragraph, and what a
streaming reply has moved past."""

from __future__ import annotations

from assistant.guard.claims import complete, parse_claims


def test_a_paragraph_marked_once_at_its_end_cites_every_sentence() -> None:
    reply = "One point. Two points. Three points. [2][3]\n\nAnother paragraph. Its end. [1]"
    claims = parse_claims(reply, 3)
    assert [c.cited for c in claims] == [(2, 3), (2, 3), (2, 3), (1,), (1,)]


def test_a_sentence_takes_the_next_marks_of_its_own_paragraph_only() -> None:
    claims = parse_claims("Marked. [1] Bare. Marked again. [2]\n\nBare at the end.", 3)
    assert [c.cited for c in claims] == [(1,), (2,), (2,), ()]


def test_streaming_holds_back_unmarked_sentences_until_their_marks_come() -> None:
    moving = "One. Two. Thr"
    assert complete(parse_claims(moving, 3), moving) == []
    moving = "One. Two. [1] Thr"
    done = complete(parse_claims(moving, 3), moving)
    assert [(c.text, c.cited) for c in done] == [("One.", (1,)), ("Two.", (1,))]
