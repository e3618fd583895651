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

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\x9b31m\u202eevil"
QUESTION = "Can I accept a client's friend request on social media?"
GUIDE = (
    "# Escapes\n\n## Friend requests\n\n"
    f"Clinicians should decline friend requests from clients{ESCAPES} on social media.\n"
)


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
