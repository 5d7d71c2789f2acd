"""Scale-out batch scoring on Dask: the rows, checks and `Moderator` of ``classifier score``, partitioned.

Two ways in, both scoring with the local path's own code (:func:`classifier.batch.score_rows`,
whose per-process cache loads the models once per worker process, verified as usual)::

    from classifier.scale import score_dataframe, score_files
    scored = score_dataframe(ddf, column="text")          # a Dask DataFrame, lazily scored
    counts = score_files(["archive/*.parquet"], "scored/", on_error=print)   # the CLI's job

* :func:`score_dataframe` maps each partition of a Dask DataFrame to the same DataFrame with
  every result field added (declared ``meta``, index kept).
* :func:`score_files` is ``classifier score --engine dask``: inputs are planned into parts on
  the client (metadata and one scan, no scoring), each worker reads its part with the local
  path's row readers (so a bad row is reported with the same file, row number and words),
  scores it and writes ``part-NNNNN.<format>`` itself; the client prints the reports in input
  order and adds up the decisions.

Parts: a Parquet file splits at row-group boundaries, a UTF-8 JSONL file at line boundaries,
about ``partition_rows`` rows each; a CSV file, or any other file, is one part (CSV records
may hold newlines, so only a full parse can find where they end).
"""

from __future__ import annotations

import glob
import io
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.errors import EXIT_USAGE, ClassifierError
from classifier.schema import DECISIONS, PARTITION_FORMATS

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client

#: Rows per part, roughly: a few seconds of scoring, so that work spreads evenly over workers.
PARTITION_ROWS = 50_000

#: Seconds a client waits for a --scheduler that does not answer.
CONNECT_TIMEOUT = 10

OnError = Callable[[str], None]


# --------------------------------------------------------------------------- the Python API


def score_dataframe(ddf: dd.DataFrame, column: str = "text", *, chunk_size: int = 2000, **load: Any) -> dd.DataFrame:
    """``ddf`` with every result field of ``Result.to_dict()`` added to each row, lazily.

    ``load`` are :meth:`Moderator.load`'s keyword arguments (``path``, ``sentiment_path``,
    ``config``, ``review``, ``reject``, ``sentiment``, ``reasons``), checked here and
    applied once per worker process; paths resolve on the workers. A row whose text
    is missing or empty is kept with null result fields (nothing is dropped);
    filter them with ``scored[scored.decision.isna()]``.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> ddf = dd.from_pandas(pd.DataFrame({"text": ["Merci", "TAIS-TOI"]}), npartitions=2)
    >>> score_dataframe(ddf).compute()[["text", "shouting"]]  # doctest: +SKIP
    """
    if column not in ddf.columns:
        raise KeyError(f"no column {column!r} in the DataFrame (columns: {', '.join(map(str, ddf.columns))})")
    from inspect import signature

    from classifier.moderator import Moderator

    bound = signature(Moderator.load).bind(**load)  # a misspelt option fails here, not on every worker
    bound.apply_defaults()  # every key, as the CLI passes them: one cached Moderator per worker for both
    args = dict(bound.arguments)
    return ddf.map_partitions(score_partition, column, args, chunk_size, meta=result_meta(ddf._meta))


def result_dtypes() -> dict[str, Any]:
    """The pandas dtype of each result field (nullable, for the rows without a text)."""
    import pandas as pd

    from classifier.moderator import RESULT_COLUMNS

    floats = ("hostile", "caps_ratio", "negative", "neutral", "positive")
    return {k: "float64" if k in floats else pd.BooleanDtype() if k == "shouting" else object for k in RESULT_COLUMNS}


def result_meta(meta: pd.DataFrame) -> pd.DataFrame:
    """The empty frame ``score_partition`` returns for an input shaped like ``meta``."""
    import pandas as pd

    out = meta.copy()
    for key, dtype in result_dtypes().items():
        out[key] = pd.Series([], index=meta.index, dtype=dtype)
    return out


def score_partition(df: pd.DataFrame, column: str, args: dict[str, Any], chunk_size: int = 2000) -> pd.DataFrame:
    """One partition of :func:`score_dataframe`: rows checked as the CLI checks them, then scored."""
    import pandas as pd

    from classifier import batch

    texts = df[column]
    values = texts.astype(object).where(texts.notna(), None).tolist()
    rows, positions = [], []
    for i, value in enumerate(values):
        row = batch._row({column: value}, "", column, lambda message: None)
        if row is not None:
            rows.append(row)
            positions.append(i)
    dtypes = result_dtypes()
    fields: dict[str, list[Any]] = {key: [None] * len(df) for key in dtypes}
    for i, record in zip(positions, batch.score_rows(rows, args, 1, chunk_size)):
        for key in dtypes:
            fields[key][i] = record[key]
    out = df.copy()
    for key, dtype in dtypes.items():
        out[key] = pd.Series(fields[key], index=df.index, dtype=dtype)
    return out


# --------------------------------------------------------------------------- the file job


@dataclass(frozen=True)
class Part:
    """Rows of one input file that one task reads, scores and writes.

    ``name`` is the path as given (reports and parsed ids name it as the local path does),
    opened by the workers from their working directory. ``kind`` "file" reads the whole
    file as the local path does; "jsonl" the lines in the byte range ``span`` (start, stop);
    "parquet" the row groups ``span``. ``first`` counts the lines or rows before the part,
    so reported numbers are the file's own.
    """

    name: str
    kind: str = "file"
    span: tuple[int, ...] = ()
    first: int = 0


@dataclass
class PartReport:
    """What a task sends back: its bad rows' and warnings' messages, its decisions and the file it wrote."""

    messages: list[tuple[bool, str]] = field(default_factory=list)  # (is a bad row, message), in reading order
    counts: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    written: str | None = None


def expand_inputs(paths: Sequence[str]) -> list[str]:
    """Globs expanded (sorted; a pattern matching nothing stays, to be reported missing) and
    directories replaced by the files inside them, as ``classifier parse`` lists them."""
    from classifier.parse import expand_paths

    names: list[str] = []
    for path in paths:
        matches = sorted(glob.glob(path, recursive=True)) if glob.has_magic(path) else []
        names.extend(expand_paths(matches or [path]))
    return names


def plan_parts(names: Sequence[str], text_column: str | None, partition_rows: int = PARTITION_ROWS) -> list[Part]:
    """The parts of every input, in input order."""
    from classifier.parse import SUFFIXES

    parts: list[Part] = []
    for name in names:
        kind = SUFFIXES.get(Path(name).suffix.lower()) if os.path.isfile(name) else None
        split = None
        if kind == "parquet":
            split = _parquet_parts(name, text_column, partition_rows)
        elif kind == "jsonl":
            split = _jsonl_parts(name, partition_rows)
        parts.extend(split or [Part(name)])
    return parts


def _parquet_parts(name: str, text_column: str | None, partition_rows: int) -> list[Part] | None:
    """Consecutive row groups of about ``partition_rows`` rows; None (one part) when the file
    is not Parquet or has no text column, so that the local reader reports it once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from classifier.batch import text_key

    try:
        metadata = pq.ParquetFile(name).metadata
    except (pa.ArrowException, OSError):
        return None
    if text_key(metadata.schema.to_arrow_schema().names, text_column) is None:
        return None
    parts, groups, rows, first = [], [], 0, 0
    for i in range(metadata.num_row_groups):
        groups.append(i)
        rows += metadata.row_group(i).num_rows
        if rows >= partition_rows or i == metadata.num_row_groups - 1:
            parts.append(Part(name, "parquet", tuple(groups), first))
            groups, first, rows = [], first + rows, 0
    return parts


def _jsonl_parts(name: str, partition_rows: int) -> list[Part] | None:
    """Byte ranges of about ``partition_rows`` lines, cut after a newline (a JSON value holds
    none); None (one part, read whole as the local path reads it) for a small file, one whose
    first line is not a JSON object (a JSON document), or one that is not UTF-8."""
    size = os.path.getsize(name)
    with open(name, "rb") as handle:
        head = handle.read(1 << 20)
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0].strip()
        if not (first.startswith(b"{") and first.endswith(b"}")):  # not one object per line: read whole
            return None
        target = max(len(head) // max(_line_count(head), 1), 1) * partition_rows
        if size <= target:
            return None
        parts, start, before = [], 0, 0
        while start < size:
            handle.seek(start)
            block = handle.read(target)
            block += handle.readline()  # to the end of the line the block cuts
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                return None
            parts.append(Part(name, "jsonl", (start, start + len(block)), before))
            start, before = start + len(block), before + _line_count(block)
    return parts


def _line_count(data: bytes) -> int:
    """Lines as Python's universal newlines count them (the local reader's): \\n, \\r\\n or a lone \\r."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def part_rows(part: Part, text_column: str | None, on_error: OnError, on_warning: OnError) -> Iterator[Any]:
    """The :class:`~classifier.batch.Row` items of a part, read and checked by the local path's reader."""
    from classifier import batch
    from classifier.errors import InputError
    from classifier.parse.reading import Source, open_source
    from classifier.parse.tabular import _json_lines, _json_records, parquet_table

    if part.kind == "file":
        yield from batch.iter_rows([part.name], [], text_column, on_error, on_warning=on_warning)
        return
    try:
        if part.kind == "parquet":
            with open_source(part.name) as source:
                table = parquet_table(source, on_warning, on_error, list(part.span), part.first)
                key = batch.text_key(table.columns, text_column)
                for row in table.rows:
                    checked = batch._row(row.record, row.where, key, on_error)
                    if checked is not None:
                        yield checked
            return
        start, stop = part.span
        with open(part.name, "rb") as handle:
            handle.seek(start)
            text = handle.read(stop - start).decode("utf-8-sig" if start == 0 else "utf-8")
        lines = _json_lines(io.StringIO(text, newline=""), Source(part.name, io.BytesIO()), on_warning, on_error, part.first + 1)
        for row in _json_records(lines, on_error):
            checked = batch._row(row.record, row.where, text_column, on_error)
            if checked is not None:
                yield checked
    except InputError as exc:
        on_error(str(exc))


def score_part(
    index: int, part: Part, out: str, fmt: str, args: dict[str, Any], text_column: str | None, chunk_size: int,
    raw_csv: bool = False,
) -> PartReport:
    """A task: read, check and score one part, write ``out/part-<index>.<fmt>`` (when a row is left)."""
    from classifier import batch

    report = PartReport()
    rows = part_rows(
        part, text_column, lambda m: report.messages.append((True, m)), lambda m: report.messages.append((False, m))
    )
    records = list(batch.score_rows(rows, args, 1, chunk_size))
    for record in records:
        report.counts[record["decision"]] = report.counts.get(record["decision"], 0) + 1
    report.rows = len(records)
    if records:
        report.written = str(write_part(records, Path(out) / f"part-{index:05d}.{fmt}", fmt, raw_csv))
    return report


def write_part(records: list[dict[str, Any]], path: Path, fmt: str, raw_csv: bool = False) -> Path:
    """Write one partition atomically (a temporary name, then renamed)."""
    from classifier.output import write_records

    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(arrow_table(records), tmp)
    else:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            write_records(records, fmt, out=handle, raw_csv=raw_csv)
    os.replace(tmp, path)
    return path


def arrow_table(records: list[dict[str, Any]]):
    """Records as an Arrow table: result fields with fixed types (every part alike), input
    columns inferred; a column of mixed types is written as JSON text."""
    import pyarrow as pa

    types = {
        "hostile": pa.float64(), "shouting": pa.bool_(), "caps_ratio": pa.float64(), "sentiment": pa.string(),
        "negative": pa.float64(), "neutral": pa.float64(), "positive": pa.float64(), "decision": pa.string(),
        "reasons": pa.list_(pa.string()), "model": pa.string(),
    }  # fmt: skip
    columns = {}
    for key in dict.fromkeys(k for record in records for k in record):
        values = [record.get(key) for record in records]
        if key in types:
            columns[key] = pa.array(values, type=types[key])
            continue
        try:
            array = pa.array(values)
        except (pa.ArrowException, OverflowError):
            array = pa.array([v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values])
        columns[key] = array.cast(pa.string()) if pa.types.is_null(array.type) else array
    return pa.table(columns)


def prepare_out(out: str | Path, fmt: str) -> Path:
    """The output directory, created; one holding partitions of an earlier run is refused (no mixing)."""
    if fmt not in PARTITION_FORMATS:
        raise ClassifierError(f"--format {fmt}: partitions are written as {', '.join(PARTITION_FORMATS)}", EXIT_USAGE)
    directory = Path(out).absolute()
    if directory.exists() and not directory.is_dir():
        raise ClassifierError(f"--out {out}: not a directory", EXIT_USAGE)
    if any(directory.glob("part-*")):
        raise ClassifierError(f"--out {out}: holds partitions of an earlier run; remove them or choose another directory", EXIT_USAGE)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClassifierError(f"--out {out}: cannot create ({exc.strerror or exc})", EXIT_USAGE) from None
    return directory


@contextmanager
def connect(scheduler: str | Client | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: to ``scheduler`` (an address or a client, kept open), else to a
    ``LocalCluster`` on loopback (``workers`` processes of one thread; default the core
    count) that is closed at the end."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClassifierError("--engine dask needs Dask: pip install 'classifier[dask]'", EXIT_USAGE) from None
    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None:
        with LocalCluster(
            n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0", silence_logs=logging.ERROR,
        ) as cluster, Client(cluster) as client:  # fmt: skip
            yield client
        return
    try:
        _probe(scheduler)
        client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ClassifierError(f"cannot reach the Dask scheduler at {scheduler} ({reason})", EXIT_USAGE) from None
    with client:
        yield client


def _probe(address: str) -> None:
    """Fail fast on a bad address: a malformed one, a refused port, or a peer that is no Dask
    server (a ``Client`` waits out its timeout instead, then prints a traceback as it is collected)."""
    import asyncio
    import socket

    from distributed.comm import connect as dask_connect
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme not in ("tcp", "tls"):
        raise ValueError(f"use a tcp:// or tls:// address, not {scheme}://")
    host, port = parse_host_port(location)
    socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()

    async def handshake() -> None:
        try:
            comm = await asyncio.wait_for(dask_connect(address, timeout=CONNECT_TIMEOUT), CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no Dask handshake within {CONNECT_TIMEOUT} s") from None
        await comm.close()

    asyncio.run(handshake())


def score_files(
    paths: Sequence[str],
    out: str | Path,
    *,
    fmt: str = "parquet",
    args: dict[str, Any] | None = None,
    scheduler: str | Client | None = None,
    workers: int | None = None,
    text_column: str | None = None,
    chunk_size: int = 2000,
    partition_rows: int = PARTITION_ROWS,
    on_error: OnError,
    on_warning: OnError | None = None,
    on_part: Callable[[int], None] | None = None,
    raw_csv: bool = False,
) -> dict[str, int]:
    """Score files (globs and directories expanded) on a Dask cluster into ``out``; return
    the decision counts. Bad rows and unreadable files go to ``on_error`` in input order;
    ``on_part(rows)`` is called as each part completes, in order."""
    directory = prepare_out(out, fmt)
    parts = plan_parts(expand_inputs(paths), text_column, partition_rows)
    counts = dict.fromkeys(DECISIONS, 0)
    with connect(scheduler, workers) as client:
        from distributed import KilledWorker

        futures = client.map(
            score_part, range(len(parts)), parts, out=str(directory), fmt=fmt, args=args or {},
            text_column=text_column, chunk_size=chunk_size, raw_csv=raw_csv, pure=False,
        )  # fmt: skip
        try:
            for future in futures:
                report = future.result()
                for bad, message in report.messages:
                    (on_error if bad else on_warning or on_error)(message)
                for decision, n in report.counts.items():
                    counts[decision] += n
                if on_part is not None:
                    on_part(report.rows)
        except KilledWorker:
            raise ClassifierError("a Dask worker died while scoring (out of memory?); try a smaller --partition-rows") from None
    return counts
