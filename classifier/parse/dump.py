"""Page text dumps: the visible text of an article page, comments included.

The layout this reads (see ``seeds/000_*.txt``)::

    Commentaires (3)

      • First paragraph of the comment...

        Second paragraph.

        AUTHOR NAME

        19 h 55, le 19 septembre 2015

A comment is anchored on its timestamp line; the short line just above it is
the author (often in capitals: it is a name, not text), and the text runs
back to the comment's bullet, or to the previous comment or section header.
Deeper indentation, or an "En réponse à NAME" line, makes a reply. A featured
preview of a comment that the full list repeats is counted once. The page
status says whether comments are open, closed, empty or absent, and the
declared count "Commentaires (N)" is checked against what was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from classifier.parse.building import Draft, clean_author, finish
from classifier.parse.dates import find_datetime, is_relative
from classifier.parse.reading import Source, Warn, decode
from classifier.schema import PAGE_ABSENT, PAGE_CLOSED, PAGE_EMPTY, PAGE_OPEN, Page
from classifier.text import clean_text
from classifier.text import fold_same_length as fold

if TYPE_CHECKING:
    from classifier.parse import ParseOptions

FORMAT = "dump"

_BULLETS = "•◦▪●·*"
_HEADER = re.compile(
    r"(?:commentaires?|reactions?|comments?|avis des lecteurs|vos commentaires|vos reactions)"
    r"\s*(?:\(\s*(?P<count>\d+)\s*\))?"
    r"|(?P<count2>\d+)\s+(?:commentaires?|reactions?|comments?)"
)
_FILLER = re.compile(
    r"\b(?:le|la|l'|a|at|on|publie|poste|posted|ecrit|written|commente|commented|modifie|edited|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|repondre|signaler|un abus|reply|report)\b"
    r"|[\s,;:|()\[\]\-–—•·]"
)
_BY = re.compile(r"^(?:posted by|publié par|publie par|écrit par|ecrit par|par|by)\s+", re.IGNORECASE)
_WROTE = re.compile(r"\s+(?:a écrit|a ecrit|wrote|said)\s*:?\s*$", re.IGNORECASE)
_AUTHOR_AFTER = re.compile(r"^[\s,;|–—·-]*(?:par|by|de)\s+(?P<author>.{1,60}?)\s*$", re.IGNORECASE)
_ANY_AUTHOR = re.compile(r"^(?P<author>.{1,60}?)\s*$")
_AUTHOR_SEPARATED = re.compile(r"^(?P<author>.{1,60}?)\s*(?:[,|–—·-]|\ble\b|\bon\b)\s*$", re.IGNORECASE)
_JUNK = re.compile(
    r"(?:repondre|signaler(?: un abus)?|reply|report|like|j'aime|partager|share|tous les commentaires|"
    r"voir (?:tous )?les commentaires|afficher (?:plus|la suite)|lire la suite|show more|load more|"
    r"retour en haut|back to top|\d+\s*(?:likes?|j'aime|reponses?|replies|votes?))[\s.!]*"
)
_REPLY_TO = re.compile(r"^(?:en reponse a|reponse a|in reply to|replying to|reply to)\s*:?\s*(?P<name>.+?)\s*$")
_CLOSED = re.compile(
    r"(?:suspendre|fermer|desactiver|fermeture|suspension|desactivation)\b[^.\n]{0,30}\bcommentaires"
    r"|commentaires?\b[^.\n]{0,40}\b(?:fermes?|clos|desactives?|suspendus?"
    r"|ne sont plus (?:acceptes|autorises|ouverts))\b"
    r"|(?:n'est plus|plus) possible de (?:commenter|reagir)"
    r"|comments?\b[^.\n]{0,30}\b(?:closed|disabled|suspended|turned off)\b"
    r"|(?:closed|disabled) (?:for )?comments"
)
_EMPTY = re.compile(
    r"aucun commentaire|pas (?:encore )?de (?:commentaire|reaction)|soyez le premier|0 commentaire"
    r"|no comments|be the first to comment"
    r"|(?:ajouter|laisser|ecrire|poster|publier) un commentaire|votre commentaire|leave a (?:comment|reply)"
    r"|(?:add|post|write) a comment|^\s*commentaire\s*:"
)
_AUTHOR_MAX_CHARS = 60
_AUTHOR_MAX_WORDS = 8


@dataclass
class _Line:
    index: int
    indent: int
    bullet: bool
    content: str  # stripped, bullet removed
    folded: str

    @property
    def blank(self) -> bool:
        return not self.content


@dataclass
class _Stamp:
    published: str | None
    author: str | None  # when the timestamp line also names the author
    raw: str


@dataclass
class _Found:
    author: str | None
    published: str | None
    text: str
    indent: int
    section: int
    reply_to_name: str | None
    extra: dict = field(default_factory=dict)


def _lines(text: str) -> list[_Line]:
    lines = []
    for i, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        bullet = bool(stripped) and stripped[0] in _BULLETS and (len(stripped) == 1 or stripped[1].isspace())
        content = stripped[1:].strip() if bullet else stripped
        lines.append(_Line(i, indent, bullet, content, fold(content)))
    return lines


def _header_count(line: _Line) -> tuple[bool, int | None]:
    match = _HEADER.fullmatch(line.folded)
    if not match:
        return False, None
    count = match["count"] or match["count2"]
    return True, int(count) if count else None


def _is_junk(line: _Line) -> bool:
    return _header_count(line)[0] or bool(_JUNK.fullmatch(line.folded))


def _stamp(line: _Line, in_comments: bool) -> _Stamp | None:
    """The timestamp on a line that holds nothing else (or only an author, inside the comment section)."""
    text = line.content
    if not text or len(text) > 120:
        return None
    if is_relative(text) and len(text) <= 40:
        return _Stamp(None, None, text)
    found = find_datetime(text)
    if not found or ("T" not in found.iso and not in_comments):
        return None
    start, end = min(s for s, _ in found.spans), max(e for _, e in found.spans)
    covered = "".join(" " if any(s <= i < e for s, e in found.spans) else ch for i, ch in enumerate(line.folded))
    if not _FILLER.sub("", covered).strip():
        return _Stamp(found.iso, None, text)
    if not in_comments or _FILLER.sub("", covered[start:end]).strip():
        return None
    prefix, suffix = text[:start].strip(), text[end:].strip()
    if _FILLER.sub("", covered[:start]).strip() == "":  # "19/09/2015 19:55, par NAME"
        match = _AUTHOR_AFTER.match(suffix)
    elif _FILLER.sub("", covered[end:]).strip() == "":  # "NAME - 19/09/2015", "Par NAME le 19/09/2015"
        name = _BY.sub("", prefix)
        match = _AUTHOR_SEPARATED.match(name) or (_BY.match(prefix) and _ANY_AUTHOR.match(name))
    else:
        return None
    author = match["author"].strip() if match else ""
    return _Stamp(found.iso, author, text) if _looks_like_author(author) else None


def _looks_like_author(text: str) -> bool:
    if not text or len(text) > _AUTHOR_MAX_CHARS or len(text.split()) > _AUTHOR_MAX_WORDS:
        return False
    if re.search(r"[!?…:;]$|\.\.$|\.\s+\S+\s", text):
        return False
    return not re.search(r"[.]$", text) or bool(re.search(r"(?:^|\s)\w{1,3}\.$", text))


def _first_comment_line(lines: list[_Line], start: int, end: int, bounded: bool) -> int:
    """Where a comment's text begins in lines[start:end]: its bullet, else after the junk."""
    bullets = [i for i in range(start, end) if lines[i].bullet]
    if bullets:
        return bullets[-1]
    if not bounded:  # no header or previous comment to stop at: take the last block only
        i = end
        while i > start and lines[i - 1].blank:
            i -= 1
        while i > start and not lines[i - 1].blank:
            i -= 1
        return i
    i = start
    while i < end and (lines[i].blank or _is_junk(lines[i])):
        i += 1
    return i


def _text(lines: list[_Line], start: int, end: int) -> tuple[str, str | None]:
    """Clean text of lines[start:end] (paragraphs kept) and the name a reply line points at."""
    while end > start and (lines[end - 1].blank or _is_junk(lines[end - 1])):
        end -= 1
    kept, reply_to = [], None
    for line in lines[start:end]:
        match = _REPLY_TO.match(line.folded) if not kept or all(not k for k in kept) else None
        if match:
            reply_to = line.content[match.start("name"):].strip()
            continue
        kept.append(line.content)
    return clean_text("\n".join(kept)), reply_to


def _same_comment(a: _Found, b: _Found) -> bool:
    if fold(a.author or "") != fold(b.author or "") or a.published != b.published:
        return False
    short, long_ = sorted((a.text, b.text), key=len)
    short = short.rstrip(".… ").rstrip()
    return bool(short) and long_.startswith(short)


def _find_comments(lines: list[_Line]) -> tuple[list[_Found], list[int | None]]:
    headers = [i for i, line in enumerate(lines) if _header_count(line)[0]]
    stamp_lines = []
    region = 0
    for line in lines:
        in_comments = bool(headers) and line.index > headers[0]
        stamp = _stamp(line, in_comments)
        if stamp is not None and not line.bullet:
            stamp_lines.append((line.index, stamp))
    if headers and stamp_lines:
        before = [h for h in headers if h < stamp_lines[0][0]]
        region = before[-1] if before else headers[0]
        stamp_lines = [(i, s) for i, s in stamp_lines if i > region]
    found: list[_Found] = []
    boundary, section = (region if headers else -1), 0
    for index, stamp in stamp_lines:
        author, text_end, indent_line = stamp.author, index, lines[index]
        if author is None:
            prev = index - 1
            while prev > boundary and lines[prev].blank:
                prev -= 1
            candidate = lines[prev] if prev > boundary else None
            name = _WROTE.sub("", _BY.sub("", candidate.content)) if candidate else ""
            if candidate and not candidate.bullet and not _is_junk(candidate) and _looks_like_author(name):
                author, text_end, indent_line = name, prev, candidate
        if any(h in headers for h in range(boundary + 1, text_end)):
            section += 1
        start = _first_comment_line(lines, boundary + 1, text_end, bounded=boundary >= 0)
        text, reply_name = _text(lines, start, text_end)
        if not text and stamp.author is None and author is not None:  # a one-line comment with no author
            author, text_end, indent_line = None, index, lines[index]
            start = _first_comment_line(lines, boundary + 1, text_end, bounded=boundary >= 0)
            text, reply_name = _text(lines, start, text_end)
        bulleted = start < text_end and lines[start].bullet
        if bulleted:
            indent_line = lines[start]
        extra = {} if stamp.published else {"published_raw": stamp.raw}
        if text and (headers or bulleted):  # without a comment section, only bulleted comments (not bylines)
            author = clean_author(author)
            found.append(_Found(author, stamp.published, text, indent_line.indent, section, reply_name, extra))
        boundary = index
    return found, _reply_parents(found)


def _reply_parents(found: list[_Found]) -> list[int | None]:
    parents: list[int | None] = []
    stack: list[int] = []
    for i, comment in enumerate(found):
        if i and comment.section != found[i - 1].section:
            stack = []
        while stack and found[stack[-1]].indent >= comment.indent:
            stack.pop()
        parent = stack[-1] if stack else None
        if comment.reply_to_name:
            named = fold(comment.reply_to_name).lstrip("@")
            by_name = [j for j in range(i) if found[j].author and fold(found[j].author) == named]
            parent = by_name[-1] if by_name else parent
        parents.append(parent)
        stack.append(i)
    return parents


def _dedupe(found: list[_Found], parents: list[int | None]) -> list[Draft]:
    """Drop a preview comment that a later section repeats (keeping the longer text)."""
    repeated: dict[int, int] = {}
    for i, a in enumerate(found):
        for j in range(i + 1, len(found)):
            if found[j].section != a.section and _same_comment(a, found[j]):
                repeated[i] = j
                break
    drafts = []
    for i, comment in enumerate(found):
        text = comment.text
        for k, j in repeated.items():
            if j == i and len(found[k].text) > len(text):
                text = found[k].text
        parent = parents[i]
        while parent in repeated:
            parent = repeated[parent]
        drafts.append(
            Draft(
                page="",
                author=comment.author,
                published=comment.published,
                text=text,
                parent_index=parent,
                keep=i not in repeated,
                extra=comment.extra,
            )
        )
    return drafts


def parse_dump(text: str, name: str) -> Page:
    """Comments, status and declared count of one page text dump."""
    lines = _lines(text)
    found, parents = _find_comments(lines)
    drafts = _dedupe(found, parents)
    for draft in drafts:
        draft.page = name
    comments = finish(drafts)
    counts = [c for line in lines for is_header, c in [_header_count(line)] if is_header and c is not None]
    declared = counts[-1] if counts else None
    warnings = []
    if declared is not None and declared != len(comments):
        warnings.append(f"{name}: the page declares {declared} comments, {len(comments)} found")
    folded = fold(text)
    if comments:
        status = PAGE_OPEN
    elif _CLOSED.search(folded):
        status = PAGE_CLOSED
    elif counts or any(_header_count(line)[0] for line in lines) or re.search(_EMPTY.pattern, folded, re.MULTILINE):
        status = PAGE_EMPTY
    else:
        status = PAGE_ABSENT
    return Page(
        source=name, format=FORMAT, status=status, comments=comments, declared_count=declared, warnings=tuple(warnings)
    )


def parse(source: Source, options: ParseOptions, warn: Warn) -> Page:
    """The :data:`classifier.parse.PARSERS` entry: a whole page dump, decoded."""
    return parse_dump(decode(source, warn), source.name)
