"""Scale-out scoring on Dask (classifier/scale.py, `score --engine dask`): the same records and reports as the local path.

One LocalCluster (2 worker processes, one thread each, loopback) serves the whole module;
the CLI reaches it through --scheduler. The inputs are files written here from a slice of
../shared/data plus hand-made bad rows, split into several partitions each.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.errors import EXIT_INPUT, EXIT_MODEL, EXIT_USAGE, ClassifierError
from classifier.moderator import RESULT_COLUMNS
from tests.conftest import ROOT, SEEDS

pytest.importorskip("distributed")

POLITE = "Merci pour cet article très clair."
SHOUT = "C'EST UNE HONTE, PERSONNE NE RESPECTE PLUS RIEN DANS CE PAYS !"


@pytest.fixture(scope="module")
def scheduler():
    """The address of a 2-worker LocalCluster on loopback, closed after the module."""
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:
        yield client.scheduler.address


@pytest.fixture(scope="module")
def texts(shared_data) -> list[str]:
    """180 published French news comments (a slice of the shared corpus, read in place)."""
    df = pd.read_csv(shared_data / "fr_news_published_20min.csv", keep_default_na=False, nrows=400)
    column = "text" if "text" in df.columns else df.columns[0]
    return [t for t in df[column].astype(str) if t.strip()][:180]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, texts) -> dict[str, Path]:
    """One CSV, one JSONL and one Parquet file, each with bad rows past its first partition."""
    folder = tmp_path_factory.mktemp("inputs")
    rows = [{"id": f"c{i}", "source": "20min", "text": t} for i, t in enumerate(texts)]
    paths = {}

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "source", "text"])
    for i, row in enumerate(rows[:60]):
        writer.writerow(row.values())
        if i == 20:
            writer.writerow(["bad1", "20min", "  "])  # empty text
            writer.writerow(["bad2", "only two fields"])  # wrong field count
            writer.writerow(["multi", "20min", "Deux lignes\ndans une cellule"])
    paths["csv"] = folder / "comments.csv"
    paths["csv"].write_text(out.getvalue(), encoding="utf-8")

    lines = [json.dumps(row, ensure_ascii=False) for row in rows[60:120]]
    lines[45:45] = ["{not json", json.dumps({"id": "x", "note": "no text field"}), "", "[1, 2]",
                    json.dumps({"id": "e", "text": ""})]  # fmt: skip
    lines.append('{"id": "s", "text": "un \\ud800 seul"}')  # a lone surrogate escape: replaced, with a warning
    paths["jsonl"] = folder / "comments.jsonl"
    paths["jsonl"].write_text("\n".join(lines) + "\n", encoding="utf-8")

    table = pd.DataFrame(rows[120:])
    table.loc[len(table)] = {"id": "none", "source": "20min", "text": None}
    table.loc[len(table)] = {"id": "blank", "source": "20min", "text": ""}
    table["n"] = range(len(table))
    paths["parquet"] = folder / "comments.parquet"
    table.to_parquet(paths["parquet"], row_group_size=15)
    return paths


def score(*args: str):
    return CliRunner().invoke(app, ["score", *args])


def code(result) -> int:
    """The exit code ``classifier`` gives (CliRunner leaves a ClassifierError raised)."""
    return result.exception.exit_code if isinstance(result.exception, ClassifierError) else result.exit_code


def assert_same(got: list[dict], want: list[dict]) -> None:
    """Records equal field for field; probabilities to 1e-12 (a model call's float sums depend on
    which comments share its batch, and partitions batch differently from the local chunks)."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert list(a) == list(b)
        for key in a:
            if isinstance(b[key], float):
                assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-15), (key, a, b)
            else:
                assert a[key] == b[key], (key, a, b)


def local(*paths: Path):
    result = score(*map(str, paths), "--format", "jsonl")
    return result, [json.loads(line) for line in result.stdout.splitlines()]


def on_dask(scheduler: str, out: Path, *args: str):
    return score(*args, "--engine", "dask", "--scheduler", scheduler, "--out", str(out), "--partition-rows", "20")


def parts(out: Path, suffix: str) -> list[Path]:
    return sorted(out.glob(f"part-*.{suffix}"))


def read_jsonl_parts(out: Path) -> list[dict]:
    return [json.loads(line) for part in parts(out, "jsonl") for line in part.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- same output as the local path


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_dask_writes_the_local_records_and_reports_row_for_row(scheduler, inputs, tmp_path, kind):
    expected, records = local(inputs[kind])
    result = on_dask(scheduler, tmp_path / "out", str(inputs[kind]), "--format", "jsonl")
    assert result.exit_code == expected.exit_code == EXIT_INPUT, result.output
    assert_same(read_jsonl_parts(tmp_path / "out"), records)
    assert result.stderr == expected.stderr  # the same bad rows, numbers and summary line
    if kind != "csv":  # a CSV file is one partition; the others split at rows 20, 40, ...
        assert len(parts(tmp_path / "out", "jsonl")) >= 2


def test_the_bad_rows_are_reported_with_the_file_s_own_numbers(scheduler, inputs, tmp_path):
    result = on_dask(scheduler, tmp_path / "out", str(inputs["jsonl"]), str(inputs["parquet"]), str(inputs["csv"]))
    jsonl, parquet, table = (str(inputs[k]) for k in ("jsonl", "parquet", "csv"))
    lines = result.stderr.splitlines()
    expected = [
        f"classifier: {jsonl}: line 46: invalid JSON (Expecting property name enclosed in double quotes)",
        f"classifier: {jsonl}: line 47: missing column 'text' (nor comment, body, content, message)",
        f"classifier: {jsonl}: line 49: item 1: not a JSON object",
        f"classifier: {jsonl}: line 49: item 2: not a JSON object",
        f"classifier: {jsonl}: line 50: empty text",
        f"classifier: warning: {jsonl}: line 66: lone surrogate escape replaced by U+FFFD",
        f"classifier: {parquet}: row 61: empty text",
        f"classifier: {parquet}: row 62: empty text",
        f"classifier: {table}: row 22: empty text",
        f"classifier: {table}: row 23: 2 fields, the header has 3",
    ]  # input order, each file's own line and row numbers (past the first partition)
    found = [next((i for i, line in enumerate(lines) if line.startswith(want)), None) for want in expected]
    assert None not in found, lines
    assert found == sorted(found) and len(lines) == len(expected) + 1
    assert lines[-1].startswith("classifier: scored 182, flagged ") and lines[-1].endswith(", failed 9")


def test_parquet_partitions_hold_the_input_columns_and_every_result_field(scheduler, inputs, tmp_path):
    expected, records = local(inputs["parquet"], inputs["csv"])
    result = on_dask(scheduler, tmp_path / "out", str(inputs["parquet"]), str(inputs["csv"]))
    assert result.exit_code == EXIT_INPUT, result.output
    files = parts(tmp_path / "out", "parquet")
    written = [r for f in files for r in pd.read_parquet(f).to_dict(orient="records")]
    assert [r["id"] for r in written] == [r["id"] for r in records]  # ids and order kept
    first = pd.read_parquet(files[0])
    assert list(first.columns) == ["id", "source", "text", "n", *RESULT_COLUMNS]
    keys = ("id", "text", "hostile", "shouting", "caps_ratio", "sentiment", "negative", "decision", "model")
    assert_same(
        [{**{k: got[k] for k in keys}, "reasons": list(got["reasons"])} for got in written],
        [{**{k: want[k] for k in keys}, "reasons": want["reasons"]} for want in records],
    )


def test_parts_split_parquet_at_row_groups_and_jsonl_at_lines(inputs):
    from classifier.scale import plan_parts

    planned = plan_parts([str(inputs[k]) for k in ("csv", "jsonl", "parquet")], None, partition_rows=20)
    kinds = [p.kind for p in planned]
    assert kinds[0] == "file" and kinds[-3:] == ["parquet"] * 3 and set(kinds[1:-3]) == {"jsonl"}
    assert [(p.span, p.first) for p in planned[-3:]] == [((0, 1), 0), ((2, 3), 30), ((4,), 60)]  # 15-row groups
    data = inputs["jsonl"].read_bytes()
    spans = [p.span for p in planned if p.kind == "jsonl"]
    assert len(spans) >= 3 and spans[0][0] == 0 and spans[-1][1] == len(data)
    assert all(a[1] == b[0] and data[b[0] - 1 : b[0]] == b"\n" for a, b in zip(spans, spans[1:]))  # cut after a newline
    assert [p.first for p in planned if p.kind == "jsonl"] == [data[: a].count(b"\n") for a, _ in spans]


def test_csv_partitions_equal_the_local_csv_output(scheduler, inputs, tmp_path):
    expected = score(str(inputs["csv"]), "--format", "csv")
    result = on_dask(scheduler, tmp_path / "out", str(inputs["csv"]), "--format", "csv")
    (part,) = parts(tmp_path / "out", "csv")
    assert part.read_text(encoding="utf-8") == expected.stdout
    assert result.stderr == expected.stderr


def test_globs_and_pages_are_read_like_the_local_path(scheduler, tmp_path):
    expected, records = local(*sorted(SEEDS.glob("*.txt")))
    result = on_dask(scheduler, tmp_path / "out", str(SEEDS / "*.txt"), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert_same(read_jsonl_parts(tmp_path / "out"), records)  # parsed ids, pages and authors included
    assert len(records) == 7


# --------------------------------------------------------------------------- the Python API


def local_results(texts: list[str]) -> list[dict]:
    """The local path's result fields for ``texts`` (its per-process Moderator, default options)."""
    from classifier import batch

    args = {"path": None, "sentiment_path": None, "config": None, "review": None, "reject": None,
            "sentiment": True, "reasons": True}  # fmt: skip
    return list(batch.score_rows([batch.Row({}, t) for t in texts], args))


def test_score_dataframe_adds_every_result_field_and_keeps_rows_without_text(scheduler, texts):
    import dask.dataframe as dd

    from classifier.scale import score_dataframe

    frame = pd.DataFrame({"id": range(12), "text": [POLITE, SHOUT, None, "", *texts[:8]]}, index=range(100, 112))
    scored = score_dataframe(dd.from_pandas(frame, npartitions=3), column="text")
    assert list(scored.columns) == ["id", "text", *RESULT_COLUMNS]
    out = scored.compute()
    assert out.index.tolist() == frame.index.tolist() and out["id"].tolist() == list(range(12))
    assert out.loc[[102, 103], "decision"].isna().all() and out.loc[[102, 103], "hostile"].isna().all()
    kept = out.drop(index=[102, 103])
    want = local_results(kept["text"].tolist())
    assert kept["hostile"].tolist() == pytest.approx([r["hostile"] for r in want], rel=1e-12)
    assert kept["decision"].tolist() == [r["decision"] for r in want]
    assert [list(r) for r in kept["reasons"]] == [r["reasons"] for r in want]
    assert kept.loc[101, "shouting"] and not kept.loc[100, "shouting"]
    assert dict(scored.dtypes) == dict(out.dtypes)  # the declared meta is what partitions return


def test_score_dataframe_checks_the_column_and_the_load_options_before_any_work():
    import dask.dataframe as dd

    from classifier.scale import score_dataframe

    ddf = dd.from_pandas(pd.DataFrame({"body": [POLITE]}), npartitions=1)
    with pytest.raises(KeyError, match="no column 'text'"):
        score_dataframe(ddf)
    with pytest.raises(TypeError):
        score_dataframe(ddf, column="body", modle="x")


# --------------------------------------------------------------------------- errors


def classifier_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "classifier", "score", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_an_unreachable_scheduler_is_one_line_and_a_usage_error(inputs, tmp_path):
    result = classifier_cli(str(inputs["csv"]), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path))
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith("classifier: cannot reach the Dask scheduler at tcp://127.0.0.1:9 (")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("address", ["nonsense://host", "tcp://127.0.0.1:notaport", "ws://127.0.0.1:8786"])
def test_a_malformed_scheduler_address_is_a_usage_error(inputs, tmp_path, address):
    result = score(str(inputs["csv"]), "--engine", "dask", "--scheduler", address, "--out", str(tmp_path))
    assert code(result) == EXIT_USAGE
    assert str(result.exception).startswith(f"cannot reach the Dask scheduler at {address} (")


def test_a_refused_model_on_the_workers_is_exit_3_in_one_line(scheduler, inputs, tmp_path):
    result = classifier_cli(
        str(inputs["csv"]), "--engine", "dask", "--scheduler", scheduler, "--out", str(tmp_path / "out"),
        "--model", str(tmp_path / "no-model"),
    )  # fmt: skip
    assert result.returncode == EXIT_MODEL, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--engine", "dask", "--text", POLITE, "--out", "x"], ["--engine", "dask", "SEEDS"],
     ["SEEDS", "--out", "x"], ["SEEDS", "--format", "parquet"], ["SEEDS", "--workers", "2"],
     ["--engine", "dask", "SEEDS", "--out", "x", "--format", "table"],
     ["--engine", "dask", "SEEDS", "--out", "x", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"]],
)  # fmt: skip
def test_options_that_do_not_go_together_are_usage_errors(args):
    result = score(*(str(SEEDS) if a == "SEEDS" else a for a in args))
    assert code(result) == EXIT_USAGE, result.output


def test_an_out_directory_holding_earlier_partitions_is_refused(scheduler, inputs, tmp_path):
    assert on_dask(scheduler, tmp_path, str(inputs["csv"])).exit_code == EXIT_INPUT
    again = on_dask(scheduler, tmp_path, str(inputs["csv"]))
    assert code(again) == EXIT_USAGE and "holds partitions of an earlier run" in str(again.exception)
