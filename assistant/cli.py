"""The `swguide` command: a thin shell over the Python API.

Every deliberate error is a SwguideError whose message says the fix; it is printed as
one line on stderr with exit code 2. Anything unexpected is one line too (exit 1);
`--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from swguide import offline
from swguide.errors import InputError, SwguideError
from swguide.settings import Settings, load_settings
from swguide.text import json_line, one_line, preview, terminal_safe

if TYPE_CHECKING:
    from assistant.followup import Turn
    from assistant.service import Assistant
    from swguide.types import IngestReport


def say(text: str, err: bool = False, nl: bool = True) -> None:
    """Print for a terminal: what documents and questions carry cannot drive it."""
    click.echo(terminal_safe(text), err=err, nl=nl)


class Context:
    """What the group's options decided, shared with the subcommands."""

    def __init__(self, overrides: dict[str, Any], config: Path | None, debug: bool) -> None:
        self._overrides = overrides
        self._config = config
        self.debug = debug

    def settings(self, **more: Any) -> Settings:
        return load_settings(self._config, **{**self._overrides, **more})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path), help="Settings file (TOML).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Where the index and the prepared model live [SWGUIDE_DATA_DIR].",
)
@click.option("--chroma-host", help="Use the Chroma server on this host.")
@click.option("--chroma-port", type=int, help="Port of the Chroma server.")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(package_name="swguide")
@click.pass_context
def cli(
    ctx: click.Context,
    config: Path | None,
    data_dir: Path | None,
    chroma_host: str | None,
    chroma_port: int | None,
    debug: bool,
) -> None:
    """Cited answers from the professional guidance on social media."""
    chroma = {k: v for k, v in (("host", chroma_host), ("port", chroma_port)) if v}
    overrides: dict[str, Any] = {"data_dir": data_dir, "chroma": chroma or None}
    ctx.obj = Context(overrides, config, debug)


LLM_HELP = "extractive, auto, ollama[:MODEL] or llamacpp[:PATH.gguf] (default: llm.backend)."


@cli.command()
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


@cli.command()
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
    import corpus
    from assistant.build import build_embedder, open_store
    from assistant.progress import progress_bar
    from ingest.integrity import seal
    from ingest.pipeline import ingest as run_ingest
    from ingest.pipeline import remove_documents

    defaults = [settings.corpus_dir or corpus.DIRECTORY, settings.sources_dir]
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


@cli.command()
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 7860).")
@click.option("--llm", help=f"Who writes the answers: {LLM_HELP}")
@click.pass_obj
def chat(obj: Context, host: str | None, port: int | None, llm: str | None) -> None:
    """Start the chat page (http://127.0.0.1:7860 by default)."""
    from assistant.build import build_assistant
    from assistant.chat import launch

    chat_settings = {k: v for k, v in (("host", host), ("port", port)) if v}
    settings = obj.settings(chat=chat_settings or None)
    launch(build_assistant(settings, llm=llm), settings)


@cli.group(name="corpus")
def corpus_group() -> None:
    """The sources the guidance cites."""


@corpus_group.command()
@click.pass_obj
def fetch(obj: Context) -> None:
    """Download the numbered sources from their publishers into the data directory."""
    import corpus
    from ingest.fetch import fetch_sources
    from ingest.manifest import load_manifest

    settings = obj.settings()
    manifest = load_manifest(settings.corpus_dir or corpus.DIRECTORY)
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


@cli.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Report what can answer: index, embedding model, Ollama, GGUF, and auto's choice."""
    from assistant.check import report

    lines, ok = report(obj.settings())
    for line in lines:
        say(line)
    if not ok:
        sys.exit(1)


@cli.command(name="eval")
@click.option("--llm", help=f"Who writes the answers: {LLM_HELP}")
@click.option(
    "--report",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write report.json, report.md, report.html and metrics.png here.",
)
@click.option(
    "--baseline",
    help="Score a deliberately bad sentinel answerer instead (the gate must fail it): "
    "no-citations, cite-everything, wrong-citation-numbers, always-abstain, "
    "invented-sentence.",
)
@click.option("--record", is_flag=True, help="Save the scores as the backend's new baseline.")
@click.pass_obj
def evaluate(
    obj: Context, llm: str | None, folder: Path | None, baseline: str | None, record: bool
) -> None:
    """Run the fixed questions, score them, and gate (exit 1 when a threshold is missed)."""
    from evals import report
    from evals.run import record as save_baseline
    from evals.run import run

    if record and baseline:
        raise InputError("--record saves a real backend's scores: leave out --baseline.")
    live = sys.stderr.isatty()
    with click.progressbar(length=1, label="eval", file=sys.stderr) as bar:

        def progress(done: int, total: int, question: str) -> None:
            bar.length = total
            if live:
                bar.label = f"eval {question:>5}"
            bar.update(done - bar.pos)

        result = run(obj.settings(), llm=llm, sentinel=baseline, progress=progress)
    say(report.markdown(result), nl=False)
    if folder is not None:
        for path in report.write(result, folder):
            say(f"wrote {path}", err=True)
    if record:
        say(f"recorded {save_baseline(result)}", err=True)
    if not result.passed:
        sys.exit(1)


def _fail(message: str, code: int) -> NoReturn:
    say(f"swguide: {one_line(message)}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    offline.enforce()
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="swguide", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    except SwguideError as error:
        _fail(str(error), 2)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as error:
        if debug:
            raise
        _fail(f"unexpected {type(error).__name__}: {error} (rerun with --debug for details)", 1)
