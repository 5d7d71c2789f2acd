"""Safe output (issue 14): terminal controls escaped in tables, spreadsheet formulas neutralised in CSV."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from classifier.cli import app
from classifier.output import format_table, write_csv
from classifier.parse.reading import Source
from classifier.parse.tabular import csv_table

NASTY = "Bonjour \x1b[2J\x1b]0;pwned\x07 \u202eetouq\u202c fin"
FORMULAS = ["=HYPERLINK(\"http://x\",\"clic\")", "+33 1 23", "-2+3", "@SUM(A1)", "\tcmd", "  =1+1", "\r\n=1+1"]


def test_table_cells_show_control_and_bidi_characters_as_escapes():
    table = format_table([{"text": NASTY, "who": "\x07ana"}], ["who", "text"], width=200)
    assert "\x1b" not in table and "\x07" not in table and "\u202e" not in table and "\u202c" not in table
    assert "\\x1b[2J" in table and "\\x07" in table and "\\u202e" in table
    assert "Bonjour" in table and "fin" in table


def test_score_table_escapes_what_the_comment_holds():
    result = CliRunner().invoke(app, ["score", "--no-sentiment", "--text", NASTY, "--format", "table"])
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b" in result.stdout


def test_csv_cells_that_a_spreadsheet_would_run_get_a_leading_quote():
    out = io.StringIO()
    write_csv([{"text": t, "hostile": -0.5, "n": 3} for t in FORMULAS + ["ordinaire", "a=b"]], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [r["text"] for r in rows] == ["'" + t.replace("\r\n", "\n") for t in FORMULAS] + ["ordinaire", "a=b"]
    assert {r["hostile"] for r in rows} == {"-0.500"}  # numbers are numbers, not formulas


def test_raw_csv_writes_cells_as_they_are_and_the_reader_keeps_what_it_reads():
    records = [{"text": t} for t in FORMULAS[:-1] + ["'=( un vrai commentaire", "normal"]]
    guarded, raw = io.StringIO(), io.StringIO()
    write_csv(records, guarded)
    write_csv(records, raw, raw=True)
    read = [row.record["text"] for row in csv_table(Source.from_bytes("x.csv", raw.getvalue().encode()), print, print).rows]
    assert read == [r["text"] for r in records]  # a text that starts with ' itself is kept as it is
    read = [row.record["text"] for row in csv_table(Source.from_bytes("x.csv", guarded.getvalue().encode()), print, print).rows]
    assert read == ["'" + r["text"] for r in records[:-2]] + [r["text"] for r in records[-2:]]


def test_a_carriage_return_in_a_cell_keeps_the_csv_row_whole():
    out = io.StringIO()
    write_csv([{"text": "une\rdeux", "n": 1}, {"text": "trois\r\nquatre", "n": 2}], out, raw=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [(r["text"], r["n"]) for r in rows] == [("une\ndeux", "1"), ("trois\nquatre", "2")]


def test_score_csv_and_queue_export_are_guarded_by_default_with_an_opt_out(tmp_path):
    runner = CliRunner()
    texts = ["=1+1 voilà", "-- merci pour l'article"]
    guarded = runner.invoke(app, ["score", "--no-sentiment", "-t", texts[0], "-t", texts[1], "--format", "csv"])
    raw = runner.invoke(app, ["score", "--no-sentiment", "-t", texts[0], "-t", texts[1], "--format", "csv", "--raw-csv"])
    assert guarded.exit_code == raw.exit_code == 0, guarded.stderr
    assert [r["text"] for r in csv.DictReader(io.StringIO(guarded.stdout))] == ["'" + t for t in texts]
    assert [r["text"] for r in csv.DictReader(io.StringIO(raw.stdout))] == texts

    source = tmp_path / "c.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    db = str(tmp_path / "q.db")
    assert runner.invoke(app, ["queue", "ingest", "--db", db, str(source)]).exit_code == 0
    listed = runner.invoke(app, ["queue", "list", "--db", db, "--format", "json"])
    for item in json.loads(listed.stdout):
        assert runner.invoke(app, ["queue", "decide", "--db", db, item["id"], "reject"]).exit_code == 0
    export = runner.invoke(app, ["queue", "export", "--db", db])
    raw_export = runner.invoke(app, ["queue", "export", "--db", db, "--raw-csv"])
    assert export.exit_code == raw_export.exit_code == 0, export.stderr
    assert sorted(r["text"] for r in csv.DictReader(io.StringIO(export.stdout))) == sorted("'" + t for t in texts)
    assert sorted(r["text"] for r in csv.DictReader(io.StringIO(raw_export.stdout))) == sorted(texts)
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(raw_export.stdout, encoding="utf-8")
    from classifier.train import read_table

    assert sorted(read_table(decisions)["text"]) == sorted(texts)  # the retraining loop (--raw-csv) reads them back
