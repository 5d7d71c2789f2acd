"""Isolate reader comments (author, timestamp, text, replies) from pages and exports.

One module per input format: page text dumps (:mod:`.dump`), HTML with
schema.org comments (:mod:`.html`), Disqus exports (:mod:`.disqus`),
WordPress WXR exports (:mod:`.wxr`), and tables of comments in CSV, JSONL or
Parquet (:mod:`.tabular`). :func:`parse_path` and :func:`iter_pages` detect
the format and return :class:`~classifier.schema.Comment` and
:class:`~classifier.schema.Page` records::

    from classifier.parse import parse_path, iter_pages
    comments = parse_path("seeds/000_68b3043cf8606a9f.txt")
    for page in iter_pages(["seeds/", "export.xml"], on_error=print):
        print(page.source, page.status, len(page.comments))

A file that cannot be read (missing, binary, empty, malformed) raises
:class:`~classifier.errors.InputError` with a one-line message naming it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path

from classifier.errors import InputError
from classifier.parse.reading import STDIN, Source, Warn, decode, read_source
from classifier.schema import INPUT_FORMATS, Comment, Page

_SUFFIXES = {
    ".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".parquet": "parquet", ".pq": "parquet", ".html": "html", ".htm": "html", ".xhtml": "html",
}
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)
_XML_ROOT = re.compile(rb"^(?:\s*<\?[^>]*\?>|\s*<!--.*?-->|\s*<!DOCTYPE[^>]*>)*\s*<([\w:.-]+)", re.DOTALL)
_HTML_MARKUP = re.compile(rb"application/ld\+json|itemscope|<(?:div|article|section|p)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class ParseOptions:
    """Options shared by the format parsers (tabular column names; what to keep)."""

    keep_deleted: bool = False  # keep Disqus deleted/spam posts and WordPress spam/trash comments
    text_column: str | None = None
    author_column: str | None = None
    published_column: str | None = None
    id_column: str | None = None
    reply_to_column: str | None = None
    page_column: str | None = None


def _options(options: dict) -> ParseOptions:
    known = {f.name for f in fields(ParseOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown parse option(s): {', '.join(unknown)}")
    return ParseOptions(**options)


def _warn_stderr(message: str) -> None:
    print(f"classifier: warning: {message}", file=sys.stderr)


def detect_format(source: Source) -> str:
    """The input format of a source, from its content first, then its file name."""
    data = source.data
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"PAR1"):
        return "parquet"
    root = _XML_ROOT.match(head)
    root_name = root.group(1).lower().rsplit(b":", 1)[-1] if root else b""
    if root_name in (b"disqus", b"rss"):
        return "disqus" if root_name == b"disqus" else "wxr"
    if head.startswith(b"<?xml") and root_name != b"html":  # an export with an unexpected root: say so
        return "wxr" if b"wordpress.org/export" in head else "disqus"
    if _HTML_START.match(head):
        return "html"
    suffix = _SUFFIXES.get(source.suffix)
    if suffix:
        return suffix
    if head[:1] in (b"{", b"["):
        return "jsonl"
    if head.startswith(b"<") and _HTML_MARKUP.search(data):
        return "html"
    return "dump"


def _parse_source(source: Source, input_format: str | None, options: ParseOptions, warn: Warn) -> Page:
    fmt = detect_format(source) if input_format in (None, "auto") else input_format
    if fmt == "parquet":
        from classifier.parse.tabular import parse_parquet

        return parse_parquet(source, options, warn)
    if fmt == "disqus":
        from classifier.parse.disqus import parse_disqus

        return parse_disqus(source, options, warn)
    if fmt == "wxr":
        from classifier.parse.wxr import parse_wxr

        return parse_wxr(source, options, warn)
    text = decode(source, warn)
    if fmt == "dump":
        from classifier.parse.dump import parse_dump

        return parse_dump(text, source.name)
    if fmt == "html":
        from classifier.parse.html import parse_html

        return parse_html(text, source.name)
    if fmt in ("csv", "jsonl"):
        from classifier.parse.tabular import parse_table

        return parse_table(text, source, fmt, options, warn)
    raise InputError(f"{source.name}: unknown input format {fmt!r} (choose from {', '.join(INPUT_FORMATS)})")


def parse_page(path: str | Path, input_format: str | None = None, on_warning: Warn | None = None, **options) -> Page:
    """The :class:`Page` parsed from one file (``-`` for stdin); warnings go to ``on_warning`` (default: stderr)."""
    warn = on_warning or _warn_stderr
    extra: list[str] = []
    source, parse_options = read_source(path), _options(options)
    try:
        page = _parse_source(source, input_format, parse_options, extra.append)
    except InputError:
        raise
    except Exception as exc:  # a format parser tripping on odd input: one line, never a traceback
        raise InputError(f"{source.name}: cannot parse ({type(exc).__name__}: {exc})") from exc
    page = replace(page, warnings=tuple(extra) + page.warnings)
    for message in page.warnings:
        warn(message)
    return page


def parse_path(path: str | Path, input_format: str | None = None, **options) -> list[Comment]:
    """The comments of one file (``-`` for stdin), in document order.

    Raises :class:`~classifier.errors.InputError` for an unreadable, binary,
    empty or malformed file. Options: see :class:`ParseOptions`.
    """
    return list(parse_page(path, input_format, **options).comments)


def expand_paths(paths: Iterable[str | Path]) -> Iterator[str]:
    """Each path as given; a directory becomes every (non-hidden) file inside it, sorted."""
    for path in paths:
        name = str(path)
        if name != STDIN and Path(name).is_dir():
            files = sorted(
                p for p in Path(name).rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(name).parts)
            )
            yield from (str(p) for p in files)
        else:
            yield name


def iter_pages(
    paths: Iterable[str | Path],
    input_format: str | None = None,
    on_error: Callable[[str], None] | None = None,
    on_warning: Warn | None = None,
    **options,
) -> Iterator[Page]:
    """Parse every file (directories expanded, ``-`` = stdin), one :class:`Page` each.

    A file that fails is reported to ``on_error(message)`` and skipped (the
    default re-raises the :class:`~classifier.errors.InputError`).
    """
    parse_options = _options(options)
    for name in expand_paths(paths):
        try:
            yield parse_page(name, input_format, on_warning, **parse_options.__dict__)
        except InputError as exc:
            if on_error is None:
                raise
            on_error(str(exc))


__all__ = ["INPUT_FORMATS", "ParseOptions", "detect_format", "expand_paths", "iter_pages", "parse_page", "parse_path"]
