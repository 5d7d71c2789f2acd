"""Moderation-queue HTTP throughput and latency on loopback, with a large queue.

Fills a fresh queue database with synthetic scored comments (100,000 by default,
written through the store, no model needed), starts ``classifier serve`` on it in a
subprocess, and drives it from a pool of keep-alive ``http.client`` connections,
each thread running a fixed number of requests. Measured in the same run:

* ``GET /static/style.css`` -- the baseline: a static file, no token check, no database;
* ``GET /api/stats``        -- token check plus three small aggregate queries;
* ``GET /api/comments``     -- the moderator's queue: 50 pending comments by priority, plus counts;
* ``POST /api/comments/{id}/decision`` -- a durable write (fsync'd before the answer), distinct ids.

Printed: requests/s, p50 and p99 latency, and their ratios against the baseline, then
the server's peak RSS before and after the load. The server runs on core 0 and the
clients on core 1 (``--no-pin`` to let them share).

    python bench/bench_queue.py                       # 100,000 comments, 2,000 requests per endpoint
    python bench/bench_queue.py --comments 20000 --requests 500 --threads 4
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from classifier.queue import priority
from classifier.store import Entry, SQLiteStore

TOKEN = "bench-token"
WORDS = "le la les un une des gouvernement article merci vraiment pas du tout d'accord avec ce ministre".split()


def fill(db: Path, n: int) -> list[str]:
    """``n`` synthetic scored comments, enqueued in batches of 5,000; returns their ids."""
    store = SQLiteStore(db, create=True)
    ids = []
    for start in range(0, n, 5000):
        batch = []
        for i in range(start, min(start + 5000, n)):
            hostile = ((i * 7919) % 1000) / 1000
            text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(12 + i % 30))
            batch.append(
                Entry(id=f"b{i:07d}", text=text, hostile=hostile, shouting=i % 50 == 0, caps_ratio=0.1, model="synthetic@0",
                      priority=priority(hostile), author=f"lecteur{i % 997}", published="2024-05-01T12:00:00+02:00",
                      reasons=("ministre",) if hostile > 0.5 else (), sentiment="neutral")
            )  # fmt: skip
        store.enqueue(batch)
        ids += [e.id for e in batch]
    store.close()
    return ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(db: Path, port: int, token_file: Path, pin: bool, model: str | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "classifier", "serve", "--db", str(db), "--port", str(port), "--token-file", str(token_file)]
    cmd += ["--model", model] if model else []
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if pin else None,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/static/style.css")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start in 120 s")


def run(port: int, threads: int, requests: int, make_request) -> dict:
    """``requests`` requests spread over ``threads`` keep-alive connections; latencies in ms."""

    def worker(k: int) -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        for n in range(k, requests, threads):
            method, path, body = make_request(n)
            headers = {"Authorization": f"Bearer {TOKEN}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise SystemExit(f"{method} {path}: HTTP {response.status}")
        conn.close()
        return latencies

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = [x for part in pool.map(worker, range(threads)) for x in part]
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=100_000, help="queued comments (default 100,000)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint (default 2,000)")
    parser.add_argument("--threads", type=int, default=8, help="client connections (default 8)")
    parser.add_argument("--model", help="hostile model directory for the server (default: the shipped model)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server to core 0 and the clients to core 1")
    args = parser.parse_args()
    pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2

    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        tmp = Path(tmp)
        db = tmp / "queue.db"
        started = time.perf_counter()
        ids = fill(db, args.comments)
        fill_s = time.perf_counter() - started
        print(f"queue: {len(ids):,} pending comments written in {fill_s:.1f} s ({len(ids) / fill_s:,.0f} rows/s), "
              f"database {db.stat().st_size / 2**20:.1f} MiB", file=sys.stderr)  # fmt: skip
        token_file = tmp / "token"
        token_file.write_text(TOKEN)
        port = free_port()
        server = start_server(db, port, token_file, pin, args.model)
        if pin:
            os.sched_setaffinity(0, {1})
        try:
            rss_idle = peak_rss_mb(server.pid)
            decided = iter(ids[::-1])  # lowest priority first: the GET /api/comments page stays the same
            cases = [
                ("GET static file (baseline)", lambda n: ("GET", "/static/style.css", None)),
                ("GET /api/stats", lambda n: ("GET", "/api/stats", None)),
                ("GET /api/comments?status=pending&limit=50", lambda n: ("GET", "/api/comments?status=pending&limit=50", None)),
                ("POST /api/comments/{id}/decision",
                 lambda n: ("POST", f"/api/comments/{next(decided)}/decision",
                            json.dumps({"decision": "approve" if n % 2 else "reject", "note": "bench"}))),
            ]  # fmt: skip
            results = []
            for name, make in cases:
                run(port, args.threads, min(200, args.requests), make)  # warm-up
                results.append((name, run(port, args.threads, args.requests, make)))
            rss_loaded = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

    base = results[0][1]
    print(f"\n{args.comments:,} queued comments; {args.requests:,} requests per endpoint over {args.threads} "
          f"keep-alive connections; server {'on core 0, clients on core 1' if pin else 'unpinned'}\n")  # fmt: skip
    header = f"{'endpoint':44} {'req/s':>8} {'x base':>7} {'p50 ms':>8} {'p99 ms':>8} {'p99 x base':>10}"
    print(header)
    print("-" * len(header))
    for name, r in results:
        print(f"{name:44} {r['rps']:8.0f} {r['rps'] / base['rps']:7.2f} {r['p50']:8.2f} {r['p99']:8.2f} {r['p99'] / base['p99']:10.2f}")
    print(f"\nserver peak RSS: {rss_idle:.0f} MiB after start (baseline), {rss_loaded:.0f} MiB after the load "
          f"(x{rss_loaded / rss_idle:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
