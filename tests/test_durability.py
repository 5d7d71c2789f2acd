"""Durability: every decision a server acknowledged survives a ``kill -9`` of ``classifier serve``.

On both stores with one server; on PostgreSQL also with two servers sharing the
database, one of which is killed while the other keeps serving.
"""

from __future__ import annotations

import os
import signal
import threading

import httpx

from classifier.queue import priority
from classifier.store import Entry, open_store
from tests.queue_support import running_servers

TOKEN = "durability-token"
COMMENTS = 1600
CLIENTS = 4
KILL_AFTER = 150


def _fill(db, n):
    store = open_store(db, create=True)
    entries = [
        Entry(id=f"c{i:05d}", text=f"Commentaire {i}", hostile=(i % 100) / 100, shouting=False, caps_ratio=0.0,
              model="synthetic@0", priority=priority((i % 100) / 100), author=f"lecteur{i % 13}")
        for i in range(n)
    ]  # fmt: skip
    store.enqueue(entries)
    store.close()
    return [e.id for e in entries]


def _stream(base: str, mine: list[str], acked: list, lock: threading.Lock, enough: threading.Event) -> None:
    """Decide ``mine`` one by one on ``base``, recording each acknowledged decision, until the server is gone."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        for n, comment_id in enumerate(mine):
            decision = "reject" if n % 3 == 0 else "approve"
            try:
                response = client.post(f"/api/comments/{comment_id}/decision", json={"decision": decision, "note": "stream"})
            except httpx.TransportError:
                return  # the server is gone: this request was never acknowledged
            assert response.status_code == 200, response.text
            with lock:
                acked.append((base, comment_id, decision))
                if len(acked) >= KILL_AFTER:
                    enough.set()


def _kill_one_mid_stream(db, tmp_path, servers: int) -> tuple[list, str]:
    """Stream decisions to ``servers`` servers, ``kill -9`` the first mid-stream; returns the acks and the killed URL."""
    ids = _fill(db, COMMENTS)
    acked: list[tuple[str, str, str]] = []
    lock, enough = threading.Lock(), threading.Event()
    with running_servers(db, TOKEN, tmp_path, servers) as running:
        workers = [
            threading.Thread(target=_stream, args=(running[k % servers][0], ids[k::CLIENTS], acked, lock, enough))
            for k in range(CLIENTS)
        ]
        for worker in workers:
            worker.start()
        assert enough.wait(120), "the servers acknowledged too few decisions"
        victim_url, victim = running[0]
        os.kill(victim.pid, signal.SIGKILL)  # mid-stream: clients are still sending
        victim.wait(timeout=10)
        for worker in workers:
            worker.join(120)
        assert victim.returncode == -signal.SIGKILL
        for url, proc in running[1:]:
            assert proc.poll() is None  # the other server kept serving
    return acked, victim_url


def _assert_all_kept(db, acked) -> None:
    store = open_store(db)
    expected = {"approve": "approved", "reject": "rejected"}
    for _, comment_id, decision in acked:
        comment = store.get(comment_id)
        assert comment["status"] == expected[decision], comment_id
        assert [e["decision"] for e in store.history(comment_id)] == [decision]
    counts = store.counts()
    decided = counts["approved"] + counts["rejected"]
    assert len(acked) <= decided <= len(acked) + CLIENTS  # at most the in-flight requests on top
    assert store.decision_counts()["total"] == decided
    store.close()


def test_acknowledged_decisions_survive_kill_9(tmp_path, queue_db):
    acked, _ = _kill_one_mid_stream(queue_db, tmp_path, servers=1)
    assert KILL_AFTER <= len(acked) < COMMENTS  # killed during the stream, not after it
    _assert_all_kept(queue_db, acked)


def test_killing_one_of_two_servers_on_postgresql_loses_no_acknowledged_decision(tmp_path, postgres_db):
    acked, victim = _kill_one_mid_stream(postgres_db, tmp_path, servers=2)
    by_survivor = [a for a in acked if a[0] != victim]
    assert len(by_survivor) == COMMENTS // 2  # the survivor's clients decided all of theirs
    assert 0 < len(acked) - len(by_survivor) < COMMENTS // 2  # the victim acknowledged some, then died mid-stream
    _assert_all_kept(postgres_db, acked)
