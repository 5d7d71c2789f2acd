"""Shared test fixtures: where the seeds, the shared corpora and the shipped models live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = ROOT / "data"
MODELS = ROOT / "models"
#: The labelled corpora, read in place from ../shared/data (never copied into the repo).
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared corpora not found at {SHARED_DATA}: clone the project beside ../shared")
    return SHARED_DATA


# ---------------------------------------------------------------------------- PostgreSQL for the queue tests


def _postgres_bin() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin), else pg_ctl on PATH."""
    import shutil

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _unavailable(reason: str):
    """Fail loudly in CI (CI=true), where PostgreSQL must run; skip with the reason elsewhere."""
    import os

    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on 127.0.0.1 in a temporary directory; yields its base URL.

    initdb and pg_ctl run as the ``postgres`` user when the tests run as root
    (the server refuses root). Stopped and deleted at the end of the session.
    """
    import os
    import shutil
    import subprocess
    import tempfile

    from tests.queue_support import free_port

    bindir = _postgres_bin()
    if bindir is None:
        _unavailable("no PostgreSQL server installed (./run.sh test installs Debian's postgresql)")
    as_user: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="classifier-pg-"))
    if os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run the server as")
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log, port = tmp / "data", tmp / "server.log", free_port()

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)

    init = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
    if init.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = f"-h 127.0.0.1 -p {port} -k {tmp} -c max_connections=300 -c shared_buffers=64MB"
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
    if start.returncode != 0:
        detail = log.read_text(errors="replace")[-500:] if log.exists() else start.stderr
        shutil.rmtree(tmp, ignore_errors=True)
        _unavailable(f"pg_ctl start failed: {detail.strip()}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def fresh_postgres_db(server: str) -> Iterator[str]:
    """A new, empty database on the test cluster; yields its URL, dropped afterwards."""
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


@pytest.fixture
def postgres_db(postgres_server):
    """A fresh, empty database on the test cluster for one test."""
    with fresh_postgres_db(postgres_server) as url:
        yield url


#: The stores every queue suite runs against (a pytest parameter: one suite, both stores).
STORES = ["sqlite", "postgresql"]


def queue_location(request, directory: Path) -> Iterator[str]:
    """A SQLite file in ``directory`` or a fresh PostgreSQL database, after ``request.param``."""
    if request.param == "sqlite":
        yield str(directory / "queue.db")
    else:
        with fresh_postgres_db(request.getfixturevalue("postgres_server")) as url:
            yield url


@pytest.fixture(params=STORES)
def queue_db(request, tmp_path) -> Iterator[str]:
    """Where a queue test keeps its queue: a SQLite file, then a PostgreSQL database (same tests, both stores)."""
    yield from queue_location(request, tmp_path)
