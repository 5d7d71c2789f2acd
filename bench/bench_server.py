"""Server memory under an oversized unauthenticated body, against the same server idle.

Run from the repository::

    .venv/bin/python bench/bench_server.py               # a 500 MB body, declared and chunked
    .venv/bin/python bench/bench_server.py --mb 2000

Starts ``classifier serve`` on a free loopback port (a fresh queue in a temporary
directory), reads the server's resident memory once it answers (idle), then sends
``POST /api/score`` bodies of ``--mb`` megabytes with no token: once with a
``Content-Length`` header, once chunked (no length), each streamed by the client without
holding it in memory. It samples the server's RSS while sending and reads its peak
(``VmHWM``) at the end. The server must answer 413 or 401 without reading the body, so the
ratio peak / idle stays at 1.0 (before the limits, a 500 MB body took it from 0.4 to 1.45 GB).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLASSIFIER = Path(sys.executable).parent / "classifier"
TOKEN = "bench-token-" + os.urandom(12).hex()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read().decode(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/stats", headers={"Authorization": f"Bearer {TOKEN}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not answer in time")


def send_body(port: int, megabytes: int, chunked: bool) -> str:
    """POST ``megabytes`` MB without a token, streamed; the server's status (or how the connection ended)."""
    block = b"x" * (1 << 20)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("POST", "/api/score")
        conn.putheader("Content-Type", "application/json")
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        else:
            conn.putheader("Content-Length", str(megabytes << 20))
        conn.endheaders()
        sent = 0
        for _ in range(megabytes):
            data = block if not chunked else b"%x\r\n%s\r\n" % (len(block), block)
            conn.send(data)
            sent += 1
        if chunked:
            conn.send(b"0\r\n\r\n")
        status = conn.getresponse().status
        return f"{status} after sending {sent} MB"
    except (BrokenPipeError, ConnectionResetError) as exc:
        try:
            status = conn.getresponse().status
        except Exception:  # the server closed before answering readably
            status = "closed"
        return f"{status} ({type(exc).__name__} after {sent} MB: the server stopped reading)"
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, "CLASSIFIER_TOKEN": TOKEN}
        proc = subprocess.Popen(
            [str(CLASSIFIER), "serve", "--db", str(Path(tmp) / "queue.db"), "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        try:
            wait_ready(port, proc)
            time.sleep(1.0)
            idle = memory_kib(proc.pid, "VmRSS")
            samples = [idle]
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    samples.append(memory_kib(proc.pid, "VmRSS"))
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            outcomes = {kind: send_body(port, args.mb, kind == "chunked") for kind in ("content-length", "chunked")}
            time.sleep(0.5)
            done.set()
            sampler.join()
            peak = max(memory_kib(proc.pid, "VmHWM"), max(samples))
            after = memory_kib(proc.pid, "VmRSS")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"server memory, {args.mb} MB unauthenticated POST /api/score bodies (idle server = baseline)")
    for kind, outcome in outcomes.items():
        print(f"  {kind:15} answer: {outcome}")
    print(f"  {'idle RSS':28} {idle / 1024:8.1f} MiB  ratio 1.00")
    print(f"  {'peak RSS while sending':28} {peak / 1024:8.1f} MiB  ratio {peak / idle:.2f}")
    print(f"  {'RSS after':28} {after / 1024:8.1f} MiB  ratio {after / idle:.2f}")


if __name__ == "__main__":
    main()
