"""HTML to comment text, shared by the HTML, Disqus and WordPress parsers.

Block elements (``<p>``, ``<div>``, ``<li>``...) become paragraphs (a blank
line), ``<br>`` a line break; scripts and styles are dropped; the result goes
through :func:`classifier.text.clean_text` like every other text.
"""

from __future__ import annotations

import html
import re

from lxml import etree
from lxml import html as lxml_html

from classifier.text import clean_text

_BLOCKS = frozenset(
    "p div li ul ol dl dt dd blockquote pre h1 h2 h3 h4 h5 h6 section article header footer aside "
    "table thead tbody tr figure figcaption hr address main nav form fieldset details summary".split()
)
_SKIPPED = frozenset(("script", "style", "template", "noscript", "head"))
_WHITESPACE = re.compile(r"\s+")


def element_text(element: etree._Element, keep_newlines: bool = False) -> str:
    """Visible text of an element, paragraphs kept; ``keep_newlines`` keeps the source's own line breaks."""
    parts: list[str] = []

    def add(text: str | None) -> None:
        if text:
            parts.append(text if keep_newlines else _WHITESPACE.sub(" ", text))

    def walk(node: etree._Element) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else None
        if tag is None or tag in _SKIPPED:  # comments, processing instructions, scripts
            return
        block = tag.split(":")[-1] in _BLOCKS
        if tag == "br":
            parts.append("\n")
        if block:
            parts.append("\n\n")
        add(node.text)
        for child in node:
            walk(child)
            add(child.tail)
        if block:
            parts.append("\n\n")

    walk(element)
    return clean_text("".join(parts))


def fragment_text(fragment: str | None, keep_newlines: bool = True) -> str:
    """Clean text of a string that may hold HTML markup (a Disqus message, a WordPress comment)."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return clean_text(html.unescape(fragment))
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(html.unescape(fragment))
    return element_text(root, keep_newlines=keep_newlines)
