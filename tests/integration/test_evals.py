"""The eval suite on the real index: the extractive backend passes the gate, every
sentinel fails it, the report, the CLI's exit code, and the support checker's
calibration (the metrics themselves: tests/unit/test_eval_metrics.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from evals.report import write
from evals.run import Answers, ask_all, score
from evals.sentinels import MODEL_ONLY, SENTINELS
from evals.support import RESULT, calibrate, checker_figures
from swguide.errors import ConfigError
from swguide.settings import Settings, load_settings

# -- the real suite ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def answers(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Answers:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("eval"), models_dir=models_dir)
    return ask_all(settings, llm="extractive")


@pytest.mark.slow
def test_the_extractive_backend_passes_the_gate(answers: Answers) -> None:
    result = score(answers)
    assert result.passed, [c for c in result.checks if not c.passed]
    assert result.metrics["hit@5"].value >= 0.95


SPOILS = {
    "no-citations": "citation_recall",
    "cite-everything": "citation_precision",
    "wrong-citation-numbers": "citation_recall",
    "always-abstain": "over_refusal",
    "invented-sentence": "unsupported_rate",
    "dangling-quotes": "self_contained",
    "buried-answer": "gold_first",
}


@pytest.mark.slow
@pytest.mark.parametrize("sentinel", sorted(set(SENTINELS) - MODEL_ONLY))
def test_every_sentinel_fails_the_gate_where_it_should(answers: Answers, sentinel: str) -> None:
    result = score(answers, sentinel)
    failed = {c.metric for c in result.checks if not c.passed}
    assert not result.passed
    assert SPOILS[sentinel] in failed


@pytest.mark.slow
def test_a_model_sentinel_is_refused_for_quotes(answers: Answers) -> None:
    """model-silent spoils what a model adds (tests/unit/test_eval_metrics.py; `make eval`
    runs it on Gemma's answers); on the quotes it could not fail, so it is refused."""
    with pytest.raises(ConfigError, match="run it with --llm"):
        score(answers, "model-silent")


@pytest.mark.slow
def test_the_report_holds_every_question_a_chart_and_the_gate(
    answers: Answers, tmp_path: Path
) -> None:
    result = score(answers, "invented-sentence")
    paths = {p.name: p for p in write(result, tmp_path)}
    data = json.loads(paths["report.json"].read_text(encoding="utf-8"))
    assert data["passed"] is False and len(data["questions"]) == len(answers.asked)
    assert data["definitions"]["citation_precision"].endswith("(ALCE)")
    page = paths["report.html"].read_text(encoding="utf-8")
    assert all(f'id="{a.question.id}"' in page for a in answers.asked)
    assert "UNSUPPORTED" in page and 'src="metrics.png"' in page
    assert paths["metrics.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = paths["report.md"].read_text(encoding="utf-8")
    assert "FAILED" in summary and "| unsupported_rate |" in summary


@pytest.mark.slow
def test_the_calibration_reproduces_its_recorded_result(models_dir: Path, tmp_path: Path) -> None:
    recorded = json.loads(RESULT.read_text(encoding="utf-8"))
    again = calibrate(load_settings(data_dir=tmp_path, models_dir=models_dir))
    assert again == recorded


@pytest.mark.slow
def test_swguide_eval_exits_1_when_the_gate_fails(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    done = run_cli(
        ["eval", "--baseline", "always-abstain", "--report", str(tmp_path)], corpus_settings
    )
    assert done.returncode == 1, done.stderr.decode()
    assert b"FAILED" in done.stdout and b"over_refusal" in done.stdout
    assert (tmp_path / "report.html").is_file()
    bad = run_cli(["eval", "--baseline", "no-such"], corpus_settings)
    assert bad.returncode == 2 and b"Unknown baseline 'no-such'" in bad.stderr


@pytest.mark.slow
def test_the_checker_figures_judge_the_held_pairs_as_the_calibration_did(
    models_dir: Path, tmp_path: Path
) -> None:
    recorded = json.loads(RESULT.read_text(encoding="utf-8"))["held"]
    settings = load_settings(
        data_dir=tmp_path, models_dir=models_dir, guard={"checker": "heuristic"}
    )
    figures = checker_figures(settings)
    assert figures["checker"] == "heuristic" and figures["pairs"] == recorded["pairs"]
    assert figures["balanced_accuracy"] == recorded["balanced_accuracy"]
    confusion = recorded["confusion"]
    caught, flagged = (
        confusion["true_negative"],
        confusion["true_negative"] + confusion["false_negative"],
    )
    assert figures["unsupported_precision"] == round(caught / flagged, 4)
    assert 0 < figures["paraphrases_passed"] < 1  # pairs the heuristic refuses exist


@pytest.mark.slow
def test_the_suite_reports_the_learned_verifier_as_its_training_recorded_it(
    answers: Answers,
) -> None:
    """The guard the answers use (the learned verifier by default) judges the labelled
    held pairs exactly as `make train-verifier` recorded, and the report says so."""
    from assistant.guard.verifier import shipped_record

    recorded = shipped_record()["calibration_held"]
    figures = score(answers).summary()["verifier"]
    assert figures["checker"] == "learned" and figures["pairs"] == recorded["pairs"]
    for key in ("balanced_accuracy", "unsupported_precision", "unsupported_recall"):
        assert figures[key] == pytest.approx(recorded[key], abs=1e-4), key
    assert figures["balanced_accuracy"] >= 0.88  # the heuristic's is 0.891
