"""The queue's queries, written once for both SQL stores.

:class:`SQLStore` implements :class:`~classifier.store.protocol.QueueStore` over a
small dialect interface: how to read, how to open one write transaction, how to
lock a row and how to search text. :class:`~classifier.store.sqlite.SQLiteStore`
and :class:`~classifier.store.postgres.PostgresStore` provide those; every rule
(priority order, claims, the decision log, accounts) lives here, in one place.
Queries use ``?`` placeholders; a dialect may rewrite them (PostgreSQL: ``%s``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from classifier.errors import StoreError
from classifier.store.migrations import MIGRATIONS, MIGRATIONS_TABLE, NAMES
from classifier.store.protocol import (
    ATTRIBUTE_FILTERS,
    AUTO,
    CLAIM_SECONDS,
    DECISION_STATUS,
    PENDING,
    ROLES,
    STATUSES,
    Claimed,
    Entry,
    Filters,
    Settings,
    SettingsError,
    UnknownComment,
    UnknownUser,
    now,
)

COMMENT_COLUMNS = (
    "id, source_id, page, author, published, text, reply_to, source_status, hostile, shouting, caps_ratio, sentiment, "
    "reasons, suspect, model, model_decision, priority, status, decided_by, decided_at, note, ingested_at, "
    "claimed_by, claimed_until"
)
_INSERT_COLUMNS = COMMENT_COLUMNS.rsplit(", claimed_by", 1)[0]
#: Ids per ``IN (...)`` list.
CHUNK = 500


def comment_row(row: dict[str, Any], instant: str | None = None) -> dict[str, Any]:
    """A stored comment as the API shows it: booleans, JSON lists, and only a live claim."""
    data = dict(row)
    data["shouting"] = bool(data["shouting"])
    for key in ("reasons", "suspect"):
        data[key] = json.loads(data[key]) if data[key] != "[]" else []
    until = data.get("claimed_until")
    if data["status"] != PENDING or until is None or until <= (instant or now()):
        data["claimed_by"] = data["claimed_until"] = None
    return data


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class SQLStore:
    """Every queue query, over a dialect's connections (see the module docstring)."""

    #: ``sqlite`` or ``postgres``: which script of each migration to run.
    dialect: str
    #: Appended to the SELECT that reads a row about to change (PostgreSQL: `` FOR UPDATE``).
    lock_row = ""
    #: Appended to the claim's SELECT of free comments (PostgreSQL: `` FOR UPDATE SKIP LOCKED``).
    skip_locked = ""
    location: str

    # ------------------------------------------------------------------ dialect interface

    def _reading(self) -> AbstractContextManager[Any]:
        """A connection for reads outside any transaction (errors become StoreErrors)."""
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Any]:
        """One write transaction; yields a connection whose ``execute(sql, params)`` returns a cursor."""
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    def _search(self, term: str) -> tuple[str, list[Any]]:
        """A WHERE clause (and its parameters) matching comments whose text or author contains ``term``."""
        raise NotImplementedError

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(self._sql(sql), params)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._reading() as conn:
            return self._run(conn, sql, params).fetchall()

    # ------------------------------------------------------------------ migrations

    def _migrate_in(self, conn: Any, done: set[str]) -> None:
        """Apply the migrations not in ``done``, in order, recording each name (inside the caller's transaction)."""
        unknown = done - set(NAMES)
        if unknown:
            raise StoreError(
                f"{self.location}: queue schema has migrations this classifier does not know ({', '.join(sorted(unknown))}): "
                "it is newer than this classifier"
            )
        for migration in MIGRATIONS:
            if migration.name not in done:
                self._apply(conn, migration.script(self.dialect))
                self._run(conn, "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (migration.name, now()))

    def _apply(self, conn: Any, script: str) -> None:
        raise NotImplementedError

    def _recorded(self, conn: Any) -> set[str]:
        self._run(conn, MIGRATIONS_TABLE)
        return {r["name"] for r in self._run(conn, "SELECT name FROM schema_migrations").fetchall()}

    def applied_migrations(self) -> list[str]:
        """Names of the applied migrations, in migration order."""
        recorded = {r["name"] for r in self._read("SELECT name FROM schema_migrations")}
        return [name for name in NAMES if name in recorded]

    # ------------------------------------------------------------------ comments

    def known_ids(self, ids: Sequence[str]) -> set[str]:
        """The ids among ``ids`` already in the queue (so re-ingesting skips scoring them)."""
        known: set[str] = set()
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            known.update(r["id"] for r in self._read(f"SELECT id FROM comments WHERE id IN ({marks})", chunk))
        return known

    def enqueue(self, entries: Sequence[Entry]) -> int:
        """Insert new comments in one transaction; ids already queued are left alone. Returns how many were new.

        ``ON CONFLICT DO NOTHING`` keeps the first copy of a comment, so concurrent ingests of the
        same source neither fail nor duplicate. A comment a rule decided on arrival gets a decision
        by ``auto`` in the log, in the same transaction. Entries go in by status, so the counters
        are locked in one order by every transaction (no deadlock on PostgreSQL).
        """
        added = 0
        stamp = now()
        marks = ", ".join("?" * len(_INSERT_COLUMNS.split(", ")))
        with self._write() as conn:
            for e in sorted(entries, key=lambda e: e.status):
                decided = e.status != PENDING
                cursor = self._run(
                    conn,
                    f"INSERT INTO comments ({_INSERT_COLUMNS}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING",
                    (
                        e.id, e.source_id, e.page, e.author, e.published, e.text, e.reply_to, e.source_status,
                        float(e.hostile), int(e.shouting), float(e.caps_ratio), e.sentiment,
                        json.dumps(list(e.reasons), ensure_ascii=False), json.dumps(list(e.suspect), ensure_ascii=False),
                        e.model, e.model_decision, float(e.priority), e.status,
                        AUTO if decided else None, stamp if decided else None, e.auto_note if decided else None, stamp,
                    ),
                )  # fmt: skip
                if cursor.rowcount != 1:
                    continue
                added += 1
                if decided:
                    decision = next(d for d, s in DECISION_STATUS.items() if s == e.status)
                    self._log(conn, e.id, decision, AUTO, stamp, e.model, e.auto_note)
        return added

    def _log(self, conn: Any, comment_id: str, decision: str, by: str, stamp: str, model: str, note: str | None) -> None:
        self._run(
            conn,
            "INSERT INTO decisions (comment_id, decision, decided_by, decided_at, model, note) VALUES (?, ?, ?, ?, ?, ?)",
            (comment_id, decision, by, stamp, model, note),
        )

    def _resolve(self, conn: Any, ident: str, lock: bool = False) -> dict[str, Any]:
        """The comment with this queue id, else the only one with this source id (a CMS's own id)."""
        suffix = self.lock_row if lock else ""
        rows = self._run(conn, f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id = ?{suffix}", (ident,)).fetchall()
        if not rows:
            rows = self._run(
                conn, f"SELECT {COMMENT_COLUMNS} FROM comments WHERE source_id = ? LIMIT 2{suffix}", (ident,)
            ).fetchall()
        if len(rows) != 1:
            raise UnknownComment(ident)
        return rows[0]

    def get(self, comment_id: str) -> dict[str, Any]:
        """One comment, by its queue id or, when unambiguous, its id in the source."""
        with self._reading() as conn:
            return comment_row(self._resolve(conn, comment_id))

    def get_many(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The comments with these queue ids (missing ones left out), by id: the parents of replies."""
        found: dict[str, dict[str, Any]] = {}
        instant = now()
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            for row in self._read(f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id IN ({marks})", chunk):
                found[row["id"]] = comment_row(row, instant)
        return found

    def list_comments(
        self, status: str, limit: int = 100, offset: int = 0, filters: Filters | None = None
    ) -> list[dict[str, Any]]:
        """Comments with ``status``: pending ones by priority (highest first), decided ones latest first.

        ``filters`` narrow the list to one page, one author, or a text/author search; each
        follows an index (comments_page, comments_author, the trigram search index).
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        order = "priority DESC, seq" if status == PENDING else "decided_at DESC, seq DESC"
        # (both orders follow an index: comments_queue, comments_decided)
        where, params = ["status = ?"], [status]
        filters = filters or Filters()
        if filters.page is not None:
            where.append("page = ?")
            params.append(filters.page)
        if filters.author is not None:
            where.append("author = ?")
            params.append(filters.author)
        if filters.attribute is not None:
            where.append(ATTRIBUTE_FILTERS[filters.attribute])  # literal: the planner matches its partial index
        if filters.search is not None:
            clause, values = self._search(filters.search.strip())
            where.append(clause)
            params += values
        rows = self._read(
            f"SELECT {COMMENT_COLUMNS} FROM comments WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        instant = now()
        return [comment_row(r, instant) for r in rows]

    def author_history(self, authors: Sequence[str]) -> dict[str, dict[str, int]]:
        """How many of each author's comments are pending, approved and rejected (index comments_author)."""
        history = {a: dict.fromkeys(STATUSES, 0) for a in authors if a is not None}
        for chunk in _chunks(sorted(history)):
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT author, status, count(*) AS n FROM comments WHERE author IN ({marks}) GROUP BY author, status", chunk
            )
            for row in rows:
                history[row["author"]][row["status"]] = int(row["n"])
        return history

    def counts(self) -> dict[str, int]:
        found = {r["status"]: int(r["n"]) for r in self._read("SELECT status, sum(n) AS n FROM comment_counts GROUP BY status")}
        return {s: found.get(s, 0) for s in STATUSES}

    def models(self) -> dict[str, int]:
        """How many queued comments each model scored."""
        rows = self._read(
            "SELECT model, sum(n) AS total FROM comment_counts GROUP BY model HAVING sum(n) > 0 ORDER BY model"
        )
        return {r["model"]: int(r["total"]) for r in rows}

    # ------------------------------------------------------------------ claims and decisions

    def claim(self, by: str, limit: int = 10, seconds: float = CLAIM_SECONDS) -> list[dict[str, Any]]:
        """Reserve pending comments for moderator ``by`` and return them, highest priority first.

        ``by`` keeps the comments it already holds (their claim is renewed) and gets free
        ones up to ``limit`` in all: those nobody holds or whose claim expired. Two
        moderators claiming at once never get the same comment: PostgreSQL skips the rows
        another transaction is claiming (``FOR UPDATE SKIP LOCKED``), SQLite runs one
        write transaction at a time. Held comments are found by ``claimed_by`` alone (index
        comments_claims): a decision clears the claim, so only pending comments have one.
        """
        if limit < 1:
            raise ValueError("a claim needs a limit of at least 1")
        instant, until = now(), now(seconds)
        with self._write() as conn:
            held = self._run(
                conn,
                "UPDATE comments SET claimed_until = ? WHERE claimed_by = ? AND claimed_until > ? RETURNING seq",
                (until, by, instant),
            ).fetchall()
            wanted = limit - len(held)
            if wanted > 0:
                self._run(
                    conn,
                    "UPDATE comments SET claimed_by = ?, claimed_until = ? WHERE seq IN ("
                    "SELECT seq FROM comments WHERE status = ? AND (claimed_until IS NULL OR claimed_until <= ?) "
                    f"ORDER BY priority DESC, seq LIMIT ?{self.skip_locked})",
                    (by, until, PENDING, instant, wanted),
                )
            rows = self._run(
                conn,
                f"SELECT {COMMENT_COLUMNS} FROM comments WHERE claimed_by = ? AND claimed_until > ? ORDER BY priority DESC, seq",
                (by, instant),
            ).fetchall()
        return [comment_row(r, instant) for r in rows]

    def decide(self, comment_id: str, decision: str, by: str, note: str | None = None) -> dict[str, Any]:
        """Record a decision (``approve``, ``reject`` or ``undo``) and return the updated comment.

        The status change and the log entry commit together, durably, before this returns.
        ``undo`` of a pending comment is refused (ValueError): there is nothing to undo. A
        pending comment another moderator holds a live claim on is refused (:class:`Claimed`).
        """
        if decision not in DECISION_STATUS:
            raise ValueError(f"unknown decision {decision!r} (expected approve, reject or undo)")
        status = DECISION_STATUS[decision]
        stamp = now()
        with self._write() as conn:
            row = self._resolve(conn, comment_id, lock=True)
            comment_id = row["id"]
            if decision == "undo" and row["status"] == PENDING:
                raise ValueError(f"comment {comment_id} is pending: nothing to undo")
            holder = comment_row(row, stamp)["claimed_by"]
            if holder is not None and holder != by:
                raise Claimed(f"comment {comment_id} is being reviewed by {holder} (claim until {row['claimed_until']})")
            self._log(conn, comment_id, decision, by, stamp, row["model"], note)
            kept = (by, stamp, note) if status != PENDING else (None, None, None)
            self._run(
                conn,
                "UPDATE comments SET status = ?, decided_by = ?, decided_at = ?, note = ?, claimed_by = NULL, "
                "claimed_until = NULL WHERE id = ?",
                (status, *kept, comment_id),
            )
            updated = self._run(conn, f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id = ?", (comment_id,)).fetchone()
        return comment_row(updated, stamp)

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
            "SELECT decision, CASE WHEN decided_by = ? THEN 1 ELSE 0 END AS auto, count(*) AS n FROM decisions "
            "GROUP BY decision, auto",
            (AUTO,),
        )
        counts = {"approve": 0, "reject": 0, "undo": 0, "auto": 0}
        for row in rows:
            counts["auto" if row["auto"] else row["decision"]] += int(row["n"])
        counts["total"] = sum(counts.values())
        return counts

    def moderated(self) -> Iterator[dict[str, Any]]:
        """Comments whose current status a person decided (not a rule), in decision order."""
        rows = self._read(
            f"SELECT {COMMENT_COLUMNS} FROM comments WHERE status != ? AND decided_by != ? ORDER BY decided_at, seq",
            (PENDING, AUTO),
        )
        return (comment_row(r) for r in rows)

    # ------------------------------------------------------------------ settings

    def settings(self) -> Settings:
        stored = {r["key"]: json.loads(r["value"]) for r in self._read("SELECT key, value FROM settings")}
        known = {k: v for k, v in stored.items() if k in Settings.__dataclass_fields__}
        for key in ("banned", "suspect"):
            known[key] = tuple(known.get(key, ()))
        try:
            return Settings(**known)
        except SettingsError as exc:
            raise StoreError(f"{self.location}: stored queue settings are invalid ({exc})") from None

    def save_settings(self, settings: Settings) -> None:
        with self._write() as conn:
            for key, value in settings.to_dict().items():
                self._run(
                    conn,
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value, ensure_ascii=False)),
                )

    # ------------------------------------------------------------------ moderator accounts

    def add_user(self, name: str, role: str, token_hash: str) -> None:
        """Create an account (or give a revoked one a new token); an active account is refused (ValueError)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (expected {' or '.join(ROLES)})")
        with self._write() as conn:
            row = self._run(conn, f"SELECT revoked_at FROM users WHERE name = ?{self.lock_row}", (name,)).fetchone()
            if row is not None and row["revoked_at"] is None:
                raise ValueError(f"user {name!r} exists already (revoke it first to issue a new token)")
            self._run(
                conn,
                "INSERT INTO users (name, role, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL) "
                "ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash, "
                "created_at = excluded.created_at, revoked_at = NULL",
                (name, role, token_hash, now()),
            )

    def users(self) -> list[dict[str, Any]]:
        """Every account, by name (never the token hash)."""
        return self._read("SELECT name, role, created_at, revoked_at FROM users ORDER BY name")

    def revoke_user(self, name: str) -> None:
        """Revoke an account's token at once (its past decisions keep its name)."""
        with self._write() as conn:
            cursor = self._run(
                conn, "UPDATE users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (now(), name)
            )
            if cursor.rowcount != 1:
                exists = self._run(conn, "SELECT name FROM users WHERE name = ?", (name,)).fetchone()
                if exists is None:
                    raise UnknownUser(name)

    def user_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The active account whose token hashes to ``token_hash`` (unique index), else None."""
        rows = self._read(
            "SELECT name, role, token_hash FROM users WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
        )
        return rows[0] if rows else None
