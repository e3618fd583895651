"""The chat page (Gradio): questions in, cited answers out, on 127.0.0.1 only by default."""

from __future__ import annotations

from typing import Any

from assistant.followup import Turn
from assistant.render import plain, source_line
from assistant.service import Assistant
from swguide.errors import SwguideError
from swguide.settings import Settings
from swguide.types import Answer

EXAMPLES = [
    "Can I accept a client's LinkedIn request?",
    "A former client keeps messaging me on Instagram, what does the guidance say?",
    "Do I need a social media policy for my practice?",
]
DESCRIPTION = (
    "Answers quote the guidance on social media in clinical social work; every quote "
    "carries a numbered citation listed below it. Questions stay on this computer."
)


SEARCHED = "_Searched for: "


def answer_markdown(answer: Answer) -> str:
    searched = (
        [f"{SEARCHED}{answer.standalone_question}_", ""] if answer.standalone_question else []
    )
    if not answer.citations:
        return "\n".join([*searched, answer.text])
    parts = [*searched, answer.text, "", "**Citations**"]
    for c in answer.citations:
        chunk = c.passage.chunk
        parts.append(f"\n**[{c.n}]** {chunk.document_title} › {chunk.section}")
        parts += [f"\n_{source_line(s)}_" for s in c.passage.sources]
        text = plain(chunk.text).replace("<", "&lt;")  # no images, links or HTML from passages
        parts.append("\n" + "\n".join(f"> {line}" if line else ">" for line in text.splitlines()))
    return "\n".join(parts)


def turns(history: list[Any]) -> list[Turn]:
    """Earlier exchanges of the chat (Gradio's messages), for follow-up questions; a reply
    that opens with "Searched for: …" gives its turn's standalone question back."""
    out: list[Turn] = []
    for message in history:
        role, content = message.get("role"), message.get("content")
        if not isinstance(content, str):
            continue
        if role == "user":
            out.append(Turn(content))
        elif role == "assistant" and out and not out[-1].answer:
            first = content.split("\n", 1)[0]
            standalone = first[len(SEARCHED) : -1] if first.startswith(SEARCHED) else None
            out[-1] = Turn(out[-1].question, content, standalone)
    return out


def build_page(assistant: Assistant) -> Any:
    import gradio as gr

    def respond(message: str, history: list[Any]) -> str:
        try:
            return answer_markdown(assistant.ask(message, turns(history)))
        except SwguideError as error:
            return f"⚠️ {error}"
        except Exception as error:  # one line in the chat, never a traceback
            return f"⚠️ Something went wrong ({type(error).__name__}); please try again."

    return gr.ChatInterface(
        respond,
        title="swguide",
        description=DESCRIPTION,
        examples=EXAMPLES,
        cache_examples=False,
        flagging_mode="never",
        analytics_enabled=False,
        save_history=False,
        api_name="chat",
    )


def launch(assistant: Assistant, settings: Settings) -> None:
    page = build_page(assistant)
    page.queue(default_concurrency_limit=4)
    print(
        f"swguide chat page on http://{settings.chat.host}:{settings.chat.port} "
        "(this computer only; Ctrl-C stops it)",
        flush=True,
    )
    page.launch(
        server_name=settings.chat.host,
        server_port=settings.chat.port,
        share=False,
        show_error=False,
        enable_monitoring=False,
        mcp_server=False,
        pwa=False,
        ssr_mode=False,
        quiet=True,
    )
