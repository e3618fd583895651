"""End to end against a real `chroma run` server on loopback (the chat page: test_chat_page)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, free_port, run_cli

pytestmark = pytest.mark.slow


def wait_for(url: str, seconds: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "chroma"),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": str(BIN)},
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", 30, process)
        yield port, process
    finally:
        stop(process)


def test_ingest_and_ask_through_a_chroma_server(
    chroma_server: tuple[int, subprocess.Popen[bytes]], make_settings: Any
) -> None:
    port, process = chroma_server
    settings = make_settings()
    server = {"SWGUIDE_CHROMA__HOST": "127.0.0.1", "SWGUIDE_CHROMA__PORT": str(port)}
    ingested = run_cli(["ingest"], settings, env=server)
    assert ingested.returncode == 0, ingested.stderr
    assert "8 added" in ingested.stdout.decode()
    assert not (settings.chroma_path).exists()  # nothing went to the embedded store
    asked = run_cli(
        ["ask", "--json", "Should I share a social media policy with clients?"],
        settings,
        env=server,
    )
    answer = json.loads(asked.stdout)
    assert not answer["abstained"] and answer["citations"]
    again = run_cli(["ingest"], settings, env=server)
    assert "8 unchanged" in again.stdout.decode()
    stop(process)
    gone = run_cli(["ask", "Is posting ok?"], settings, env=server)
    assert gone.returncode == 2
    message = gone.stderr.decode().strip()
    assert f"Chroma server at 127.0.0.1:{port} is not reachable" in message
    assert "chroma run" in message and len(message.splitlines()) == 1


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found
