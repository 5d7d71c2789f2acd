"""Documented exit codes for the cases issue 14 found wrong: one line on stderr, never 70 (a bug)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from classifier.errors import EXIT_INPUT, EXIT_MODEL, EXIT_USAGE
from tests.conftest import MODELS, ROOT, SEEDS


def classifier(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "classifier", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def one_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("classifier: "), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize("option", ["--auto-reject-above", "--auto-approve-below"])
@pytest.mark.parametrize("value", ["5", "-0.1", "nan", "lots"])
def test_queue_settings_out_of_range_is_a_usage_error(tmp_path, option, value):
    proc = classifier("queue", "settings", "--db", str(tmp_path / "q.db"), option, value)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert option in one_line(proc)


def test_queue_settings_low_above_high_is_a_usage_error_and_changes_nothing(tmp_path):
    db = str(tmp_path / "q.db")
    assert classifier("queue", "settings", "--db", db, "--auto-reject-above", "0.5").returncode == 0
    proc = classifier("queue", "settings", "--db", db, "--auto-approve-below", "0.9")
    assert proc.returncode == EXIT_USAGE and "above" in one_line(proc)
    shown = classifier("queue", "settings", "--db", db, "--show")
    assert json.loads(shown.stdout)["auto_approve_below"] is None


def _model_with_card(tmp_path, **changes):
    """A copy of the shipped hostile model whose card has ``changes`` (the artefact linked, not copied)."""
    folder = tmp_path / "model"
    folder.mkdir()
    card = json.loads((MODELS / "hostile-fr" / "card.json").read_text(encoding="utf-8"))
    artefact = card["artefact"]["file"]
    (folder / artefact).symlink_to(MODELS / "hostile-fr" / artefact)
    card.update(changes)
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "thresholds",
    [{"review": 1.5, "reject": 2.0}, {"review": -0.2, "reject": 0.5}, {"review": 0.9, "reject": 0.2}, {"review": 0.5}, "high"],
    ids=["above-1", "below-0", "review-above-reject", "incomplete", "not-a-table"],
)
def test_card_thresholds_that_make_no_sense_are_a_model_error(tmp_path, thresholds):
    folder = _model_with_card(tmp_path, thresholds=thresholds)
    proc = classifier("score", "--model", str(folder), "--text", "Merci", "--format", "jsonl")
    assert proc.returncode == EXIT_MODEL, proc.stderr
    one_line(proc)


def test_thresholds_given_as_options_out_of_range_stay_usage_errors():
    proc = classifier("score", "--text", "Merci", "--review-threshold", "1.5")
    assert proc.returncode == EXIT_USAGE


def test_train_on_three_rows_is_a_one_line_input_error(tmp_path):
    data = tmp_path / "tiny.csv"
    data.write_text("text,label\nespèce d'idiot,1\nmerci,0\nbonjour,0\n", encoding="utf-8")
    proc = classifier("train", str(data), "--out", str(tmp_path / "m"))
    assert proc.returncode == EXIT_INPUT, proc.stderr
    assert proc.stderr.count("Traceback") == 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("classifier: too few rows to train") and "1: 1" in last
    assert not (tmp_path / "m").exists()


def test_queue_ingest_with_an_unknown_input_format_is_a_usage_error_like_parse(tmp_path):
    ingest = classifier("queue", "ingest", "--db", str(tmp_path / "q.db"), str(SEEDS), "--input-format", "bogus")
    parse = classifier("parse", str(SEEDS), "--input-format", "bogus")
    assert ingest.returncode == parse.returncode == EXIT_USAGE
    assert "bogus" in one_line(ingest) and "bogus" in one_line(parse)
    assert not (tmp_path / "q.db").exists()
