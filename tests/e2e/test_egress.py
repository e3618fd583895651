"""Nothing leaves the machine: every swguide command run under strace, which records each
connect/sendto/sendmsg a process (or any child) makes, whatever a library's settings say.
HOME is a fresh folder, so telemetry state written under it (ONNX Runtime's
~/.cache/Microsoft/DeveloperTools) would show."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, cli_env, free_port
from test_servers import stop, wait_for

from swguide.settings import Settings

pytestmark = pytest.mark.slow
STRACE = shutil.which("strace")
ADDRESS = re.compile(r'inet_(?:addr|pton)\((?:AF_INET6, )?"([^"]+)"')
LOOPBACK = re.compile(r"^(127\.|::1$|::ffff:127\.)")
QUESTION = "Can I accept a client's LinkedIn request?"


def outside(log: Path) -> list[str]:
    """The calls in an strace log that name an address off this machine."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        for address in ADDRESS.findall(line):
            if not LOOPBACK.match(address):
                found.append(line.strip())
    return found


def traced(log: Path, *args: str) -> list[str]:
    assert STRACE, "strace is missing: `apt-get install -y strace` (make test does)"
    return [STRACE, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log), *args]


def test_outside_checks_what_it_should(tmp_path: Path) -> None:
    log = tmp_path / "sample.log"
    log.write_text(
        'connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}'
        ", 16) = 0\n"
        'connect(4, {sa_family=AF_INET, sin_port=htons(7860), sin_addr=inet_addr("127.0.0.1")}'
        ", 16) = 0\n"
        'connect(5, {sa_family=AF_INET6, sin6_port=htons(443), inet_pton(AF_INET6, "2001:db8::1"'
        ", &sin6_addr)}, 28) = -1\n"
    )
    assert [line[:10] for line in outside(log)] == ["connect(3,", "connect(5,"]


def test_no_command_reaches_beyond_loopback_or_writes_telemetry(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    from gradio_client import Client

    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "data"
    env = {**cli_env(corpus_settings, HOME=str(home)), "SWGUIDE_DATA_DIR": str(data)}
    swguide = str(BIN / "swguide")
    logs = []
    for name, args in [
        ("ingest", ["ingest"]),
        ("ask", ["ask", "--json", QUESTION]),
        ("eval", ["eval", "--report", str(tmp_path / "report")]),
    ]:
        log = tmp_path / f"{name}.strace"
        done = subprocess.run(traced(log, swguide, *args), env=env, capture_output=True)
        assert done.returncode == 0, (name, done.stderr.decode()[-2000:])
        logs.append(log)
    log = tmp_path / "chat.strace"
    port = free_port()
    chat = subprocess.Popen(
        traced(log, swguide, "chat", "--port", str(port), "--llm", "extractive"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", 90, chat)
        answer = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            QUESTION, api_name="/chat"
        )
        assert "[1]" in answer
    finally:
        stop(chat)
    logs.append(log)
    for log in logs:
        assert outside(log) == [], log.name
    assert not (home / ".cache" / "Microsoft").exists(), "ONNX Runtime wrote telemetry state"
