"""The chat page (Gradio Blocks): a chat column and an evidence column, on 127.0.0.1.

A question first passes the privacy check (`assistant.ui.privacy`): when it holds
client-identifying details the page says so and offers the redacted version. The answer
streams into the chat (verified sentences as a model writes them; the extractive answer
at once), each marker a link to its card in the evidence column; the verification view
shows every sentence's verdict; the export links carry the whole conversation. Each
browser session's conversation lives in its own `gr.State`, never in module globals,
and no question is logged or written to disk. `/chat` (gradio_client) answers one
message with the plain answer text and its numbered citations.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.render import citation_text
from assistant.service import Assistant
from assistant.ui import privacy
from assistant.ui import view as chatview
from assistant.ui.export import download_links
from assistant.ui.view import Conversation, Exchange
from swguide.errors import SwguideError
from swguide.settings import Settings
from swguide.types import Answer, SentenceCheck

EXAMPLES = [
    "Can I accept a client's LinkedIn request?",
    "Should I have a social media policy for my practice?",
    "Is it OK to vent about a hard case on social media?",
]
INTRO = (
    "Ask about the professional guidance on social media in clinical social work. Every "
    "sentence of an answer is quoted from, or checked against, the passage it cites; click "
    "a marker such as [1] to see the passage. **Questions stay on this computer.** Leave "
    "out client details: the page warns when it sees them."
)
STATIC = Path(__file__).with_name("static")
CONCURRENCY = 8  # answers at once (extractive ones never wait for a model's long reply)
QUEUE = 64  # waiting requests beyond that are refused with a clear message


class ChatPage:
    """The page's event handlers around one shared Assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    # -- events ------------------------------------------------------------------------

    def submit(
        self, message: str, history: list[Any], conversation: Conversation | None
    ) -> Iterator[tuple[Any, ...]]:
        conversation = conversation or Conversation()
        findings = privacy.find(message)
        if findings:
            conversation.pending = message
            yield self._notice(history, conversation, findings, message)
            return
        yield from self._answer(message, history, conversation)

    def send_redacted(
        self, history: list[Any], conversation: Conversation | None
    ) -> Iterator[tuple[Any, ...]]:
        yield from self._send_pending(history, conversation, privacy.redact)

    def send_as_typed(
        self, history: list[Any], conversation: Conversation | None
    ) -> Iterator[tuple[Any, ...]]:
        yield from self._send_pending(history, conversation, lambda raw: raw)

    def edit(self, conversation: Conversation | None) -> tuple[Any, ...]:
        import gradio as gr

        if conversation is not None:
            conversation.pending = None
        return gr.update(visible=False), conversation

    def new_conversation(self) -> tuple[Any, ...]:
        return self._outputs([], "", Conversation(), status="")

    def api(self, message: str) -> str:
        """`/chat`: one message in; out, the lead line (where the guidance speaks to it),
        the answer text (one line, with its [n] markers), then each citation."""
        try:
            answer = self.assistant.ask(message)
        except Exception as error:  # one line, never a traceback
            return error_line(error)
        return "\n\n".join([answer.shown_text, *(citation_text(c) for c in answer.citations)])

    def _send_pending(
        self,
        history: list[Any],
        conversation: Conversation | None,
        prepare: Callable[[str], str],
    ) -> Iterator[tuple[Any, ...]]:
        """Answer the question the privacy notice held back."""
        conversation = conversation or Conversation()
        raw, conversation.pending = conversation.pending or "", None
        yield from self._answer(prepare(raw), history, conversation)

    # -- the answer, streamed ----------------------------------------------------------

    def _answer(
        self, question: str, history: list[Any], conversation: Conversation
    ) -> Iterator[tuple[Any, ...]]:
        turn = len(conversation.exchanges) + 1
        history = [
            *history,
            {"role": "user", "content": question},
            {"role": "assistant", "content": "…"},
        ]
        yield self._outputs(history, "", conversation, "Searching the guidance…", panels=False)
        shown: list[SentenceCheck] = []
        answer: Answer | None = None
        try:
            for event in self.assistant.stream(question, conversation.turns()):
                if isinstance(event, Answer):
                    answer = event
                    break
                shown.append(event)
                history[-1] = {
                    "role": "assistant",
                    "content": chatview.streaming_markdown(shown),
                }
                yield self._outputs(
                    history,
                    "",
                    conversation,
                    "Writing; each sentence is checked before it is shown…",
                    panels=False,
                )
        except Exception as error:  # one line in the chat, never a traceback
            history[-1] = {"role": "assistant", "content": error_line(error)}
            yield self._outputs(history, question, conversation, "")
            return
        assert answer is not None, "Assistant.stream always ends with the Answer"
        conversation.exchanges.append(Exchange(question, answer))
        history[-1] = {"role": "assistant", "content": chatview.answer_markdown(answer, turn)}
        yield self._outputs(history, "", conversation, chatview.status(answer))

    def _notice(
        self,
        history: list[Any],
        conversation: Conversation,
        findings: list[privacy.Finding],
        message: str,
    ) -> tuple[Any, ...]:
        import gradio as gr

        text = (
            f"**This question seems to include client details: {privacy.describe(findings)}.**"
            " Nothing leaves this computer, but the question would appear in the chat and in"
            " any export. Send this redacted version instead?\n\n"
            f"> {privacy.redact(message, findings).replace('<', '&lt;')}"
        )
        return self._outputs(
            history,
            message,
            conversation,
            gr.update(),
            panels=False,
            notice=gr.update(visible=True),
            notice_text=gr.update(value=text),
        )

    def _outputs(
        self,
        history: list[Any],
        box: str,
        conversation: Conversation,
        status: Any,
        panels: bool = True,
        notice: Any = None,
        notice_text: Any = None,
    ) -> tuple[Any, ...]:
        """The values of the page's outputs (see `build_page`). The notice is hidden unless
        given; `panels=False` leaves the evidence, verification and export panels as they
        are (while an answer streams they change once, at the end)."""
        import gradio as gr

        same = gr.update()
        return (
            list(history),  # a snapshot: the next update must not change this one
            box,
            gr.update(visible=False) if notice is None else notice,
            same if notice_text is None else notice_text,
            chatview.evidence_html(conversation) if panels else same,
            chatview.verification_html(conversation) if panels else same,
            status,
            download_links(conversation) if panels else same,
            conversation,
        )


def error_line(error: Exception) -> str:
    """What the chat shows for a failure: the cause and the fix, never a traceback."""
    if isinstance(error, SwguideError):
        return f"⚠️ {error}"
    return f"⚠️ Something went wrong ({type(error).__name__}); please try again."


@dataclass
class _Widgets:
    """The page's components, as the handlers address them."""

    conversation: Any
    chatbot: Any = None
    status: Any = None
    notice: Any = None
    notice_text: Any = None
    redacted: Any = None
    typed: Any = None
    edit: Any = None
    box: Any = None
    send: Any = None
    examples: list[Any] = field(default_factory=list)
    new: Any = None
    exports: Any = None
    verify: Any = None
    verification: Any = None
    evidence: Any = None

    @property
    def outputs(self) -> list[Any]:
        """What every answering handler updates, in the order ChatPage returns them."""
        return [
            self.chatbot,
            self.box,
            self.notice,
            self.notice_text,
            self.evidence,
            self.verification,
            self.status,
            self.exports,
            self.conversation,
        ]


def build_page(assistant: Assistant) -> Any:
    import gradio as gr
    from gradio.events import api as gr_api

    page = ChatPage(assistant)
    with gr.Blocks(title="swguide", analytics_enabled=False) as blocks:
        widgets = _Widgets(gr.State(None))
        gr.Markdown(f"# swguide\n{INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                _chat_column(gr, widgets)
            with gr.Column(scale=2, min_width=320):
                _evidence_column(gr, widgets)
        _wire(gr, page, widgets)
        gr_api(page.api, api_name="chat", concurrency_id="answer", concurrency_limit=CONCURRENCY)
    return blocks


def _chat_column(gr: Any, w: _Widgets) -> None:
    w.chatbot = gr.Chatbot(
        label="Conversation",
        height=480,
        elem_id="swg-chat",
        buttons=["copy"],
        feedback_options=None,
    )
    w.status = gr.Markdown("", elem_id="swg-status")
    with gr.Group(visible=False, elem_id="swg-notice") as w.notice:
        w.notice_text = gr.Markdown()
        with gr.Row():
            w.redacted = gr.Button(
                "Send the redacted version", variant="primary", elem_id="swg-send-redacted"
            )
            w.typed = gr.Button("Send as typed", elem_id="swg-send-typed")
            w.edit = gr.Button("Edit the question", elem_id="swg-edit")
    with gr.Row():
        w.box = gr.Textbox(
            label="Your question",
            placeholder="Ask about the guidance…",
            lines=1,
            max_lines=6,
            scale=5,
            elem_id="swg-question",
            autofocus=True,
        )
        w.send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="swg-ask")
    gr.Markdown("Examples:")
    with gr.Row():
        w.examples = [gr.Button(e, size="sm", elem_classes=["swg-example"]) for e in EXAMPLES]
    with gr.Row():
        w.new = gr.Button("New conversation", size="sm", elem_id="swg-new")
    w.exports = gr.HTML(download_links(Conversation()), elem_id="swg-exports")


def _evidence_column(gr: Any, w: _Widgets) -> None:
    w.verify = gr.Checkbox(label="Verification view: each sentence's verdict", elem_id="swg-verify")
    w.verification = gr.HTML(
        chatview.verification_html(Conversation()), visible=False, elem_id="swg-verification"
    )
    gr.Markdown("### Evidence")
    w.evidence = gr.HTML(chatview.evidence_html(Conversation()), elem_id="swg-evidence")


def _wire(gr: Any, page: ChatPage, w: _Widgets) -> None:
    answer: dict[str, Any] = {
        "outputs": w.outputs,
        "concurrency_id": "answer",
        "concurrency_limit": CONCURRENCY,
        "api_visibility": "private",
    }
    asked = [w.box, w.chatbot, w.conversation]
    w.box.submit(page.submit, asked, **answer)
    w.send.click(page.submit, asked, **answer)
    for button, text in zip(w.examples, EXAMPLES, strict=True):
        button.click(lambda t=text: t, None, w.box, api_visibility="private").then(
            page.submit, asked, **answer
        )
    w.redacted.click(page.send_redacted, [w.chatbot, w.conversation], **answer)
    w.typed.click(page.send_as_typed, [w.chatbot, w.conversation], **answer)
    w.edit.click(page.edit, [w.conversation], [w.notice, w.conversation], api_visibility="private")
    w.new.click(page.new_conversation, None, w.outputs, api_visibility="private")
    w.chatbot.clear(page.new_conversation, None, w.outputs, api_visibility="private")
    w.verify.change(
        lambda on: gr.update(visible=on), w.verify, w.verification, api_visibility="private"
    )


def launch(assistant: Assistant, settings: Settings) -> None:
    """Serve the page until Ctrl-C or SIGTERM; no uploads, no other site's requests, and
    Gradio's temporary files removed on the way out (assistant.ui.web)."""
    from starlette.middleware import Middleware

    from assistant.ui.web import LocalOnly, temporary_folder

    signal.signal(signal.SIGTERM, _interrupt)
    guard = Middleware(LocalOnly, host=settings.chat.host, port=settings.chat.port)
    with temporary_folder():
        page = build_page(assistant)
        page.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE)
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
            allowed_paths=[],
            max_file_size=1,
            app_kwargs={"middleware": [guard]},
            footer_links=["api"],
            css=(STATIC / "chat.css").read_text(encoding="utf-8"),
            head=f"<script>{(STATIC / 'chat.js').read_text(encoding='utf-8')}</script>",
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # Gradio closes its server on this, then the folder goes
