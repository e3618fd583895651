"""The chat page end to end: a launched `swguide chat`, called through `gradio_client` and
driven in a real headless browser (Debian's chromium through Playwright). Screenshots go
to build/artifacts/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, REPO, cli_env, free_port, shot
from fake_ollama import FakeOllama, serve, structured
from test_servers import listening_addresses, stop, wait_for

from swguide.settings import Settings

pytestmark = pytest.mark.slow
LINKEDIN = "Can I accept a client's LinkedIn request?"
# A question the guidance answers from two passages, for the citation cards.
TWO_PLACES = (
    "Can I accept a client's LinkedIn request, and what should my social media policy say about it?"
)
PRIVATE = "My client Zebulon Quist (DOB 03/04/1980) sent a LinkedIn request. Can I accept?"


@dataclass
class ChatServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    scratch: Path  # the server's data and Gradio temp directories

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_chat(settings: Settings, scratch: Path, *args: str, **env: str) -> ChatServer:
    port = free_port()
    log = scratch / "server.log"
    gradio_tmp = scratch / "gradio"
    gradio_tmp.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(BIN / "swguide"), "chat", "--port", str(port), *args],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=cli_env(settings, GRADIO_TEMP_DIR=str(gradio_tmp), **env),
    )
    server = ChatServer(f"http://127.0.0.1:{port}/", process, log, scratch)
    wait_for(server.url, 90, process)
    return server


@pytest.fixture(scope="module")
def chat_server(
    corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChatServer]:
    server = start_chat(corpus_settings, tmp_path_factory.mktemp("chat"), "--llm", "extractive")
    try:
        yield server
    finally:
        stop(server.process)
    assert "Traceback" not in server.logs()
    assert not list((server.scratch / "gradio").iterdir())  # its temp files are gone


def test_the_page_listens_on_loopback_only(chat_server: ChatServer) -> None:
    port = int(chat_server.url.rstrip("/").rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else


def test_chat_through_gradio_client(chat_server: ChatServer) -> None:
    from gradio_client import Client

    client = Client(chat_server.url, verbose=False)
    reply = client.predict("Do I need a social media policy?", api_name="/chat")
    lead, answer, *citations = reply.split("\n\n")
    assert lead.startswith("The guidance speaks to this under *") and "[1]" in lead
    assert "[1]" in answer and "\n" not in answer
    assert citations[0].startswith("[1] Tips for Social Media Etiquette")
    refused = client.predict("What is the capital of Peru?", api_name="/chat")
    assert refused.startswith("The guidance here does not address")
    empty = client.predict("   ", api_name="/chat")
    assert empty.startswith("⚠️ The question is empty") and "\n" not in empty


def status(url: str, data: bytes | None = None, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_uploads_and_other_sites_requests_are_refused(chat_server: ChatServer) -> None:
    boundary = "swguide"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{'x' * 100_000}\r\n--{boundary}--\r\n"
    ).encode()
    kind = f"multipart/form-data; boundary={boundary}"
    upload = chat_server.url + "gradio_api/upload"
    for origin in ({}, {"Origin": "http://evil.example"}, {"Origin": chat_server.url[:-1]}):
        code, body = status(upload, form, **{"Content-Type": kind, **origin})
        assert code == 403 and b"no uploads" in body, origin
    join = chat_server.url + "gradio_api/queue/join"
    code, _ = status(join, b"{}", **{"Content-Type": "application/json", "Origin": "null"})
    assert code == 403
    code, _ = status(chat_server.url + "config", Origin="http://evil.example")
    assert code == 403
    port = chat_server.url.rstrip("/").rsplit(":", 1)[1]
    assert status(chat_server.url + "config", Host=f"evil.example:{port}")[0] == 403
    assert status(chat_server.url + "config", Origin=chat_server.url[:-1])[0] == 200
    assert not [p for p in chat_server.scratch.rglob("*") if p.is_file() and p.name == "a.txt"]


@pytest.mark.parametrize(
    "path",
    [
        "gradio_api/file=/etc/passwd",
        "file=/etc/passwd",
        "gradio_api/file=../../../../etc/passwd",
        "gradio_api/file=%2Fetc%2Fpasswd",
        "gradio_api/file={repo}/pyproject.toml",
        "gradio_api/file={data}",
        "gradio_api/file={data}/chroma/chroma.sqlite3",
    ],
)
def test_file_routes_serve_nothing_outside_the_apps_assets(
    chat_server: ChatServer, corpus_settings: Settings, path: str
) -> None:
    url = chat_server.url + path.format(repo=REPO, data=corpus_settings.data_dir)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
        served = response.status
    except urllib.error.HTTPError as refused:
        served, body = refused.code, refused.read()
    assert served in (403, 404), (url, served)
    assert b"root:" not in body and b"[project]" not in body and b"SQLite" not in body


def test_a_clinician_asks_follows_a_citation_and_exports(
    chat_server: ChatServer, browser: Any
) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(chat_server.url)
    box = page.locator("#swg-question textarea")
    box.fill(TWO_PLACES)
    box.press("Enter")  # the keyboard is enough
    page.wait_for_selector("#swg-chat a[href='#swg-t1-c1']", timeout=60_000)
    reply = page.locator("#swg-chat .message-row").last.inner_text()
    assert "[1]" in reply and "“" in reply
    assert "Answered by extractive" in page.inner_text("#swg-status")
    cards = page.locator("#swg-evidence .swg-card")
    assert cards.count() >= 2
    assert "Tips for Social Media Etiquette" in cards.first.inner_text()
    assert page.locator("#swg-t1-c1 mark").count() >= 1  # the supporting span
    shot(page, "answer")

    page.locator("#swg-chat a[href='#swg-t1-c2']").first.click()
    page.wait_for_selector("#swg-t1-c2.swg-active", timeout=5_000)
    assert page.locator(".swg-card.swg-active").count() == 1
    assert page.evaluate("document.activeElement.id") == "swg-t1-c2"
    assert len(browser.pages) == 1 + 1  # the profile's first tab, and this one: nothing opened
    shot(page, "citation-clicked")

    box.fill("what about former clients?")
    page.click("#swg-ask")
    page.wait_for_selector("#swg-chat a[href^='#swg-t2-c']", timeout=60_000)
    assert "Searched for: Can I accept" in page.locator("#swg-chat .message-row").last.inner_text()

    page.locator("#swg-verify input").check()
    page.wait_for_selector("#swg-verification table", timeout=5_000)
    assert page.locator("#swg-verification tr.swg-supported").count() >= 2
    shot(page, "verification")

    with page.expect_download() as download:
        page.click("#swg-export-json")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert download.value.suggested_filename.endswith(".json")
    assert [t["question"] for t in exported["turns"]] == [TWO_PLACES, "what about former clients?"]
    assert all(len(c["text_sha256"]) == 64 for t in exported["turns"] for c in t["citations"])
    with page.expect_download() as markdown:
        page.click("#swg-export-md")
    assert Path(markdown.value.path()).read_text(encoding="utf-8").startswith("# swguide")

    page.click("#swg-new")
    page.wait_for_selector("#swg-evidence .swg-empty", timeout=10_000)
    assert page.locator("#swg-chat .message-row").count() == 0
    assert errors == []
    elsewhere = [u for u in requested if not u.startswith((chat_server.url, "data:", "blob:"))]
    assert elsewhere == []  # no fonts, scripts or analytics from the internet


def test_client_details_raise_the_notice_and_never_reach_disk(
    chat_server: ChatServer, browser: Any, corpus_settings: Settings
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 420, "height": 860})  # a narrow window
    page.goto(chat_server.url)
    page.locator("#swg-question textarea").fill(PRIVATE)
    page.click("#swg-ask")
    notice = page.locator("#swg-notice").first  # Gradio repeats a Group's id inside it
    notice.wait_for(state="visible", timeout=30_000)
    text = notice.inner_text()
    assert "a client's name, a date (of birth?)" in text
    assert "My client [CLIENT NAME] (DOB [DATE])" in text
    assert page.locator("#swg-chat .message-row").count() == 0  # not answered yet
    shot(page, "privacy-notice")
    page.click("#swg-send-redacted")
    page.wait_for_selector("#swg-chat a[href='#swg-t1-c1']", timeout=60_000)
    chat = page.inner_text("#swg-chat")
    assert "Zebulon" not in chat and "1980" not in chat and "[CLIENT NAME]" in chat
    assert not notice.is_visible()
    shot(page, "redacted-answer")

    page.locator("#swg-question textarea").fill("Email me at zq@example.org?")
    page.click("#swg-ask")
    notice.wait_for(state="visible", timeout=30_000)
    page.click("#swg-edit")
    notice.wait_for(state="hidden", timeout=10_000)
    assert page.locator("#swg-question textarea").input_value() == "Email me at zq@example.org?"

    time.sleep(1)  # let the server flush whatever it would log
    written = [
        path
        for root in (chat_server.scratch, corpus_settings.data_dir)  # Gradio's temp, the index
        for path in root.rglob("*")
        if path.is_file() and path != chat_server.log
    ]
    for secret in ("Zebulon", "03/04/1980", "zq@example.org", "[CLIENT NAME]"):
        assert secret not in chat_server.logs()
        for path in written:
            assert secret.encode() not in path.read_bytes(), path


def test_a_models_answer_streams_into_the_page(
    corpus_settings: Settings, tmp_path: Path, browser: Any
) -> None:
    """Verified sentences appear one by one with their markers while the model writes;
    the finished answer links them to cards."""
    from test_ollama import passage_sentences

    def reply(body: dict[str, Any]) -> str:
        first, second = passage_sentences(body, 1)[:2]
        return structured((first, [1]), (second, [1]))

    with serve(FakeOllama(reply=reply, behaviour="slow")) as fake:
        server = start_chat(
            corpus_settings, tmp_path, "--llm", "ollama", SWGUIDE_LLM__OLLAMA_HOST=fake.host
        )
        try:
            page = browser.new_page()
            page.goto(server.url)
            page.locator("#swg-question textarea").fill(LINKEDIN)
            page.click("#swg-ask")
            last = page.locator("#swg-chat .message-row").last
            page.wait_for_function(
                "() => { const rows = document.querySelectorAll('#swg-chat .message-row');"
                " const t = rows.length ? rows[rows.length - 1].innerText : '';"
                " return t.includes('[1]') && t.trim().endsWith('…'); }",
                timeout=60_000,
            )
            assert "Writing" in page.inner_text("#swg-status")
            assert page.locator("#swg-chat a[href^='#swg-t1-c']").count() == 0  # not yet
            shot(page, "streaming")
            page.wait_for_selector("#swg-chat a[href='#swg-t1-c1']", timeout=60_000)
            shown = last.inner_text()
            assert shown.startswith("The guidance speaks to this under")  # the lead: [1] once
            assert shown.count("[1]") == 3
            status = page.inner_text("#swg-status")
            assert "Answered by ollama:llama3.2" in status
            assert "the model wrote 2 verified sentences" in status
        finally:
            stop(server.process)
    assert "Traceback" not in server.logs()


def test_a_long_answer_does_not_hold_up_another_session(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    """One session waits on a slow model; another session's question is answered meanwhile
    (the fake model's quick reply is unsupported, so it falls back to the quotes)."""
    from gradio_client import Client

    def reply(body: dict[str, Any]) -> str:
        if "LinkedIn" in body["messages"][-1]["content"]:
            time.sleep(12)
        return structured(("Post anything you like.", [1]))

    with serve(FakeOllama(reply=reply)) as fake:
        server = start_chat(
            corpus_settings, tmp_path, "--llm", "ollama", SWGUIDE_LLM__OLLAMA_HOST=fake.host
        )
        try:
            slow = Client(server.url, verbose=False).submit(LINKEDIN, api_name="/chat")
            deadline = time.monotonic() + 10
            while not fake.requests and time.monotonic() < deadline:
                time.sleep(0.1)
            assert fake.requests, "the slow question never reached the model"
            started = time.monotonic()
            quick = Client(server.url, verbose=False).predict(
                "Do I need a social media policy?", api_name="/chat"
            )
            took = time.monotonic() - started
            assert not slow.done(), "the slow answer should still be running"
            assert "[1]" in quick and took < 8, took
            assert "[1]" in slow.result(timeout=60)
        finally:
            stop(server.process)
    assert "Traceback" not in server.logs()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runner_of(server: ChatServer) -> int:
    """The llama.cpp runner process the chat server started."""
    tasks = Path(f"/proc/{server.process.pid}/task").glob("*/children")  # one per thread
    for pid in {int(p) for task in tasks for p in task.read_text().split()}:
        if b"_llamacpp_runner" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise AssertionError("the chat server has no llama.cpp runner process")


def test_a_model_runner_killed_mid_answer_leaves_the_page_answering(
    corpus_settings: Settings, tmp_path: Path, browser: Any, gguf: Path
) -> None:
    """kill -9 of the model's runner while Gemma works on a question: that answer falls
    back to the quotes, saying why, and the next question is answered by a new runner."""
    server = start_chat(corpus_settings, tmp_path, "--llm", f"llamacpp:{gguf}")
    try:
        runner = runner_of(server)
        idle = cpu_seconds(runner)
        page = browser.new_page()
        page.goto(server.url)
        page.locator("#swg-question textarea").fill(LINKEDIN)
        page.click("#swg-ask")
        deadline = time.monotonic() + 60
        while cpu_seconds(runner) < idle + 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the model is at work on the question
        os.kill(runner, signal.SIGKILL)
        page.wait_for_function(
            "() => document.querySelector('#swg-status').innerText.includes('fell back')",
            timeout=60_000,
        )
        status = page.inner_text("#swg-status")
        assert "died of SIGKILL" in status and "out-of-memory" in status, status
        assert page.locator("#swg-chat a[href='#swg-t1-c1']").count() >= 1, "quotes shown"
        page.locator("#swg-question textarea").fill("Do I need a social media policy?")
        page.click("#swg-ask")
        page.wait_for_selector("#swg-chat a[href='#swg-t2-c1']", timeout=90_000)
        assert "Answered by llamacpp:gemma" in page.inner_text("#swg-status")
        assert runner_of(server) != runner
        shot(page, "runner-killed")
    finally:
        stop(server.process)
    assert "Traceback" not in server.logs()


def test_a_missing_model_is_one_line_not_a_traceback(corpus_settings: Settings) -> None:
    gone = subprocess.run(
        [str(BIN / "swguide"), "chat", "--port", str(free_port()), "--llm", "llamacpp:/no.gguf"],
        capture_output=True,
        env=cli_env(corpus_settings),
        timeout=120,
        check=False,
    )
    assert gone.returncode == 2
    message = gone.stderr.decode().strip()
    assert "/no.gguf" in message and len(message.splitlines()) == 1
    assert b"Traceback" not in gone.stderr
