"""From what a format parser found to :class:`~classifier.schema.Comment` records.

One place computes comment ids and reply links for every format: the id is
a hash of page, author, timestamp and text (stable across runs); a source's
own id is kept in ``extra["source_id"]``, and ``reply_to`` holds the
parent's id as computed here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from classifier.schema import Comment
from classifier.text import clean_text

#: Length of a comment id (hex digits of a sha1).
ID_LENGTH = 16


@dataclass
class Draft:
    """A comment as a format parser found it, before ids and reply links are settled.

    The parent is named either by its position among the drafts
    (``parent_index``) or by the source's own id (``parent_source_id``).
    Drafts with ``keep=False`` (deleted, spam...) get no record, but their
    replies are re-attached to the nearest kept ancestor.
    """

    page: str
    author: str | None
    published: str | None
    text: str
    source_id: str | None = None
    parent_source_id: str | None = None
    parent_index: int | None = None
    status: str | None = None
    keep: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def clean_author(author: object) -> str | None:
    """One line of clean text, or None when there is no name."""
    if author is None:
        return None
    name = " ".join(clean_text(str(author)).split())
    return name or None


def comment_id(page: str, author: str | None, published: str | None, text: str, occurrence: int = 0) -> str:
    """Stable id: sha1 of page, author, timestamp and text (plus the rank of an exact duplicate)."""
    key = "\x1f".join([page, author or "", published or "", text] + ([str(occurrence)] if occurrence else []))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:ID_LENGTH]


def _ids(drafts: list[Draft]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for draft in drafts:
        first = comment_id(draft.page, draft.author, draft.published, draft.text)
        occurrence = seen.get(first, 0)
        seen[first] = occurrence + 1
        ids.append(comment_id(draft.page, draft.author, draft.published, draft.text, occurrence) if occurrence else first)
    return ids


def _parents(drafts: list[Draft]) -> list[int | None]:
    by_source = {d.source_id: i for i, d in enumerate(drafts) if d.source_id is not None}
    parents: list[int | None] = []
    for i, draft in enumerate(drafts):
        parent = draft.parent_index
        if parent is None and draft.parent_source_id not in (None, ""):
            parent = by_source.get(draft.parent_source_id)
        parents.append(parent if parent != i else None)
    return parents


def finish(drafts: list[Draft]) -> tuple[Comment, ...]:
    """Comments with ids and reply links, in document order, without the dropped drafts."""
    ids = _ids(drafts)
    parents = _parents(drafts)
    comments = []
    for i, draft in enumerate(drafts):
        if not draft.keep:
            continue
        parent, hops = parents[i], 0
        while parent is not None and not drafts[parent].keep and hops < len(drafts):
            parent, hops = parents[parent], hops + 1
        extra = dict(draft.extra)
        if draft.source_id is not None:
            extra["source_id"] = draft.source_id
        comments.append(
            Comment(
                id=ids[i],
                page=draft.page,
                author=draft.author,
                published=draft.published,
                text=draft.text,
                reply_to=ids[parent] if parent is not None else None,
                status=draft.status,
                extra=extra,
            )
        )
    return tuple(comments)
