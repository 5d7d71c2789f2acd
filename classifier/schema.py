"""The records that flow between parser, scorer, queue and CLI.

Frozen dataclasses with ``to_dict()``, so every output format (JSON, CSV,
table, HTTP) serialises the same fields in the same order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

# --------------------------------------------------------------------------- allowed values
# Each list of allowed values is declared here once; the CLI's choices, the HTTP API's
# Literal types, the queue database's CHECK constraints and the parser derive from these.


class PageStatus(StrEnum):
    """What a parsed page says about its comments."""

    open = "open"  # comments found
    closed = "closed"  # the page says comments are closed/suspended
    empty = "empty"  # a comment section (or form) exists but holds no comment
    absent = "absent"  # no comment section at all


class Decision(StrEnum):
    """The model policy's decision for one comment (mildest first: the order ranks them)."""

    approve = "approve"
    review = "review"
    reject = "reject"


class QueueStatus(StrEnum):
    """Where a queued comment stands."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class QueueDecision(StrEnum):
    """What a moderator can do to a queued comment (``undo`` puts it back in pending)."""

    approve = "approve"
    reject = "reject"
    undo = "undo"


class Role(StrEnum):
    """A moderator account's role: admins also change settings, manage accounts and export decisions."""

    moderator = "moderator"
    admin = "admin"


class Sentiment(StrEnum):
    negative = "negative"
    neutral = "neutral"
    positive = "positive"


class Task(StrEnum):
    """What a model predicts."""

    hostile = "hostile"
    sentiment = "sentiment"


class Attribute(StrEnum):
    """Per-attribute scores (Perspective's names, plus our shouting rule)."""

    toxicity = "toxicity"
    severe_toxicity = "severe_toxicity"
    insult = "insult"
    threat = "threat"
    identity_attack = "identity_attack"
    profanity = "profanity"
    shouting = "shouting"


class OutputFormat(StrEnum):
    """``--format`` of every command that writes records."""

    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


class InputFormat(StrEnum):
    """``--input-format`` of the parser (``auto`` detects it per file)."""

    auto = "auto"
    dump = "dump"
    html = "html"
    disqus = "disqus"
    wxr = "wxr"
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


def values(choices: type[StrEnum]) -> tuple[str, ...]:
    """The allowed values of an enum, as plain strings in declaration order."""
    return tuple(member.value for member in choices)


PAGE_OPEN, PAGE_CLOSED, PAGE_EMPTY, PAGE_ABSENT = values(PageStatus)
DECISIONS = values(Decision)
SENTIMENTS = values(Sentiment)
STATUSES = values(QueueStatus)
QUEUE_DECISIONS = values(QueueDecision)
ROLES = values(Role)
TASKS = values(Task)
ATTRIBUTES = values(Attribute)
OUTPUT_FORMATS = values(OutputFormat)
INPUT_FORMATS = values(InputFormat)


@dataclass(frozen=True)
class Comment:
    """One reader comment isolated from a page or an export."""

    id: str
    page: str
    author: str | None
    published: str | None  # ISO 8601, with the UTC offset when the source gives one
    text: str
    reply_to: str | None = None
    status: str | None = None  # moderation status given by the source (e.g. WordPress "hold")
    extra: dict[str, Any] = field(default_factory=dict)  # input columns kept as they were

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        return {**extra, **data}


@dataclass(frozen=True)
class Page:
    """A parsed source document: its comments and what the page says about them."""

    source: str
    format: str
    status: str
    comments: tuple[Comment, ...] = ()
    declared_count: int | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "status": self.status,
            "declared_count": self.declared_count,
            "found": len(self.comments),
            "warnings": list(self.warnings),
            "comments": [c.to_dict() for c in self.comments],
        }


@dataclass(frozen=True)
class Result:
    """The scores and decision for one comment text."""

    text: str
    hostile: float
    shouting: bool
    caps_ratio: float
    decision: str
    reasons: tuple[str, ...]
    model: str
    sentiment: str | None = None
    sentiment_scores: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Flat fields (one per CSV column): the sentiment probabilities become
        ``negative``, ``neutral`` and ``positive`` (None without a sentiment model).

        Built by hand rather than with ``asdict``: the scorer calls this once per comment.
        """
        scores = self.sentiment_scores or {}
        return {
            "text": self.text,
            "hostile": self.hostile,
            "shouting": self.shouting,
            "caps_ratio": self.caps_ratio,
            "sentiment": self.sentiment,
            **{label: scores.get(label) for label in SENTIMENTS},
            "decision": self.decision,
            "reasons": list(self.reasons),
            "model": self.model,
        }
