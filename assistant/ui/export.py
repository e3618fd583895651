"""The record a supervisor files: a conversation as JSON and as Markdown.

For each turn: the question as it was sent (after any redaction), the answer, every
sentence with its verdict, every cited passage with document, section, chunk id and
the SHA-256 of its text, the backend and model, the settings hash, the package version
and a timestamp. The chat page offers both as downloads made in the browser (data
links), so nothing is written to disk on the server.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from assistant.ui.view import Conversation, Exchange

FORMAT = "swguide-conversation/1"


def package_version() -> str:
    try:
        return version("swguide")
    except PackageNotFoundError:
        return "unknown"


def record(conversation: Conversation, now: datetime | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "swguide_version": package_version(),
        "exported_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "turns": [_turn(i, e) for i, e in enumerate(conversation.exchanges, start=1)],
    }


def _turn(n: int, exchange: Exchange) -> dict[str, Any]:
    answer = exchange.answer
    backend, _, model = answer.backend.partition(":")
    return {
        "turn": n,
        "asked_at": exchange.asked_at,
        "question": exchange.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.shown_text,
        "lead": answer.lead,
        "abstained": answer.abstained,
        "backend": backend,
        "model": model or None,
        "backend_reason": answer.backend_reason,
        "fallback": answer.fallback,
        "model_written": answer.contribution,
        "settings_hash": answer.settings_hash,
        "sentences": [s.to_dict() for s in answer.sentences],
        "citations": [c.to_dict() for c in answer.citations],
    }


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def to_markdown(data: dict[str, Any]) -> str:
    lines = [
        "# swguide conversation",
        "",
        f"Exported {data['exported_at']} by swguide {data['swguide_version']}.",
    ]
    for turn in data["turns"]:
        model = f" ({turn['model']})" if turn["model"] else ""
        lines += [
            "",
            f"## {turn['turn']}. {turn['question']}",
            "",
            f"Asked {turn['asked_at']}; answered by {turn['backend']}{model}; settings "
            f"{turn['settings_hash']}."
            + (
                f" Searched for: {turn['standalone_question']}."
                if turn["standalone_question"]
                else ""
            ),
            "",
            turn["answer"],
        ]
        if turn["fallback"]:
            lines += ["", f"Fell back to quotes: {turn['fallback']}."]
        if turn["model_written"]:
            written = turn["model_written"]
            lines += [
                "",
                f"The model wrote {written['sentences_shown']} of the sentences shown; "
                f"{written['attributed']} attributed after the fact.",
            ]
        if turn["sentences"]:
            lines += ["", "| sentence | verdict | score | cites |", "|---|---|---|---|"]
            lines += [
                f"| {_cell(s['text'])} | {s['verdict']}{'' if s['shown'] else ', not shown'} "
                f"| {s['score']:.2f} | {' '.join(f'[{n}]' for n in s['citations']) or '—'} |"
                for s in turn["sentences"]
            ]
        for c in turn["citations"]:
            lines += [
                "",
                f"[{c['n']}] {c['document']} › {c['section']} (chunk {c['chunk_id']}, "
                f"text SHA-256 {c['text_sha256']})",
                "",
                *(f"> {line}" if line else ">" for line in c["text"].splitlines()),
            ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def download_links(conversation: Conversation) -> str:
    """Two links that download the conversation, made in the browser from data URIs."""
    if not conversation.exchanges:
        return '<p class="swg-empty">Export becomes available after the first answer.</p>'
    data = record(conversation)
    stamp = data["exported_at"].replace(":", "").replace("+0000", "Z")
    links = []
    for kind, mime, text in (
        ("json", "application/json", to_json(data)),
        ("md", "text/markdown", to_markdown(data)),
    ):
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        name = html.escape(f"swguide-conversation-{stamp}.{kind}", quote=True)
        label = "JSON" if kind == "json" else "Markdown"
        links.append(
            f'<a class="swg-export" id="swg-export-{kind}" download="{name}" '
            f'href="data:{mime};charset=utf-8;base64,{encoded}">Export as {label}</a>'
        )
    return '<p class="swg-exports">' + " · ".join(links) + "</p>"
