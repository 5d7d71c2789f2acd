"""The queue's HTTP API: token, ordering, decisions, undo, score, stats, OpenAPI, the page's files.

Most tests use a deterministic keyword scorer so they know the order; the last one
runs the whole flow with the shipped model and the CLI (ingest twice, serve, decide, export).
"""

from __future__ import annotations

import csv
import io
import re
import subprocess

import pytest
from fastapi.testclient import TestClient

from classifier.accounts import ADMIN, add_user
from classifier.queue import ingest
from classifier.store import open_store
from classifier.web.app import STATIC, create_app
from tests.conftest import SEEDS
from tests.queue_support import JSONL_COMMENTS, ROOT, XSS_TEXT, KeywordScorer, classifier_cmd, write_jsonl

TOKEN = "test-token-5f1c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXTS = ["Bonne journée à tous", "Quel crétin ce ministre", "Espèce d'idiot", "Article d'ordure", XSS_TEXT]


def _fill(db, tmp_path):
    store = open_store(db, create=True)
    ingest(store, [str(write_jsonl(tmp_path / "c.jsonl", [{"text": t, "author": "lecteur"} for t in TEXTS]))], KeywordScorer())
    store.close()
    return db


@pytest.fixture
def db(tmp_path, queue_db):
    """A queue of TEXTS on each store in turn (SQLite, PostgreSQL)."""
    return _fill(queue_db, tmp_path)


@pytest.fixture
def client(db):
    with TestClient(create_app(db, TOKEN, KeywordScorer())) as client:
        yield client


def _pending(client):
    response = client.get("/api/comments", params={"status": "pending"}, headers=AUTH)
    assert response.status_code == 200
    return response.json()


def test_every_api_request_needs_the_token(client):
    some_id = _pending(client)["items"][0]["id"]
    calls = [
        ("GET", "/api/comments", None),
        ("GET", "/api/stats", None),
        ("GET", f"/api/comments/{some_id}", None),
        ("POST", f"/api/comments/{some_id}/decision", {"decision": "approve"}),
        ("POST", f"/api/comments/{some_id}/undo", None),
        ("POST", "/api/score", {"texts": ["bonjour"]}),
        ("GET", "/api/no-such-endpoint", None),
    ]
    for method, path, body in calls:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Token": TOKEN[:-1]}, {"Authorization": TOKEN}):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
    assert _pending(client)["counts"]["pending"] == len(TEXTS)  # nothing was decided
    assert client.get("/api/stats", headers={"X-Token": TOKEN}).status_code == 200
    assert client.get("/api/no-such-endpoint", headers=AUTH).status_code == 404


def test_pending_comments_come_by_priority_with_their_scores(client):
    data = _pending(client)
    assert data["counts"] == {"pending": len(TEXTS), "approved": 0, "rejected": 0}
    items = data["items"]
    priorities = [c["priority"] for c in items]
    assert priorities == sorted(priorities, reverse=True)
    assert items[-1]["text"] == "Bonne journée à tous"
    assert items[0]["hostile"] > 0.9 and "idiot" in items[0]["reasons"]
    for item in items:
        assert {"id", "text", "author", "published", "hostile", "shouting", "sentiment", "reasons", "status"} <= set(item)
        assert item["status"] == "pending"
    assert XSS_TEXT in [c["text"] for c in items]  # stored and served verbatim; the page renders it as text


def test_a_decision_is_recorded_and_can_be_undone(client, db):
    target = _pending(client)["items"][0]
    store = open_store(db)
    alice = {"Authorization": "Bearer " + add_user(store, "alice", "moderator")}
    store.close()
    response = client.post(
        f"/api/comments/{target['id']}/decision",
        json={"decision": "reject", "note": "insulte", "by": "mallory"},  # a name the client picks is ignored
        headers={**alice, "X-Moderator": "mallory"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["decided_by"], body["note"]) == (target["id"], "rejected", "alice", "insulte")
    assert _pending(client)["counts"] == {"pending": len(TEXTS) - 1, "approved": 0, "rejected": 1}
    rejected = client.get("/api/comments", params={"status": "rejected"}, headers=AUTH).json()["items"]
    assert [c["id"] for c in rejected] == [target["id"]]

    undone = client.post(f"/api/comments/{target['id']}/undo", headers=AUTH)
    assert undone.status_code == 200 and undone.json()["status"] == "pending" and undone.json()["decided_by"] is None
    again = client.post(f"/api/comments/{target['id']}/decision", json={"decision": "undo"}, headers=AUTH)
    assert again.status_code == 409  # pending already: nothing to undo
    approved = client.post(f"/api/comments/{target['id']}/decision", json={"decision": "approve"}, headers=AUTH)
    assert approved.json()["status"] == "approved"

    history = client.get(f"/api/comments/{target['id']}/history", headers=AUTH).json()
    assert [(e["decision"], e["decided_by"]) for e in history] == [("reject", "alice"), ("undo", ADMIN), ("approve", ADMIN)]
    store = open_store(db)
    assert store.get(target["id"])["status"] == "approved"
    store.close()


def test_bad_decisions_and_unknown_ids(client):
    some_id = _pending(client)["items"][0]["id"]
    for body in ({"decision": "maybe"}, {"decision": ""}, {}, {"note": "x"}, {"decision": "approve", "note": "x" * 3000}):
        response = client.post(f"/api/comments/{some_id}/decision", json=body, headers=AUTH)
        assert response.status_code in (400, 422), body
    assert client.post(f"/api/comments/{some_id}/decision", content=b"not json", headers=AUTH).status_code in (400, 422)
    assert client.post("/api/comments/nope/decision", json={"decision": "approve"}, headers=AUTH).status_code == 404
    assert client.get("/api/comments/nope", headers=AUTH).status_code == 404
    assert client.get("/api/comments", params={"status": "maybe"}, headers=AUTH).status_code == 422
    assert _pending(client)["counts"]["pending"] == len(TEXTS)


def test_score_and_stats(client):
    scored = client.post("/api/score", json={"texts": ["Espèce d'idiot", "Merci"]}, headers=AUTH)
    assert scored.status_code == 200
    results = scored.json()["results"]
    assert [r["text"] for r in results] == ["Espèce d'idiot", "Merci"]
    assert results[0]["hostile"] > results[1]["hostile"]
    assert _pending(client)["counts"]["pending"] == len(TEXTS)  # scoring queues nothing

    some_id = _pending(client)["items"][0]["id"]
    client.post(f"/api/comments/{some_id}/decision", json={"decision": "approve"}, headers=AUTH)
    stats = client.get("/api/stats", headers=AUTH).json()
    assert stats["counts"] == {"pending": len(TEXTS) - 1, "approved": 1, "rejected": 0, "total": len(TEXTS)}
    assert stats["decisions"]["approve"] == 1 and stats["decisions"]["total"] == 1
    assert stats["model"] == KeywordScorer.model_id
    assert stats["models"] == {KeywordScorer.model_id: len(TEXTS)}


def test_openapi_and_page_are_public_and_self_contained(client):
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in ("/api/comments", "/api/comments/{comment_id}/decision", "/api/score", "/api/stats"):
        assert path in paths
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for name in ("index.html", "app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
        source = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", source), name  # no CDN
        assert not re.search(r"\.(?:inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", source), name
    assert client.get("/docs").status_code == 404  # the interactive docs would load a CDN


def test_whole_flow_with_the_shipped_model(tmp_path, queue_db):
    """Ingest seeds + JSONL twice, serve with a token, decide once, export exactly that decision."""
    db = queue_db
    jsonl = write_jsonl(tmp_path / "comments.jsonl", JSONL_COMMENTS)
    for _ in range(2):
        proc = subprocess.run(
            classifier_cmd("queue", "ingest", "--db", str(db), str(SEEDS), str(jsonl)),
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    assert "0 new" in proc.stderr

    with TestClient(create_app(db, TOKEN)) as client:
        assert client.get("/api/comments").status_code == 401
        pending = _pending(client)
        assert len(pending["items"]) == pending["counts"]["pending"] == 8
        hostile = [c["hostile"] for c in pending["items"]]
        assert all(0.0 <= h <= 1.0 for h in hostile)
        assert sum(c["shouting"] for c in pending["items"]) == 2
        target = next(c for c in pending["items"] if c["author"] == "Lectrice75")
        decided = client.post(f"/api/comments/{target['id']}/decision", json={"decision": "approve"}, headers=AUTH)
        assert decided.status_code == 200 and decided.json()["status"] == "approved"
        assert _pending(client)["counts"] == {"pending": 7, "approved": 1, "rejected": 0}
        assert client.get("/api/stats", headers=AUTH).json()["decisions"]["total"] == 1

    out = subprocess.run(
        classifier_cmd("queue", "export", "--db", str(db), "--format", "csv"), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["text"], r["label"], r["decision"], r["author"]) for r in rows] == [
        (JSONL_COMMENTS[0]["text"], "0", "approve", "Lectrice75")
    ]


def test_serve_refuses_to_start_without_a_token_or_with_a_corrupted_database(tmp_path):
    import os

    env = {**os.environ, "CLASSIFIER_TOKEN": ""}
    no_token = subprocess.run(
        classifier_cmd("serve", "--db", str(tmp_path / "q.db")), cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert no_token.returncode == 2 and no_token.stderr.count("\n") == 1 and "token" in no_token.stderr
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"definitely not sqlite" * 200)
    corrupted = subprocess.run(
        classifier_cmd("serve", "--db", str(garbage)), cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "CLASSIFIER_TOKEN": "t"},
    )  # fmt: skip
    assert corrupted.returncode == 5 and corrupted.stderr.count("\n") == 1 and "garbage.db" in corrupted.stderr


def test_a_locked_database_answers_503_with_the_reason(tmp_path):
    import sqlite3

    db = _fill(tmp_path / "queue.db", tmp_path)

    app = create_app(db, TOKEN, KeywordScorer())
    app.state.store.busy_timeout = 0.2  # before any request opens a connection
    with TestClient(app) as client:
        some_id = _pending(client)["items"][0]["id"]
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            response = client.post(f"/api/comments/{some_id}/decision", json={"decision": "approve"}, headers=AUTH)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503 and "locked" in response.json()["detail"]
        assert client.post(f"/api/comments/{some_id}/decision", json={"decision": "approve"}, headers=AUTH).status_code == 200
