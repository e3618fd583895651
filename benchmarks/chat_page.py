"""The chat page under load: how soon it is ready, and answer latency with 10 sessions.

    python benchmarks/chat_page.py [--sessions 10] [--questions 5] [--starts 3]

Ingests the bundled corpus into a temporary data directory, then:
- page ready: from starting `swguide chat` to the page and its config answering (median
  and max over `--starts` launches);
- latency: `--sessions` gradio_client sessions at once, each asking `--questions` of the
  eval suite's questions through `/chat` on the extractive backend; p50 and p95 of the
  time from sending a question to receiving the whole answer; one session alone as the
  reference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from timing import percentile  # beside this script

from evals.dataset import load

SWGUIDE = Path(sys.executable).parent / "swguide"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(SWGUIDE), "chat", "--port", str(port), "--llm", "extractive"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for path in ("", "config"):
        while True:
            if process.poll() is not None:
                raise SystemExit(f"swguide chat exited with {process.returncode}")
            try:
                with urllib.request.urlopen(url + path, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
    return process, url, time.perf_counter() - started


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def session(url: str, questions: list[str], out: list[float], barrier: threading.Barrier) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    barrier.wait()
    for question in questions:
        started = time.perf_counter()
        reply = client.predict(question, api_name="/chat")
        out.append(time.perf_counter() - started)
        if reply.startswith("⚠️"):
            raise SystemExit(f"the page failed: {reply}")


def latencies(url: str, sessions: int, questions: list[str]) -> list[float]:
    out: list[float] = []
    barrier = threading.Barrier(sessions)
    threads = [
        threading.Thread(target=session, args=(url, questions[i:] + questions[:i], out, barrier))
        for i in range(sessions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--questions", type=int, default=5, help="questions per session")
    parser.add_argument("--starts", type=int, default=3, help="launches timed for page ready")
    args = parser.parse_args()
    asked = [q.text for q in load().questions if q.answerable and q.follows is None]
    asked = asked[: args.questions]
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "SWGUIDE_DATA_DIR": data}
        subprocess.run([str(SWGUIDE), "ingest"], env=env, check=True, capture_output=True)
        ready = []
        for _ in range(args.starts):
            process, url, seconds = start(env)
            ready.append(seconds)
            stop(process)
        process, url, _ = start(env)
        try:
            latencies(url, 1, asked[:1])  # warm the caches once
            alone = latencies(url, 1, asked)
            loaded = latencies(url, args.sessions, asked)
        finally:
            stop(process)
    print("| figure | value |\n|---|---|")
    print(
        f"| page ready after `swguide chat` starts | {statistics.median(ready):.1f} s median, "
        f"{max(ready):.1f} s max over {args.starts} starts |"
    )
    print(
        f"| answer latency, 1 session | p50 {percentile(alone, 50) * 1000:.0f} ms, "
        f"p95 {percentile(alone, 95) * 1000:.0f} ms ({len(alone)} answers) |"
    )
    print(
        f"| answer latency, {args.sessions} sessions at once | p50 "
        f"{percentile(loaded, 50) * 1000:.0f} ms, p95 {percentile(loaded, 95) * 1000:.0f} ms "
        f"({len(loaded)} answers) |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
