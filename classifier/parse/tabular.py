"""Tables of comments: CSV (or TSV), JSON Lines (or a JSON list) and Parquet.

Columns are found by name, case-insensitively: the ``*_column`` options name
them, otherwise the first present of the defaults below. Only the text column
is required. A row whose text is empty, or a JSONL line that is not a JSON
object, is reported (row number and reason) and skipped. Other columns are
kept as they were in ``extra``; ``reply_to`` names the parent row's id.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from classifier.errors import InputError
from classifier.parse.building import Draft, clean_author, finish
from classifier.parse.dates import parse_datetime
from classifier.parse.reading import Source, Warn
from classifier.schema import PAGE_EMPTY, PAGE_OPEN, Comment, Page
from classifier.text import clean_text

if TYPE_CHECKING:
    from classifier.parse import ParseOptions

#: Column names tried, in order, when no option names the column.
DEFAULT_COLUMNS = {
    "text": ("text", "comment", "body", "content", "message", "comment_text", "comment_content"),
    "author": ("author", "user", "name", "username", "author_name", "comment_author"),
    "published": ("published", "date", "created_at", "timestamp", "created", "datetime", "time", "comment_date"),
    "id": ("id", "comment_id", "uid"),
    "reply_to": ("reply_to", "parent", "parent_id", "in_reply_to", "comment_parent"),
    "page": ("page", "url", "article", "article_url", "thread", "source_url"),
    "status": ("status",),
}
_NO_PARENT = ("", "0", "none", "null", "nan")


def _missing(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    return value is None or (isinstance(value, str) and not value.strip())


def find_column(columns: Iterable[Any], wanted: str | None, field: str = "text") -> str | None:
    """The column for ``field``: ``wanted`` (any case), else the first of its defaults present; None if absent."""
    by_lower = {str(c).lower().strip(): c for c in columns}
    for candidate in (wanted,) if wanted else DEFAULT_COLUMNS[field]:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def json_value(value: Any) -> Any:
    """A cell as a JSON-friendly value: dates as ISO strings, containers converted inside, others as text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _resolve(columns: list[str], options: ParseOptions, name: str) -> dict[str, str | None]:
    """Field -> column name, from the options or the defaults."""
    chosen: dict[str, str | None] = {}
    for field in DEFAULT_COLUMNS:
        wanted = getattr(options, f"{field}_column", None)
        chosen[field] = find_column(columns, wanted, field)
        if wanted and chosen[field] is None:
            raise InputError(f"{name}: no column {wanted!r} (columns: {', '.join(columns) or 'none'})")
    if chosen["text"] is None:
        raise InputError(
            f"{name}: no text column (tried {', '.join(DEFAULT_COLUMNS['text'])}; name it with --text-column)"
        )
    return chosen


def _jsonable(value: Any) -> Any:
    return None if _missing(value) else json_value(value)


def _author(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("username")
    return None if _missing(value) else clean_author(value)


def _reference(value: Any) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return None if text.lower() in _NO_PARENT else text


def _comments(
    rows: Iterable[tuple[int, dict[str, Any]]], columns: list[str], source_name: str, options: ParseOptions, warn: Warn
) -> tuple[Comment, ...]:
    chosen = _resolve(columns, options, source_name)
    used = {c for c in chosen.values() if c}
    drafts = []
    for number, row in rows:
        raw_text = row.get(chosen["text"])
        text = "" if _missing(raw_text) else clean_text(str(raw_text))
        if not text:
            warn(f"{source_name}: row {number}: empty text, skipped")
            continue
        raw_date = row.get(chosen["published"]) if chosen["published"] else None
        published = parse_datetime(raw_date) if not _missing(raw_date) else None
        page = row.get(chosen["page"]) if chosen["page"] else None
        status = row.get(chosen["status"]) if chosen["status"] else None
        draft = Draft(
            page=source_name if _missing(page) else str(page),
            author=_author(row.get(chosen["author"])) if chosen["author"] else None,
            published=published,
            text=text,
            source_id=_reference(row.get(chosen["id"])) if chosen["id"] else None,
            parent_source_id=_reference(row.get(chosen["reply_to"])) if chosen["reply_to"] else None,
            status=None if _missing(status) else str(status),
            extra={k: _jsonable(v) for k, v in row.items() if k not in used},
        )
        if not _missing(raw_date) and not published:
            draft.extra["published_raw"] = str(raw_date)
        drafts.append(draft)
    return finish(drafts)


def _csv_rows(text: str, source: Source) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    sample = text[:8192]
    if source.suffix == ".tsv":
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = [c for c in (reader.fieldnames or []) if c is not None]
    except csv.Error as exc:
        raise InputError(f"{source.name}: malformed CSV ({exc})") from None

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, row in enumerate(reader, 1):
                row.pop(None, None)  # cells beyond the header
                yield number, row
        except csv.Error as exc:
            raise InputError(f"{source.name}: malformed CSV at line {reader.line_num} ({exc})") from None

    return columns, rows()


def _json_rows(text: str, source: Source, warn: Warn) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Rows of JSON Lines, of a JSON list, or of a JSON object holding a ``comments`` (or ``data``, ``items``) list."""
    stripped = text.lstrip("\ufeff").strip()
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if stripped.startswith("["):
            raise InputError(f"{source.name}: malformed JSON (line {exc.lineno}: {exc.msg})") from None
        whole = None  # JSON Lines: one object per line
    if isinstance(whole, dict):
        whole = next((whole[k] for k in ("comments", "data", "items") if isinstance(whole.get(k), list)), [whole])
    if isinstance(whole, list):
        items = list(enumerate(whole, 1))
    else:
        items = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                warn(f"{source.name}: line {number}: not valid JSON ({exc.msg}), skipped")
        if not items:
            raise InputError(f"{source.name}: no JSON object on any line")
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, item in items:
        if isinstance(item, dict):
            rows.append((number, item))
        else:
            warn(f"{source.name}: row {number}: not a JSON object, skipped")
    columns = list(dict.fromkeys(k for _, row in rows for k in row))
    return columns, rows


def _page(source: Source, fmt: str, comments: tuple[Comment, ...]) -> Page:
    return Page(source=source.name, format=fmt, status=PAGE_OPEN if comments else PAGE_EMPTY, comments=comments)


def parse_table(text: str, source: Source, fmt: str, options: ParseOptions, warn: Warn) -> Page:
    """Comments of a CSV or JSONL file (already decoded)."""
    columns, rows = _csv_rows(text, source) if fmt == "csv" else _json_rows(text, source, warn)
    return _page(source, fmt, _comments(rows, columns, source.name, options, warn))


def parse_parquet(source: Source, options: ParseOptions, warn: Warn) -> Page:
    """Comments of a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(source.data))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{source.name}: malformed Parquet ({' '.join(str(exc).split())})") from None
    rows = ((n, row) for n, row in enumerate(table.to_pylist(), 1))
    return _page(source, "parquet", _comments(rows, table.column_names, source.name, options, warn))
