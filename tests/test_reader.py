"""One reader for every command (issue 14): encodings, delimiters, large fields, surrogates, stdin, bad rows.

Each test reproduces a defect of the three former readers (score's, parse's and train's) and checks the
exit code and the one-line message of the command that used to fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.errors import EXIT_INPUT, EXIT_USAGE
from classifier.parse import iter_pages, parse_path
from classifier.train import read_table
from tests.conftest import ROOT

BIG = "x" * (200 * 1024)  # over the csv module's default 128 KiB field limit


def invoke(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def lines(stderr: str, marker: str) -> list[str]:
    """The stderr lines naming ``marker``: each message is one line."""
    return [line for line in stderr.splitlines() if marker in line]


def score(*args: str, stdin: bytes | None = None):
    return invoke("score", "--no-sentiment", "--no-reasons", "--format", "jsonl", *args, stdin=stdin)


# --------------------------------------------------------------------------- encodings and delimiters


def test_score_reads_a_cp1252_csv_like_parse_does(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes(b"text\nTr\xe8s bien\n")
    result = score(str(path))
    assert result.exit_code == 0, result.stderr
    assert [r["text"] for r in records(result.stdout)] == ["Très bien"]
    (warning,) = lines(result.stderr, "l.csv")
    assert warning.startswith("classifier: warning: ") and "read as cp1252" in warning
    assert [c.text for c in parse_path(path)] == ["Très bien"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("semi.csv", "text;author\nBonjour à tous;Ana\n".encode()),
        ("tab.csv", "text\tauthor\nBonjour à tous\tAna\n".encode()),
        ("bom.csv", "\ufefftext,author\nBonjour à tous,Ana\n".encode()),
        ("utf16.csv", "text,author\r\nBonjour à tous,Ana\r\n".encode("utf-16")),
    ],
)
def test_every_command_reads_the_same_table_whatever_its_encoding_or_delimiter(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    result = score(str(path))
    assert result.exit_code == 0, result.stderr
    assert [(r["text"], r["author"]) for r in records(result.stdout)] == [("Bonjour à tous", "Ana")]
    assert [(c.text, c.author) for c in parse_path(path)] == [("Bonjour à tous", "Ana")]
    table = read_table(path)
    assert list(table.columns) == ["text", "author"] and table.iloc[0].tolist() == ["Bonjour à tous", "Ana"]


def test_train_reads_a_cp1252_file_with_a_warning(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes(b"text,label\nTr\xe8s bien,0\nEsp\xe8ce d'idiot,1\n")
    said: list[str] = []
    table = read_table(path, progress=said.append)
    assert table["text"].tolist() == ["Très bien", "Espèce d'idiot"]
    assert len(said) == 1 and "read as cp1252" in said[0]


# --------------------------------------------------------------------------- no field-size cliff


@pytest.fixture
def default_csv_limit():
    """The csv module's limit is process-wide: start from its default (128 KiB), as a fresh process does."""
    import csv

    before = csv.field_size_limit(128 * 1024)
    yield
    csv.field_size_limit(before)


def test_a_field_over_128_kib_is_read_by_parse_and_queue_ingest(tmp_path, default_csv_limit):
    path = tmp_path / "big.csv"
    path.write_text(f'text,n\n"{BIG}",1\nBonjour,2\n', encoding="utf-8")
    result = invoke("parse", str(path), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [len(r["text"]) for r in records(result.stdout)] == [len(BIG), len("Bonjour")]
    ingest = invoke("queue", "ingest", "--db", str(tmp_path / "q.db"), str(path))
    assert ingest.exit_code == 0, ingest.stderr
    assert "2 comment(s): 2 new" in ingest.stderr


def test_a_line_over_the_limit_is_one_skipped_row_not_the_file(tmp_path, monkeypatch):
    from classifier.parse import reading

    monkeypatch.setattr(reading, "MAX_LINE_CHARS", 1000)
    path = tmp_path / "huge.jsonl"
    path.write_text(json.dumps({"text": "a" * 5000}) + "\n" + json.dumps({"text": "Bonjour"}) + "\n", encoding="utf-8")
    result = score(str(path))
    assert result.exit_code == EXIT_INPUT
    assert [r["text"] for r in records(result.stdout)] == ["Bonjour"]
    (message,) = lines(result.stderr, "huge.jsonl")
    assert "line 1: longer than" in message and "skipped" in message


# --------------------------------------------------------------------------- surrogates


def test_a_lone_surrogate_in_jsonl_is_replaced_with_a_warning_and_the_next_rows_scored(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "a \\ud800", "who": "\\udfff"}\n{"text": "la suite"}\n', encoding="utf-8")
    result = score(str(path))
    assert result.exit_code == 0, result.stderr
    first, second = records(result.stdout)
    assert (first["text"], first["who"], second["text"]) == ("a \ufffd", "\ufffd", "la suite")
    (warning,) = lines(result.stderr, "s.jsonl")
    assert warning.startswith("classifier: warning: ") and "line 1" in warning and "surrogate" in warning
    assert [c.text for c in parse_path(path)] == ["a \ufffd", "la suite"]


# --------------------------------------------------------------------------- stdin


def cli(*args: str, close_stdin: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "classifier", *args], capture_output=True, cwd=ROOT, timeout=120,
        preexec_fn=(lambda: os.close(0)) if close_stdin else None,
    )  # fmt: skip


def test_closed_stdin_is_one_line_and_exit_1_not_an_internal_error():
    result = cli("score", "-", close_stdin=True)
    assert result.returncode == EXIT_INPUT, result.stderr
    err = result.stderr.decode()
    assert "Traceback" not in err and lines(err, "stdin") == ["classifier: stdin: closed, nothing to read"]
    parse = cli("parse", "-", close_stdin=True)
    assert parse.returncode == EXIT_INPUT and parse.stderr.decode().strip() == "classifier: stdin: closed, nothing to read"


def test_binary_stdin_is_refused_like_a_binary_file():
    png = (ROOT / "tests" / "fixtures" / "parse" / "bad" / "binary.png").read_bytes()
    result = score("-", stdin=png)
    assert result.exit_code == EXIT_INPUT
    assert result.stdout == ""
    assert lines(result.stderr, "stdin") == ["classifier: stdin: binary file, not text"]
    empty = score("-", stdin=b"\n \n")
    assert empty.exit_code == EXIT_INPUT and lines(empty.stderr, "stdin") == ["classifier: stdin: empty file"]


def test_stdin_lines_fall_back_to_cp1252_like_files():
    result = score("-", stdin=b"Tr\xe8s bien\nMerci\n")
    assert result.exit_code == 0, result.stderr
    assert [r["text"] for r in records(result.stdout)] == ["Très bien", "Merci"]
    assert len(lines(result.stderr, "read as cp1252")) == 1


# --------------------------------------------------------------------------- directories and bad rows


def test_an_unreadable_directory_is_reported_not_skipped(tmp_path, monkeypatch):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.csv").write_text("text\nBonjour\n", encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.csv").write_text("text\nSalut\n", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root can read anything: simulate a directory we may not list
    errors: list[str] = []
    pages = list(iter_pages([tmp_path], on_error=errors.append))
    assert [c.text for p in pages for c in p.comments] == ["Bonjour"]
    assert errors == [f"{locked}: cannot read directory (Permission denied)"]
    result = score(str(tmp_path))
    assert result.exit_code == EXIT_INPUT
    assert [r["text"] for r in records(result.stdout)] == ["Bonjour"]
    assert lines(result.stderr, "cannot read directory") == [f"classifier: {locked}: cannot read directory (Permission denied)"]


def test_csv_rows_with_a_wrong_number_of_fields_are_reported_not_merged(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("text,author\nBonjour,Ana,en trop\nSalut\nMerci,Bo\n", encoding="utf-8")
    warnings: list[str] = []
    comments = list(iter_pages([path], on_warning=warnings.append))[0].comments
    assert [(c.text, c.author) for c in comments] == [("Merci", "Bo")]
    assert warnings == [f"{path}: row 1: 3 fields, the header has 2; skipped", f"{path}: row 2: 1 fields, the header has 2; skipped"]
    result = score(str(path))
    assert result.exit_code == EXIT_INPUT
    assert [r["text"] for r in records(result.stdout)] == ["Merci"]
    assert len(lines(result.stderr, "fields, the header has 2")) == 2


def test_queue_ingest_unknown_input_format_is_a_usage_error_like_parse(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("text\nBonjour\n", encoding="utf-8")
    for args in (["queue", "ingest", "--db", str(tmp_path / "q.db"), "--input-format", "bogus"], ["parse", "-i", "bogus"]):
        result = cli(*args, str(path))
        assert result.returncode == EXIT_USAGE
        err = result.stderr.decode().strip()
        assert len(err.splitlines()) == 1 and "'bogus' is not one of" in err
    assert not (tmp_path / "q.db").exists()


def test_every_input_format_has_one_parser_and_every_suffix_a_known_format():
    from classifier.parse import PARSERS, SUFFIXES, TABLE_FORMATS, parser
    from classifier.parse.tabular import TABLE_READERS
    from classifier.schema import INPUT_FORMATS

    assert ("auto", *PARSERS) == INPUT_FORMATS
    assert set(SUFFIXES.values()) <= set(PARSERS) and set(TABLE_FORMATS) == set(TABLE_READERS) <= set(PARSERS)
    assert all(callable(parser(fmt)) for fmt in PARSERS)
