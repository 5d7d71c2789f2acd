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
#: Languages the models score (``classifier/language.py`` detects them); French first.
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
#: Per-comment attribute scores besides ``hostile`` (Perspective's production attributes, lower case):
#: ``toxicity`` is the hostile model's probability, the others come from ``models/attributes-fr``.
ATTRIBUTES = ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity")
#: The attributes the attribute model learns (all but ``toxicity``).
MODEL_ATTRIBUTES = ATTRIBUTES[1:]
#: Our caps rule, exposed beside the attributes (its score is the caps ratio).
SHOUTING_ATTRIBUTE = "shouting_experimental"


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
    #: Per-attribute probabilities (:data:`ATTRIBUTES`); the model's attributes are None without its model.
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
            **{name: attributes.get(name) for name in ATTRIBUTES},
            "shouting": self.shouting,
            "caps_ratio": self.caps_ratio,
            "sentiment": self.sentiment,
            **{label: scores.get(label) for label in SENTIMENTS},
            "decision": self.decision,
            "reasons": list(self.reasons),
            "language": self.language,
            "model": self.model,
        }
