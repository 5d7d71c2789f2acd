"""The records that flow between parser, scorer, queue and CLI.

Frozen dataclasses with ``to_dict()``, so every output format (JSON, CSV,
table, HTTP) serialises the same fields in the same order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Page statuses reported by the parser.
PAGE_OPEN = "open"  # comments found
PAGE_CLOSED = "closed"  # the page says comments are closed/suspended
PAGE_EMPTY = "empty"  # a comment section (or form) exists but holds no comment
PAGE_ABSENT = "absent"  # no comment section at all

DECISIONS = ("approve", "review", "reject")
SENTIMENTS = ("negative", "neutral", "positive")


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
