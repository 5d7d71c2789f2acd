"""The moderation queue's database: comments with their scores, claims, an append-only decision log, settings, accounts.

Two stores behind one :class:`QueueStore` protocol: SQLite (one file, the embedded
default) and PostgreSQL (``postgresql://`` URLs; several servers share one database).
:func:`open_store` picks one from the ``--db`` value.

* :mod:`classifier.store.protocol` -- records, allowed values, the protocol;
* :mod:`classifier.store.migrations` -- the named schema migrations of both dialects;
* :mod:`classifier.store.sql` -- every query, written once;
* :mod:`classifier.store.sqlite`, :mod:`classifier.store.postgres` -- connections, transactions, errors.
"""

from __future__ import annotations

from pathlib import Path

from classifier.store.migrations import MIGRATIONS, NAMES, Migration, sql_in
from classifier.store.postgres import PostgresStore, is_postgres_url
from classifier.store.protocol import (
    APPROVED,
    ATTRIBUTE_FILTERS,
    AUTO,
    CLAIM_SECONDS,
    DECISION_STATUS,
    MIN_SEARCH,
    PENDING,
    REJECTED,
    ROLES,
    STATUSES,
    Claimed,
    Entry,
    Filters,
    QueueStore,
    Settings,
    SettingsError,
    UnknownComment,
    UnknownUser,
    now,
)
from classifier.store.sqlite import BUSY_TIMEOUT, SQLiteStore

__all__ = [
    "APPROVED", "ATTRIBUTE_FILTERS", "AUTO", "BUSY_TIMEOUT", "CLAIM_SECONDS", "DECISION_STATUS", "MIGRATIONS", "MIN_SEARCH", "NAMES", "PENDING",
    "REJECTED", "ROLES", "STATUSES", "Claimed", "Entry", "Filters", "Migration", "PostgresStore", "QueueStore", "SQLiteStore",
    "Settings", "SettingsError", "UnknownComment", "UnknownUser", "now", "open_store", "sql_in",
]  # fmt: skip


def open_store(location: str | Path, create: bool = False) -> QueueStore:
    """The queue database at ``location``: a ``postgresql://`` URL, else a SQLite file path."""
    if is_postgres_url(str(location)):
        return PostgresStore(str(location), create=create)
    return SQLiteStore(location, create=create)
