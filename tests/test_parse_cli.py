"""`classifier parse`: formats, bad inputs (one line each, exit 1, the rest parsed), encodings, stdin, width."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.errors import EXIT_INPUT, InputError
from classifier.parse import iter_pages, parse_path
from tests.conftest import ROOT, SEEDS

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
BAD = FIXTURES / "bad"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-m", "classifier", "parse", *args], input=stdin, capture_output=True, cwd=ROOT, env=env
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("binary.png", "binary file"),
        ("empty.txt", "empty file"),
        ("blank.txt", "empty file"),
        ("malformed.xml", "malformed XML"),
        ("malformed.json", "malformed JSON"),
    ],
)
def test_bad_input_raises_one_line_naming_the_file(name, reason):
    with pytest.raises(InputError) as caught:
        parse_path(BAD / name)
    message = str(caught.value)
    assert message.startswith(str(BAD / name)) and reason in message and "\n" not in message


def test_bad_inputs_are_reported_and_the_others_parsed():
    errors: list[str] = []
    pages = list(iter_pages([BAD, SEEDS / "000_68b3043cf8606a9f.txt", "no/such/file.txt"], on_error=errors.append))
    assert [len(p.comments) for p in pages] == [3]
    assert len(errors) == len(list(BAD.iterdir())) + 1 and any("no such file" in e for e in errors)


def test_cli_exit_code_and_one_stderr_line_per_failed_file():
    result = run(str(BAD), str(SEEDS), "--format", "jsonl")
    assert result.returncode == EXIT_INPUT
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(records) == 7
    errors = [line for line in result.stderr.decode().splitlines() if not line.startswith("classifier: warning:")]
    assert len(errors) == len(list(BAD.iterdir())) and all(line.startswith("classifier: ") for line in errors)
    assert "Traceback" not in result.stderr.decode()
    assert sorted(e.split(": ")[1] for e in errors) == sorted(str(p) for p in BAD.iterdir())


def test_cp1252_file_is_read_with_a_warning_naming_it():
    result = run(str(FIXTURES / "encoding" / "cp1252.txt"))
    assert result.returncode == 0
    first, second = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert (first["author"], second["author"]) == ("Hervé", "Noël Lefèvre")
    assert first["text"] == "C’est l’œuvre d’une génération : 40 € de moins par mois, merci."
    assert "cp1252.txt: not valid UTF-8, read as cp1252" in result.stderr.decode()


def test_mojibake_is_repaired():
    (comment,) = parse_path(FIXTURES / "encoding" / "mojibake.txt")
    assert comment.author == "Aurélie"
    assert comment.text == "Le président a déclaré que c’était « une étape »."


def test_stdin_and_input_format():
    data = (SEEDS / "004_60be76548461e545.txt").read_bytes()
    result = run("-", "--input-format", "dump", stdin=data)
    assert result.returncode == 0
    assert [json.loads(line)["page"] for line in result.stdout.decode().splitlines()] == ["-"] * 4


def test_json_output_shows_pages_with_status_declared_and_found():
    result = CliRunner().invoke(app, ["parse", str(SEEDS), "--format", "json"])
    assert result.exit_code == 0, result.output
    pages = json.loads(result.stdout)
    assert [(p["status"], p["declared_count"], p["found"]) for p in pages] == [
        ("open", 3, 3), ("closed", None, 0), ("empty", None, 0), ("absent", None, 0), ("open", 4, 4)
    ]
    assert [c["author"] for c in pages[0]["comments"]] == ["FAKHOURI", "LA LIBRE EXPRESSION", "FRIK-A-FRAK"]


def test_csv_output_has_one_row_per_comment():
    result = CliRunner().invoke(app, ["parse", str(FIXTURES / "disqus.xml"), "--format", "csv"])
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    assert header[:7] == ["id", "page", "author", "published", "text", "reply_to", "status"]
    assert [row[2] for row in rows] == ["Anne-Sophie", "Paul R.", "Vélo Lover"]
    assert rows[0][4].count("\n\n") == 1  # paragraphs kept inside the quoted cell


def test_table_fits_80_columns_and_shows_page_statuses():
    result = run("seeds/", str(FIXTURES), "--format", "table")
    out = result.stdout.decode()
    assert max(len(line) for line in out.splitlines()) <= 80
    for name, status in [("000", "open, 3 comments"), ("001", "closed"), ("002", "empty"), ("003", "absent")]:
        assert any(line.startswith(f"seeds/{name}") and status in line for line in out.splitlines())
    assert "FAKHOURI" in out and "2015-09-19 19:55" in out and "#1" in out


def test_unknown_input_format_is_a_usage_error():
    result = run(str(SEEDS), "--input-format", "docx")
    assert result.returncode == 2
    assert len(result.stderr.decode().strip().splitlines()) == 1
