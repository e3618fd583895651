"""Input hygiene without a model: terminal-safe text, previews of long input, the binary
check, odd paths skipped with a reason, and scratch folders of dead processes swept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.loaders import load_document
from ingest.pipeline import discover
from swguide import scratch
from swguide.errors import DocumentError
from swguide.text import json_line, one_line, preview, terminal_safe

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\x9b31m\u202eevil"


def test_terminal_text_loses_escapes_and_controls_but_keeps_lines() -> None:
    shown = terminal_safe(f"one{ESCAPES}\ntwo\tthree\r\n")
    assert shown == "oneredevil\ntwo\tthree\n"
    assert one_line("a\nb\x1bc") == "a\\nb\\x1bc"
    record = {"text": ESCAPES}
    line = json_line(record)
    assert "\x9b" not in line and "\u202e" not in line and "\x1b" not in line
    assert json.loads(line) == record  # a program reads back the same data


def test_a_long_question_is_previewed_not_echoed() -> None:
    shown = preview("q" * 1_000_000)
    assert len(shown) < 200 and shown.endswith("(1,000,000 characters)")
    assert preview("short\nquestion") == "short\\nquestion"


def test_a_nul_byte_anywhere_means_binary(tmp_path: Path) -> None:
    late = tmp_path / "late.txt"
    late.write_bytes(b"Plain words. " * 1000 + b"\x00" + b"more words" * 10)
    with pytest.raises(DocumentError, match="looks binary"):
        load_document(late, 10_000_000)


def test_loops_fifos_and_dangling_links_are_skipped_with_a_reason(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "good.md").write_text("# Good\n\nA passage.\n", encoding="utf-8")
    (docs / "sub" / "loop").symlink_to(docs, target_is_directory=True)
    (docs / "self.md").symlink_to(docs / "self.md")
    os.mkfifo(docs / "pipe.md")
    found = discover([docs])
    assert [f.path.name for f in found.found] == ["good.md"]
    reasons = dict(found.unusable)
    assert "symlink loop" in reasons[str(docs / "sub" / "loop")]
    assert "symlink loop" in reasons[str(docs / "self.md")]
    assert "not a regular file" in reasons[str(docs / "pipe.md")]
    given = discover([docs / "pipe.md", tmp_path / "nowhere", docs / "self.md"])
    assert [p.name for p in given.missing] == ["nowhere"]
    assert [why.split(":")[0] for _, why in given.unusable] == [
        "is not a regular file (a FIFO, socket or device)",
        "is a symlink loop",
    ]


def test_scratch_folders_of_dead_processes_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    (tmp_path / f".export-{dead}-abc").mkdir()
    (tmp_path / ".export-oldstyle").mkdir()  # before folders carried a pid
    live = tmp_path / f".export-{os.getppid()}-xyz"
    live.mkdir()
    made = scratch.make(tmp_path, ".export-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, made.name])
    assert made.name.startswith(f".export-{os.getpid()}-")
