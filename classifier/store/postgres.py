"""The queue on PostgreSQL (psycopg 3): one database shared by several ``classifier serve`` processes.

A connection pool per process (``psycopg_pool``); reads run in autocommit, each write
is one transaction that commits (``synchronous_commit`` as the server sets it, on by
default: durable) before the answer leaves. Claims use ``FOR UPDATE SKIP LOCKED``, so
moderators claiming at once on different servers never get the same comment, and
migrations run under an advisory lock, so servers starting together migrate once.
Every failure surfaces as :class:`~classifier.errors.StoreError` (exit code 5).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from classifier.errors import StoreError
from classifier.store.sql import SQLStore

#: Connections each process keeps open at most (FastAPI runs sync routes on a thread pool).
POOL_SIZE = 8
#: Seconds to wait for a free connection or for the server before failing.
CONNECT_TIMEOUT = 15.0
#: Key of the advisory lock held while migrating (any constant shared by every classifier).
MIGRATION_LOCK = 0x636C6173  # "clas"
URL_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str) -> bool:
    return str(location).startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresStore(SQLStore):
    """The queue in a PostgreSQL database given by a ``postgresql://`` URL.

    Parameters
    ----------
    url : str
        A libpq URL, e.g. ``postgresql://classifier@db.internal/queue``.
    create : bool
        Create the schema when the database has none; otherwise an empty database is a StoreError.
    pool_size : int
        Most connections this process opens.

    Examples
    --------
    >>> store = PostgresStore("postgresql://classifier@127.0.0.1/queue", create=True)  # doctest: +SKIP
    """

    dialect = "postgres"
    lock_row = " FOR UPDATE"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, create: bool = False, pool_size: int = POOL_SIZE):
        try:
            import psycopg
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise StoreError(f"PostgreSQL support needs psycopg and psycopg-pool ({exc})") from None
        self.url = url
        self.location = redact(url)
        self._pool = None
        with self._errors():
            psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT)).close()  # fails at once with the server's reason
            self._pool = ConnectionPool(
                url, min_size=1, max_size=pool_size, timeout=CONNECT_TIMEOUT, open=False,
                kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": int(CONNECT_TIMEOUT)},
            )  # fmt: skip
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
            self._migrate(create)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn psycopg failures into one-line StoreErrors that name the database (never its password)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            yield
        except PoolTimeout:
            raise StoreError(f"{self.location}: cannot reach the PostgreSQL server (gave up after {CONNECT_TIMEOUT:g} s)") from None
        except psycopg.Error as exc:
            message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"{self.location}: {message}") from None

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self._errors(), self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            yield conn

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _search(self, term: str) -> tuple[str, list[Any]]:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"  # a literal substring (pg_trgm indexes ILIKE)
        return "(text ILIKE ? OR author ILIKE ?)", [pattern, pattern]

    def _apply(self, conn: Any, script: str) -> None:
        conn.execute(script)  # no parameters: psycopg sends the script as one simple query

    def _migrate(self, create: bool) -> None:
        with self._write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS found").fetchone()["found"]
            if not exists and not create:
                raise StoreError(f"{self.location}: no queue schema in this database (create one with 'classifier queue ingest')")
            self._migrate_in(conn, self._recorded(conn))

    def optimize(self) -> None:
        """Refresh the planner's statistics after a bulk load (``ANALYZE``), so it picks the queue's indexes at once.

        Autovacuum would, but only after its next pass: until then a freshly filled queue is
        planned as if empty (a sort of every pending comment instead of the priority index).
        """
        with self._errors(), self._pool.connection() as conn:
            conn.execute("ANALYZE comments")
            conn.execute("ANALYZE comment_counts")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
