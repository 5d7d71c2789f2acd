"""The moderation queue's database: comments with their scores, an append-only decision log, settings.

SQLite by default: one file, WAL journal (readers never block the writer),
``synchronous=FULL`` so a committed decision survives a crash or ``kill -9``,
and a ``busy_timeout`` so two processes writing at once wait for each other
instead of failing. The schema evolves by numbered migrations (:data:`MIGRATIONS`,
applied in order and recorded in ``PRAGMA user_version``).

Callers use the :class:`QueueStore` protocol, so a server database can be added
later without touching the queue logic, the HTTP API or the CLI. Every database
failure (locked, corrupted, unknown schema) surfaces as :class:`StoreError`
(exit code 5).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from classifier.errors import EXIT_USAGE, ClassifierError, StoreError
from classifier.schema import STATUSES, QueueDecision, QueueStatus

PENDING, APPROVED, REJECTED = STATUSES
#: Moderator decisions and the status each one leads to; ``undo`` puts a comment back in the queue.
DECISION_STATUS = {
    QueueDecision.approve.value: QueueStatus.approved.value,
    QueueDecision.reject.value: QueueStatus.rejected.value,
    QueueDecision.undo.value: QueueStatus.pending.value,
}
#: The ``decided_by`` of decisions taken by the deployment's rules at ingest, not by a person.
AUTO = "auto"

#: Seconds a writer waits for another process's lock before giving up with a StoreError.
BUSY_TIMEOUT = 15.0



def sql_in(choices) -> str:
    """An SQL ``IN`` list of allowed values, for the CHECK constraints: ``('a', 'b')``."""
    return "(" + ", ".join("'" + str(value).replace("'", "''") + "'" for value in choices) + ")"


#: Numbered schema migrations: script ``n`` (1-based) takes the database to ``user_version = n``.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE comments (
        seq INTEGER PRIMARY KEY,              -- arrival order, breaks priority ties
        id TEXT NOT NULL UNIQUE,              -- the parser's stable comment id
        source_id TEXT,                       -- the comment's id in its source (CMS, export), if any
        page TEXT,
        author TEXT,
        published TEXT,
        text TEXT NOT NULL,
        reply_to TEXT,
        source_status TEXT,                   -- moderation status given by the source, if any
        hostile REAL NOT NULL,
        shouting INTEGER NOT NULL,
        caps_ratio REAL NOT NULL,
        sentiment TEXT,
        reasons TEXT NOT NULL DEFAULT '[]',   -- JSON list
        suspect TEXT NOT NULL DEFAULT '[]',   -- JSON list of suspect words found in the text
        model TEXT NOT NULL,                  -- model (name and version) that scored the comment
        model_decision TEXT,                  -- the model policy's approve/review/reject
        priority REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN {sql_in(STATUSES)}),
        decided_by TEXT,
        decided_at TEXT,
        note TEXT,
        ingested_at TEXT NOT NULL
    );
    CREATE INDEX comments_queue ON comments (status, priority DESC, seq);
    CREATE INDEX comments_source_id ON comments (source_id) WHERE source_id IS NOT NULL;

    CREATE TABLE decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        comment_id TEXT NOT NULL REFERENCES comments (id),
        decision TEXT NOT NULL CHECK (decision IN {sql_in(DECISION_STATUS)}),
        decided_by TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        model TEXT,
        note TEXT
    );
    CREATE INDEX decisions_comment ON decisions (comment_id, seq);
    CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
    BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
    CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
    BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;

    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL                   -- JSON
    );
    """,
    # 2: counts per status and model kept by triggers, so the queue's counters cost
    # nothing however long the queue (a GROUP BY over 100,000 comments took 20-100 ms);
    # decided comments listed latest first without a sort.
    """
    CREATE INDEX comments_decided ON comments (status, decided_at DESC, seq DESC);
    CREATE TABLE comment_counts (
        status TEXT NOT NULL,
        model TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (status, model)
    ) WITHOUT ROWID;
    INSERT INTO comment_counts (status, model, n) SELECT status, model, count(*) FROM comments GROUP BY status, model;
    CREATE TRIGGER comment_counts_insert AFTER INSERT ON comments
    BEGIN
        INSERT INTO comment_counts (status, model, n) VALUES (new.status, new.model, 1)
        ON CONFLICT (status, model) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER comment_counts_update AFTER UPDATE OF status, model ON comments
    WHEN old.status != new.status OR old.model != new.model
    BEGIN
        UPDATE comment_counts SET n = n - 1 WHERE status = old.status AND model = old.model;
        INSERT INTO comment_counts (status, model, n) VALUES (new.status, new.model, 1)
        ON CONFLICT (status, model) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER comment_counts_delete AFTER DELETE ON comments
    BEGIN
        UPDATE comment_counts SET n = n - 1 WHERE status = old.status AND model = old.model;
    END;
    """,
)


class SettingsError(ClassifierError):
    """Queue settings that make no sense (a usage error; stored ones are a StoreError)."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Settings:
    """The deployment's opt-in queue rules (all off by default: every new comment waits in pending).

    ``auto_approve_below``: approve on arrival when ``hostile`` is below it (and no rule holds it);
    ``auto_reject_above``: reject on arrival when ``hostile`` is above it;
    ``banned``: words that reject a comment on arrival;
    ``suspect``: words that hold a comment in pending (never auto-approved) and are highlighted.
    """

    auto_approve_below: float | None = None
    auto_reject_above: float | None = None
    banned: tuple[str, ...] = ()
    suspect: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("auto_approve_below", "auto_reject_above"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise SettingsError(f"{name.replace('_', '-')} must be a probability between 0 and 1, got {value}")
        low, high = self.auto_approve_below, self.auto_reject_above
        if low is not None and high is not None and low > high:
            raise SettingsError(f"auto-approve-below ({low}) is above auto-reject-above ({high})")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["banned"], data["suspect"] = list(self.banned), list(self.suspect)
        return data


@dataclass(frozen=True)
class Entry:
    """One scored comment ready to be queued (``status`` pending unless a rule decided on arrival)."""

    id: str
    text: str
    hostile: float
    shouting: bool
    caps_ratio: float
    model: str
    priority: float
    page: str | None = None
    source_id: str | None = None
    author: str | None = None
    published: str | None = None
    reply_to: str | None = None
    source_status: str | None = None
    sentiment: str | None = None
    reasons: tuple[str, ...] = ()
    suspect: tuple[str, ...] = ()
    model_decision: str | None = None
    status: str = PENDING
    #: Why a rule decided on arrival (logged as a decision by ``auto``); None when pending.
    auto_note: str | None = None


class UnknownComment(LookupError):
    """No comment with that id in the queue."""


class QueueStore(Protocol):
    """What the queue logic, the HTTP API and the CLI need from a database."""

    def known_ids(self, ids: Sequence[str]) -> set[str]: ...
    def enqueue(self, entries: Sequence[Entry]) -> int: ...
    def get(self, comment_id: str) -> dict[str, Any]: ...
    def list_comments(self, status: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]: ...
    def counts(self) -> dict[str, int]: ...
    def decide(self, comment_id: str, decision: str, by: str, note: str | None = None) -> dict[str, Any]: ...
    def history(self, comment_id: str) -> list[dict[str, Any]]: ...
    def decision_counts(self) -> dict[str, int]: ...
    def models(self) -> dict[str, int]: ...
    def moderated(self) -> Iterator[dict[str, Any]]: ...
    def settings(self) -> Settings: ...
    def save_settings(self, settings: Settings) -> None: ...
    def close(self) -> None: ...


def now() -> str:
    """The current instant, ISO 8601 in UTC with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


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


_COMMENT_COLUMNS = (
    "id, source_id, page, author, published, text, reply_to, source_status, hostile, shouting, caps_ratio, sentiment, "
    "reasons, suspect, model, model_decision, priority, status, decided_by, decided_at, note, ingested_at"
)


def _comment(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data["shouting"] = bool(data["shouting"])
    for key in ("reasons", "suspect"):
        data[key] = json.loads(data[key]) if data[key] != "[]" else []
    return data


class SQLiteStore:
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

    def __init__(self, path: str | Path, create: bool = False, busy_timeout: float = BUSY_TIMEOUT):
        self.path = Path(path)
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
            conn.row_factory = sqlite3.Row
            with self._errors():
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

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

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._errors():
            return self._conn().execute(sql, params).fetchall()

    def _migrate(self) -> None:
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails on a file that is not SQLite
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: queue schema version {version} is newer than this classifier knows ({len(MIGRATIONS)})"
            )
        if version == len(MIGRATIONS):
            return
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch the database to WAL mode")
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            for number, script in enumerate(MIGRATIONS[version:], version + 1):
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")

    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # ------------------------------------------------------------------ comments

    def known_ids(self, ids: Sequence[str]) -> set[str]:
        """The ids among ``ids`` already in the queue (so re-ingesting skips scoring them)."""
        known: set[str] = set()
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(r[0] for r in self._read(f"SELECT id FROM comments WHERE id IN ({marks})", chunk))
        return known

    def enqueue(self, entries: Sequence[Entry]) -> int:
        """Insert new comments in one transaction; ids already queued are left alone. Returns how many were new.

        A comment a rule decided on arrival gets a decision by ``auto`` in the log, in the same transaction.
        """
        added = 0
        stamp = now()
        with self._write() as conn:
            for e in entries:
                decided = e.status != PENDING
                cursor = conn.execute(
                    f"INSERT OR IGNORE INTO comments ({_COMMENT_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        e.id, e.source_id, e.page, e.author, e.published, e.text, e.reply_to, e.source_status,
                        float(e.hostile), int(e.shouting), float(e.caps_ratio), e.sentiment,
                        json.dumps(list(e.reasons), ensure_ascii=False), json.dumps(list(e.suspect), ensure_ascii=False),
                        e.model, e.model_decision, float(e.priority), e.status,
                        AUTO if decided else None, stamp if decided else None, e.auto_note if decided else None, stamp,
                    ),
                )
                if cursor.rowcount != 1:
                    continue
                added += 1
                if decided:
                    decision = next(d for d, s in DECISION_STATUS.items() if s == e.status)
                    conn.execute(
                        "INSERT INTO decisions (comment_id, decision, decided_by, decided_at, model, note) VALUES (?, ?, ?, ?, ?, ?)",
                        (e.id, decision, AUTO, stamp, e.model, e.auto_note),
                    )
        return added

    @staticmethod
    def _resolve(conn: sqlite3.Connection, ident: str) -> sqlite3.Row:
        """The comment with this queue id, else the only one with this source id (a CMS's own id)."""
        rows = conn.execute(f"SELECT {_COMMENT_COLUMNS} FROM comments WHERE id = ?", (ident,)).fetchall()
        if not rows:
            rows = conn.execute(f"SELECT {_COMMENT_COLUMNS} FROM comments WHERE source_id = ? LIMIT 2", (ident,)).fetchall()
        if len(rows) != 1:
            raise UnknownComment(ident)
        return rows[0]

    def get(self, comment_id: str) -> dict[str, Any]:
        """One comment, by its queue id or, when unambiguous, its id in the source."""
        with self._errors():
            return _comment(self._resolve(self._conn(), comment_id))

    def list_comments(self, status: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Comments with ``status``: pending ones by priority (highest first), decided ones latest first."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        order = "priority DESC, seq" if status == PENDING else "decided_at DESC, seq DESC"
        # (both orders follow an index: comments_queue, comments_decided)
        rows = self._read(
            f"SELECT {_COMMENT_COLUMNS} FROM comments WHERE status = ? ORDER BY {order} LIMIT ? OFFSET ?",
            (status, limit, offset),
        )
        return [_comment(r) for r in rows]

    def counts(self) -> dict[str, int]:
        found = dict(self._read("SELECT status, sum(n) FROM comment_counts GROUP BY status"))
        return {s: found.get(s, 0) for s in STATUSES}

    def models(self) -> dict[str, int]:
        """How many queued comments each model scored."""
        rows = self._read("SELECT model, sum(n) AS total FROM comment_counts GROUP BY model HAVING total > 0 ORDER BY model")
        return dict(rows)

    # ------------------------------------------------------------------ decisions

    def decide(self, comment_id: str, decision: str, by: str, note: str | None = None) -> dict[str, Any]:
        """Record a decision (``approve``, ``reject`` or ``undo``) and return the updated comment.

        The status change and the log entry commit together, durably, before this returns.
        ``undo`` of a pending comment is refused (ValueError): there is nothing to undo.
        """
        if decision not in DECISION_STATUS:
            raise ValueError(f"unknown decision {decision!r} (expected approve, reject or undo)")
        status = DECISION_STATUS[decision]
        stamp = now()
        with self._write() as conn:
            row = self._resolve(conn, comment_id)
            comment_id = row["id"]
            if decision == "undo" and row["status"] == PENDING:
                raise ValueError(f"comment {comment_id} is pending: nothing to undo")
            conn.execute(
                "INSERT INTO decisions (comment_id, decision, decided_by, decided_at, model, note) VALUES (?, ?, ?, ?, ?, ?)",
                (comment_id, decision, by, stamp, row["model"], note),
            )
            kept = (by, stamp, note) if status != PENDING else (None, None, None)
            conn.execute(
                "UPDATE comments SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?",
                (status, *kept, comment_id),
            )
        return self.get(comment_id)

    def history(self, comment_id: str) -> list[dict[str, Any]]:
        """Every decision on one comment, oldest first."""
        comment_id = self.get(comment_id)["id"]
        rows = self._read(
            "SELECT seq, comment_id, decision, decided_by, decided_at, model, note FROM decisions "
            "WHERE comment_id = ? ORDER BY seq",
            (comment_id,),
        )
        return [dict(r) for r in rows]

    def decision_counts(self) -> dict[str, int]:
        """Decisions in the log by kind, people and rules together (``auto`` counted apart)."""
        rows = self._read(
            "SELECT decision, decided_by = ? AS auto, count(*) FROM decisions GROUP BY decision, auto", (AUTO,)
        )
        counts = {"approve": 0, "reject": 0, "undo": 0, "auto": 0}
        for decision, auto, n in rows:
            counts["auto" if auto else decision] += n
        counts["total"] = sum(counts.values())
        return counts

    def moderated(self) -> Iterator[dict[str, Any]]:
        """Comments whose current status a person decided (not a rule), in decision order."""
        rows = self._read(
            f"SELECT {_COMMENT_COLUMNS} FROM comments WHERE status != ? AND decided_by != ? ORDER BY decided_at, seq",
            (PENDING, AUTO),
        )
        return (_comment(r) for r in rows)

    # ------------------------------------------------------------------ settings

    def settings(self) -> Settings:
        stored = {k: json.loads(v) for k, v in self._read("SELECT key, value FROM settings")}
        known = {k: v for k, v in stored.items() if k in Settings.__dataclass_fields__}
        for key in ("banned", "suspect"):
            known[key] = tuple(known.get(key, ()))
        try:
            return Settings(**known)
        except SettingsError as exc:
            raise StoreError(f"{self.path}: stored queue settings are invalid ({exc})") from None

    def save_settings(self, settings: Settings) -> None:
        with self._write() as conn:
            for key, value in settings.to_dict().items():
                conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value, ensure_ascii=False)),
                )


def open_store(path: str | Path, create: bool = False) -> QueueStore:
    """The queue database at ``path`` (SQLite: the only backend so far)."""
    return SQLiteStore(path, create=create)

