"""The queue store and the queue logic: migrations, idempotent ingest, decision log, settings, export, errors."""

from __future__ import annotations

import csv
import io
import multiprocessing
import sqlite3
import subprocess

import pytest

from classifier.errors import EXIT_STORE, StoreError
from classifier.queue import EXPORT_COLUMNS, export_rows, ingest, priority
from classifier.store import AUTO, MIGRATIONS, NAMES, Claimed, Settings, SettingsError, SQLiteStore, UnknownComment, open_store
from tests.conftest import SEEDS
from tests.queue_support import JSONL_COMMENTS, ROOT, KeywordScorer, classifier_cmd, raw_execute, write_jsonl

SEED_COMMENTS = 7


@pytest.fixture
def jsonl(tmp_path):
    return write_jsonl(tmp_path / "comments.jsonl", JSONL_COMMENTS)


@pytest.fixture
def store(queue_db):
    """The queue on each store in turn: SQLite, then PostgreSQL."""
    store = open_store(queue_db, create=True)
    yield store
    store.close()


def _ingest(store, *paths, **kwargs):
    errors: list[str] = []
    report = ingest(store, [str(p) for p in paths], KeywordScorer(), on_error=errors.append, **kwargs)
    assert not errors
    return report


# ---------------------------------------------------------------------------- schema


def test_a_new_store_records_every_named_migration_once(queue_db):
    store = open_store(queue_db, create=True)
    assert store.applied_migrations() == list(NAMES) and NAMES[0] == "m001_initial"
    store.close()
    reopened = open_store(queue_db)  # already migrated: nothing re-applied, nothing lost
    assert reopened.applied_migrations() == list(NAMES)
    reopened.close()


def test_an_empty_postgresql_database_is_refused_unless_creating(postgres_db):
    with pytest.raises(StoreError, match="no queue schema"):
        open_store(postgres_db)
    with pytest.raises(StoreError) as caught:
        open_store(postgres_db.rsplit("/", 1)[0] + "/no_such_database")
    assert caught.value.exit_code == EXIT_STORE and "no_such_database" in str(caught.value)


def test_new_database_is_migrated_in_wal_mode(tmp_path):
    path = tmp_path / "queue.db"
    store = SQLiteStore(path, create=True)
    assert store.schema_version() == len(MIGRATIONS)
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"comments", "decisions", "settings"} <= tables
    reopened = SQLiteStore(path)  # already migrated: nothing re-applied, nothing lost
    assert reopened.schema_version() == len(MIGRATIONS)
    reopened.close()


def test_an_older_database_is_migrated_in_order_keeping_its_data(tmp_path):
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:  # a queue written by schema version 1, before migrations had names
        conn.executescript(MIGRATIONS[0].sqlite)
        conn.execute(
            "INSERT INTO comments (id, text, hostile, shouting, caps_ratio, model, priority, status, ingested_at) "
            "VALUES ('a', 'x', 0.2, 0, 0, 'old@1', 0.4, 'pending', 'now'), ('b', 'y', 0.9, 0, 0, 'old@1', 0.9, 'rejected', 'now')"
        )
        conn.execute("PRAGMA user_version = 1")
    store = SQLiteStore(path)
    assert store.schema_version() == len(MIGRATIONS) > 1 and store.applied_migrations() == list(NAMES)
    assert store.counts() == {"pending": 1, "approved": 0, "rejected": 1}  # counters back-filled by migration 2
    store.decide("a", "approve", by="x")
    assert store.counts() == {"pending": 0, "approved": 1, "rejected": 1} and store.models() == {"old@1": 2}
    store.close()


def test_an_older_postgresql_queue_is_migrated_keeping_its_data(postgres_db):
    import psycopg

    with psycopg.connect(postgres_db, autocommit=True) as conn:  # a queue written by m001 only
        conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        conn.execute(MIGRATIONS[0].postgres)
        conn.execute("INSERT INTO schema_migrations VALUES ('m001_initial', 'then')")
        conn.execute(
            "INSERT INTO comments (id, text, hostile, shouting, caps_ratio, model, priority, status, ingested_at) "
            "VALUES ('a', 'x', 0.2, 0, 0, 'old@1', 0.4, 'pending', 'now'), ('b', 'y', 0.9, 0, 0, 'old@1', 0.9, 'rejected', 'now')"
        )
    store = open_store(postgres_db)
    assert store.applied_migrations() == list(NAMES)
    assert store.counts() == {"pending": 1, "approved": 0, "rejected": 1}
    store.decide("a", "approve", by="x")
    assert store.counts() == {"pending": 0, "approved": 1, "rejected": 1} and store.models() == {"old@1": 2}
    store.close()
    raw_execute(postgres_db, "INSERT INTO schema_migrations VALUES ('m999_from_the_future', 'later')")
    with pytest.raises(StoreError, match="newer"):
        open_store(postgres_db)


def test_newer_schema_missing_file_and_garbage_are_store_errors(tmp_path):
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(newer)
    with pytest.raises(StoreError, match="no queue database"):
        SQLiteStore(tmp_path / "missing.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(garbage)
    assert caught.value.exit_code == EXIT_STORE


def test_cli_reports_a_corrupted_database_in_one_line(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00\xffnot sqlite" * 400)
    proc = subprocess.run(
        classifier_cmd("queue", "list", "--db", str(garbage)), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == EXIT_STORE
    assert proc.stderr.startswith("classifier: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_a_locked_database_gives_a_store_error(tmp_path):
    path = tmp_path / "queue.db"
    store = SQLiteStore(path, create=True, busy_timeout=0.2)
    _ingest(store, SEEDS)
    comment_id = store.list_comments("pending")[0]["id"]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            store.decide(comment_id, "approve", by="test")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.decide(comment_id, "approve", by="test")["status"] == "approved"
    store.close()


# ---------------------------------------------------------------------------- ingest


def test_ingest_is_idempotent_by_comment_id(store, jsonl):
    first = _ingest(store, SEEDS, jsonl)
    assert (first.comments, first.added) == (SEED_COMMENTS + 1, SEED_COMMENTS + 1)
    second = _ingest(store, SEEDS, jsonl)
    assert (second.comments, second.added, second.already) == (SEED_COMMENTS + 1, 0, SEED_COMMENTS + 1)
    assert store.counts() == {"pending": SEED_COMMENTS + 1, "approved": 0, "rejected": 0}
    authors = {c["author"] for c in store.list_comments("pending")}
    assert {"FAKHOURI", "LA LIBRE EXPRESSION", "Lectrice75"} <= authors


def test_ingest_keeps_scores_and_orders_pending_by_priority(store, tmp_path):
    texts = ["Bonne journée à tous", "Quel crétin ce ministre", "Espèce d'idiot", "Article d'ordure"]
    _ingest(store, write_jsonl(tmp_path / "c.jsonl", [{"text": t, "author": f"a{i}"} for i, t in enumerate(texts)]))
    pending = store.list_comments("pending")
    assert [c["text"] for c in pending] == ["Espèce d'idiot", "Article d'ordure", "Quel crétin ce ministre", "Bonne journée à tous"]
    assert [c["priority"] for c in pending] == sorted((c["priority"] for c in pending), reverse=True)
    idiot = pending[0]
    assert idiot["hostile"] > 0.9 and idiot["reasons"] == ["idiot"] and idiot["model"] == KeywordScorer.model_id
    assert idiot["sentiment"] == "negative" and idiot["shouting"] is False


def test_priority_puts_likely_hostile_and_uncertain_first():
    assert priority(0.5) > priority(0.9) > priority(0.3) > priority(0.05)
    assert priority(0.95) > priority(0.6)
    assert priority(0.01, held=True) > priority(0.5)


def test_a_source_given_twice_in_one_run_is_queued_once(store, jsonl):
    report = _ingest(store, jsonl, jsonl)
    assert (report.comments, report.added) == (2, 1) and store.counts()["pending"] == 1


def _ingest_in_process(db: str, paths: list[str]) -> int:
    store = open_store(db)
    try:
        return ingest(store, paths, KeywordScorer(), batch=50).added
    finally:
        store.close()


def test_two_processes_ingesting_at_once_lose_and_duplicate_nothing(tmp_path, queue_db):
    db = queue_db
    open_store(db, create=True).close()
    rows = [{"text": f"Commentaire numéro {i}", "author": f"lecteur{i % 7}"} for i in range(1200)]
    a = write_jsonl(tmp_path / "a.jsonl", rows[:800])
    b = write_jsonl(tmp_path / "b.jsonl", rows[400:])  # 400 comments in both sources
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        added = pool.starmap(_ingest_in_process, [(str(db), [str(a), str(b)]), (str(db), [str(b), str(a)])])
    store = open_store(db)
    queued = store.list_comments("pending", limit=5000)
    ids = [c["id"] for c in queued]
    assert sum(added) == len(ids) == len(set(ids)) == 800 + 800  # ids include the page: each file has 800
    assert {c["text"] for c in queued} == {r["text"] for r in rows}
    store.close()


# ---------------------------------------------------------------------------- decisions


def test_decisions_are_logged_append_only_and_undo_returns_to_pending(store, queue_db, jsonl):
    _ingest(store, jsonl)
    comment_id = store.list_comments("pending")[0]["id"]
    assert store.decide(comment_id, "approve", by="alice", note="ok")["status"] == "approved"
    assert store.decide(comment_id, "undo", by="alice")["status"] == "pending"
    rejected = store.decide(comment_id, "reject", by="bob", note="insulte")
    assert (rejected["status"], rejected["decided_by"], rejected["note"]) == ("rejected", "bob", "insulte")
    log = store.history(comment_id)
    assert [(e["decision"], e["decided_by"]) for e in log] == [("approve", "alice"), ("undo", "alice"), ("reject", "bob")]
    assert all(e["model"] == KeywordScorer.model_id and e["decided_at"] for e in log)
    assert store.decision_counts() == {"approve": 1, "reject": 1, "undo": 1, "auto": 0, "total": 3}
    for statement in ("UPDATE decisions SET decision = 'approve'", "DELETE FROM decisions"):
        with pytest.raises(Exception, match="append-only"):  # the database's own trigger refuses, on both stores
            raw_execute(queue_db, statement)
    assert len(store.history(comment_id)) == 3


def test_a_comment_can_be_named_by_its_source_id_when_unambiguous(store, tmp_path, jsonl):
    _ingest(store, jsonl)
    source_id = JSONL_COMMENTS[0]["id"]
    decided = store.decide(source_id, "reject", by="alice")
    assert decided["source_id"] == source_id and decided["id"] != source_id and decided["status"] == "rejected"
    assert [e["comment_id"] for e in store.history(source_id)] == [decided["id"]]
    _ingest(store, write_jsonl(tmp_path / "other.jsonl", [{**JSONL_COMMENTS[0], "text": "Autre texte"}]))
    with pytest.raises(UnknownComment):  # two sources use that id now: only queue ids name a comment
        store.get(source_id)


def test_bad_decisions_are_refused(store, jsonl):
    _ingest(store, jsonl)
    comment_id = store.list_comments("pending")[0]["id"]
    with pytest.raises(UnknownComment):
        store.decide("no-such-id", "approve", by="x")
    with pytest.raises(ValueError, match="nothing to undo"):
        store.decide(comment_id, "undo", by="x")
    with pytest.raises(ValueError, match="unknown decision"):
        store.decide(comment_id, "maybe", by="x")
    assert store.history(comment_id) == []


# ---------------------------------------------------------------------------- settings


def test_settings_are_off_by_default_and_persist(store, queue_db):
    assert store.settings() == Settings()
    chosen = Settings(auto_approve_below=0.1, auto_reject_above=0.97, banned=("connard",), suspect=("traître",))
    store.save_settings(chosen)
    reopened = open_store(queue_db)
    assert reopened.settings() == chosen
    reopened.close()
    with pytest.raises(SettingsError):  # a usage error (exit code 2), not a database error
        Settings(auto_approve_below=0.9, auto_reject_above=0.5)


def test_rules_decide_on_arrival_only_when_configured(store, tmp_path):
    texts = ["Quel CONNARD ce type", "Vous êtes un traitre à la nation", "Espèce d'idiot", "Bonne journée", "Quel crétin"]
    source = write_jsonl(tmp_path / "c.jsonl", [{"text": t} for t in texts])
    store.save_settings(Settings(auto_approve_below=0.2, auto_reject_above=0.9, banned=("connard",), suspect=("traître",)))
    report = _ingest(store, source)
    assert (report.added, report.approved, report.rejected) == (5, 1, 2)
    status = {c["text"]: c for s in ("pending", "approved", "rejected") for c in store.list_comments(s)}
    assert status["Quel CONNARD ce type"]["status"] == "rejected"  # banned: case- and accent-insensitive
    assert "banned word: connard" in status["Quel CONNARD ce type"]["note"]
    assert status["Espèce d'idiot"]["status"] == "rejected"  # hostile 0.95 > 0.9
    held = status["Vous êtes un traitre à la nation"]
    assert held["status"] == "pending" and held["suspect"] == ["traître"] and held["priority"] > 1
    assert status["Bonne journée"]["status"] == "approved"
    assert status["Quel crétin"]["status"] == "pending"
    assert all(c["decided_by"] == AUTO for c in status.values() if c["status"] != "pending")
    assert store.decision_counts()["auto"] == 3
    assert list(export_rows(store)) == []  # rules are not training labels


# ---------------------------------------------------------------------------- export


def test_export_holds_moderator_decisions_as_labelled_rows(store, tmp_path, jsonl):
    _ingest(store, SEEDS, jsonl)
    first, second, third = store.list_comments("pending")[:3]
    store.decide(first["id"], "reject", by="alice", note="hors charte")
    store.decide(second["id"], "approve", by="bob")
    store.decide(third["id"], "approve", by="bob")
    store.decide(third["id"], "undo", by="bob")
    rows = list(export_rows(store))
    assert [(r["id"], r["label"], r["decision"], r["decided_by"]) for r in rows] == [
        (first["id"], 1, "reject", "alice"),
        (second["id"], 0, "approve", "bob"),
    ]
    assert rows[0]["text"] == first["text"] and rows[0]["note"] == "hors charte" and rows[0]["model"] == first["model"]
    assert set(rows[0]) == set(EXPORT_COLUMNS)


def test_cli_settings_and_export(queue_db, jsonl):
    db = queue_db
    proc = subprocess.run(
        classifier_cmd("queue", "settings", "--db", str(db), "--auto-reject-above", "0.95", "--ban", "Connard", "--suspect", "traître"),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    store = open_store(db)
    assert store.settings() == Settings(auto_reject_above=0.95, banned=("connard",), suspect=("traître",))
    bad = subprocess.run(
        classifier_cmd("queue", "settings", "--db", str(db), "--auto-approve-below", "lots"),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    _ingest(store, jsonl)
    store.decide(store.list_comments("pending")[0]["id"], "reject", by="alice")
    out = subprocess.run(
        classifier_cmd("queue", "export", "--db", str(db), "--format", "csv"), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [(r["text"], r["label"], r["decided_by"]) for r in rows] == [(JSONL_COMMENTS[0]["text"], "1", "alice")]
    store.close()


# ---------------------------------------------------------------------------- claims


def _many(store, tmp_path, n):
    rows = [{"text": f"Commentaire {i} " + ("idiot" if i % 4 == 0 else "merci"), "author": f"lecteur{i % 5}"} for i in range(n)]
    _ingest(store, write_jsonl(tmp_path / "many.jsonl", rows))
    return {c["id"] for c in store.list_comments("pending", limit=n)}


def test_a_claim_reserves_the_highest_priority_comments_for_one_moderator(store, tmp_path):
    _many(store, tmp_path, 20)
    order = [c["id"] for c in store.list_comments("pending", limit=20)]
    alice = store.claim("alice", limit=5)
    assert [c["id"] for c in alice] == order[:5] and {c["claimed_by"] for c in alice} == {"alice"}
    bob = store.claim("bob", limit=5)
    assert [c["id"] for c in bob] == order[5:10]
    assert [c["id"] for c in store.claim("alice", limit=5)] == order[:5]  # renewed, not new ones
    listed = {c["id"]: c["claimed_by"] for c in store.list_comments("pending", limit=20)}
    assert listed[order[0]] == "alice" and listed[order[5]] == "bob" and listed[order[10]] is None
    with pytest.raises(Claimed, match="being reviewed by alice"):
        store.decide(order[0], "reject", by="bob")
    decided = store.decide(order[0], "reject", by="alice")
    assert decided["status"] == "rejected" and decided["claimed_by"] is None
    assert [c["id"] for c in store.claim("alice", limit=5)] == order[1:5] + [order[10]]  # topped up to 5
    store.claim("carol", limit=3, seconds=-1)  # a claim that has already expired holds nothing
    assert [c["id"] for c in store.claim("dave", limit=3)] == order[11:14]


def _claim_and_decide(store, by: str) -> list[str]:
    """Claim batches and decide them until the queue is empty; returns what ``by`` was handed."""
    handed: list[str] = []
    while batch := store.claim(by, limit=3):
        for comment in batch:
            handed.append(comment["id"])
            store.decide(comment["id"], "approve", by=by)
    return handed


def test_moderators_claiming_at_once_in_threads_never_get_the_same_comment(store, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    ids = _many(store, tmp_path, 120)
    with ThreadPoolExecutor(6) as pool:
        handed = list(pool.map(lambda k: _claim_and_decide(store, f"mod{k}"), range(6)))
    every = [i for part in handed for i in part]
    assert len(every) == len(set(every)) == len(ids) and set(every) == ids
    assert sum(1 for part in handed if part) >= 2  # the work really was shared
    assert store.counts() == {"pending": 0, "approved": len(ids), "rejected": 0}
    assert store.decision_counts()["approve"] == len(ids)


def _claim_in_process(db: str, by: str) -> list[str]:
    store = open_store(db)
    try:
        return _claim_and_decide(store, by)
    finally:
        store.close()


def test_moderators_claiming_at_once_in_processes_never_get_the_same_comment(store, queue_db, tmp_path):
    ids = _many(store, tmp_path, 90)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        handed = pool.starmap(_claim_in_process, [(queue_db, f"mod{k}") for k in range(3)])
    every = [i for part in handed for i in part]
    assert len(every) == len(set(every)) == len(ids) and set(every) == ids
    assert store.counts()["approved"] == len(ids)


def test_a_missing_postgresql_fails_the_suite_in_ci_and_skips_elsewhere(monkeypatch):
    from tests.conftest import _unavailable

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        _unavailable("not installed")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        _unavailable("not installed")
