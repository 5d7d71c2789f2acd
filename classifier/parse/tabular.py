"""Tables of comments: CSV (or TSV), JSON Lines (or a JSON list) and Parquet, streamed row by row.

The one table reader of every command (``parse``, ``score``, ``queue ingest``, ``train``,
``evaluate``): :data:`TABLE_READERS` maps a format to a function ``(source, warn, on_bad_row)``
returning a :class:`Table` whose rows stream with bounded memory. Decoding (encoding
fallback with a warning) is :func:`~classifier.parse.reading.iter_lines`'; the CSV delimiter
(comma, semicolon, tab or pipe) is sniffed from the header line; a lone surrogate in JSON is
replaced with a warning. A bad row (wrong number of CSV fields, invalid JSON, a field too
large) is reported to ``on_bad_row`` with its file and number and skipped, never the file.

For ``parse``, columns are found by name, case-insensitively: the ``*_column`` options name
them, otherwise the first present of the defaults below. Only the text column is required.
A row whose text is empty is reported and skipped. Other columns are kept as they were in
``extra``; ``reply_to`` names the parent row's id.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

from classifier.errors import InputError
from classifier.parse.building import Draft, clean_author, finish
from classifier.parse.dates import parse_datetime
from classifier.parse.reading import MAX_LINE_CHARS, Source, Warn, iter_lines
from classifier.schema import PAGE_EMPTY, PAGE_OPEN, Comment, Page
from classifier.text import clean_text, replace_surrogates

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


class TableRow(NamedTuple):
    """One row of a table: where it is (for messages: ``file: row 3``) and its cells by column."""

    where: str
    record: dict[str, Any]


@dataclass
class Table:
    """A table's columns when its format declares them up front (CSV header, Parquet schema), and its rows."""

    columns: list[str] | None
    rows: Iterator[TableRow]


# --------------------------------------------------------------------------- readers

_DELIMITERS = (",", ";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_CONTAINER_KEYS = ("comments", "data", "items")


def sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV header line: the most frequent of comma, semicolon, tab and pipe outside quotes."""
    bare = _QUOTED.sub("", header)
    counts = [(bare.count(d), -i, d) for i, d in enumerate(_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


def csv_table(source: Source, warn: Warn, on_bad_row: Warn) -> Table:
    """A CSV or TSV file: the header row names the columns; a row with another number of fields is skipped."""
    lines = iter_lines(source, warn, on_bad_row)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InputError(f"{source.label}: empty file")
    delimiter = "\t" if source.suffix == ".tsv" else sniff_delimiter(first)
    reader = csv.reader(chain([first], lines), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        raise InputError(f"{source.label}: malformed CSV header ({exc})") from None
    return Table(header, _csv_rows(reader, header, source.label, on_bad_row))


def _csv_rows(reader, header: list[str], label: str, on_bad_row: Warn) -> Iterator[TableRow]:
    csv.field_size_limit(MAX_LINE_CHARS)
    width, number = len(header), 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            on_bad_row(f"{label}: row {number}: malformed CSV ({exc}); skipped")
            continue
        if not values or (len(values) == 1 and not values[0].strip() and width > 1):
            continue  # a blank line
        number += 1
        if len(values) != width:
            on_bad_row(f"{label}: row {number}: {len(values)} fields, the header has {width}; skipped")
            continue
        yield TableRow(f"{label}: row {number}", dict(zip(header, values)))


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {replace_surrogates(str(k)): _without_surrogates(v) for k, v in value.items()}
    return value


def _items(value: Any) -> list[Any]:
    """The records of one JSON value: a list's items, a container's ``comments``/``data``/``items`` list, or itself.

    An object with a text column is a record even when it holds such a list (a ``data`` column, say).
    """
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and find_column(value, None, "text") is None:
        inner = next((value[k] for k in _CONTAINER_KEYS if isinstance(value.get(k), list)), None)
        if inner is not None:
            return inner
    return [value]


def _json_records(items: Iterable[tuple[str, Any]], on_bad_row: Warn) -> Iterator[TableRow]:
    for where, item in items:
        if isinstance(item, dict):
            yield TableRow(where, item)
        else:
            on_bad_row(f"{where}: not a JSON object; skipped")


def json_table(source: Source, warn: Warn, on_bad_row: Warn) -> Table:
    """JSON Lines (one object per line, streamed), or one JSON document: a list, or an object holding a list."""
    lines = iter_lines(source, warn, on_bad_row)
    blank = 0
    for first in lines:
        if first.strip():
            break
        blank += 1
    else:
        raise InputError(f"{source.label}: empty file")
    head = first.lstrip("\ufeff").strip()
    if (head.startswith("{") and head.endswith("}")) or (not head.startswith("[") and _is_json(head)):
        rows = _json_lines(chain([first], lines), source, warn, on_bad_row, start=blank + 1)
        return Table(None, _json_records(rows, on_bad_row))
    text = "\n" * blank + first + "".join(lines)  # a JSON document (a list, or a pretty-printed object): read whole
    try:
        whole = json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError) as exc:
        if head.startswith("["):
            where = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "nested too deep"
            raise InputError(f"{source.label}: malformed JSON ({where})") from None
        return Table(None, _json_records(_json_lines(io.StringIO(text), source, warn, on_bad_row), on_bad_row))
    whole = _clean_surrogates(whole, text, source.label, warn)
    items = ((f"{source.label}: row {n}", item) for n, item in enumerate(_items(whole), 1))
    return Table(None, _json_records(items, on_bad_row))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except (ValueError, RecursionError):
        return False


def _clean_surrogates(value: Any, raw: str, where: str, warn: Warn) -> Any:
    if "\\u" in raw and _ESCAPED_SURROGATE.search(raw):
        cleaned = _without_surrogates(value)
        if cleaned != value:
            warn(f"{where}: lone surrogate escape replaced by U+FFFD")
        return cleaned
    return value


def _json_lines(
    lines: Iterable[str], source: Source, warn: Warn, on_bad_row: Warn, start: int = 1
) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(lines, start):
        if not line.strip():
            continue
        where = f"{source.label}: line {number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            on_bad_row(f"{where}: invalid JSON ({exc.msg}); skipped")
            continue
        except (ValueError, RecursionError) as exc:
            on_bad_row(f"{where}: invalid JSON ({type(exc).__name__}); skipped")
            continue
        value = _clean_surrogates(value, line, where, warn)
        items = _items(value)
        if len(items) == 1 and items[0] is value:
            yield where, value
        else:
            yield from ((f"{where}: item {i}", item) for i, item in enumerate(items, 1))


def parquet_table(
    source: Source, warn: Warn, on_bad_row: Warn, row_groups: list[int] | None = None, first: int = 0
) -> Table:
    """A Parquet file, read in batches (a file path is read in place; stdin is held in memory);
    ``row_groups``: only those (``first``: the rows before them, for row numbers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source.path if source.path else io.BytesIO(source.data))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{source.label}: malformed Parquet ({' '.join(str(exc).split())})") from None

    def rows() -> Iterator[TableRow]:
        number = first
        try:
            for batch in parquet.iter_batches(batch_size=10_000, row_groups=row_groups):
                for record in batch.to_pylist():
                    number += 1
                    yield TableRow(f"{source.label}: row {number}", {k: json_value(v) for k, v in record.items()})
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{source.label}: malformed Parquet after row {number} ({' '.join(str(exc).split())})") from None

    return Table(list(parquet.schema_arrow.names), rows())


TableReader = Callable[[Source, Warn, Warn], Table]

#: Table formats and their readers: one signature, so a new table format is one function and one line.
TABLE_READERS: dict[str, TableReader] = {"csv": csv_table, "jsonl": json_table, "parquet": parquet_table}


# --------------------------------------------------------------------------- comments of a table


def _resolve(columns: Iterable[str], options: ParseOptions, name: str, strict: bool = True) -> dict[str, str | None]:
    """Field -> column name, from the options or the defaults (``strict``: a named or text column must exist)."""
    columns = list(columns)
    chosen: dict[str, str | None] = {}
    for field in DEFAULT_COLUMNS:
        wanted = getattr(options, f"{field}_column", None)
        chosen[field] = find_column(columns, wanted, field)
        if strict and wanted and chosen[field] is None:
            raise InputError(f"{name}: no column {wanted!r} (columns: {', '.join(columns) or 'none'})")
    if strict and chosen["text"] is None:
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


def _draft(row: TableRow, chosen: dict[str, str | None], source_name: str, warn: Warn) -> Draft | None:
    record = row.record
    raw_text = record.get(chosen["text"]) if chosen["text"] else None
    text = "" if _missing(raw_text) else clean_text(str(raw_text))
    if not text:
        warn(f"{row.where}: empty text, skipped")
        return None
    raw_date = record.get(chosen["published"]) if chosen["published"] else None
    published = parse_datetime(raw_date) if not _missing(raw_date) else None
    page = record.get(chosen["page"]) if chosen["page"] else None
    status = record.get(chosen["status"]) if chosen["status"] else None
    used = {c for c in chosen.values() if c}
    draft = Draft(
        page=source_name if _missing(page) else str(page),
        author=_author(record.get(chosen["author"])) if chosen["author"] else None,
        published=published,
        text=text,
        source_id=_reference(record.get(chosen["id"])) if chosen["id"] else None,
        parent_source_id=_reference(record.get(chosen["reply_to"])) if chosen["reply_to"] else None,
        status=None if _missing(status) else str(status),
        extra={k: _jsonable(v) for k, v in record.items() if k not in used},
    )
    if not _missing(raw_date) and not published:
        draft.extra["published_raw"] = str(raw_date)
    return draft


def _comments(table: Table, source: Source, options: ParseOptions, warn: Warn) -> tuple[Comment, ...]:
    """Comments of a table's rows; the columns are resolved once per distinct set of keys."""
    if table.columns is not None:
        _resolve(table.columns, options, source.label)  # a missing named or text column fails the whole file
    resolved: dict[tuple[str, ...], dict[str, str | None]] = {}
    drafts, rows, with_text = [], 0, 0
    for row in table.rows:
        rows += 1
        keys = tuple(row.record)
        chosen = resolved.get(keys)
        if chosen is None:
            chosen = resolved[keys] = _resolve(keys, options, source.label, strict=False)
        if chosen["text"] is None:
            warn(f"{row.where}: no text column, skipped")
            continue
        with_text += 1
        draft = _draft(row, chosen, source.name, warn)
        if draft is not None:
            drafts.append(draft)
    if rows and not with_text:
        _resolve((), options, source.label)  # no row has the text column: one error for the file
    return finish(drafts)


def _parse(fmt: str) -> Callable[[Source, ParseOptions, Warn], Page]:
    def parse(source: Source, options: ParseOptions, warn: Warn) -> Page:
        comments = _comments(TABLE_READERS[fmt](source, warn, warn), source, options, warn)
        return Page(source=source.name, format=fmt, status=PAGE_OPEN if comments else PAGE_EMPTY, comments=comments)

    parse.__doc__ = f"Comments of a {fmt} table (streamed)."
    return parse


parse_csv, parse_jsonl, parse_parquet = _parse("csv"), _parse("jsonl"), _parse("parquet")
