"""Perspective-compatible API on loopback: ``comments:analyze`` against ``GET /api/stats`` on the same server.

Starts ``classifier serve`` (shipped models) on a fresh queue database in a subprocess, on
core 0, and drives it from keep-alive ``http.client`` connections on core 1 (``--no-pin`` to
let them share), with 1 and ``--threads`` client threads. Measured in the same run:

* ``GET /api/stats`` -- the baseline: token check and three small aggregate queries;
* ``POST /v1alpha1/comments:analyze`` with Coral Talk's request (``TOXICITY``, ``languages: ["fr"]``)
  on short comments drawn from ``../shared/data`` (seed 0);
* the same with every attribute, no ``languages`` (detected) and ``spanAnnotations: true``.

Printed: requests/s, p50 and p99 latency, and the ratio of each to the baseline's.
Coral Talk gives up after 800 ms: the p99 of a single short comment must stay well below it.

    python bench/bench_perspective.py                  # 1,000 requests per row, 4 threads
    python bench/bench_perspective.py --requests 300 --threads 8
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_queue import TOKEN, free_port, run, start_server  # noqa: E402  (the queue bench's server start and client loop)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SOURCES = ("fr_news_published_20min.csv", "fr_toxic_toxifrench.csv", "fr_hostile_cyberado_fine.csv", "en_news_ucc.csv")


def comments(n: int) -> list[str]:
    """``n`` short comments (at most 200 characters) drawn from ``../shared/data``."""
    texts = []
    for name in SOURCES:
        with open(SHARED_DATA / name, encoding="utf-8", newline="") as fh:
            texts += [row["text"] for row in csv.DictReader(fh) if 3 <= len(row["text"]) <= 200]
    return random.Random(0).choices(texts, k=n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per row")
    parser.add_argument("--threads", type=int, default=4, help="client threads of the concurrent rows")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server to core 0 and the clients to core 1")
    args = parser.parse_args()
    pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    texts = comments(args.requests)
    analyze = f"/v1alpha1/comments:analyze?key={TOKEN}"

    def stats(n: int):
        return "GET", "/api/stats", None, TOKEN

    def coral(n: int):
        body = {"comment": {"text": texts[n % len(texts)]}, "doNotStore": True, "requestedAttributes": {"TOXICITY": {}}, "languages": ["fr"]}
        return "POST", analyze, json.dumps(body), TOKEN

    every = {name: {} for name in ("TOXICITY", "SEVERE_TOXICITY", "INSULT", "THREAT", "IDENTITY_ATTACK", "PROFANITY",
                                   "SHOUTING_EXPERIMENTAL")}  # fmt: skip

    def full(n: int):
        body = {"comment": {"text": texts[n % len(texts)]}, "requestedAttributes": every, "spanAnnotations": True}
        return "POST", analyze, json.dumps(body), TOKEN

    with tempfile.TemporaryDirectory() as tmp:
        token_file = Path(tmp) / "token"
        token_file.write_text(TOKEN, encoding="utf-8")
        port = free_port()
        server = start_server(str(Path(tmp) / "queue.db"), port, token_file, None)
        if pin:
            os.sched_setaffinity(server.pid, {0})
            os.sched_setaffinity(0, {1})
        try:
            run([port], 1, 50, coral)  # warm-up: every model's first call (lookup tables built), caches started
            run([port], 1, 50, full)
            rows = []
            for threads in (1, args.threads):
                base = run([port], threads, args.requests, stats)
                rows.append((f"GET /api/stats, {threads} thread(s)", base, base))
                rows.append((f"analyze (Coral: TOXICITY, fr), {threads} thread(s)", run([port], threads, args.requests, coral), base))
                rows.append((f"analyze (7 attributes, detected, spans), {threads} thread(s)", run([port], threads, args.requests, full), base))
        finally:
            server.terminate()
            server.wait(10)
    print(f"Perspective API benchmark: {args.requests} requests per row, short comments of ../shared/data; "
          f"server {'on core 0, clients on core 1' if pin else 'unpinned'}")  # fmt: skip
    print(f"{'request':<52}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'rps ratio':>10}{'p50 ratio':>10}{'p99 ratio':>10}{'non-200':>8}")
    for name, m, b in rows:
        print(f"{name:<52}{m['rps']:>8.0f}{m['p50']:>8.1f}{m['p99']:>8.1f}"
              f"{m['rps'] / b['rps']:>10.2f}{m['p50'] / b['p50']:>10.2f}{m['p99'] / b['p99']:>10.2f}{m['errors']:>8}")  # fmt: skip


if __name__ == "__main__":
    main()
