"""CSV, JSONL and Parquet tables of comments: default and named columns, bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.errors import InputError
from classifier.parse import parse_page, parse_path

FIXTURES = Path(__file__).parent / "fixtures" / "parse"


def test_csv_default_columns_reply_and_multi_paragraph(capsys):
    page = parse_page(FIXTURES / "comments.csv")
    nadia, thomas, anonyme = page.comments
    assert [(c.author, c.published) for c in page.comments] == [
        ("Nadia", "2024-02-01T14:03:00"),
        ("Thomas", "2024-02-01T15:20:00"),
        ("Anonyme", "2024-02-01T16:45:00"),
    ]
    assert nadia.text == "Le parking payant près de l'hôpital, c'est une honte.\n\nLes soignants paient pour travailler !"
    assert thomas.reply_to == nadia.id and nadia.reply_to is None
    assert nadia.extra == {"label": "0", "source_id": "c1"}
    assert "row 3: empty text, skipped" in capsys.readouterr().err


def test_jsonl_bad_line_is_reported_and_the_rest_parsed(capsys):
    hélène, marc = parse_path(FIXTURES / "comments.jsonl")
    assert (hélène.author, hélène.published) == ("Hélène", "2024-02-03T09:00:00+01:00")
    assert (marc.author, marc.published) == ("Marc", "2024-02-03T09:00:00+00:00")  # epoch seconds: UTC
    assert marc.reply_to == hélène.id
    assert marc.text == "Pareil sur la ligne 3.\n\nTrente minutes d'attente."
    assert marc.extra["source"] == "web"
    err = capsys.readouterr().err
    assert "line 3: invalid JSON" in err and "line 4: empty text" in err


def test_named_columns(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("msg;who;when;key;up\nBonjour;Ana;2024-01-02 10:00;a;\nSalut;Bo;2024-01-02 11:00;b;a\n", encoding="utf-8")
    ana, bo = parse_path(
        path, text_column="msg", author_column="who", published_column="when", id_column="key", reply_to_column="up"
    )
    assert (ana.author, ana.text, bo.reply_to) == ("Ana", "Bonjour", ana.id)
    with pytest.raises(InputError, match=r"export.csv: no column 'body'"):
        parse_path(path, text_column="body")


def test_missing_text_column_is_one_clear_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x.csv: no text column"):
        parse_path(path)


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "comments.parquet"
    pq.write_table(
        pa.table({"id": [1, 2], "author": ["Léa", "Max"], "text": ["Premier", "Réponse"], "parent_id": [None, 1]}), path
    )
    lea, max_ = parse_path(path)
    assert (lea.author, max_.reply_to, parse_page(path).format) == ("Léa", lea.id, "parquet")


def test_identical_rows_get_distinct_stable_ids(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("author,text\nAna,Bravo\nAna,Bravo\n", encoding="utf-8")
    first = [c.id for c in parse_path(path)]
    assert len(set(first)) == 2 and first == [c.id for c in parse_path(path)]
