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

Every format is one entry of :data:`PARSERS` -- a function ``(source, options, warn) -> Page``,
imported on first use -- so a new format is one module and one line here; tables are read by
the one streaming reader of :mod:`.tabular` (:data:`~classifier.parse.tabular.TABLE_READERS`).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path

from classifier.errors import InputError
from classifier.parse.reading import STDIN, Source, Warn, open_source
from classifier.schema import INPUT_FORMATS, Comment, Page

#: Every input format and its parser, ``module:function`` taking ``(source, options, warn)`` and
#: returning a :class:`~classifier.schema.Page` (imported on first use: ``--help`` stays fast).
#: The keys are ``schema.InputFormat`` (the ``--input-format`` choices) but ``auto``: a test keeps them equal.
PARSERS = {
    "dump": "classifier.parse.dump:parse",
    "html": "classifier.parse.html:parse",
    "disqus": "classifier.parse.disqus:parse_disqus",
    "wxr": "classifier.parse.wxr:parse_wxr",
    "csv": "classifier.parse.tabular:parse_csv",
    "jsonl": "classifier.parse.tabular:parse_jsonl",
    "parquet": "classifier.parse.tabular:parse_parquet",
}
#: Formats whose rows ``score`` and ``train`` read as records (the rest are pages, parsed into comments).
TABLE_FORMATS = ("csv", "jsonl", "parquet")

#: File name suffixes and the format they mean (content is looked at first: see :func:`detect_format`).
SUFFIXES = {
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
    head = source.head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if source.head.startswith(b"PAR1"):
        return "parquet"
    root = _XML_ROOT.match(head)
    root_name = root.group(1).lower().rsplit(b":", 1)[-1] if root else b""
    if root_name in (b"disqus", b"rss"):
        return "disqus" if root_name == b"disqus" else "wxr"
    if head.startswith(b"<?xml") and root_name != b"html":  # an export with an unexpected root: say so
        return "wxr" if b"wordpress.org/export" in head else "disqus"
    if _HTML_START.match(head):
        return "html"
    suffix = SUFFIXES.get(source.suffix)
    if suffix:
        return suffix
    if head[:1] in (b"{", b"["):
        return "jsonl"
    if head.startswith(b"<") and _HTML_MARKUP.search(source.data):
        return "html"
    return "dump"


def parser(fmt: str) -> Callable[[Source, ParseOptions, Warn], Page]:
    """The parser of a format (:data:`PARSERS`)."""
    if fmt not in PARSERS:
        raise InputError(f"unknown input format {fmt!r} (choose from {', '.join(INPUT_FORMATS)})")
    module, function = PARSERS[fmt].split(":")
    return getattr(importlib.import_module(module), function)


def parse_source(source: Source, input_format: str | None = None, on_warning: Warn | None = None, **options) -> Page:
    """The :class:`Page` of an open source; warnings go to ``on_warning`` (default: stderr)."""
    warn = on_warning or _warn_stderr
    fmt = detect_format(source) if input_format in (None, "auto") else input_format
    extra: list[str] = []
    try:
        page = parser(fmt)(source, _options(options), extra.append)
    except InputError:
        raise
    except Exception as exc:  # a format parser tripping on odd input: one line, never a traceback
        raise InputError(f"{source.label}: cannot parse ({type(exc).__name__}: {' '.join(str(exc).split())})") from exc
    finally:
        for message in extra:
            warn(message)
    for message in page.warnings:
        warn(message)
    return replace(page, warnings=tuple(extra) + page.warnings)


def parse_page(path: str | Path, input_format: str | None = None, on_warning: Warn | None = None, **options) -> Page:
    """The :class:`Page` parsed from one file (``-`` for stdin); warnings go to ``on_warning`` (default: stderr)."""
    _options(options)
    with open_source(path) as source:
        return parse_source(source, input_format, on_warning, **options)


def parse_path(path: str | Path, input_format: str | None = None, **options) -> list[Comment]:
    """The comments of one file (``-`` for stdin), in document order.

    Raises :class:`~classifier.errors.InputError` for an unreadable, binary,
    empty or malformed file. Options: see :class:`ParseOptions`.
    """
    return list(parse_page(path, input_format, **options).comments)


def expand_paths(paths: Iterable[str | Path], on_error: Callable[[str], None] | None = None) -> Iterator[str]:
    """Each path as given; a directory becomes every (non-hidden) regular file inside it, sorted.

    A directory (or a folder inside it) that cannot be listed is reported to ``on_error``
    (default: raise :class:`~classifier.errors.InputError`), never skipped silently.
    """
    def failed(exc: OSError) -> None:
        message = f"{exc.filename}: cannot read directory ({exc.strerror or exc})"
        if on_error is None:
            raise InputError(message)
        on_error(message)

    for path in paths:
        name = str(path)
        if name == STDIN or not Path(name).is_dir():
            yield name
            continue
        files = []
        for folder, dirs, names in os.walk(name, onerror=failed):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [f for n in names if not n.startswith(".") and os.path.isfile(f := os.path.join(folder, n))]
        yield from sorted(files, key=lambda f: Path(f).relative_to(name).parts)


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
    _options(options)
    for name in expand_paths(paths, on_error):
        try:
            yield parse_page(name, input_format, on_warning, **options)
        except InputError as exc:
            if on_error is None:
                raise
            on_error(str(exc))


__all__ = [
    "INPUT_FORMATS", "PARSERS", "SUFFIXES", "TABLE_FORMATS", "ParseOptions", "detect_format", "expand_paths",
    "iter_pages", "parse_page", "parse_path", "parse_source", "parser",
]  # fmt: skip
