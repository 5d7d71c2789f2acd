"""The moderation queue's logic: ingest (parse, score, triage, enqueue), review priority, and export.

* :func:`ingest` reads anything ``classifier parse`` reads, scores only comments not
  queued yet (idempotent by comment id) and enqueues them in short transactions, so two
  processes can ingest at once.
* :func:`triage` applies the deployment's opt-in rules (:class:`classifier.store.Settings`):
  banned words reject, suspect words hold in pending and are highlighted, and the
  auto-approve / auto-reject thresholds decide on arrival. With no settings every new
  comment waits in ``pending``.
* :func:`priority` orders the pending queue.
* :func:`export_rows` turns moderator decisions into labelled training rows, and
  :func:`split_holdout` sets a stable part of them aside to measure a retrained model.
* :func:`update_settings` applies changes to the deployment's rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from classifier.output import iter_chunks
from classifier.schema import Comment, Result
from classifier.store import APPROVED, PENDING, REJECTED, Entry, QueueStore, Settings, SettingsError
from classifier.text import fold

#: Columns of the retraining export: ``text,label`` first (rejected = 1), then the decision's metadata.
EXPORT_COLUMNS = (
    "text", "label", "author", "published", "decision", "decided_by", "decided_at", "note", "model", "id", "source_id", "page",
)  # fmt: skip

#: Comments scored and enqueued per transaction during ingest.
INGEST_BATCH = 500


class Scorer(Protocol):
    """What ingest needs from a model: :class:`classifier.moderator.Moderator` fits."""

    def score(self, texts: Sequence[str]) -> list[Result]: ...


def priority(hostile: float, held: bool = False) -> float:
    """Review priority of a pending comment: higher is reviewed first.

    ``max(hostile, uncertainty)`` with ``uncertainty = 1 - |2 * hostile - 1|`` (1 at
    hostile = 0.5, 0 at 0 or 1): likely hostile comments and the ones the model is
    least sure about come first, clearly harmless ones last. A comment held by a
    suspect word gets +1 so it comes before every other.
    """
    uncertainty = 1.0 - abs(2.0 * hostile - 1.0)
    return max(hostile, uncertainty) + (1.0 if held else 0.0)


def find_words(text: str, words: Iterable[str]) -> tuple[str, ...]:
    """The configured ``words`` (or phrases) that occur as whole words in ``text``, folded."""
    folded = fold(text)
    return tuple(w for w in words if re.search(rf"(?<!\w){re.escape(fold(w))}(?!\w)", folded))


def normalise_word(word: str) -> str:
    """A banned or suspect word as stored: trimmed and lowercased (matching folds accents too)."""
    return " ".join(word.split()).lower()


def probability_or_off(value: str | float | None, name: str) -> float | None:
    """A threshold option's value: ``off`` (or None) disables it, else a probability between 0 and 1.

    Raises :class:`~classifier.store.SettingsError` (a usage error, exit code 2) otherwise.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name}: expected a probability between 0 and 1 or 'off', got {value!r}") from None
    if not 0.0 <= number <= 1.0:  # also refuses nan
        raise SettingsError(f"{name}: expected a probability between 0 and 1 or 'off', got {value!r}")
    return number


_UNCHANGED = object()


def update_settings(
    current: Settings,
    *,
    auto_approve_below: Any = _UNCHANGED,
    auto_reject_above: Any = _UNCHANGED,
    ban: Iterable[str] = (),
    unban: Iterable[str] = (),
    suspect: Iterable[str] = (),
    unsuspect: Iterable[str] = (),
) -> Settings:
    """``current`` with the changes applied: thresholds (a probability, or ``off``/None to disable)
    and words added or removed (normalised, each once, in the order first given).

    Raises :class:`~classifier.store.SettingsError` (exit code 2) for a value that makes no sense.
    """
    changes: dict[str, Any] = {}
    for key, value in (("auto_approve_below", auto_approve_below), ("auto_reject_above", auto_reject_above)):
        if value is not _UNCHANGED:
            changes[key] = probability_or_off(value, "--" + key.replace("_", "-"))
    for key, add, remove in (("banned", ban, unban), ("suspect", suspect, unsuspect)):
        add, remove = list(add or ()), list(remove or ())
        if add or remove:
            gone = {normalise_word(w) for w in remove}
            words = [w for w in getattr(current, key) if w not in gone]
            words += [w for w in map(normalise_word, add) if w and w not in words]
            changes[key] = tuple(words)
    return replace(current, **changes)


def triage(result: Result, settings: Settings) -> tuple[str, str | None, tuple[str, ...]]:
    """Status on arrival, why a rule decided it (None when pending), and the suspect words found."""
    banned = find_words(result.text, settings.banned)
    suspect = find_words(result.text, settings.suspect)
    if banned:
        return REJECTED, f"banned word: {', '.join(banned)}", suspect
    if settings.auto_reject_above is not None and result.hostile > settings.auto_reject_above:
        return REJECTED, f"hostile {result.hostile:.3f} above auto-reject-above {settings.auto_reject_above:g}", suspect
    if suspect:
        return PENDING, None, suspect
    if settings.auto_approve_below is not None and result.hostile < settings.auto_approve_below:
        return APPROVED, f"hostile {result.hostile:.3f} below auto-approve-below {settings.auto_approve_below:g}", suspect
    return PENDING, None, suspect


def make_entry(comment: Comment, result: Result, settings: Settings) -> Entry:
    """The queue entry for one parsed and scored comment."""
    status, note, suspect = triage(result, settings)
    return Entry(
        id=comment.id,
        page=comment.page,
        source_id=None if comment.extra.get("source_id") is None else str(comment.extra["source_id"]),
        author=comment.author,
        published=comment.published,
        text=comment.text,
        reply_to=comment.reply_to,
        source_status=comment.status,
        hostile=float(result.hostile),
        shouting=bool(result.shouting),
        caps_ratio=float(result.caps_ratio),
        sentiment=result.sentiment,
        reasons=tuple(result.reasons),
        suspect=suspect,
        model=result.model,
        model_decision=result.decision,
        priority=priority(result.hostile, held=bool(suspect)),
        status=status,
        auto_note=note,
    )


@dataclass
class IngestReport:
    """What one ingest did; ``failed`` counts sources that could not be read."""

    pages: int = 0
    comments: int = 0
    added: int = 0
    approved: int = 0
    rejected: int = 0
    failed: int = 0

    @property
    def already(self) -> int:
        return self.comments - self.added

    def summary(self) -> str:
        return (
            f"{self.pages} page(s), {self.comments} comment(s): {self.added} new "
            f"({self.approved} auto-approved, {self.rejected} auto-rejected), {self.already} already queued"
            + (f"; {self.failed} source(s) failed" if self.failed else "")
        )


def ingest(
    store: QueueStore,
    paths: Sequence[str | Path],
    scorer: Scorer,
    input_format: str | None = None,
    on_error: Callable[[str], Any] | None = None,
    batch: int = INGEST_BATCH,
) -> IngestReport:
    """Parse ``paths``, score the comments not queued yet and enqueue them.

    Idempotent by comment id: ingesting the same sources again adds nothing (and scores
    nothing). Safe to run from several processes at once: each batch is one short
    transaction and ``INSERT OR IGNORE`` keeps the first copy of a comment.
    """
    from classifier.parse import iter_pages

    report = IngestReport()

    def failed(message: Any) -> None:
        report.failed += 1
        if on_error is not None:
            on_error(message)

    def comments() -> Iterator[Comment]:
        for page in iter_pages([str(p) for p in paths], input_format=input_format, on_error=failed):
            report.pages += 1
            yield from page.comments

    settings = store.settings()
    for chunk in iter_chunks(comments(), batch):
        report.comments += len(chunk)
        unique: dict[str, Comment] = {}
        for comment in chunk:
            unique.setdefault(comment.id, comment)  # first copy of an id wins
        known = store.known_ids(list(unique))
        new = [c for c in unique.values() if c.id not in known]
        if not new:
            continue
        entries = [make_entry(c, r, settings) for c, r in zip(new, scorer.score([c.text for c in new]))]
        report.added += store.enqueue(entries)
        report.approved += sum(e.status == APPROVED for e in entries)
        report.rejected += sum(e.status == REJECTED for e in entries)
    if report.added:
        store.optimize()  # the planner's statistics follow the new rows
    return report


def export_rows(store: QueueStore) -> Iterator[dict[str, Any]]:
    """Moderator decisions as labelled rows (:data:`EXPORT_COLUMNS`): rejected = 1, approved = 0.

    Only comments whose current status a person decided; decisions taken by the
    deployment's rules at ingest are not training labels.
    """
    for c in store.moderated():
        yield {
            "text": c["text"],
            "label": 1 if c["status"] == REJECTED else 0,
            "author": c["author"],
            "published": c["published"],
            "decision": "reject" if c["status"] == REJECTED else "approve",
            "decided_by": c["decided_by"],
            "decided_at": c["decided_at"],
            "note": c["note"],
            "model": c["model"],
            "id": c["id"],
            "source_id": c["source_id"],
            "page": c["page"],
        }


def in_context(store: QueueStore, comments: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Comments with what a moderator weighs beside them: the author's history and, for a reply, its parent.

    ``author_history`` counts the author's comments per status (one indexed query for the
    whole list); ``parent`` is the replied-to comment when it is in the queue.
    """
    history = store.author_history([c["author"] for c in comments if c.get("author")])
    parents = store.get_many([c["reply_to"] for c in comments if c.get("reply_to")])
    listed = []
    for c in comments:
        parent = parents.get(c.get("reply_to") or "")
        brief = None if parent is None else {k: parent[k] for k in ("id", "author", "text", "status")}
        listed.append({**c, "author_history": history.get(c.get("author") or ""), "parent": brief})
    return listed


def split_holdout(rows: Iterable[dict[str, Any]], fraction: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Export rows split into (kept, held out): a stable ``fraction`` of them by :func:`in_holdout`."""
    kept: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for row in rows:
        (held if in_holdout(row["id"], fraction) else kept).append(row)
    return kept, held


def in_holdout(comment_id: str, fraction: float) -> bool:
    """Whether a decided comment belongs to the held-out part of the decisions.

    Decided by a hash of the comment id, so a comment held out once stays held out in
    every later export: a retrained model is never measured on what it was trained on.
    """
    return int(hashlib.sha1(comment_id.encode("utf-8")).hexdigest()[:8], 16) / 2**32 < fraction
