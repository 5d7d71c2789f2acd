"""Moderation-queue HTTP throughput and latency on loopback: PostgreSQL against SQLite, 1 and 2 servers.

Fills a fresh queue (100,000 synthetic scored comments by default, written through the
store, no model needed) in a SQLite file and in a PostgreSQL database (a throwaway
cluster started here, as the tests do, unless ``--postgres URL`` names a server),
starts ``classifier serve`` on it (1, then 2 processes sharing the database) and drives
it from a pool of keep-alive ``http.client`` connections, spread over the servers,
each thread running a fixed share of the requests. Measured in each run:

* ``GET /static/style.css`` -- a static file: no token check, no database (the server's floor);
* ``list``   -- ``GET /api/comments?status=pending&limit=50``: the moderator's page, with the
  authors' histories, parents and counts;
* ``claim``  -- ``POST /api/claim?limit=5``, each request by a new moderator account, so each one
  reserves 5 fresh comments (``FOR UPDATE SKIP LOCKED`` on PostgreSQL);
* ``decide`` -- ``POST /api/comments/{id}/decision``, a durable write, distinct ids.

Printed: requests/s, p50 and p99 latency per store, endpoint and server count, with the
ratios PostgreSQL / SQLite and 2 servers / 1 server of the same run, and the count of
non-200 answers (a SQLite writer that waited past its busy timeout answers 503). Nothing is pinned:
servers, PostgreSQL and clients share the machine's cores.

    python bench/bench_queue.py                                 # 100,000 comments, 2,000 requests per endpoint
    python bench/bench_queue.py --comments 20000 --requests 500 --stores sqlite
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier.accounts import add_user  # noqa: E402
from classifier.queue import priority  # noqa: E402
from classifier.store import Entry, open_store  # noqa: E402
from tests.postgres_cluster import fresh_database, throwaway_cluster  # noqa: E402
from tests.queue_support import free_port  # noqa: E402

TOKEN = "bench-admin-token"
WORDS = "le la les un une des gouvernement article merci vraiment pas du tout d'accord avec ce ministre".split()
ENDPOINTS = ("static", "list", "claim", "decide")


def fill(db: str, n: int, moderators: int) -> tuple[list[str], list[str]]:
    """``n`` synthetic scored comments (replies every 10th) and ``moderators`` accounts.

    Returns the ids, lowest review priority first, and the accounts' tokens.
    """
    store = open_store(db, create=True)
    ids: list[tuple[float, str]] = []
    for start in range(0, n, 5000):
        batch = []
        for i in range(start, min(start + 5000, n)):
            hostile = ((i * 7919) % 1000) / 1000
            text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(12 + i % 30))
            batch.append(
                Entry(id=f"b{i:07d}", text=text, hostile=hostile, shouting=i % 50 == 0, caps_ratio=0.1, model="synthetic@0",
                      priority=priority(hostile), author=f"lecteur{i % 997}", published="2024-05-01T12:00:00+02:00",
                      page=f"https://journal.test/article-{i // 200}", reply_to=f"b{i - 1:07d}" if i % 10 == 9 else None,
                      reasons=("ministre",) if hostile > 0.5 else (), sentiment="neutral")
            )  # fmt: skip
        store.enqueue(batch)
        ids += [(e.priority, e.id) for e in batch]
    tokens = [add_user(store, f"moderateur{k}", "moderator") for k in range(moderators)]
    store.optimize()  # as `classifier queue ingest` does after adding comments
    store.close()
    return [i for _, i in sorted(ids)], tokens


def start_server(db: str, port: int, token_file: Path, model: str | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "classifier", "serve", "--db", db, "--port", str(port), "--token-file", str(token_file)]
    cmd += ["--model", model] if model else []
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


def run(ports: list[int], threads: int, requests: int, make_request) -> dict:
    """``requests`` requests over ``threads`` keep-alive connections, thread k on server k mod len(ports)."""

    errors: list[int] = []

    def worker(k: int) -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", ports[k % len(ports)], timeout=60)
        latencies = []
        for n in range(k, requests, threads):
            method, path, body, token = make_request(n)
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status != 200:  # counted (e.g. 503: SQLite locked past its busy timeout), not fatal
                errors.append(response.status)
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
        "errors": len(errors),
    }


def measure(db: str, servers: int, args, ids: list[str], tokens: list[str], tmp: Path) -> dict[str, dict]:
    """One store, ``servers`` server processes: every endpoint, after a warm-up of each."""
    token_file = tmp / "token"
    token_file.write_text(TOKEN)
    ports = []
    with ExitStack() as stack:
        for _ in range(servers):
            port = free_port()
            proc = start_server(db, port, token_file, args.model)
            stack.callback(lambda p=proc: (p.terminate(), p.wait(timeout=30)))
            ports.append(port)
        fresh = iter(tokens)
        decided = iter(ids)  # lowest priority first: the listed page stays the same, and no claim holds them
        cases = {
            "static": lambda n: ("GET", "/static/style.css", None, TOKEN),
            "list": lambda n: ("GET", "/api/comments?status=pending&limit=50", None, TOKEN),
            "claim": lambda n: ("POST", "/api/claim?limit=5", None, next(fresh)),
            "decide": lambda n: ("POST", f"/api/comments/{next(decided)}/decision",
                                 json.dumps({"decision": "approve" if n % 2 else "reject", "note": "bench"}), TOKEN),
        }  # fmt: skip
        results = {}
        for name in ENDPOINTS:
            run(ports, args.threads, args.warmup, cases[name])
            results[name] = run(ports, args.threads, args.requests, cases[name])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=100_000, help="queued comments (default 100,000)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint and run (default 2,000)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per endpoint and run (default 200)")
    parser.add_argument("--threads", type=int, default=8, help="client connections (default 8)")
    parser.add_argument("--stores", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--postgres", help="base URL of a PostgreSQL server to use (default: start a throwaway cluster)")
    parser.add_argument("--model", help="hostile model directory for the servers (default: the shipped model)")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    per_run = args.requests + args.warmup  # one new account per claim request
    table: dict[tuple[str, int], dict[str, dict]] = {}

    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp, ExitStack() as stack:
        tmp = Path(tmp)
        server = None
        if "postgresql" in stores:
            server = args.postgres or stack.enter_context(throwaway_cluster("max_connections=200", "shared_buffers=256MB"))
        for store in stores:
            for servers in (1, 2):
                if store == "sqlite":
                    db = str(tmp / f"queue-{servers}.db")
                else:
                    db = stack.enter_context(fresh_database(server))
                started = time.perf_counter()
                ids, tokens = fill(db, args.comments, per_run)
                print(f"{store}, {servers} server(s): {len(ids):,} comments and {len(tokens):,} accounts written in "
                      f"{time.perf_counter() - started:.1f} s", file=sys.stderr)  # fmt: skip
                table[(store, servers)] = measure(db, servers, args, ids, tokens, tmp)

    print(f"\n{args.comments:,} queued comments; {args.requests:,} requests per endpoint and run over {args.threads} "
          "keep-alive connections (spread over the servers); nothing pinned, 2 cores shared by servers, database and clients\n")  # fmt: skip
    header = f"{'store':11} {'servers':>7} {'endpoint':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s x sqlite':>14} {'p99 x sqlite':>12} {'req/s x 1 server':>16} {'errors':>6}"
    print(header)
    print("-" * len(header))
    for (store, servers), results in table.items():
        for name in ENDPOINTS:
            r = results[name]
            base = table.get(("sqlite", servers), {}).get(name)
            one = table[(store, 1)][name]
            vs_sqlite = f"{r['rps'] / base['rps']:14.2f} {r['p99'] / base['p99']:12.2f}" if base else f"{'-':>14} {'-':>12}"
            print(f"{store:11} {servers:7d} {name:8} {r['rps']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} {vs_sqlite} {r['rps'] / one['rps']:16.2f} {r['errors']:6d}")


if __name__ == "__main__":
    main()
