"""What the chat page shows and exports, and its handlers, without a browser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from conftest import FakeGenerator

from assistant.service import Assistant
from assistant.ui import view as chatview
from assistant.ui.chat import ChatPage
from assistant.ui.export import FORMAT, download_links, record, to_markdown
from assistant.ui.view import Conversation, Exchange
from swguide.settings import Settings
from swguide.types import Answer

pytestmark = pytest.mark.slow
LINKEDIN = "Can I accept a client's LinkedIn request?"
# A question the guidance answers from two passages, for the cards and the export.
TWO_PLACES = (
    "Can I accept a client's LinkedIn request, and what should my social media policy say about it?"
)


@pytest.fixture(scope="module")
def answer(assistant: Assistant) -> Answer:
    found = assistant.ask(TWO_PLACES)
    assert len(found.citations) >= 2
    return found


def test_markers_link_to_cards_and_unresolved_ones_never_render(answer: Answer) -> None:
    text = f"{answer.text} An invented claim. [7] <script>alert(1)</script>"
    shown = chatview.linked(text, answer.citations, turn=3)
    links = re.findall(r"\[\[(\d+)\]\]\(#swg-t3-c(\d+)\)", shown)
    assert links and all(a == b for a, b in links)
    assert {int(n) for n, _ in links} == {c.n for c in answer.citations}
    assert "[7]" not in shown
    assert re.sub(r"\[\[\d+\]\]\(#swg-t3-c\d+\)", "", shown).count("[") == 0
    assert "<script>" not in shown and "&lt;script&gt;" in shown


def test_cards_hold_the_passage_escaped_with_the_supporting_span(answer: Answer) -> None:
    citation = answer.citations[0]
    chunk = citation.passage.chunk
    hostile = replace(
        citation,
        passage=replace(
            citation.passage, chunk=replace(chunk, heading_path=('<img src=x onerror="alert(1)">',))
        ),
    )
    card = chatview.card(hostile, answer, turn=1)
    assert 'id="swg-t1-c1"' in card and "[1]" in card
    assert chunk.document_title in card
    assert "<img" not in card and "&lt;img" in card
    assert "<mark>" in card  # the sentence quoted in the answer is highlighted
    marked = re.search(r"<mark>(.*?)</mark>", card)
    assert marked and marked.group(1).replace("&#x27;", "'") in answer.text
    evidence = chatview.evidence_html(Conversation([Exchange(TWO_PLACES, answer)]))
    assert evidence.count('class="swg-card"') == len(answer.citations)


def test_the_verification_view_marks_every_sentence(answer: Answer) -> None:
    rejected = replace(
        answer.sentences[0],
        text="You must accept every request.",
        supported=False,
        shown=False,
        score=0.31,
        reasons=("not in the cited passage",),
    )
    mixed = replace(answer, sentences=(*answer.sentences, rejected))
    view = chatview.verification_html(Conversation([Exchange(TWO_PLACES, mixed)]))
    assert view.count("<tr class=") == len(mixed.sentences)
    assert view.count("✓ supported") == len(answer.sentences)
    assert 'class="swg-unsupported"' in view and "0.31" in view
    assert "not in the cited passage" in view


def test_the_export_is_the_record_a_supervisor_files(answer: Answer) -> None:
    conversation = Conversation([Exchange("My client [CLIENT NAME] asked. Can I?", answer)])
    data = record(conversation)
    assert data["format"] == FORMAT and data["swguide_version"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", data["exported_at"])
    [turn] = data["turns"]
    assert turn["question"] == "My client [CLIENT NAME] asked. Can I?"
    assert turn["answer"] == answer.shown_text and turn["backend"] == "extractive"
    assert turn["settings_hash"] == answer.settings_hash != ""
    assert [s["verdict"] for s in turn["sentences"]] == ["supported"] * len(answer.sentences)
    for cited, citation in zip(turn["citations"], answer.citations, strict=True):
        text = citation.passage.chunk.text
        assert cited["chunk_id"] == citation.passage.chunk.id
        assert cited["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
        assert cited["document"] and cited["section"]
    markdown = to_markdown(data)
    assert "## 1. My client [CLIENT NAME] asked. Can I?" in markdown
    assert turn["citations"][0]["text_sha256"] in markdown
    links = download_links(conversation)
    encoded = re.search(r'id="swg-export-json"[^>]*base64,([^"]+)"', links)
    assert encoded and json.loads(base64.b64decode(encoded.group(1)))["turns"][0]["turn"] == 1


def drain(events: Any) -> list[tuple[Any, ...]]:
    return list(events)


def test_a_question_with_client_details_waits_for_the_users_choice(assistant: Assistant) -> None:
    page = ChatPage(assistant)
    typed = "My client Jane Doe (DOB 03/04/1980) sent a LinkedIn request. Can I accept?"
    [notice] = drain(page.submit(typed, [], None))
    history, box, shown, text, *_, conversation = notice
    assert history == [] and box == typed and shown["visible"] is True
    assert "a client's name, a date" in text["value"] and "Jane" not in text["value"]
    assert conversation.pending == typed and not conversation.exchanges
    *_, last = drain(page.send_redacted([], conversation))
    history, conversation = last[0], last[-1]
    assert conversation.pending is None
    assert history[0]["content"] == (
        "My client [CLIENT NAME] (DOB [DATE]) sent a LinkedIn request. Can I accept?"
    )
    assert "#swg-t1-c1" in history[1]["content"]
    assert "Jane" not in json.dumps(record(conversation))


def test_sessions_do_not_share_conversations(assistant: Assistant) -> None:
    page = ChatPage(assistant)
    *_, first = drain(page.submit(LINKEDIN, [], None))
    *_, second = drain(page.submit("Do I need a social media policy?", [], None))
    mine, theirs = first[-1], second[-1]
    assert mine is not theirs
    assert [e.question for e in mine.exchanges] == [LINKEDIN]
    assert [e.question for e in theirs.exchanges] == ["Do I need a social media policy?"]
    *_, follow = drain(page.submit("what about former clients?", first[0], mine))
    assert "_Searched for: Can I accept" in follow[0][-1]["content"]
    assert len(follow[-1].exchanges) == 2 and len(theirs.exchanges) == 1
    fresh = page.new_conversation()
    assert len(fresh) == len(first)  # one value for each output of the page
    assert fresh[0] == [] and fresh[-1].exchanges == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("   ", "⚠️ The question is empty"),
        ("\x00\x01binary", "⚠️ "),
        ("why " * 5000, "⚠️ The question is 19,999 characters, over the limit"),
    ],
)
def test_bad_questions_become_one_line_in_the_chat(
    assistant: Assistant, question: str, expected: str
) -> None:
    *_, last = drain(ChatPage(assistant).submit(question, [], None))
    reply = last[0][-1]["content"]
    assert reply.startswith(expected) and "\n" not in reply and "Traceback" not in reply
    assert last[-1].exchanges == []  # nothing half-recorded


def test_an_unexpected_failure_is_one_line_too(assistant: Assistant) -> None:
    class Broken:
        def stream(self, *args: Any) -> Any:
            raise RuntimeError("boom")
            yield

        def ask(self, *args: Any) -> Any:
            raise RuntimeError("boom")

    page = ChatPage(assistant)
    page.assistant = Broken()  # type: ignore[assignment]
    *_, last = drain(page.submit(LINKEDIN, [], None))
    assert last[0][-1]["content"] == "⚠️ Something went wrong (RuntimeError); please try again."
    assert page.api(LINKEDIN) == "⚠️ Something went wrong (RuntimeError); please try again."


def test_a_models_answer_streams_sentence_by_sentence(
    assistant: Assistant, corpus_settings: Settings
) -> None:
    from test_generative import first_sentences, with_model

    def reply(messages: list[dict[str, str]]) -> str:
        a, b = first_sentences(messages, 1, 2)
        return f"{a} [1] Clients must be told within 30 days. [3] {b} [1]"

    page = ChatPage(with_model(assistant, corpus_settings, FakeGenerator(reply)))
    updates = drain(page.submit(LINKEDIN, [], None))
    replies = [u[0][-1]["content"] for u in updates]
    assert replies[0] == "…"  # searching
    streamed = replies[1:-1]
    assert len(streamed) == 2 and streamed[0].endswith("[1] …")  # one verified sentence
    assert all("30 days" not in r for r in replies)
    final = replies[-1]
    lead, body = final.split("\n\n", 1)
    assert lead.startswith("The guidance speaks to this under *") and "](#swg-t1-c1)" in lead
    assert body.count("](#swg-t1-c1)") == 2 and "[3]" not in final
    assert "Answered by **fake:canned**" in updates[-1][6]
