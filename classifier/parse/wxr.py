"""WordPress WXR exports (RSS with ``wp:`` elements, WXR 1.0 to 1.2).

Each ``<item>`` (a post) holds its ``<wp:comment>`` elements. The instant
comes from ``comment_date_gmt`` (UTC, ``+00:00``), or, when WordPress left
it empty (``0000-00-00 00:00:00``), the site's wall-clock ``comment_date``
without offset. Pingbacks and trackbacks are skipped; unapproved comments are
kept with status ``unapproved``; spam and trash are skipped unless
``keep_deleted``. ``comment_parent`` names the parent's ``comment_id``. The
page of a comment is its post's ``<link>`` (or title).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from classifier.errors import InputError
from classifier.parse.building import Draft, clean_author, finish
from classifier.parse.dates import parse_datetime
from classifier.parse.markup import fragment_text
from classifier.parse.reading import Source, Warn, child_text, children, local_name, xml_root
from classifier.schema import PAGE_EMPTY, PAGE_OPEN, Page

if TYPE_CHECKING:
    from classifier.parse import ParseOptions

FORMAT = "wxr"

_STATUSES = {
    "1": "approved", "approve": "approved", "0": "unapproved", "hold": "unapproved", "spam": "spam", "trash": "trash"
}
_SKIPPED_TYPES = frozenset(("pingback", "trackback"))
_DELETED = frozenset(("spam", "trash"))


def _published(fields: dict) -> tuple[str | None, str]:
    gmt, local = child_text(fields, "comment_date_gmt"), child_text(fields, "comment_date")
    if gmt and not gmt.startswith("0000"):
        try:
            stamp = datetime.strptime(gmt, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
            return stamp.isoformat(), gmt
        except ValueError:
            pass
    if local and not local.startswith("0000"):
        return parse_datetime(local), local
    return None, local or gmt


def parse_wxr(source: Source, options: ParseOptions, warn: Warn) -> Page:
    """Comments of one WordPress export."""
    root = xml_root(source, warn)
    channel = children(root).get("channel") if local_name(root) == "rss" else None
    if channel is None:
        raise InputError(f"{source.name}: not a WordPress WXR export (no <rss><channel>)")
    drafts = []
    for item in (c for c in channel if local_name(c) == "item"):
        item_fields = children(item)
        page = child_text(item_fields, "link") or child_text(item_fields, "title") or source.name
        for comment in (c for c in item if local_name(c) == "comment"):
            fields = children(comment)
            if child_text(fields, "comment_type").lower() in _SKIPPED_TYPES:
                continue
            approved = child_text(fields, "comment_approved")
            status = _STATUSES.get(approved.lower(), approved or None)
            published, raw_date = _published(fields)
            parent = child_text(fields, "comment_parent")
            text = fragment_text(child_text(fields, "comment_content"))
            draft = Draft(
                page=page,
                author=clean_author(child_text(fields, "comment_author")),
                published=published,
                text=text,
                source_id=child_text(fields, "comment_id") or None,
                parent_source_id=parent if parent not in ("", "0") else None,
                status=status,
                keep=(options.keep_deleted or status not in _DELETED) and (bool(text) or options.keep_deleted),
            )
            if raw_date and not published:
                draft.extra["published_raw"] = raw_date
            drafts.append(draft)
    comments = finish(drafts)
    return Page(source=source.name, format=FORMAT, status=PAGE_OPEN if comments else PAGE_EMPTY, comments=comments)
