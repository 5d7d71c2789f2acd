"""Streaming batch scoring behind ``classifier score``: inputs -> rows -> chunks -> records.

* :func:`iter_rows` turns inline texts, stdin (one comment per line, or JSONL) and files
  into :class:`Row` items, one at a time (bounded memory). Files go through the parser's
  one reader (:mod:`classifier.parse`): a table (CSV/TSV, JSONL, Parquet, detected as
  ``classifier parse`` detects it) is streamed row by row and each row kept as its record;
  anything else (page dumps, HTML, exports) is parsed into comments. A bad row (empty text,
  missing column, bad JSON line, wrong number of CSV fields) is reported through
  ``on_error`` with its row number and skipped; a file that cannot be read is reported and
  the next one read.
* :func:`score_rows` scores rows in chunks -- one vectorised model call per chunk --
  in this process or in ``jobs`` worker processes (each loads the models once),
  keeps the input order, and yields each input record with the result fields added.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from classifier.errors import ClassifierError, InputError
from classifier.output import iter_chunks

#: Report one failure (a bad row or an unreadable file), or one warning, as one line.
OnError = Callable[[str], None]


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
    on_warning: OnError | None = None,
) -> Iterator[Row]:
    """Rows of every input, in order: inline ``texts`` first, then each path (``-`` = stdin; a directory = its files)."""
    from classifier.parse import expand_paths
    from classifier.parse.reading import open_source
    from classifier.text import has_surrogates, replace_surrogates

    warn = on_warning or on_error
    for i, text in enumerate(texts, 1):
        if has_surrogates(text):  # bytes the shell could not decode
            warn(f"--text #{i}: undecodable characters replaced by U+FFFD")
            text = replace_surrogates(text)
        if text.strip():
            yield Row({"text": text}, text)
        else:
            on_error(f"--text #{i}: empty text")
    for name in expand_paths(paths, on_error):
        try:
            with open_source(name) as source:
                yield from _source_rows(source, text_column, on_error, warn)
        except InputError as exc:
            on_error(str(exc))


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


def _source_rows(source, text_column: str | None, on_error: OnError, warn: OnError) -> Iterator[Row]:
    """The rows of one open source: stdin's lines or JSONL; a file's table rows, or its parsed comments."""
    from classifier.parse import TABLE_FORMATS, detect_format, parse_source
    from classifier.parse.reading import STDIN, iter_lines
    from classifier.parse.tabular import TABLE_READERS

    fmt = detect_format(source)
    if source.name == STDIN and not (fmt == "jsonl" and _starts_with_object(source.head)):
        for line in iter_lines(source, warn, on_error):  # one comment per line; blank lines separate nothing
            text = line.rstrip("\r\n")
            if text.strip():
                yield Row({"text": text}, text)
        return
    if fmt not in TABLE_FORMATS:
        for comment in parse_source(source, fmt, warn).comments:
            if comment.text.strip():
                yield Row(comment.to_dict(), comment.text)
        return
    table = TABLE_READERS[fmt](source, warn, on_error)
    key = text_column
    if table.columns is not None:
        key = text_key(table.columns, text_column)
        if key is None:
            columns = ", ".join(table.columns)
            on_error(f"{source.label}: no column {_describe(text_column)} (columns: {columns}); use --text-column")
            return
    for row in table.rows:
        scored = _row(row.record, row.where, key, on_error)
        if scored is not None:
            yield scored


def _starts_with_object(head: bytes) -> bool:
    """True when the first non-blank line of ``head`` is a JSON object (stdin is then JSONL)."""
    rest = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first, complete, _ = rest.partition(b"\n")
    if not complete:  # a first line longer than the head: its start decides
        return first.startswith(b"{")
    try:
        return isinstance(json.loads(first.decode("utf-8", errors="replace")), dict)
    except (ValueError, RecursionError):
        return False


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

