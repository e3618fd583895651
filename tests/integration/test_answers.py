"""Retrieval and extractive answers on the bundled corpus, with the real model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import evals
from assistant.build import build_assistant, open_store
from assistant.service import Assistant
from evals.calibrate import evaluate, load_questions, measure
from ingest.embedding import CachedEmbedder
from ingest.pipeline import ingest
from swguide.settings import Settings

pytestmark = pytest.mark.slow
EVALS = Path(evals.__file__).parent


@pytest.mark.parametrize(
    ("question", "section"),
    [
        (
            "When should my social media policy be discussed with a client?",
            "Develop a Social Media Policy",
        ),
        (
            "Where can members exchange knowledge and find peer support?",
            "Seek Professional Support",
        ),
        (
            "Can my licensing board take disciplinary action over a post?",
            "Confidentiality and Privacy",
        ),
        ("Should I avoid offensive or discriminatory language online?", "Avoid Biases"),
        ("Are online groups with clients a dual relationship risk?", "Professional Boundaries"),
    ],
)
def test_the_right_passage_is_retrieved(assistant: Assistant, question: str, section: str) -> None:
    passages = assistant.retriever.retrieve(question).passages
    assert section in [p.chunk.section for p in passages[:3]]


@pytest.mark.parametrize(
    "question",
    [
        "What billing code do I use for family therapy?",
        "What is the maximum dose of lorazepam?",
        "Which state has the most social workers?",
        "What is the capital of Peru?",
    ],
)
def test_out_of_scope_questions_are_refused(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and answer.citations == ()
    assert answer.text.startswith("The guidance here does not address this question.")
    assert "Professional Boundaries" in answer.text  # it says what it does cover


def test_a_topic_word_outside_the_guidance_is_named(assistant: Assistant) -> None:
    answer = assistant.ask("How do I bill for a session about a client's social media use?")
    assert answer.abstained and "It says nothing about billing and insurance." in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "A former patient keeps messaging me on Instagram",
        "Should I develop a policy about how I use social networking with clients?",
        "is it ok to shair storys about my clints on social media",
        "Can I talk about a tough case with my supervisor instead of posting it?",
    ],
)
def test_in_scope_questions_are_answered_with_valid_citations(
    assistant: Assistant, question: str
) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}
    retrieved = {p.chunk.id for p in answer.passages}
    for citation in answer.citations:
        assert citation.passage.chunk.id in retrieved
        for start, end in citation.quotes:
            sentence = citation.passage.chunk.text[start:end]
            assert re.sub(r"\[\d+\]", "", sentence) in answer.text


def test_citations_carry_provenance(assistant: Assistant) -> None:
    answer = assistant.ask("Should I share a social media policy with my clients?")
    by_section = {c.passage.chunk.section: c for c in answer.citations}
    policy = by_section["Develop a Social Media Policy"].to_dict()
    assert policy["document"] == "Tips for Social Media Etiquette in Social Work Practice"
    assert policy["source_number"] == 6
    assert policy["sources"][0]["resolves_to"] == 5 and policy["sources"][0]["ambiguity"]
    assert policy["text"].startswith("Lastly, NASW")


def test_calibrated_thresholds_hold(assistant: Assistant, corpus_settings: Settings) -> None:
    """The shipped thresholds still separate the calibration questions (see evals/)."""
    answer = corpus_settings.answer
    configured = (answer.min_relevance, answer.confident_relevance, answer.scope_margin)
    for split in ("fit", "check"):
        measured = measure(assistant, load_questions(split))
        outcome = evaluate(measured, *configured)
        assert outcome.wrong_answers == 0
        assert outcome.refusals <= 1
        assert all(m.guided for m in measured if m.relevance > 0)  # the examples know it


def test_an_agency_document_answers_what_the_examples_call_out_of_scope(
    make_settings: Any, embedder: CachedEmbedder, write: Any
) -> None:
    """The example questions judge scope for the guidance they were written for; a
    document of the user's own answers from `confident_relevance` up."""
    import corpus

    settings = make_settings()
    records = write(
        "records.md",
        "# Records\n\nElectronic records of client contact are kept for seven years.\n",
    )
    ingest([corpus.DIRECTORY, records], open_store(settings, create=True), embedder, settings)
    assistant = build_assistant(settings, embedder, llm="extractive")
    kept = assistant.ask("How long are electronic records of client contact kept?")
    assert not kept.abstained and "seven years" in kept.text
    hashtags = assistant.ask("How many hashtags should I put on a post so it reaches more people?")
    assert hashtags.abstained


def test_no_example_question_is_an_eval_question(embedder: CachedEmbedder) -> None:
    """The example questions steer ranking and scope, so none may stand in for a question
    the evals or the calibration score (MiniLM cosine 0.95 or more)."""
    import tomllib

    import corpus

    examples = tomllib.loads((corpus.DIRECTORY / "example_questions.toml").read_text("utf-8"))
    asked = [
        q["text"]
        for name in (
            "questions",
            "clinician_questions",
            "held2_questions",
            "fit2_questions",
            "scope",
        )
        for q in tomllib.loads((EVALS / f"{name}.toml").read_text("utf-8"))["questions"]
    ]
    similarity = embedder.embed([e["text"] for e in examples["examples"]]) @ embedder.embed(asked).T
    assert float(similarity.max()) < 0.95
