"""Helpers shared by the moderation-queue tests: a deterministic scorer and a real server in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from classifier.schema import Result
from classifier.text import caps_ratio, is_shouting

ROOT = Path(__file__).resolve().parents[1]

#: Comments for the JSONL source that the queue tests ingest beside the seeds.
JSONL_COMMENTS = (
    {"id": "c1", "author": "Lectrice75", "published": "2024-03-01T10:00:00+01:00", "text": "Merci pour cet article très clair."},
)
XSS_TEXT = '<img src=x onerror="alert(1)"> et <script>alert(2)</script> sale idiot'


class KeywordScorer:
    """A deterministic stand-in for the model: hostility from a few words, so store and API tests know the order.

    Priorities: "idiot" 0.95, "ordure" 0.90 (uncertain), "crétin" 0.80, none of them 0.10.
    """

    model_id = "keywords@test"
    WORDS = {"idiot": 0.9, "crétin": 0.75, "ordure": 0.4}

    def score(self, texts: Sequence[str]) -> list[Result]:
        results = []
        for text in texts:
            low = text.lower()
            found = [w for w in self.WORDS if w in low]
            hostile = min(0.05 + sum(self.WORDS[w] for w in found), 0.99)
            results.append(
                Result(
                    text=text,
                    hostile=hostile,
                    shouting=is_shouting(text),
                    caps_ratio=caps_ratio(text),
                    decision="reject" if hostile >= 0.9 else "review" if hostile >= 0.5 else "approve",
                    reasons=tuple(found),
                    model=self.model_id,
                    sentiment="negative" if found else "neutral",
                )
            )
        return results


def write_jsonl(path: Path, rows: Sequence[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def classifier_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "classifier", *args]


@contextmanager
def running_servers(
    db: str | Path, token: str, tmp_path: Path, count: int = 1, timeout: float = 90.0
) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """``count`` ``classifier serve`` processes on free loopback ports, started together (each loads the model);
    yields [(base URL, process)] once all answer, and stops them at the end."""
    started: list[tuple[str, subprocess.Popen, object]] = []
    try:
        for _ in range(count):
            port = free_port()
            token_file = tmp_path / f"token-{port}"
            token_file.write_text(token + "\n", encoding="utf-8")
            log = open(tmp_path / f"serve-{port}.log", "w+b")
            proc = subprocess.Popen(
                classifier_cmd("serve", "--db", str(db), "--port", str(port), "--token-file", str(token_file)),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "CLASSIFIER_TOKEN": ""},
            )
            started.append((f"http://127.0.0.1:{port}", proc, log))
        deadline = time.monotonic() + timeout
        for base, proc, log in started:
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"server exited with {proc.returncode}: {log.read().decode(errors='replace')}")
                try:
                    if httpx.get(base + "/api/stats", headers={"Authorization": f"Bearer {token}"}, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("server did not answer in time")
                time.sleep(0.2)
        yield [(base, proc) for base, proc, _ in started]
    finally:
        for _, proc, log in started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()


@contextmanager
def serving_in_thread(app, timeout: float = 30.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in a thread; yields the base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def raw_execute(db: str, statement: str) -> None:
    """Run one SQL statement on the queue database behind the store's back (SQLite file or PostgreSQL URL)."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(statement)
    else:
        import sqlite3

        with sqlite3.connect(db) as conn:
            conn.execute(statement)
