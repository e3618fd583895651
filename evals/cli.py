"""`swguide eval`: run the fixed questions, score them, write the report, gate."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from swguide.console import LLM_HELP, Context, say
from swguide.errors import InputError


@click.command(name="eval")
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
    "invented-sentence, dangling-quotes, buried-answer.",
)
@click.option("--record", is_flag=True, help="Save the scores as the backend's new baseline.")
@click.option(
    "--questions",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Another question file (same format, e.g. evals/clinician_questions.toml); "
    "gated by the thresholds only, not the recorded baseline.",
)
@click.option("--split", help="Only the questions of this split of the file (fit or held).")
@click.pass_obj
def evaluate(
    obj: Context,
    llm: str | None,
    folder: Path | None,
    baseline: str | None,
    record: bool,
    questions: Path | None,
    split: str | None,
) -> None:
    """Run the fixed questions, score them, and gate (exit 1 when a threshold is missed)."""
    from evals import report
    from evals.dataset import QUESTIONS, load
    from evals.run import record as save_baseline
    from evals.run import run

    if record and baseline:
        raise InputError("--record saves a real backend's scores: leave out --baseline.")
    dataset = load(questions or QUESTIONS, split)
    if record and not dataset.fixed:
        raise InputError("--record saves scores on the fixed questions: leave out --questions.")
    live = sys.stderr.isatty()
    with click.progressbar(length=1, label="eval", file=sys.stderr) as bar:

        def progress(done: int, total: int, question: str) -> None:
            bar.length = total
            if live:
                bar.label = f"eval {question:>5}"
            bar.update(done - bar.pos)

        result = run(obj.settings(), llm=llm, sentinel=baseline, progress=progress, dataset=dataset)
    say(report.markdown(result), nl=False)
    if folder is not None:
        for path in report.write(result, folder):
            say(f"wrote {path}", err=True)
    if record:
        say(f"recorded {save_baseline(result)}", err=True)
    if not result.passed:
        sys.exit(1)
