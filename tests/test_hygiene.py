"""Input hygiene: what a document or a question carries cannot drive the terminal, odd
paths are skipped with a reason instead of ending the run, and bad input is one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, run_cli

from ingest.loaders import load_document
from ingest.pipeline import discover
from swguide import scratch
from swguide.errors import DocumentError
from swguide.text import json_line, one_line, preview, terminal_safe

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\x9b31m\u202eevil"
QUESTION = "Can I accept a client's friend request on social media?"
GUIDE = (
    "# Escapes\n\n## Friend requests\n\n"
    f"Clinicians should decline friend requests from clients{ESCAPES} on social media.\n"
)


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


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to run as nobody"
)
def test_an_unreadable_folder_is_named_and_its_documents_stay() -> None:
    shared = Path(tempfile.mkdtemp(prefix="swguide-unreadable-", dir="/tmp"))  # nobody can reach
    try:
        _unreadable_folder(shared)
    finally:
        shutil.rmtree(shared)


def _unreadable_folder(shared: Path) -> None:
    docs = shared / "docs"
    (docs / "locked").mkdir(parents=True)
    (docs / "open.md").write_text("# Open\n\nA passage.\n", encoding="utf-8")
    (docs / "locked" / "kept.md").write_text("# Kept\n\nA passage.\n", encoding="utf-8")
    shared.chmod(0o755)
    (docs / "locked").chmod(0o700)  # root's; nobody cannot list it
    script = (
        "import json, sys; from pathlib import Path; from ingest.pipeline import discover, _gone;"
        "d = discover([Path(sys.argv[1])]);"
        "print(json.dumps([[f.path.name for f in d.found], d.unusable,"
        " _gone(Path(sys.argv[1]) / 'locked' / 'kept.md')]))"
    )
    done = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-c",
            script,
            str(docs),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names, unusable, gone = json.loads(done.stdout)
    assert names == ["open.md"]
    assert unusable == [
        [
            str(docs / "locked"),
            "cannot be read (Permission denied): check its permissions; what it held stays indexed",
        ]
    ]
    assert gone is False  # its record is not removed as if the file were deleted


@pytest.mark.slow
def test_cli_output_carries_no_escapes_and_odd_names_stay_on_one_line(
    make_settings: Any, tmp_path: Path
) -> None:
    settings = make_settings()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "escapes.md").write_text(GUIDE, encoding="utf-8")
    (docs / "two\nlines.md").write_text("# Odd\n\nA file with an odd name.\n", encoding="utf-8")
    done = run_cli(["ingest", str(docs)], settings)
    assert done.returncode == 0, done.stderr.decode()
    listed = run_cli(["ingest", "--list"], settings).stdout.decode().splitlines()
    assert len(listed) == 2 and any("two\\nlines.md" in line for line in listed)
    for args in (["ask", QUESTION], ["ask", "--json", QUESTION]):
        answered = run_cli(args, settings)
        assert answered.returncode == 0, answered.stderr.decode()
        out = answered.stdout.decode()
        assert "decline friend requests" in out
        assert not any(ch in out for ch in "\x1b\x07\x9b\u202e"), out


@pytest.mark.slow
def test_stdin_goes_on_after_a_bad_line_and_errors_do_not_echo_the_input(
    corpus_settings: Any,
) -> None:
    huge = "Can I text clients? " * 50_000
    stdin = f"{QUESTION}\n{huge}\n{QUESTION}\n".encode()
    plain = run_cli(["ask"], corpus_settings, stdin=stdin)
    assert plain.returncode == 2
    firsts = [line for line in plain.stdout.decode().splitlines() if line.startswith("[1] ")]
    assert len(firsts) == 2  # both good questions answered, each with its first citation
    err = plain.stderr.decode().strip()
    assert err.startswith("swguide: The question is") and len(err.splitlines()) == 1
    as_json = run_cli(["ask", "--json"], corpus_settings, stdin=stdin)
    records = [json.loads(line) for line in as_json.stdout.decode().splitlines()]
    assert "over the limit" in records[1]["error"] and len(records[1]["question"]) < 200
    assert len(as_json.stdout) < 100_000
