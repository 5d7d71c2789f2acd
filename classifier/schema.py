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
    """Per-attribute scores: Perspective's production attributes (upper case on its API), plus our
    caps rule as ``SHOUTING_EXPERIMENTAL``. ``toxicity`` is the hostile model's probability; the
    next five come from the attribute model (``models/attributes-fr``)."""

    toxicity = "toxicity"
    severe_toxicity = "severe_toxicity"
    insult = "insult"
    threat = "threat"
    identity_attack = "identity_attack"
    profanity = "profanity"
    shouting_experimental = "shouting_experimental"


class Language(StrEnum):
    """Languages the models score (``classifier/language.py`` detects them); French first."""

    fr = "fr"
    en = "en"


class OutputFormat(StrEnum):
    """``--format`` of every command that writes records."""

    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


class PartitionFormat(StrEnum):
    """``score --engine dask --format``: how the partitions are written (Parquet by default)."""

    parquet = "parquet"
    jsonl = "jsonl"
    csv = "csv"


class Engine(StrEnum):
    """``score --engine``: where the scoring runs (this process, or a Dask cluster)."""

    local = "local"
    dask = "dask"


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
#: The caps rule as an attribute (its score is the share of capitals, not a probability).
SHOUTING_ATTRIBUTE = Attribute.shouting_experimental.value
#: The probabilities every :class:`Result` carries (None without their model).
SCORE_ATTRIBUTES = tuple(a for a in ATTRIBUTES if a != SHOUTING_ATTRIBUTE)
#: The attributes the attribute model learns (all but ``toxicity``).
MODEL_ATTRIBUTES = SCORE_ATTRIBUTES[1:]
LANGUAGES = values(Language)
DEFAULT_LANGUAGE = Language.fr.value
OUTPUT_FORMATS = values(OutputFormat)
PARTITION_FORMATS = values(PartitionFormat)
ENGINES = values(Engine)
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
    #: The language the comment was scored as (``"fr"``, ``"en"``; None: another language).
    language: str | None = None
    #: Per-attribute probabilities (:data:`SCORE_ATTRIBUTES`); the model's attributes are None without its model.
    attributes: dict[str, float | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Flat fields (one per CSV column): the sentiment probabilities become
        ``negative``, ``neutral`` and ``positive`` (None without a sentiment model), and
        each attribute becomes its own field (None without the attribute model).

        Built by hand rather than with ``asdict``: the scorer calls this once per comment.
        """
        scores = self.sentiment_scores or {}
        attributes = self.attributes or {}
        return {
            "text": self.text,
            "hostile": self.hostile,
            **{name: attributes.get(name) for name in SCORE_ATTRIBUTES},
            "shouting": self.shouting,
            "caps_ratio": self.caps_ratio,
            "sentiment": self.sentiment,
            **{label: scores.get(label) for label in SENTIMENTS},
            "decision": self.decision,
            "reasons": list(self.reasons),
            "language": self.language,
            "model": self.model,
        }
