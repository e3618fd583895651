"""The chat page (Gradio Blocks): a chat column and an evidence column, on 127.0.0.1.

A question first passes the privacy check (`assistant.privacy`): when it holds
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
from pathlib import Path
from typing import Any

from assistant import chatview, privacy
from assistant.chatview import Conversation, Exchange
from assistant.export import download_links
from assistant.render import citation_text
from assistant.service import Assistant
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
        """`/chat`: one message in; out, the answer text (one line, with its [n] markers),
        then each citation."""
        try:
            answer = self.assistant.ask(message)
        except Exception as error:  # one line, never a traceback
            return error_line(error)
        return "\n\n".join([answer.text, *(citation_text(c) for c in answer.citations)])

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


def build_page(assistant: Assistant) -> Any:
    import gradio as gr
    from gradio.events import api as gr_api

    page = ChatPage(assistant)
    with gr.Blocks(title="swguide", analytics_enabled=False) as blocks:
        conversation = gr.State(None)
        gr.Markdown(f"# swguide\n{INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=480,
                    elem_id="swg-chat",
                    buttons=["copy"],
                    feedback_options=None,
                )
                status = gr.Markdown("", elem_id="swg-status")
                with gr.Group(visible=False, elem_id="swg-notice") as notice:
                    notice_text = gr.Markdown()
                    with gr.Row():
                        redacted_btn = gr.Button(
                            "Send the redacted version",
                            variant="primary",
                            elem_id="swg-send-redacted",
                        )
                        typed_btn = gr.Button("Send as typed", elem_id="swg-send-typed")
                        edit_btn = gr.Button("Edit the question", elem_id="swg-edit")
                with gr.Row():
                    box = gr.Textbox(
                        label="Your question",
                        placeholder="Ask about the guidance…",
                        lines=1,
                        max_lines=6,
                        scale=5,
                        elem_id="swg-question",
                        autofocus=True,
                    )
                    send = gr.Button(
                        "Ask", variant="primary", scale=1, min_width=80, elem_id="swg-ask"
                    )
                gr.Markdown("Examples:")
                with gr.Row():
                    examples = [
                        gr.Button(e, size="sm", elem_classes=["swg-example"]) for e in EXAMPLES
                    ]
                with gr.Row():
                    new = gr.Button("New conversation", size="sm", elem_id="swg-new")
                exports = gr.HTML(download_links(Conversation()), elem_id="swg-exports")
            with gr.Column(scale=2, min_width=320):
                verify = gr.Checkbox(
                    label="Verification view: each sentence's verdict", elem_id="swg-verify"
                )
                verification = gr.HTML(
                    chatview.verification_html(Conversation()),
                    visible=False,
                    elem_id="swg-verification",
                )
                gr.Markdown("### Evidence")
                evidence = gr.HTML(chatview.evidence_html(Conversation()), elem_id="swg-evidence")

        outputs = [
            chatbot,
            box,
            notice,
            notice_text,
            evidence,
            verification,
            status,
            exports,
            conversation,
        ]
        answer: dict[str, Any] = {
            "outputs": outputs,
            "concurrency_id": "answer",
            "concurrency_limit": CONCURRENCY,
            "api_visibility": "private",
        }
        box.submit(page.submit, [box, chatbot, conversation], **answer)
        send.click(page.submit, [box, chatbot, conversation], **answer)
        for button, text in zip(examples, EXAMPLES, strict=True):
            button.click(lambda t=text: t, None, box, api_visibility="private").then(
                page.submit, [box, chatbot, conversation], **answer
            )
        redacted_btn.click(page.send_redacted, [chatbot, conversation], **answer)
        typed_btn.click(page.send_as_typed, [chatbot, conversation], **answer)
        edit_btn.click(page.edit, [conversation], [notice, conversation], api_visibility="private")
        new.click(page.new_conversation, None, outputs, api_visibility="private")
        chatbot.clear(page.new_conversation, None, outputs, api_visibility="private")
        verify.change(
            lambda on: gr.update(visible=on), verify, verification, api_visibility="private"
        )
        gr_api(page.api, api_name="chat", concurrency_id="answer", concurrency_limit=CONCURRENCY)
    return blocks


def launch(assistant: Assistant, settings: Settings) -> None:
    """Serve the page until Ctrl-C or SIGTERM; no uploads, no other site's requests, and
    Gradio's temporary files removed on the way out (assistant.web)."""
    from starlette.middleware import Middleware

    from assistant.web import LocalOnly, temporary_folder

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
