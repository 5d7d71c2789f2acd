"""Streaming batch scoring behind ``classifier score``: inputs -> rows -> chunks -> records.

* :func:`iter_rows` turns inline texts, stdin (one comment per line, or JSONL),
  CSV/TSV/JSONL/Parquet files and anything ``classifier parse`` reads into
  :class:`Row` items, one at a time (bounded memory). A bad row (empty text,
  missing column, bad JSON line) is reported through ``on_error`` with its row
  number and skipped; a file that cannot be read is reported and the next one read.
* :func:`score_rows` scores rows in chunks -- one vectorised model call per chunk --
  in this process or in ``jobs`` worker processes (each loads the models once),
  keeps the input order, and yields each input record with the result fields added.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, TextIO

from classifier.errors import ClassifierError
from classifier.output import iter_chunks

#: Report one failure (a bad row or an unreadable file) as one line.
OnError = Callable[[str], None]

TABULAR_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Row:
    """One comment to score: the input record (kept in the output) and the text to score."""

    record: dict[str, Any]
    text: str


# --------------------------------------------------------------------------- inputs


def iter_rows(
    paths: Sequence[str],
    texts: Sequence[str],
    text_column: str | None,
    on_error: OnError,
    stdin: TextIO | None = None,
) -> Iterator[Row]:
    """Rows of every input, in order: inline ``texts`` first, then each path (``-`` = stdin)."""
    for i, text in enumerate(texts, 1):
        if text.strip():
            yield Row({"text": text}, text)
        else:
            on_error(f"--text #{i}: empty text")
    for path in paths:
        if path == "-":
            yield from _stdin_rows(stdin or sys.stdin, text_column, on_error)
            continue
        kind = TABULAR_SUFFIXES.get(Path(path).suffix.lower())
        try:
            if kind is None:
                yield from _parsed_rows(path, on_error)
            elif kind == "parquet":
                yield from _parquet_rows(path, text_column, on_error)
            else:
                with open(path, encoding="utf-8-sig", newline="") as handle:
                    if kind == "jsonl":
                        yield from _jsonl_rows(handle, path, 0, text_column, on_error)
                    else:
                        yield from _csv_rows(handle, path, text_column, "\t" if kind == "tsv" else ",", on_error)
        except FileNotFoundError:
            on_error(f"{path}: no such file")
        except IsADirectoryError:
            on_error(f"{path}: is a directory")
        except UnicodeDecodeError as exc:
            on_error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); rows after that were not read")
        except (OSError, csv.Error, ValueError) as exc:
            on_error(f"{path}: cannot read ({_one_line(exc)})")


def text_key(columns: Iterable[str], wanted: str | None) -> str | None:
    """The column holding the comment: ``wanted`` (any case), else the first present of the
    parser's defaults (text, comment, body, content, message, ...)."""
    from classifier.parse.tabular import find_column

    return find_column(columns, wanted, "text")


def _describe(wanted: str | None) -> str:
    return repr(wanted) if wanted else "'text' (nor comment, body, content, message)"


def _row(record: dict[str, Any], where: str, text_column: str | None, on_error: OnError) -> Row | None:
    key = text_column if text_column in record else text_key(record, text_column)
    if key is None:
        on_error(f"{where}: missing column {_describe(text_column)}")
        return None
    value = record[key]
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if not text.strip():
        on_error(f"{where}: empty text")
        return None
    return Row(record, text)


def _stdin_rows(stream: TextIO, text_column: str | None, on_error: OnError) -> Iterator[Row]:
    """One comment per line, or JSONL when the first non-blank line is a JSON object."""
    skipped = 0
    first = next(stream, "")
    while first and not first.strip():
        skipped += 1
        first = next(stream, "")
    if not first:
        return
    lines = chain([first], stream)
    if first.lstrip().startswith("{"):
        try:
            is_jsonl = isinstance(json.loads(first), dict)
        except ValueError:
            is_jsonl = False
        if is_jsonl:
            yield from _jsonl_rows(lines, "stdin", skipped, text_column, on_error)
            return
    for line in lines:
        text = line.rstrip("\r\n")
        if text.strip():  # blank lines separate nothing: skipped silently
            yield Row({"text": text}, text)


def _jsonl_rows(lines: Iterable[str], name: str, offset: int, text_column: str | None, on_error: OnError) -> Iterator[Row]:
    for number, line in enumerate(lines, offset + 1):
        if not line.strip():
            continue
        where = f"{name}: line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            on_error(f"{where}: invalid JSON ({_one_line(exc)})")
            continue
        if not isinstance(record, dict):
            on_error(f"{where}: not a JSON object")
            continue
        row = _row(record, where, text_column, on_error)
        if row is not None:
            yield row


def _csv_rows(handle: TextIO, name: str, text_column: str | None, delimiter: str, on_error: OnError) -> Iterator[Row]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(handle, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        on_error(f"{name}: empty file")
        return
    key = text_key(header, text_column)
    if key is None:
        on_error(f"{name}: no column {_describe(text_column)} (columns: {', '.join(header)}); use --text-column")
        return
    width = len(header)
    for number, values in enumerate(reader, 1):
        if not values:
            continue
        if len(values) != width:
            on_error(f"{name}: row {number}: {len(values)} fields, the header has {width}")
            continue
        row = _row(dict(zip(header, values)), f"{name}: row {number}", key, on_error)
        if row is not None:
            yield row


def _parquet_rows(
    path: str, text_column: str | None, on_error: OnError, row_groups: list[int] | None = None, first: int = 0
) -> Iterator[Row]:
    """Rows of a Parquet file, or of some of its row groups (``first``: rows before them, for row numbers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from classifier.parse.tabular import json_value

    try:
        parquet = pq.ParquetFile(path)
    except pa.ArrowException as exc:
        raise ValueError(f"not a Parquet file: {_one_line(exc)}") from None
    key = text_key(parquet.schema_arrow.names, text_column)
    if key is None:
        names = ", ".join(parquet.schema_arrow.names)
        on_error(f"{path}: no column {_describe(text_column)} (columns: {names}); use --text-column")
        return
    number = first
    for batch in parquet.iter_batches(batch_size=10_000, row_groups=row_groups):
        for record in batch.to_pylist():
            number += 1
            record = {k: json_value(v) for k, v in record.items()}
            row = _row(record, f"{path}: row {number}", key, on_error)
            if row is not None:
                yield row


def _parsed_rows(path: str, on_error: OnError) -> Iterator[Row]:
    """Comments of pages and exports that ``classifier parse`` reads (a directory = every file in it)."""
    from classifier.parse import iter_pages

    for page in iter_pages([path], on_error=on_error):
        for comment in page.comments:
            if comment.text.strip():
                yield Row(comment.to_dict(), comment.text)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --------------------------------------------------------------------------- scoring

#: The Moderator of a worker process, loaded once by :func:`_init_worker`.
_WORKER: tuple[dict[str, Any], Any] | None = None


def _init_worker(load_args: dict[str, Any]) -> None:
    global _WORKER
    if _WORKER is None or _WORKER[0] != load_args:  # a forked worker inherits the parent's
        from classifier.moderator import Moderator

        _WORKER = (load_args, Moderator.load(**load_args))


def _score_texts(texts: list[str]) -> list[dict[str, Any]]:
    """Result fields (without the text) of a chunk, in a worker process."""
    assert _WORKER is not None, "worker not initialised"
    return [_fields(r) for r in _WORKER[1].score(texts)]


def _fields(result: Any) -> dict[str, Any]:
    fields = result.to_dict()
    del fields["text"]
    return fields


def score_rows(
    rows: Iterable[Row],
    load_args: dict[str, Any],
    jobs: int = 1,
    chunk_size: int = 2000,
    on_chunk: Callable[[int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Each row's record with the result fields added, in input order.

    ``load_args`` are :meth:`Moderator.load` keyword arguments; the models are
    loaded once here (so a refused model fails before any output), and once per
    worker when ``jobs`` > 1 (a forked worker reuses this process's copy).
    ``on_chunk(n)`` is called after each scored chunk of ``n`` rows.
    """
    _init_worker(load_args)
    chunks = iter_chunks(rows, chunk_size)
    if jobs <= 1:
        scored = ((chunk, _score_texts([r.text for r in chunk])) for chunk in chunks)
        yield from _merge(scored, on_chunk)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(load_args,)) as pool:
        try:
            yield from _merge(_ordered(pool, chunks, window=2 * jobs), on_chunk)
        except BrokenProcessPool:
            raise ClassifierError("a worker process died (out of memory?); try fewer --jobs") from None


def _ordered(pool: ProcessPoolExecutor, chunks: Iterator[list[Row]], window: int):
    """(chunk, fields) in input order, with at most ``window`` chunks in flight (bounded memory)."""
    pending: deque[tuple[list[Row], Future]] = deque()
    for chunk in chunks:
        pending.append((chunk, pool.submit(_score_texts, [r.text for r in chunk])))
        if len(pending) >= window:
            chunk, future = pending.popleft()
            yield chunk, future.result()
    while pending:
        chunk, future = pending.popleft()
        yield chunk, future.result()


def _merge(scored, on_chunk) -> Iterator[dict[str, Any]]:
    for chunk, fields in scored:
        for row, extra in zip(chunk, fields):
            yield {**row.record, **extra}
        if on_chunk is not None:
            on_chunk(len(chunk))

