"""Reading a model's reply as claims: marks shared within a paragraph, and what a
streaming reply has moved past."""

from __future__ import annotations

from assistant.guard.claims import complete, parse_claims, parse_json_claims


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


REPLY = (
    '{"sentences": [{"text": "Share a **policy** [2].", "passages": [1, 7]}, '
    '{"text": "Discuss it early. Update it \\"as needed\\" {often}.", "passages": [3]}, '
    '{"text": "Cut he'
)


def test_a_structured_reply_gives_each_sentence_its_passage_numbers() -> None:
    claims = parse_json_claims(REPLY, 5, final=True)
    assert claims is not None
    assert [(c.text, c.cited, c.invalid) for c in claims[:3]] == [
        ("Share a policy.", (1, 2), (7,)),  # markup gone, a marker in the text kept
        ("Discuss it early.", (3,), ()),
        ('Update it "as needed" {often}.', (3,), ()),
    ]
    assert all(c.ended for c in claims[:3])
    assert claims[3].text == "Cut he" and not claims[3].ended  # cut off inside its JSON


def test_a_streaming_structured_reply_counts_only_closed_sentence_objects() -> None:
    seen = []
    for end in range(1, len(REPLY) + 1):
        claims = parse_json_claims(REPLY[:end], 5, final=False)
        assert claims is not None
        seen.append(len(claims))
    assert seen == sorted(seen) and seen[-1] == 3  # never the open object
    first_closed = REPLY.index("}") + 1
    assert seen[first_closed - 2] == 0 and seen[first_closed - 1] == 1


def test_a_reply_that_is_not_json_is_left_to_the_free_text_reader() -> None:
    assert parse_json_claims("Share a policy. [1]", 3, final=True) is None
    assert parse_json_claims('{"answer": "Share a policy."}', 3, final=True) is None
    assert parse_json_claims("", 3, final=False) == []
