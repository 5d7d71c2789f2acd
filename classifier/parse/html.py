"""HTML pages that mark comments up with schema.org ``Comment``.

Two markups are read, JSON-LD first, then microdata (a comment already found
in JSON-LD is not counted again):

* JSON-LD: ``Comment`` objects anywhere (``@graph``, an article's ``comment``
  list, a comment's own ``comment`` list for its replies), with ``author`` as
  a string or a Person, ``dateCreated``/``datePublished``, ``text``, and
  ``parentItem`` as an object or an ``{"@id": ...}`` reference.
* microdata: elements with ``itemtype`` schema.org/Comment, their ``author``
  (or its ``name``), ``dateCreated``/``datePublished`` (``content`` or
  ``datetime`` attributes), ``text``; a comment nested in another is a reply.

A page without schema.org comments is read as a text dump of its visible
text (:mod:`classifier.parse.dump`), which also gives its status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lxml import etree
from lxml import html as lxml_html

from classifier.errors import InputError
from classifier.parse.building import Draft, clean_author, finish
from classifier.parse.dates import parse_datetime
from classifier.parse.dump import parse_dump
from classifier.parse.markup import element_text, fragment_text
from classifier.parse.reading import Source, Warn, decode
from classifier.schema import PAGE_OPEN, Page

if TYPE_CHECKING:
    from classifier.parse import ParseOptions

FORMAT = "html"

_COMMENT_TYPES = frozenset(("Comment", "UserComments", "Answer", "CorrectionComment"))
_ITEMTYPE = re.compile(r"^https?://(?:www\.)?schema\.org/(?P<type>\w+)/?$")
_DATE_KEYS = ("dateCreated", "datePublished", "commentTime", "uploadDate", "dateModified")
_TEXT_KEYS = ("text", "commentText", "articleBody", "description")
_NOT_NESTED = frozenset(("parentItem", "author", "creator", "publisher", "isPartOf", "about", "image", "@context"))


def _types(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if v}


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _name(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName") or value.get("givenName")
        value = _first(value)
    return clean_author(value) if isinstance(value, (str, int)) else None


def _reference(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or value.get("identifier")
    return str(value) if value not in (None, "") else None


class _Index:
    """Finds a comment by its source id, by exact match or by the #fragment."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}

    @staticmethod
    def _forms(ref: str) -> list[str]:
        ref = ref.strip()
        return [ref, ref.rsplit("#", 1)[-1]] if "#" in ref else [ref]

    def add(self, ref: str | None, index: int) -> None:
        for form in self._forms(ref) if ref else []:
            self._keys.setdefault(form, index)

    def find(self, ref: str | None) -> int | None:
        return next((self._keys[f] for f in self._forms(ref) if f in self._keys), None) if ref else None


def _jsonld_blocks(doc: etree._Element, name: str, warnings: list[str]) -> Iterator[Any]:
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = (script.text or "").strip()
        raw = re.sub(r"^\s*(?://)?\s*<!\[CDATA\[|(?://)?\s*\]\]>\s*$", "", raw)
        if not raw:
            continue
        try:
            yield json.loads(raw)
        except json.JSONDecodeError as exc:
            warnings.append(f"{name}: skipped a JSON-LD block that is not valid JSON (line {exc.lineno}: {exc.msg})")


def _nodes_by_id(node: Any, index: dict[str, dict]) -> dict[str, dict]:
    """Every JSON-LD object that has an @id and more than a reference, by @id."""
    if isinstance(node, list):
        for item in node:
            _nodes_by_id(item, index)
    elif isinstance(node, dict):
        if isinstance(node.get("@id"), str) and set(node) - {"@id", "@type"}:
            index.setdefault(node["@id"], node)
        for value in node.values():
            _nodes_by_id(value, index)
    return index


def _jsonld_comments(blocks: list[Any], page: str) -> list[tuple[Draft, str | None, int | None]]:
    """(draft, parentItem reference, index of the enclosing comment) for each JSON-LD comment.

    A comment met twice (by the same @id) counts once; ``{"@id": ...}``
    references to an author or a comment defined elsewhere are followed.
    """
    by_id = _nodes_by_id(blocks, {})
    found: list[tuple[Draft, str | None, int | None]] = []
    known = _Index()
    walked: set[int] = set()
    pending: list[Any] = []

    def resolve(value: Any) -> Any:
        value = _first(value)
        if isinstance(value, dict) and not set(value) - {"@id", "@type"}:
            return by_id.get(value.get("@id"), value)
        return value

    def add(node: dict, parent: int | None) -> int | None:
        source_id = _reference({k: node.get(k) for k in ("@id", "url", "identifier")})
        existing = known.find(source_id)
        if existing is not None:
            return existing
        text = fragment_text(next((node[k] for k in _TEXT_KEYS if isinstance(node.get(k), str)), ""))
        if not text:
            return parent
        date = _first(next((node[k] for k in _DATE_KEYS if node.get(k)), None))
        published = parse_datetime(date)
        draft = Draft(
            page=page,
            author=_name(resolve(node.get("author") or node.get("creator"))),
            published=published,
            text=text,
            source_id=source_id,
        )
        if date and not published:
            draft.extra["published_raw"] = str(date)
        found.append((draft, _reference(node.get("parentItem")), parent))
        known.add(source_id, len(found) - 1)
        return len(found) - 1

    def walk(node: Any, parent: int | None) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, parent)
            return
        node = resolve(node)
        if not isinstance(node, dict) or id(node) in walked:
            return
        walked.add(id(node))
        current = add(node, parent) if _types(node.get("@type")) & _COMMENT_TYPES else parent
        if "parentItem" in node:
            pending.append(node["parentItem"])
        for key, value in node.items():
            if key not in _NOT_NESTED:
                walk(value, current)

    walk(blocks, None)
    for parent_item in pending:  # a parent given only inside its reply's parentItem
        walk(parent_item, None)
    return found


def _itemtype(element: etree._Element) -> str | None:
    for value in (element.get("itemtype") or "").split():
        match = _ITEMTYPE.match(value)
        if match:
            return match["type"]
    return None


def _properties(scope: etree._Element) -> dict[str, list[etree._Element]]:
    """The itemprop elements that belong to this item (not to an item nested in it)."""
    props: dict[str, list[etree._Element]] = {}
    stack = list(reversed(list(scope)))
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue
        for prop in (element.get("itemprop") or "").split():
            props.setdefault(prop.rsplit("/", 1)[-1], []).append(element)
        if element.get("itemscope") is None:
            stack.extend(reversed(list(element)))
    return props


def _prop_value(element: etree._Element) -> str:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    for attr in ("content", "datetime") + (("href",) if tag in ("a", "link", "area") else ()) + (
        ("src",) if tag in ("img", "audio", "video", "source", "iframe", "embed") else ()
    ) + (("value",) if tag in ("data", "meter") else ()):
        if element.get(attr) is not None:
            return element.get(attr)
    return " ".join(element.text_content().split())


def _microdata_comments(doc: etree._Element, page: str) -> list[tuple[Draft, str | None, int | None]]:
    found: list[tuple[Draft, str | None, int | None]] = []
    positions: dict[etree._Element, int] = {}
    for element in doc.iter():
        if not isinstance(element.tag, str) or element.get("itemscope") is None:
            continue
        if _itemtype(element) not in _COMMENT_TYPES or "parentItem" in (element.get("itemprop") or ""):
            continue  # not a comment, or only the reference to a reply's parent
        props = _properties(element)
        text_element = next((props[k][0] for k in _TEXT_KEYS if k in props), None)
        text = element_text(text_element) if text_element is not None else ""
        if not text:
            continue
        author = None
        for author_element in props.get("author", []) + props.get("creator", []):
            if author_element.get("itemscope") is not None:
                names = _properties(author_element).get("name")
                author = clean_author(_prop_value(names[0])) if names else clean_author(author_element.text_content())
            else:
                author = clean_author(_prop_value(author_element))
            if author:
                break
        date = next((_prop_value(props[k][0]) for k in _DATE_KEYS if k in props), None)
        published = parse_datetime(date)
        url = _prop_value(props["url"][0]) if "url" in props else None
        source_id = element.get("itemid") or element.get("id") or url
        parent_ref = None
        if "parentItem" in props:
            parent_element = props["parentItem"][0]
            parent_ref = parent_element.get("itemid") or parent_element.get("id") or _prop_value(parent_element)
            if parent_element.get("itemscope") is not None and "url" in _properties(parent_element):
                parent_ref = parent_element.get("itemid") or _prop_value(_properties(parent_element)["url"][0])
        enclosing = next((positions[a] for a in element.iterancestors() if a in positions), None)
        draft = Draft(page=page, author=author, published=published, text=text, source_id=source_id)
        if date and not published:
            draft.extra["published_raw"] = date
        positions[element] = len(found)
        found.append((draft, parent_ref, enclosing))
    return found


def _link(found: list[tuple[Draft, str | None, int | None]]) -> list[Draft]:
    index = _Index()
    for i, (draft, _, _) in enumerate(found):
        index.add(draft.source_id, i)
    drafts = []
    for i, (draft, parent_ref, enclosing) in enumerate(found):
        parent = index.find(parent_ref)
        draft.parent_index = parent if parent is not None and parent != i else enclosing
        drafts.append(draft)
    return drafts


def _canonical(doc: etree._Element) -> str | None:
    for xpath in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        values = [v.strip() for v in doc.xpath(xpath) if v.strip()]
        if values:
            return values[0]
    return None


def parse_html(text: str, name: str) -> Page:
    """Comments of one HTML page (schema.org JSON-LD and microdata)."""
    try:
        doc = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"{name}: not an HTML page ({exc})") from None
    page = _canonical(doc) or name
    warnings: list[str] = []
    jsonld = _jsonld_comments(list(_jsonld_blocks(doc, name, warnings)), page)
    drafts = _link(jsonld)
    # a comment marked up both ways counts once: its microdata copy maps to the JSON-LD one
    n_jsonld, jsonld_keys = len(drafts), {(d.author, d.text): i for i, d in enumerate(drafts)}
    microdata = _link(_microdata_comments(doc, page))
    position: list[int] = []
    for draft in microdata:
        duplicate = jsonld_keys.get((draft.author, draft.text))
        position.append(duplicate if duplicate is not None else n_jsonld + sum(p >= n_jsonld for p in position))
    for draft, at in zip(microdata, position):
        if at >= n_jsonld:
            draft.parent_index = position[draft.parent_index] if draft.parent_index is not None else None
            drafts.append(draft)
    if drafts:
        return Page(source=name, format=FORMAT, status=PAGE_OPEN, comments=finish(drafts), warnings=tuple(warnings))
    body = doc.find("body")
    visible = parse_dump(element_text(body if body is not None else doc), name)
    return replace(visible, format=FORMAT, warnings=tuple(warnings) + visible.warnings)


def parse(source: Source, options: ParseOptions, warn: Warn) -> Page:
    """The :data:`classifier.parse.PARSERS` entry: a whole HTML page, decoded."""
    return parse_html(decode(source, warn), source.name)
