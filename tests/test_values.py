"""Each list of allowed values is declared once (classifier/schema.py) and one fold() matches text everywhere."""

from __future__ import annotations

import sqlite3

import click
import pandas as pd
import pytest
import typer

from classifier import schema
from classifier.cli import app
from classifier.text import fold, fold_same_length
from tests.conftest import SHARED_DATA


def _choices(*path: str) -> dict[str, tuple[str, ...]]:
    """The click choices of every option and argument of the command at ``path``."""
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return {p.name: tuple(p.type.choices) for p in command.params if isinstance(p.type, click.Choice)}


def test_cli_choices_come_from_the_schema():
    assert _choices("parse")["input_format"] == schema.INPUT_FORMATS
    assert _choices("queue", "ingest")["input_format"] == schema.INPUT_FORMATS
    assert _choices("score")["fmt"] == tuple(dict.fromkeys(schema.OUTPUT_FORMATS + schema.PARTITION_FORMATS))
    assert _choices("score")["engine"] == schema.ENGINES
    assert _choices("score")["fail_on"] == schema.DECISIONS[1:]
    assert _choices("queue", "list")["status"] == schema.STATUSES
    assert _choices("queue", "decide")["decision"] == schema.QUEUE_DECISIONS
    assert _choices("train")["task"] == _choices("evaluate")["task"] == schema.TASKS


def test_api_types_come_from_the_schema(tmp_path):
    from classifier.web.app import create_app

    doc = create_app(tmp_path / "q.db", "x" * 32).openapi()
    shapes = doc["components"]["schemas"]
    assert tuple(shapes["CommentOut"]["properties"]["status"]["enum"]) == schema.STATUSES
    assert tuple(shapes["DecisionIn"]["properties"]["decision"]["enum"]) == schema.QUEUE_DECISIONS
    assert tuple(shapes["Counts"]["required"]) == schema.STATUSES
    status = next(p for p in doc["paths"]["/api/comments"]["get"]["parameters"] if p["name"] == "status")
    assert tuple(status["schema"]["enum"]) == schema.STATUSES


def test_store_check_constraints_come_from_the_schema(tmp_path):
    from classifier.store import SQLiteStore

    store = SQLiteStore(tmp_path / "q.db", create=True)
    store.close()
    conn = sqlite3.connect(tmp_path / "q.db")
    insert = "INSERT INTO comments (id, text, hostile, shouting, caps_ratio, model, priority, status, ingested_at) VALUES (?, 't', 0, 0, 0, 'm', 0, ?, 'now')"
    for n, status in enumerate(schema.STATUSES):
        conn.execute(insert, (f"c{n}", status))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(insert, ("bad", "maybe"))
    log = "INSERT INTO decisions (comment_id, decision, decided_by, decided_at) VALUES ('c0', ?, 'me', 'now')"
    for decision in schema.QUEUE_DECISIONS:
        conn.execute(log, (decision,))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(log, ("review",))
    conn.close()


def test_the_parser_and_the_policy_use_the_schema_values():
    from classifier import parse, policy, store

    assert parse.INPUT_FORMATS is schema.INPUT_FORMATS
    assert (policy.APPROVE, policy.REVIEW, policy.REJECT) == schema.DECISIONS
    assert store.STATUSES == schema.STATUSES and tuple(store.DECISION_STATUS) == schema.QUEUE_DECISIONS


def test_attributes_are_perspectives_plus_shouting():
    assert schema.ATTRIBUTES == ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity", "shouting_experimental")


# ---------------------------------------------------------------------------- one fold()


@pytest.mark.parametrize(
    ("raw", "folded"),
    [("Débile", "debile"), ("DÉBILE", "debile"), ("ＤÉＢＩＬＥ", "debile"), ("ﬁdèle", "fidele"), ("Ça", "ca"), ("naïf", "naif")],
)
def test_fold_removes_case_accents_and_compatibility_forms(raw, folded):
    assert fold(raw) == folded


def test_every_matcher_folds_the_same_way():
    from classifier.features import normalize_chunk
    from classifier.queue import find_words
    from classifier.sentiment import _fold as sentiment_fold

    for raw in ("Débile", "ÉLÉPHANT", "ＤÉＢＩＬＥ", "Crétin"):
        assert normalize_chunk(raw) == fold(raw)
        assert sentiment_fold(raw) == fold(raw)
        assert fold_same_length(raw) == fold(raw) or len(fold(raw)) != len(raw)
        assert find_words(f"Quel {raw.upper()} !", [raw.lower()]) == (raw.lower(),)


def test_the_same_length_fold_is_fold_wherever_a_character_folds_to_one(shared_data):
    frame = pd.read_csv(SHARED_DATA / "fr_news_published_20min.csv", nrows=3000, dtype=str, keep_default_na=False)
    for text in frame.iloc[:, 0].tolist() + frame.get("text", pd.Series(dtype=str)).tolist():
        same = fold_same_length(text)
        assert len(same) == len(text)
        for ch, out in zip(text, same):
            assert out == (fold(ch) if len(fold(ch)) == 1 else ch)


def test_the_batch_fold_of_the_features_equals_fold_chunk_by_chunk(shared_data):
    from classifier.features import _fold_tokens, chunk_tokens

    frame = pd.read_csv(SHARED_DATA / "fr_toxic_toxifrench.csv", nrows=3000, dtype=str, keep_default_na=False)
    chunks = list(dict.fromkeys(chunk for text in frame["text"] for chunk in text.split()))
    flat, per_chunk = _fold_tokens(chunks)
    assert sum(per_chunk) == len(flat)
    position = 0
    for chunk, n in zip(chunks, per_chunk.tolist()):
        assert flat[position : position + n] == chunk_tokens(chunk)
        position += n
