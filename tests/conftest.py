"""Shared test fixtures: where the seeds, the shared corpora and the shipped models live."""

from __future__ import annotations

from collections.abc import Iterator
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


def _unavailable(reason: str):
    """Fail loudly in CI (CI=true), where PostgreSQL must run; skip with the reason elsewhere."""
    import os

    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster for the session (tests/postgres_cluster.py); yields its base URL."""
    from tests.postgres_cluster import Unavailable, throwaway_cluster

    cluster = throwaway_cluster("max_connections=300", "shared_buffers=64MB")
    try:
        url = cluster.__enter__()
    except Unavailable as exc:
        _unavailable(str(exc))
    try:
        yield url
    finally:
        cluster.__exit__(None, None, None)


@pytest.fixture
def postgres_db(postgres_server):
    """A fresh, empty database on the test cluster for one test."""
    from tests.postgres_cluster import fresh_database

    with fresh_database(postgres_server) as url:
        yield url


#: The stores every queue suite runs against (a pytest parameter: one suite, both stores).
STORES = ["sqlite", "postgresql"]


def queue_location(request, directory: Path) -> Iterator[str]:
    """A SQLite file in ``directory`` or a fresh PostgreSQL database, after ``request.param``."""
    if request.param == "sqlite":
        yield str(directory / "queue.db")
    else:
        from tests.postgres_cluster import fresh_database

        with fresh_database(request.getfixturevalue("postgres_server")) as url:
            yield url


@pytest.fixture(params=STORES)
def queue_db(request, tmp_path) -> Iterator[str]:
    """Where a queue test keeps its queue: a SQLite file, then a PostgreSQL database (same tests, both stores)."""
    yield from queue_location(request, tmp_path)
