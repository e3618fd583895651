"""The extractive answerer's contract, with a deterministic fake embedder."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from conftest import FakeEmbedder

from assistant.answer.draft import lead_line
from assistant.answer.extractive import (
    Candidate,
    ExtractiveAnswerer,
    abstention,
    by_passage,
    in_context,
)
from assistant.retrieval.examples import ExampleQuestions
from assistant.retrieval.hybrid import Retrieval
from assistant.retrieval.lexical import LexicalIndex
from swguide.settings import AnswerSettings
from swguide.text import sentence_spans
from swguide.types import Chunk, Citation, Passage

TEXTS = {
    "policy": "Share a social media policy with clients at intake.[3] Update the policy "
    "when platforms change.",
    "boundary": "Avoid friend requests from clients on social media. Keep personal accounts "
    "private and separate.",
    "support": "Use supervision for hard cases. Peer consultation also helps.",
    "copy": "Share a social media policy with clients at intake.",
    "risk": "Never post what could identify a client. Failure to do so could lead to "
    "disciplinary action. Keep records.",
}


def passage(key: str, rank: int) -> Passage:
    text = TEXTS[key]
    chunk = Chunk(
        key,
        "doc",
        "Doc",
        text,
        ("Doc", key.title()),
        rank,
        0,
        len(text),
        tuple(sentence_spans(text)),
    )
    return Passage(chunk, 1.0 / (rank + 1))


INSIDE = [
    "can I accept friend requests from clients on social media",
    "should I share a social media policy with clients",
    "where do I take hard cases instead of posting them",
]
OUTSIDE = [
    "how many hashtags should a post use",
    "what size should a profile photo be",
    "how do I reset my account password",
]


@pytest.fixture
def answerer() -> ExtractiveAnswerer:
    settings = AnswerSettings(
        min_relevance=0.3, confident_relevance=0.6, scope_margin=0.1, max_sentences=3
    )
    scope = ExampleQuestions(INSIDE, OUTSIDE, FakeEmbedder())
    return ExtractiveAnswerer(FakeEmbedder(), settings, scope)


def retrieval(question: str, keys: list[str]) -> Retrieval:
    vector = FakeEmbedder().embed([question])[0]
    passages = tuple(passage(k, i) for i, k in enumerate(keys))
    return Retrieval(passages, question, vector, vector, LexicalIndex(list(TEXTS.values())))


def test_quotes_are_verbatim_and_numbered_in_order_of_first_use(
    answerer: ExtractiveAnswerer,
) -> None:
    question = "Should I share a social media policy with clients or accept friend requests?"
    draft = answerer.answer(question, retrieval(question, ["boundary", "policy"]), ["Topics"])
    assert not draft.abstained
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", draft.text)]
    assert markers and markers[0] == 1
    assert sorted(set(markers)) == list(range(1, len(draft.citations) + 1))
    first_use = list(dict.fromkeys(markers))
    assert first_use == sorted(first_use)
    for citation in draft.citations:
        for start, end in citation.quotes:
            quoted = citation.passage.chunk.text[start:end].replace("[3]", "")
            assert f"“{quoted}” [{citation.n}]" in draft.text
    quotes = re.findall(r"“([^”]*)”", draft.text)
    assert quotes and not any("[" in q for q in quotes)  # the passage's own [3] is not quoted


def test_redundant_sentences_are_quoted_once(answerer: ExtractiveAnswerer) -> None:
    question = "share a social media policy with clients at intake"
    draft = answerer.answer(question, retrieval(question, ["policy", "copy"]), [])
    assert draft.text.count("Share a social media policy with clients at intake.") == 1


def test_abstains_without_citations_when_nothing_is_relevant(
    answerer: ExtractiveAnswerer,
) -> None:
    question = "What is the capital of France?"
    draft = answerer.answer(question, retrieval(question, ["policy", "support"]), ["A", "B"])
    assert draft.abstained and draft.citations == ()
    assert draft.text == abstention(["A", "B"])
    assert draft.text.startswith("The guidance here does not address")


def test_the_scope_margin_decides_above_the_floor(answerer: ExtractiveAnswerer) -> None:
    assert answerer.answerable(0.4, 0.2)
    assert not answerer.answerable(0.4, 0.05)
    assert not answerer.answerable(0.7, 0.05)  # a document the examples were written for
    assert answerer.answerable(0.7, -1.0, guided=False)  # any other: relevance answers
    assert not answerer.answerable(0.5, -1.0, guided=False)
    assert not answerer.answerable(0.2, 1.0)  # nothing close enough to quote


def test_other_documents_answer_from_the_ceiling_whatever_the_question_reads_like() -> None:
    settings = AnswerSettings(min_relevance=0.3, confident_relevance=0.5, scope_margin=0.1)
    question = "how many hashtags should a social media policy post use"
    drafts = [
        ExtractiveAnswerer(
            FakeEmbedder(),
            settings,
            ExampleQuestions(INSIDE, OUTSIDE, FakeEmbedder(), documents=documents),
        ).answer(question, retrieval(question, ["policy"]), ["Topics"])
        for documents in (["doc"], ["another"])
    ]
    assert drafts[0].scope < 0.1 and drafts[0].relevance >= 0.5
    assert drafts[0].guided and drafts[0].abstained
    assert not drafts[1].guided and not drafts[1].abstained


def test_the_scope_margin_decides_between_two_equally_relevant_questions() -> None:
    settings = AnswerSettings(min_relevance=0.3, confident_relevance=0.9, scope_margin=0.1)
    answerer = ExtractiveAnswerer(
        FakeEmbedder(), settings, ExampleQuestions(INSIDE, OUTSIDE, FakeEmbedder())
    )
    inside = "should I share a social media policy with clients at intake"
    outside = "how many hashtags should a social media policy post use"
    kept = answerer.answer(inside, retrieval(inside, ["policy"]), ["Topics"])
    refused = answerer.answer(outside, retrieval(outside, ["policy"]), ["Topics"])
    assert kept.scope > 0.1 > refused.scope
    assert 0.3 <= refused.relevance < 0.9  # the band, where scope decides
    assert not kept.abstained and kept.citations
    assert refused.abstained and refused.citations == ()


def candidate(key: str, index: int) -> Candidate:
    found = passage(key, 0)
    span = found.chunk.sentences[index]
    return Candidate(found, span, found.chunk.text[span[0] : span[1]], 0.5, 0.0)


def test_a_quote_that_opens_with_a_reference_carries_the_sentence_before_it() -> None:
    dangling = candidate("risk", 1)  # "Failure to do so could lead to ..."
    (quoted,) = in_context([dangling])
    assert quoted.text.startswith("Never post what could identify a client.")
    assert quoted.text.endswith("disciplinary action.") and quoted.span[1] == dangling.span[1]
    assert in_context([candidate("risk", 2)])[0].text == "Keep records."  # stands alone


def test_a_carried_sentence_is_not_quoted_twice() -> None:
    before, dangling, after = (candidate("risk", i) for i in range(3))
    assert [c.span for c in in_context([before, dangling])] == [in_context([dangling])[0].span]
    assert len(in_context([dangling, before, after])) == 2


def test_the_lead_names_each_cited_section_once_with_its_markers(
    answerer: ExtractiveAnswerer,
) -> None:
    question = "Should I share a social media policy with clients or accept friend requests?"
    draft = answerer.answer(question, retrieval(question, ["boundary", "policy"]), ["Topics"])
    sections = {c.n: c.passage.chunk.section for c in draft.citations}
    assert draft.lead.startswith("The guidance speaks to this under *") and draft.lead[-1] == ":"
    for n, section in sections.items():
        assert draft.lead.count(f"*{section}* [{n}]") == 1
    assert len(re.findall(r"\[(\d+)\]", draft.lead)) == len(draft.citations)


def test_lead_line_merges_one_section_and_names_documents_when_several() -> None:
    def cited(n: int, key: str, document: str, section: str) -> Citation:
        chunk = passage(key, n).chunk
        moved = replace(chunk, document_id=document, document_title=document.title())
        return Citation(n, Passage(replace(moved, heading_path=(section,)), 1.0))

    one = lead_line([cited(1, "policy", "doc", "Policy"), cited(2, "risk", "doc", "Policy")])
    assert one == "The guidance speaks to this under *Policy* [1][2]:"
    two = lead_line([cited(1, "policy", "article", "Policy"), cited(2, "risk", "code", "1.06")])
    assert two == (
        "The guidance speaks to this under *Policy* in *Article* [1] and *1.06* in *Code* [2]:"
    )
    assert lead_line([]) == ""


def test_quotes_are_grouped_by_passage_best_passage_first() -> None:
    def candidate(key: str, at: int, relevance: float) -> Candidate:
        chunk = passage(key, 0).chunk
        span = chunk.sentences[at]
        return Candidate(Passage(chunk, 1.0), span, chunk.text[slice(*span)], relevance, 0.0)

    chosen = [candidate("risk", 0, 0.9), candidate("policy", 0, 0.8), candidate("risk", 2, 0.7)]
    grouped = by_passage(chosen)
    assert [(c.passage.chunk.id, c.span) for c in grouped] == [
        ("risk", chosen[0].span),
        ("risk", chosen[2].span),
        ("policy", chosen[1].span),
    ]
