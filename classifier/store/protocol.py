"""What every queue database offers: the records, the values allowed, and the :class:`QueueStore` protocol.

The queue logic, the HTTP API and the CLI only see this protocol, so SQLite (one
file, the embedded default) and PostgreSQL (several servers, one database) are two
implementations of one interface, tested by one parametrised suite.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from classifier.errors import EXIT_USAGE, ClassifierError
from classifier.schema import ROLES, STATUSES, QueueDecision, QueueStatus

PENDING, APPROVED, REJECTED = STATUSES
#: Moderator decisions and the status each one leads to; ``undo`` puts a comment back in the queue.
DECISION_STATUS = {
    QueueDecision.approve.value: QueueStatus.approved.value,
    QueueDecision.reject.value: QueueStatus.rejected.value,
    QueueDecision.undo.value: QueueStatus.pending.value,
}
#: The ``decided_by`` of decisions taken by the deployment's rules at ingest, not by a person.
AUTO = "auto"
#: Seconds a claimed comment stays reserved for its moderator unless decided or claimed again.
CLAIM_SECONDS = 600
#: Attribute filters of the page, each a fixed predicate with its own partial index (migration m005):
#: hostile probability at least 0.5, shouting, held by a suspect word.
ATTRIBUTE_FILTERS = {"hostile": "hostile >= 0.5", "shouting": "shouting = 1", "suspect": "suspect != '[]'"}
#: Shortest text search: both stores index text by trigrams, which need three characters.
MIN_SEARCH = 3


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


@dataclass(frozen=True)
class Filters:
    """What narrows a comment list: a page (article), an author, an attribute, a text or author search."""

    page: str | None = None
    author: str | None = None
    attribute: str | None = None
    search: str | None = None

    def __post_init__(self) -> None:
        if self.search is not None and len(self.search.strip()) < MIN_SEARCH:
            raise ValueError(f"a search needs at least {MIN_SEARCH} characters")
        if self.attribute is not None and self.attribute not in ATTRIBUTE_FILTERS:
            raise ValueError(f"unknown attribute {self.attribute!r} (expected {', '.join(ATTRIBUTE_FILTERS)})")


class UnknownComment(LookupError):
    """No comment with that id in the queue."""


class UnknownUser(LookupError):
    """No moderator account with that name."""


class Claimed(ValueError):
    """The comment is being reviewed by another moderator (its claim has not expired)."""


class QueueStore(Protocol):
    """What the queue logic, the HTTP API and the CLI need from a database."""

    location: str

    def known_ids(self, ids: Sequence[str]) -> set[str]: ...
    def enqueue(self, entries: Sequence[Entry]) -> int: ...
    def get(self, comment_id: str) -> dict[str, Any]: ...
    def get_many(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    def list_comments(
        self, status: str, limit: int = 100, offset: int = 0, filters: Filters | None = None
    ) -> list[dict[str, Any]]: ...
    def author_history(self, authors: Sequence[str]) -> dict[str, dict[str, int]]: ...
    def counts(self) -> dict[str, int]: ...
    def claim(self, by: str, limit: int = 10, seconds: float = CLAIM_SECONDS) -> list[dict[str, Any]]: ...
    def decide(self, comment_id: str, decision: str, by: str, note: str | None = None) -> dict[str, Any]: ...
    def history(self, comment_id: str) -> list[dict[str, Any]]: ...
    def decision_counts(self) -> dict[str, int]: ...
    def models(self) -> dict[str, int]: ...
    def moderated(self) -> Iterator[dict[str, Any]]: ...
    def settings(self) -> Settings: ...
    def save_settings(self, settings: Settings) -> None: ...
    def add_user(self, name: str, role: str, token_hash: str) -> None: ...
    def users(self) -> list[dict[str, Any]]: ...
    def revoke_user(self, name: str) -> None: ...
    def user_by_token_hash(self, token_hash: str) -> dict[str, Any] | None: ...
    def applied_migrations(self) -> list[str]: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...


def now(after: float = 0.0) -> str:
    """The current instant (plus ``after`` seconds), ISO 8601 in UTC with milliseconds.

    Both stores keep instants as this text: one fixed format, so text order is time order.
    """
    return (datetime.now(timezone.utc) + timedelta(seconds=after)).isoformat(timespec="milliseconds")
