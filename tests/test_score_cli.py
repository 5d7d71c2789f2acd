"""`classifier score`: every input kind, every output format, bad rows, the --fail-on gate, config files."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.errors import EXIT_GATE, EXIT_INPUT, EXIT_MODEL, EXIT_USAGE
from classifier.schema import DECISIONS
from tests.conftest import DATA, ROOT, SEEDS

INSULT = "Ferme ta gueule, espèce de connard."
POLITE = "Merci pour cet article très clair."
SHOUT = "C'EST UNE HONTE, PERSONNE NE RESPECTE PLUS RIEN DANS CE PAYS !"
ADDED = {"hostile", "shouting", "caps_ratio", "sentiment", "negative", "neutral", "positive", "decision", "reasons", "model"}


def run(*args: str, stdin: str | None = None, env: dict | None = None):
    return CliRunner().invoke(app, ["score", *args], input=stdin, env=env)


def jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def check_scored(record: dict) -> None:
    assert ADDED <= set(record)
    assert 0.0 <= record["hostile"] <= 1.0
    assert isinstance(record["shouting"], bool)
    assert record["decision"] in DECISIONS
    assert isinstance(record["reasons"], list)


@pytest.fixture(scope="module")
def eval_rows() -> pd.DataFrame:
    """Forty labelled rows of the project's own news-comment set (both classes)."""
    df = pd.read_csv(DATA / "eval_news_fr.csv", keep_default_na=False)
    return pd.concat([df[df.hostile == 1].head(20), df[df.hostile == 0].head(20)]).sample(frac=1, random_state=0)


# --------------------------------------------------------------------------- input kinds


def test_inline_texts_in_order():
    result = run("--text", POLITE, "-t", INSULT, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [r["text"] for r in records] == [POLITE, INSULT]
    for r in records:
        check_scored(r)
    assert "scored 2" in result.stderr


def test_stdin_one_comment_per_line_blank_lines_skipped():
    result = run("-", "--format", "jsonl", stdin=f"{POLITE}\n\n{SHOUT}\n")
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [r["text"] for r in records] == [POLITE, SHOUT]
    assert [r["shouting"] for r in records] == [False, True]


def test_stdin_is_read_when_no_path_is_given():
    result = run(stdin=POLITE + "\n")
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in jsonl(result.stdout)] == [POLITE]  # jsonl: stdout is not a terminal


def test_stdin_jsonl_is_detected_and_fields_kept():
    lines = [json.dumps({"id": 7, "body": POLITE}), json.dumps({"id": 8, "body": INSULT})]
    result = run("--text-column", "body", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [(r["id"], r["body"]) for r in records] == [(7, POLITE), (8, INSULT)]
    for r in records:
        check_scored(r)


def test_csv_keeps_every_input_column_and_row_order(tmp_path, eval_rows):
    path = tmp_path / "comments.csv"
    eval_rows.rename(columns={"hostile": "label"}).to_csv(path, index=False)
    result = run(str(path), "--text-column", "text", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [r["text"] for r in records] == eval_rows["text"].tolist()
    assert all({"label", "sentiment", "category", "source"} <= set(r) for r in records)
    for r in records:
        check_scored(r)
    by_label = {label: [r["hostile"] for r in records if r["label"] == label] for label in ("0", "1")}
    assert sum(by_label["1"]) / 20 > sum(by_label["0"]) / 20  # the scores mean something


def test_jsonl_file_with_the_text_column_found_like_the_parser_does(tmp_path):
    path = tmp_path / "comments.jsonl"
    lines = [json.dumps({"comment": INSULT, "user": "x"}), json.dumps({"comment": POLITE, "user": "y"})]
    path.write_text("\n".join(lines) + "\n")
    result = run(str(path))  # no --text-column: "comment" is one of the default names
    assert result.exit_code == 0, result.output
    assert [(r["user"], r["comment"]) for r in jsonl(result.stdout)] == [("x", INSULT), ("y", POLITE)]


def test_parquet_file(tmp_path):
    path = tmp_path / "comments.parquet"
    when = pd.Timestamp("2026-01-02T03:04:05Z")
    pd.DataFrame({"message": [POLITE, SHOUT], "n": [1, 2], "at": [when, when]}).to_parquet(path)
    result = run(str(path), "--text-column", "message")
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [(r["n"], r["shouting"]) for r in records] == [(1, False), (2, True)]
    assert records[0]["at"].startswith("2026-01-02T03:04:05")


def test_seed_pages_are_parsed_then_scored():
    result = run(str(SEEDS), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert len(records) == 7
    for r in records:
        check_scored(r)
        assert {"id", "page", "author", "published", "reply_to"} <= set(r)
    shouting = [r for r in records if r["shouting"]]
    assert len(shouting) == 2
    assert {r["page"].rsplit("/", 1)[-1][:3] for r in shouting} == {"000", "004"}
    assert all(any(reason.startswith("shouting (caps") for reason in r["reasons"]) for r in shouting)


# --------------------------------------------------------------------------- output formats


def test_json_format_is_one_list():
    data = json.loads(run("-t", POLITE, "-t", INSULT, "--format", "json").stdout)
    assert isinstance(data, list) and [d["text"] for d in data] == [POLITE, INSULT]


def test_csv_format_has_a_header_and_flat_cells():
    result = run("-t", SHOUT, "-t", POLITE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["text"] for r in rows] == [SHOUT, POLITE]
    assert ADDED <= set(rows[0])
    assert "shouting (caps" in rows[0]["reasons"]


def test_table_format_fits_80_columns():
    result = run(str(SEEDS), "--format", "table", env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["hostile", "shouting", "decision", "sentiment"]
    assert len(lines) == 2 + 7
    assert max(map(len, lines)) <= 80


# --------------------------------------------------------------------------- failures and gates


def test_bad_rows_are_reported_with_their_number_and_skipped(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(f'text,n\n"{POLITE}",1\n"",2\n"{INSULT}",3\n', encoding="utf-8")
    lines = tmp_path / "mixed.jsonl"
    lines.write_text(json.dumps({"text": POLITE}) + "\n{not json\n" + json.dumps({"other": 1}) + "\n")
    result = run(str(path), str(lines))
    assert result.exit_code == EXIT_INPUT
    assert [r["text"] for r in jsonl(result.stdout)] == [POLITE, INSULT, POLITE]
    assert "mixed.csv: row 2: empty text" in result.stderr
    assert "mixed.jsonl: line 2: invalid JSON" in result.stderr
    assert "mixed.jsonl: line 3: missing column 'text'" in result.stderr
    assert "scored 3" in result.stderr and "failed 3" in result.stderr


def test_a_missing_text_column_or_file_fails_that_input_only(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("note\nhello there\n")
    result = run(str(path), str(tmp_path / "absent.csv"), "-t", POLITE)
    assert result.exit_code == EXIT_INPUT
    assert len(jsonl(result.stdout)) == 1
    assert "wrong.csv: no column 'text'" in result.stderr
    assert "absent.csv: no such file" in result.stderr


def test_fail_on_is_a_gate_with_its_own_exit_code():
    gate = run("-t", POLITE, "--review-threshold", "0", "--fail-on", "review")
    assert gate.exit_code == EXIT_GATE
    assert len(jsonl(gate.stdout)) == 1  # the output is still written
    assert run("-t", POLITE, "--review-threshold", "0", "--fail-on", "reject").exit_code == 0
    both = run("-t", POLITE, "-t", " ", "--reject-threshold", "0", "--review-threshold", "0", "--fail-on", "reject")
    assert both.exit_code == EXIT_GATE  # the gate wins over a bad row


def test_thresholds_from_a_config_file_and_options_win(tmp_path):
    config = tmp_path / "moderation.toml"
    config.write_text("[thresholds]\nreview = 0.0\nreject = 0.0\n")
    assert jsonl(run("-t", POLITE, "--config", str(config)).stdout)[0]["decision"] == "reject"
    out = run("-t", POLITE, "--config", str(config), "--reject-threshold", "1", "--review-threshold", "1").stdout
    assert jsonl(out)[0]["decision"] == "approve"


def test_jobs_keep_the_input_order(tmp_path, eval_rows):
    path = tmp_path / "comments.csv"
    eval_rows.to_csv(path, index=False)
    one = run(str(path), "--chunk-size", "7")
    two = run(str(path), "--chunk-size", "7", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0, two.output
    assert jsonl(two.stdout) == jsonl(one.stdout)
    assert len(jsonl(one.stdout)) == len(eval_rows)


def classifier_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "classifier", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_unknown_option_is_one_line_on_stderr():
    result = classifier_cli("score", "--no-such-option", "-t", "x")
    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("classifier: ")


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--model", "no/such/model"], EXIT_MODEL), (["--config", "no/such.toml"], EXIT_USAGE),
     (["--review-threshold", "1.5"], EXIT_USAGE)],
)  # fmt: skip
def test_a_refused_model_or_setting_is_one_line_and_a_documented_code(args, code):
    result = classifier_cli("score", "-t", POLITE, *args)
    assert result.returncode == code, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("classifier: ")
    assert "Traceback" not in result.stderr


def test_gate_only_scoring_leaves_sentiment_and_ngram_reasons_out():
    result = run("--text", INSULT, "--text", SHOUT, "--no-sentiment", "--no-reasons", "--no-attributes", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    insult, shout = jsonl(result.stdout)
    for record in (insult, shout):
        check_scored(record)
        assert record["sentiment"] is None and record["negative"] is None
        assert record["model"].count("@") == 1  # the hostile model only
    assert insult["decision"] != "approve" and insult["reasons"] == []
    assert shout["shouting"] and len(shout["reasons"]) == 1 and shout["reasons"][0].startswith("shouting")
    full = jsonl(run("--text", INSULT, "--format", "jsonl").stdout)[0]
    assert full["hostile"] == pytest.approx(insult["hostile"], abs=1e-12) and full["reasons"]
