"""The decision policy: scores + thresholds -> ``approve`` / ``review`` / ``reject`` and reasons.

Pure functions with no model and no I/O beyond reading a config file, so the CLI,
the Python API and the moderation queue take the same decision for the same scores.

The policy, in order:

* ``hostile >= reject`` -> ``reject``;
* ``hostile >= review`` -> ``review``;
* a shouting comment (ALL CAPS, see :func:`classifier.text.is_shouting`) that would
  otherwise be approved gets the ``shouting`` decision of the policy (``review`` by
  default: most newsroom charters ask readers not to shout; set it to ``approve``
  to ignore shouting);
* otherwise ``approve``.

Thresholds come from the model card and can be overridden, first by a TOML config
file, then by explicit options::

    # moderation.toml
    [thresholds]
    review = 0.5
    reject = 0.9

    [policy]
    shouting = "review"   # or "approve" / "reject"
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifier.errors import EXIT_USAGE, ClassifierError, ModelError
from classifier.schema import DECISIONS

APPROVE, REVIEW, REJECT = DECISIONS
_RANK = {d: i for i, d in enumerate(DECISIONS)}


@dataclass(frozen=True)
class Policy:
    """Decision thresholds on the hostile probability, and what shouting alone triggers."""

    review: float
    reject: float
    shouting: str = REVIEW

    def __post_init__(self) -> None:
        for name in ("review", "reject"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
                raise PolicyError(f"threshold {name} must be a probability between 0 and 1, got {value!r}")
        if self.review > self.reject:
            raise PolicyError(f"review threshold ({self.review}) is above the reject threshold ({self.reject})")
        if self.shouting not in _RANK:
            raise PolicyError(f"policy shouting must be one of {', '.join(DECISIONS)}, got {self.shouting!r}")


class PolicyError(ClassifierError):
    """Thresholds or a config file that make no sense (a usage error)."""

    exit_code = EXIT_USAGE


def read_config(path: str | Path) -> dict[str, Any]:
    """The ``[thresholds]`` and ``[policy]`` settings of a TOML config file, flattened.

    Unknown tables or keys are refused, so a typo does not silently keep a default.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read config file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: invalid TOML ({exc})") from None
    allowed = {"thresholds": {"review", "reject"}, "policy": {"shouting"}}
    settings: dict[str, Any] = {}
    for table, values in data.items():
        if table not in allowed or not isinstance(values, dict):
            raise PolicyError(f"{path}: unknown setting [{table}] (expected [thresholds] or [policy])")
        for key, value in values.items():
            if key not in allowed[table]:
                raise PolicyError(f"{path}: unknown setting {table}.{key}")
            settings[key] = value
    return settings


def make_policy(
    card_thresholds: Mapping[str, float],
    config: str | Path | None = None,
    review: float | None = None,
    reject: float | None = None,
    shouting: str | None = None,
) -> Policy:
    """The policy in force: the model card's thresholds, then the config file, then explicit values.

    Card thresholds that make no sense are the model's fault (:class:`~classifier.errors.ModelError`,
    exit code 3); a config file or option that makes no sense is a usage error (exit code 2).
    """
    try:
        settings: dict[str, Any] = {"review": float(card_thresholds["review"]), "reject": float(card_thresholds["reject"])}
        Policy(**settings)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ModelError(f"model card thresholds are incomplete: {card_thresholds!r}") from None
    except PolicyError as exc:
        raise ModelError(f"model card thresholds are invalid: {exc}") from None
    if config is not None:
        settings.update(read_config(config))
    explicit = {"review": review, "reject": reject, "shouting": shouting}
    settings.update({k: v for k, v in explicit.items() if v is not None})
    return Policy(**settings)


def decide(hostile: float, shouting: bool, policy: Policy) -> str:
    """The decision for one comment."""
    if hostile >= policy.reject:
        return REJECT
    if hostile >= policy.review:
        return REVIEW
    return policy.shouting if shouting else APPROVE


def needs_explanation(hostile: float, policy: Policy) -> bool:
    """Whether the n-grams behind the score are worth computing: only when hostility alone flags it."""
    return hostile >= policy.review


def shouting_reason(caps_ratio: float) -> str:
    """The readable reason for the shouting rule, e.g. ``shouting (caps 92%)``."""
    return f"shouting (caps {round(caps_ratio * 100)}%)"


def reasons(ngrams: Iterable[str], shouting: bool, caps_ratio: float) -> tuple[str, ...]:
    """Short readable reasons: the n-grams that pushed the score up, then the shouting rule if it fired."""
    out = [g for g in ngrams if g]
    if shouting:
        out.append(shouting_reason(caps_ratio))
    return tuple(out)


def reaches(decision: str, level: str) -> bool:
    """True when ``decision`` is at least as severe as ``level`` (``review`` is reached by ``reject`` too)."""
    return _RANK[decision] >= _RANK[level]
