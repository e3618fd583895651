"""The assistant's commands: ask, ingest, chat, corpus fetch and check (`swguide.cli`
assembles them with `swguide eval` into the one `swguide` command)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.cli.verify import verify
from swguide.console import LLM_HELP, say
from swguide.errors import InputError
from swguide.text import json_line, one_line, preview

if TYPE_CHECKING:
    from assistant.followup import Turn
    from assistant.service import Assistant
    from swguide.console import Context
    from swguide.settings import Settings
    from swguide.types import IngestReport


@click.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per question).")
@click.option("--llm", help=f"Who writes the answer: {LLM_HELP}")
@click.option(
    "--history",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Earlier turns (JSON or JSON lines from `ask --json`) for a follow-up.",
)
@click.pass_obj
def ask(
    obj: Context, question: str | None, as_json: bool, llm: str | None, history: Path | None
) -> None:
    """Answer QUESTION, or one question per line from stdin, with numbered citations."""
    from assistant.build import build_assistant
    from assistant.followup import load_history
    from assistant.service import clean_question

    started = time.perf_counter()
    settings = obj.settings()
    if question is not None:
        clean_question(question, settings.limits)  # fail fast, before loading anything
    turns = load_history(history) if history else []
    questions: list[str | InputError] = [question] if question is not None else _stdin_questions()
    assistant = build_assistant(settings, llm=llm)
    load_ms = (time.perf_counter() - started) * 1000
    failed = [_answer_one(assistant, item, turns, as_json, load_ms) for item in questions]
    if any(failed):
        sys.exit(2)


def _answer_one(
    assistant: Assistant,
    item: str | InputError,
    turns: list[Turn],
    as_json: bool,
    load_ms: float,
) -> bool:
    """Print one answer (or, in JSON, one error object in its place); True if it failed."""
    from assistant.render import answer_text

    try:
        if isinstance(item, InputError):
            raise item
        answer = assistant.ask(item, turns)
    except InputError as error:
        question = preview(item) if isinstance(item, str) else None
        if as_json:
            say(json_line({"error": str(error), "question": question}))
        else:
            say(f"swguide: {one_line(str(error))}", err=True)
        return True
    if as_json:
        record = answer.to_dict()
        record["timings_ms"]["load"] = round(load_ms, 2)
        say(json_line(record))
    else:
        say(answer_text(answer))
        if answer.fallback:
            say(f"note: {answer.fallback}", err=True)
    return False


def _stdin_questions() -> list[str | InputError]:
    """One question per non-blank line of stdin; a line that is not UTF-8 is an error in
    its place, so the other lines are still answered."""
    if sys.stdin.isatty():
        raise InputError(
            "No question given: pass one as an argument, or one per line on standard input."
        )
    questions: list[str | InputError] = []
    for number, raw in enumerate(sys.stdin.buffer.read().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            questions.append(raw.rstrip(b"\r").decode("utf-8"))
        except UnicodeDecodeError as error:
            questions.append(
                InputError(
                    f"Line {number} is not UTF-8 text (bad byte at {error.start}): send plain "
                    "UTF-8 text, one question per line."
                )
            )
    if not questions:
        raise InputError(
            "No question given: pass one as an argument, or one per line on standard input."
        )
    return questions


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--remove",
    "remove",
    multiple=True,
    metavar="ID_OR_PATH",
    help="Remove a document from the index (repeatable).",
)
@click.option("--list", "list_only", is_flag=True, help="List the indexed documents.")
@click.option("--label", help="Title to cite a single document by (e.g. 'Agency policy').")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Rebuild the index from the documents it held (the old folder is kept aside).",
)
@click.pass_obj
def ingest(
    obj: Context,
    paths: tuple[Path, ...],
    remove: tuple[str, ...],
    list_only: bool,
    label: str | None,
    rebuild: bool,
) -> None:
    """Index documents (default: the bundled corpus and the fetched sources); unchanged
    documents are skipped, deleted ones removed."""
    from assistant.build import open_store
    from ingest.lock import writer_lock

    settings = obj.settings()
    if list_only:  # a read: it never creates a store
        for record in sorted(open_store(settings).records().values(), key=lambda r: r.id):
            fields = (record.id, f"{len(record.chunk_ids)} chunks", record.title, record.path)
            say("\t".join(one_line(f) for f in fields))
        return
    if label and (len(paths) != 1 or not paths[0].is_file()):
        raise InputError("--label names one document: give exactly one file with it.")
    if rebuild and (paths or remove or label or settings.chroma.host):
        raise InputError(
            "--rebuild re-ingests what the embedded index held: give it no paths, --remove "
            "or --label, and no Chroma server."
        )
    with writer_lock(settings.data_dir):
        report = _write_index(settings, paths, remove, label, rebuild)
    for path, reason in report.skipped:
        say(f"skipped {one_line(path)}: {one_line(reason)}", err=True)
    for path, reason in report.flagged:
        say(f"flagged {one_line(path)}: {one_line(reason)}", err=True)
    say(report.summary())
    if report.skipped and not report.documents and not report.removed:
        sys.exit(2)  # nothing could be ingested: say so to scripts too


def _write_index(
    settings: Settings,
    paths: tuple[Path, ...],
    remove: tuple[str, ...],
    label: str | None,
    rebuild: bool,
) -> IngestReport:
    from assistant.build import build_embedder, open_store
    from assistant.cli.progress import progress_bar
    from ingest.integrity import seal
    from ingest.pipeline import ingest as run_ingest
    from ingest.pipeline import remove_documents

    defaults = settings.corpus_paths
    targets = list(paths) or defaults
    labels = {paths[0].expanduser().resolve(): label} if label else {}
    if rebuild:
        targets, labels = _set_aside(settings, defaults)
    store = open_store(settings, create=True)
    if remove:
        report = remove_documents(remove, store)
    else:
        settings.sources_dir.mkdir(parents=True, exist_ok=True)  # fetched sources, if any
        embedder = build_embedder(settings)
        with progress_bar() as update:
            report = run_ingest(targets, store, embedder, settings, update, labels)
    if not settings.chroma.host:
        seal(settings.chroma_path, store.records())
    return report


def _set_aside(settings: Settings, defaults: list[Path]) -> tuple[list[Path], dict[Path, str]]:
    """For --rebuild: what the index held (and the defaults), with the old store moved
    aside; the targets to ingest and the titles to keep."""
    from ingest.integrity import indexed, set_aside

    path = settings.chroma_path
    held = indexed(path) if path.is_dir() else []
    if path.is_dir():
        say(f"the old index is kept in {set_aside(path)}: delete it once this one works")
    roots = {Path(d.root) for d in held if d.root} | set(defaults)
    files = {Path(d.path) for d in held if not d.root}
    if not held:
        say("the old index has no record of its documents: rebuilding the defaults")
    return sorted(roots) + sorted(files), {Path(d.path): d.title for d in held}


@click.command()
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 7860).")
@click.option("--llm", help=f"Who writes the answers: {LLM_HELP}")
@click.pass_obj
def chat(obj: Context, host: str | None, port: int | None, llm: str | None) -> None:
    """Start the chat page (http://127.0.0.1:7860 by default)."""
    from assistant.build import build_assistant
    from assistant.ui.chat import launch

    chat_settings = {k: v for k, v in (("host", host), ("port", port)) if v}
    settings = obj.settings(chat=chat_settings or None)
    launch(build_assistant(settings, llm=llm), settings)


@click.group(name="corpus")
def corpus_group() -> None:
    """The sources the guidance cites."""


@corpus_group.command()
@click.pass_obj
def fetch(obj: Context) -> None:
    """Download the numbered sources from their publishers into the data directory."""
    from ingest.fetch import fetch_sources
    from ingest.manifest import load_manifest

    settings = obj.settings()
    manifest = load_manifest(settings.corpus_path)
    records = fetch_sources(
        manifest, settings.sources_dir, settings.fetch, settings.limits.max_document_bytes
    )
    titles = {s.n: s.title or f"source {s.n}" for s in manifest.sources}
    for record in records:
        say(record.line(titles[record.n]))
    if any(r.ok for r in records):
        say("run `swguide ingest` to add what was fetched to the index")
    if not all(r.ok for r in records):
        sys.exit(1)


@click.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Report what can answer: index, embedding model, Ollama, GGUF, and auto's choice."""
    from assistant.cli.check import report

    lines, ok = report(obj.settings())
    for line in lines:
        say(line)
    if not ok:
        sys.exit(1)


COMMANDS = (ask, ingest, chat, corpus_group, check, verify)
