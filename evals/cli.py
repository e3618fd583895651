"""`swguide eval`: run the fixed questions, score them, write the report, gate."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from swguide.console import LLM_HELP, Context, say
from swguide.errors import InputError

if TYPE_CHECKING:
    from evals.run import Run


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
    "invented-sentence, dangling-quotes, buried-answer, model-silent (with --llm).",
)
@click.option(
    "--spoil",
    multiple=True,
    metavar="BASELINE",
    help="Also score the same answers as this sentinel baseline would spoil them "
    "(repeatable): each must fail the gate, or the command exits 1.",
)
@click.option("--record", is_flag=True, help="Save the scores as the backend's new baseline.")
@click.option(
    "--questions",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Another question file (same format, e.g. evals/clinician_questions.toml); "
    "gated by the thresholds only, not the recorded baseline.",
)
@click.option("--split", help="Only the questions of this split of the file (fit or held).")
@click.option(
    "--distractors",
    is_flag=True,
    help="Ask the answerable questions of an index that also holds evals/distractors/ "
    "(about 190 passages on neighbouring topics), gated by [distractors] in thresholds.toml.",
)
@click.pass_obj
def evaluate(
    obj: Context,
    llm: str | None,
    folder: Path | None,
    baseline: str | None,
    record: bool,
    questions: Path | None,
    split: str | None,
    spoil: tuple[str, ...],
    distractors: bool,
) -> None:
    """Run the fixed questions, score them, and gate (exit 1 when a threshold is missed)."""
    from evals import report
    from evals.dataset import QUESTIONS, load, with_distractors
    from evals.run import ask_all, known, score
    from evals.run import record as save_baseline

    if record and baseline:
        raise InputError("--record saves a real backend's scores: leave out --baseline.")
    for name in filter(None, (baseline, *spoil)):
        known(name)
    dataset = load(questions or QUESTIONS, split)
    if distractors:
        dataset = with_distractors(dataset)
    if record and not dataset.fixed:
        raise InputError(
            "--record saves scores on the fixed questions: leave out --questions and --distractors."
        )
    with click.progressbar(length=1, label="eval", file=sys.stderr) as bar:
        answers = ask_all(obj.settings(), llm, _progress(bar), dataset)
    result = score(answers, baseline)
    spoiled = [score(answers, name) for name in spoil]
    say(report.markdown(result), nl=False)
    if folder is not None:
        for path in report.write(result, folder):
            say(f"wrote {path}", err=True)
    if record:
        say(f"recorded {save_baseline(result)}", err=True)
    for bad in spoiled:
        say(_sentinel_line(bad), err=True)
    if not result.passed or any(bad.passed for bad in spoiled):
        sys.exit(1)


def _progress(bar: Any) -> Callable[[int, int, str], None]:
    live = sys.stderr.isatty()

    def progress(done: int, total: int, question: str) -> None:
        bar.length = total
        if live:
            bar.label = f"eval {question:>5}"
        bar.update(done - bar.pos)

    return progress


def _sentinel_line(spoiled: Run) -> str:
    if spoiled.passed:
        return f"sentinel {spoiled.sentinel} passes the gate, but it must fail"
    failed = ", ".join(c.metric for c in spoiled.checks if not c.passed)
    return f"sentinel {spoiled.sentinel} fails the gate, as it must ({failed})"
