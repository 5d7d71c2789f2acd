"""The queue in one SQLite file: the embedded default.

WAL journal (readers never block the writer), ``synchronous=FULL`` so a committed
decision survives a crash or ``kill -9``, and a ``busy_timeout`` so two processes
writing at once wait for each other instead of failing. Write transactions start
with ``BEGIN IMMEDIATE``: one writer at a time, which is what makes a claim atomic
here. Every failure (locked, corrupted, unknown schema) surfaces as
:class:`~classifier.errors.StoreError` (exit code 5).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from classifier.errors import StoreError
from classifier.store.migrations import NAMES
from classifier.store.sql import SQLStore

#: Seconds a writer waits for another process's lock before giving up with a StoreError.
BUSY_TIMEOUT = 15.0


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into complete SQL statements (triggers included)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row)}


class SQLiteStore(SQLStore):
    """The queue in one SQLite file; safe to share across threads (one connection per thread).

    Parameters
    ----------
    path : str or Path
        The database file.
    create : bool
        Create the file (and its schema) when missing; otherwise a missing file is a StoreError.
    busy_timeout : float
        Seconds to wait for another writer before failing.

    Examples
    --------
    >>> store = SQLiteStore("queue.db", create=True)  # doctest: +SKIP
    >>> store.counts()  # doctest: +SKIP
    {'pending': 0, 'approved': 0, 'rejected': 0}
    """

    dialect = "sqlite"

    def __init__(self, path: str | Path, create: bool = False, busy_timeout: float = BUSY_TIMEOUT):
        self.path = Path(path)
        self.location = str(self.path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        if not self.path.exists() and not create:
            raise StoreError(f"{self.path}: no queue database here (create one with 'classifier queue ingest')")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a queue database")
        with self._errors():
            self._migrate()

    # ------------------------------------------------------------------ connections and errors

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn SQLite failures into one-line StoreErrors that name the file."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if "locked" in message or "busy" in message:
                raise StoreError(f"{self.path}: database is locked by another process (gave up after {self.busy_timeout:g} s)") from None
            raise StoreError(f"{self.path}: {message}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable queue database ({exc})") from None

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot open the queue database ({exc})") from None
            conn.row_factory = _dict_row
            with self._errors():
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            yield self._conn()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so concurrent writers queue up.

        Threads of this process queue on a lock first: SQLite's busy handler sleeps in
        growing steps, which would turn contention between threads into long tails;
        the busy timeout is left for other processes.
        """
        conn = self._conn()
        with self._write_lock, self._errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _search(self, term: str) -> tuple[str, list[Any]]:
        phrase = '"' + term.replace('"', '""') + '"'  # one FTS5 phrase: a substring for the trigram index
        return "seq IN (SELECT rowid FROM comments_search WHERE comments_search MATCH ?)", [phrase]

    # ------------------------------------------------------------------ migrations

    def _apply(self, conn: sqlite3.Connection, script: str) -> None:
        for statement in _statements(script):
            conn.execute(statement)

    def _migrate(self) -> None:
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()["user_version"]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails on a file that is not SQLite
        if version > len(NAMES):
            raise StoreError(f"{self.path}: queue schema version {version} is newer than this classifier knows ({len(NAMES)})")
        if version == len(NAMES):
            return
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()["journal_mode"].lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch the database to WAL mode")
        with self._write() as conn:
            done = self._recorded(conn)
            version = conn.execute("PRAGMA user_version").fetchone()["user_version"]  # another process may have migrated
            for name in NAMES[:version]:  # databases from before named migrations recorded only a number
                if name not in done:
                    conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, 'before names')", (name,))
                    done.add(name)
            self._migrate_in(conn, done)
            conn.execute(f"PRAGMA user_version = {len(NAMES)}")  # a cheap "up to date" check on every open

    def optimize(self) -> None:
        """Refresh the query planner's statistics after a bulk load (``ANALYZE`` on a bounded sample, so it stays fast)."""
        with self._write() as conn:
            conn.execute("PRAGMA analysis_limit = 1000")
            conn.execute("ANALYZE")

    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0]["user_version"]

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
