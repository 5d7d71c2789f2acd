"""Durability: every decision the server acknowledged survives a ``kill -9`` of ``classifier serve``."""

from __future__ import annotations

import os
import signal
import threading

import httpx

from classifier.queue import priority
from classifier.store import Entry, SQLiteStore
from tests.queue_support import running_server

TOKEN = "durability-token"
COMMENTS = 3000
CLIENTS = 4
KILL_AFTER = 150


def _fill(db, n):
    store = SQLiteStore(db, create=True)
    entries = [
        Entry(id=f"c{i:05d}", text=f"Commentaire {i}", hostile=(i % 100) / 100, shouting=False, caps_ratio=0.0,
              model="synthetic@0", priority=priority((i % 100) / 100), author=f"lecteur{i % 13}")
        for i in range(n)
    ]  # fmt: skip
    store.enqueue(entries)
    store.close()
    return [e.id for e in entries]


def test_acknowledged_decisions_survive_kill_9(tmp_path):
    db = tmp_path / "queue.db"
    ids = _fill(db, COMMENTS)
    acked: list[tuple[str, str]] = []
    lock = threading.Lock()
    enough = threading.Event()

    def stream(base: str, mine: list[str]) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
            for n, comment_id in enumerate(mine):
                decision = "reject" if n % 3 == 0 else "approve"
                try:
                    response = client.post(f"/api/comments/{comment_id}/decision", json={"decision": decision, "note": "stream"})
                except httpx.TransportError:
                    return  # the server is gone: this request was never acknowledged
                assert response.status_code == 200
                with lock:
                    acked.append((comment_id, decision))
                    if len(acked) >= KILL_AFTER:
                        enough.set()

    with running_server(db, TOKEN, tmp_path) as (base, proc):
        workers = [threading.Thread(target=stream, args=(base, ids[k::CLIENTS])) for k in range(CLIENTS)]
        for worker in workers:
            worker.start()
        assert enough.wait(120), "the server acknowledged too few decisions"
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: clients are still sending
        proc.wait(timeout=10)
        for worker in workers:
            worker.join(30)
        assert proc.returncode == -signal.SIGKILL

    assert KILL_AFTER <= len(acked) < COMMENTS  # killed during the stream, not after it
    store = SQLiteStore(db)
    expected = {"approve": "approved", "reject": "rejected"}
    for comment_id, decision in acked:
        comment = store.get(comment_id)
        assert comment["status"] == expected[decision], comment_id
        assert [e["decision"] for e in store.history(comment_id)] == [decision]
    counts = store.counts()
    decided = counts["approved"] + counts["rejected"]
    assert len(acked) <= decided <= len(acked) + CLIENTS  # at most the in-flight requests on top
    assert store.decision_counts()["total"] == decided
    store.close()
