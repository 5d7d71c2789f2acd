"""Disqus XML exports: ``<thread>`` and ``<post>`` elements under ``<disqus>``.

Each post names its thread and, for a reply, its parent by ``dsq:id``;
``<message>`` is HTML (paragraphs kept); ``<createdAt>`` is UTC. Deleted
and spam posts are skipped unless ``keep_deleted`` (then kept with status
``deleted`` or ``spam``); a reply to a skipped post points at the nearest
kept ancestor. The page of a comment is its thread's ``<link>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from classifier.errors import InputError
from classifier.parse.building import Draft, clean_author, finish
from classifier.parse.dates import parse_datetime
from classifier.parse.markup import fragment_text
from classifier.parse.reading import Source, Warn, child_text, children, local_name, xml_root
from classifier.schema import PAGE_EMPTY, PAGE_OPEN, Page

if TYPE_CHECKING:
    from classifier.parse import ParseOptions

FORMAT = "disqus"


def _dsq_id(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return next((v for k, v in element.attrib.items() if etree.QName(k).localname == "id"), None)


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def parse_disqus(source: Source, options: ParseOptions, warn: Warn) -> Page:
    """Comments of one Disqus export."""
    root = xml_root(source, warn)
    if local_name(root) != "disqus":
        raise InputError(f"{source.name}: not a Disqus export (root element <{local_name(root)}>)")
    pages = {}
    for thread in (c for c in root if local_name(c) == "thread"):
        fields = children(thread)
        pages[_dsq_id(thread)] = child_text(fields, "link") or child_text(fields, "title") or source.name
    drafts = []
    for post in (c for c in root if local_name(c) == "post"):
        fields = children(post)
        author = children(fields["author"]) if "author" in fields else {}
        deleted, spam = _true(child_text(fields, "isDeleted")), _true(child_text(fields, "isSpam"))
        approved = child_text(fields, "isApproved")
        status = "spam" if spam else "deleted" if deleted else "approved"
        if status == "approved" and approved and not _true(approved):
            status = "unapproved"
        created = child_text(fields, "createdAt")
        published = parse_datetime(created)
        text = fragment_text(child_text(fields, "message"))
        draft = Draft(
            page=pages.get(_dsq_id(fields.get("thread")), source.name),
            author=clean_author(child_text(author, "name") or child_text(author, "username")),
            published=published,
            text=text,
            source_id=_dsq_id(post),
            parent_source_id=_dsq_id(fields.get("parent")),
            status=status,
            keep=(options.keep_deleted or not (deleted or spam)) and (bool(text) or options.keep_deleted),
        )
        if created and not published:
            draft.extra["published_raw"] = created
        drafts.append(draft)
    comments = finish(drafts)
    return Page(source=source.name, format=FORMAT, status=PAGE_OPEN if comments else PAGE_EMPTY, comments=comments)
