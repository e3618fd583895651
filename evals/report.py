"""The eval report: report.json (everything), report.md (the summary) and report.html
(the summary, a chart of every gated metric against its threshold, and each question
with its answer, statements, verdicts and passages)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from evals.metrics import DEFINITIONS, Value
from evals.run import Run

CHART = "metrics.png"
TEMPLATE = "report.html.j2"


def write(result: Run, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = result.summary() | {
        "questions": [s.to_dict() for s in result.scored],
        "definitions": DEFINITIONS,
    }
    paths = [folder / "report.json", folder / "report.md", folder / "report.html"]
    paths[0].write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    paths[1].write_text(markdown(result), encoding="utf-8")
    chart(result, folder / CHART)
    paths[2].write_text(page(result), encoding="utf-8")
    return [*paths, folder / CHART]


def num(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.3f}"


def ci(value: Value) -> str:
    return "—" if math.isnan(value.low) else f"{value.low:.3f}–{value.high:.3f}"


def _title(result: Run) -> str:
    sentinel = f", sentinel baseline {result.sentinel}" if result.sentinel else ""
    verdict = "PASSED" if result.passed else "FAILED"
    return f"swguide eval: {result.backend}{sentinel}: {verdict}"


def markdown(result: Run) -> str:
    lines = [
        f"# {_title(result)}",
        "",
        f"{len(result.scored)} questions of {result.questions} in {result.seconds:.1f} s; settings "
        f"{result.settings_hash}.",
        "",
        "| metric | value | 95% CI | definition |",
        "|---|---|---|---|",
    ]
    for name, v in result.metrics.items():
        lines.append(f"| {name} | {num(v.value)} | {ci(v)} | {DEFINITIONS[name]} |")
    lines += ["", "| gate | value | rule | result |", "|---|---|---|---|"]
    for c in result.checks:
        lines.append(
            f"| {c.metric} | {num(c.value)} | {c.rule} | {'pass' if c.passed else '**FAIL**'} |"
        )
    lines += _verifier(result.verifier)
    wrong = [s for s in result.scored if not s.as_expected]
    if wrong:
        lines += ["", "Questions answered against expectation:", ""]
        lines += [
            f"- {s.question.id} ({s.question.category}): expected "
            f"{s.question.expected}, {'abstained' if s.abstained else 'answered'}"
            f"{'; says: ' + ', '.join(s.violations) if s.violations else ''}"
            for s in wrong
        ]
    return "\n".join(lines) + "\n"


def _verifier(figures: dict[str, Any]) -> list[str]:
    """The support checker the answers use, on the labelled held pairs."""
    if not figures:
        return []
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in figures["by_kind"].items())
    return [
        "",
        f"Support checker ({figures['checker']}) on the {figures['pairs']} labelled held pairs: "
        f'balanced accuracy {figures["balanced_accuracy"]:.3f}; "unsupported" precision '
        f"{num(figures['unsupported_precision'])}, recall {num(figures['unsupported_recall'])}; "
        f"true paraphrases passed {num(figures['paraphrases_passed'])}; right per kind: {kinds}; "
        f"{figures['ms_per_pair']} ms a pair.",
    ]


def chart(result: Run, path: Path) -> None:
    """Horizontal bars of the gated metrics, their CIs, and each threshold as a tick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gated = [c for c in result.checks if not c.recorded and c.metric != "must_not_violations"]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(gated) + 1.2), dpi=110)
    for row, check in enumerate(gated):
        value = result.metrics[check.metric]
        colour = "#2e7d32" if check.passed else "#c62828"
        ax.barh(row, value.value, color=colour, alpha=0.85)
        ax.errorbar(
            value.value,
            row,
            xerr=[[value.value - value.low], [value.high - value.value]],
            color="black",
            capsize=3,
            lw=1,
        )
        ax.plot([check.bound, check.bound], [row - 0.4, row + 0.4], color="black", lw=2)
        ax.text(1.07, row, num(value.value), va="center", fontsize=8)
    ax.set_yticks(range(len(gated)), [f"{c.metric} {c.rule}" for c in gated])
    ax.set_xlim(0, 1.16)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.invert_yaxis()
    ax.set_xlabel("value (bar), 95% CI (whisker), threshold (black tick)")
    ax.set_title(_title(result), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def page(result: Run) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = num
    env.filters["ci"] = ci
    env.filters["zip"] = lambda a, b: zip(a, b, strict=True)
    env.filters["cited"] = lambda answer: {c.passage.chunk.id: c.n for c in answer.citations}
    return env.get_template(TEMPLATE).render(
        run=result, title=_title(result), chart=CHART, definitions=DEFINITIONS
    )
