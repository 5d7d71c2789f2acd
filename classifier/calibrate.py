"""Thresholds for a newsroom's base rate, from the comments it approved.

Why: a threshold chosen on a training mix that is ~40 % hostile holds far too
many comments on a news site, where a few % are. Given comments a newsroom
accepted, the review and reject thresholds are set so that at most
``review_share`` of them would be held (``review`` or ``reject``, the shouting
rule included, as :func:`classifier.policy.decide` decides) and at most
``reject_share`` rejected. The shipped model's card uses the same function on
the dev articles of the published French comments; ``classifier calibrate``
applies it to a newsroom's own file or queue and writes the TOML config that
``score``, ``serve`` and the queue read (``--config``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifier.errors import EXIT_USAGE, ClassifierError
from classifier.schema import DECISIONS

APPROVE, REVIEW, REJECT = DECISIONS
DEFAULT_REJECT_SHARE = 0.01
DEFAULT_REVIEW_SHARE = 0.08
#: Thresholds are written with this many decimals (rounded up, so a share never exceeds its target).
DECIMALS = 4


def _above(scores: np.ndarray, allowed: int) -> float:
    """The lowest threshold (rounded up to :data:`DECIMALS`) that at most ``allowed`` scores reach."""
    if allowed >= len(scores):
        return 0.0
    if allowed < 0:
        return 1.0
    top = np.sort(scores)[::-1][allowed]  # every score >= the threshold must rank above this one
    step = 10.0**DECIMALS
    return min(1.0, round((math.floor(top * step) + 1) / step, DECIMALS))


def thresholds_for_shares(
    hostile: Sequence[float],
    shouting: Sequence[bool],
    *,
    reject_share: float = DEFAULT_REJECT_SHARE,
    review_share: float = DEFAULT_REVIEW_SHARE,
    shouting_policy: str = REVIEW,
) -> dict[str, float]:
    """Review and reject thresholds on P(hostile) that hold at most the given shares of these comments.

    Shouting comments that the policy holds anyway count against ``review_share``
    whatever their score. Review is never above reject: when shouting alone
    exceeds ``review_share``, review = reject.
    """
    if not 0 <= reject_share <= review_share <= 1:
        raise CalibrationError(f"need 0 <= reject share ({reject_share}) <= review share ({review_share}) <= 1")
    h = np.asarray(hostile, dtype=np.float64)
    s = np.asarray(shouting, dtype=bool)
    if not len(h):
        raise CalibrationError("no approved comments to calibrate on")
    n = len(h)
    reject = _above(h, math.floor(reject_share * n + 1e-9))
    held_anyway = s if shouting_policy != APPROVE else np.zeros(n, bool)
    review = _above(h[~held_anyway], math.floor(review_share * n + 1e-9) - int(held_anyway.sum()))
    return {"review": min(review, reject), "reject": reject}


class CalibrationError(ClassifierError):
    """Shares that make no sense, or nothing to calibrate on (a usage error)."""

    exit_code = EXIT_USAGE


def calibrate(
    model,
    texts: Iterable[str],
    *,
    reject_share: float = DEFAULT_REJECT_SHARE,
    review_share: float = DEFAULT_REVIEW_SHARE,
    shouting_policy: str = REVIEW,
    batch: int = 2000,
) -> dict[str, Any]:
    """Thresholds for ``model`` from approved ``texts``, and the shares they give on those texts."""
    from classifier.judge import held_shares
    from classifier.policy import Policy, decide
    from classifier.text import clean_text, shouting_scores

    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise CalibrationError("no approved comments to calibrate on")
    scores = np.concatenate(
        [np.asarray(model.predict_proba([clean_text(t) for t in texts[i : i + batch]]))[:, 1] for i in range(0, len(texts), batch)]
    )
    shouts = [s for s, _ in shouting_scores(texts)]
    thresholds = thresholds_for_shares(scores, shouts, reject_share=reject_share, review_share=review_share,
                                       shouting_policy=shouting_policy)  # fmt: skip
    policy = Policy(thresholds["review"], thresholds["reject"], shouting_policy)
    shares = held_shares([decide(h, s, policy) for h, s in zip(scores.tolist(), shouts)])
    return {"thresholds": thresholds, "policy": {"shouting": shouting_policy},
            "targets": {"review_share": review_share, "reject_share": reject_share}, "achieved": shares}  # fmt: skip


def approved_from_store(store) -> list[str]:
    """The texts of the comments a person approved in a queue (any :class:`~classifier.store.QueueStore`)."""
    from classifier.store import APPROVED

    return [c["text"] for c in store.moderated() if c.get("status") == APPROVED]


def write_config(path: str | Path, result: dict[str, Any], source: str) -> Path:
    """Write the thresholds and shouting policy as the TOML config that ``--config`` reads."""
    t, shares = result["thresholds"], result["achieved"]
    lines = [
        f"# written by `classifier calibrate` from {source}: {shares['n']} approved comments,",
        f"# of which {shares['held'] * 100:.1f} % would be held and {shares['rejected'] * 100:.1f} % rejected",
        "[thresholds]",
        f"review = {t['review']}",
        f"reject = {t['reject']}",
        "",
        "[policy]",
        f'shouting = "{result["policy"]["shouting"]}"',
        "",
    ]
    out = Path(path)
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def calibrate_source(
    *,
    approved: str | Path | None = None,
    db: str | Path | None = None,
    text_column: str | None = None,
    model: str | Path | None = None,
    reject_share: float = DEFAULT_REJECT_SHARE,
    review_share: float = DEFAULT_REVIEW_SHARE,
    shouting: str = REVIEW,
    out: str | Path | None = None,
    on_error=print,
) -> dict[str, Any]:
    """``classifier calibrate``: approved comments from a file (the score command's reader) or a queue -> thresholds.

    Bad rows of the file are reported through ``on_error`` and skipped. Writes
    the TOML config to ``out`` when given.
    """
    from classifier.model import load_model

    if shouting not in DECISIONS:
        raise CalibrationError(f"--shouting must be one of {', '.join(DECISIONS)}, got {shouting!r}")
    if approved is not None:
        from classifier.batch import iter_rows

        texts = [row.text for row in iter_rows([str(approved)], [], text_column, on_error)]
        source = Path(approved).name
    else:
        from classifier.store import open_store

        store = open_store(db)
        try:
            texts = approved_from_store(store)
        finally:
            store.close()
        source = f"the queue {Path(db).name}"
    loaded = load_model(model)
    result = calibrate(loaded, texts, reject_share=reject_share, review_share=review_share, shouting_policy=shouting)
    result["model"] = f"{loaded.name}@{loaded.version}"
    if out is not None:
        result["config"] = str(write_config(out, result, source))
    return result
