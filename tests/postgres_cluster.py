"""A throwaway PostgreSQL cluster on 127.0.0.1 in a temporary directory, for the tests and the queue bench.

``initdb`` then ``pg_ctl start`` on a free port, run as the ``postgres`` user when we
are root (the server refuses to run as root; Debian's package creates that user),
stopped (``-m immediate``) and deleted on exit. Nothing listens beyond loopback and
the socket lives in the temporary directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Unavailable(RuntimeError):
    """PostgreSQL cannot be started here (not installed, no postgres user, initdb or start failed)."""


def server_bin() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin), else pg_ctl's on PATH."""
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl") if p.parent.parent.name.isdigit()]
    if versions:
        return max(versions, key=lambda p: int(p.parent.parent.name)).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def throwaway_cluster(*settings: str) -> Iterator[str]:
    """Start a cluster; yields its base URL (``postgresql://postgres@127.0.0.1:PORT``); ``settings`` are ``-c`` options."""
    bindir = server_bin()
    if bindir is None:
        raise Unavailable("no PostgreSQL server installed (./run.sh test installs Debian's postgresql)")
    as_user: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="classifier-pg-"))
    try:
        if os.geteuid() == 0:
            import pwd

            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no 'postgres' user to run the server as") from None
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        data, log, port = tmp / "data", tmp / "server.log", _free_port()

        def run(*cmd: str) -> subprocess.CompletedProcess:
            return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)

        init = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        if init.returncode != 0:
            raise Unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        options = " ".join([f"-h 127.0.0.1 -p {port} -k {tmp}", *(f"-c {s}" for s in settings)])
        start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        if start.returncode != 0:
            detail = log.read_text(errors="replace") if log.exists() else start.stderr
            raise Unavailable(f"pg_ctl start failed: {detail.strip()[-500:]}")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on the cluster at ``server``; yields its URL, dropped afterwards."""
    import uuid

    import psycopg

    name = f"queue_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
