"""Record writers shared by every command: ``--format json|jsonl|csv|table``.

Records are plain dicts; writers stream where the format allows (jsonl, csv)
so large inputs keep bounded memory.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from classifier.schema import OutputFormat

__all__ = ["OutputFormat", "format_table", "iter_chunks", "write_records"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _flat(record: dict[str, Any]) -> dict[str, str]:
    return {k: _cell(v) for k, v in record.items()}


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for n, record in enumerate(records, 1):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return n


def write_json(records: Iterable[dict[str, Any]] | dict[str, Any], out: IO[str]) -> int:
    data = records if isinstance(records, dict) else list(records)
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return len(data) if isinstance(data, list) else 1


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], columns: Sequence[str] | None = None) -> int:
    writer = None
    n = 0
    for n, record in enumerate(records, 1):
        if writer is None:
            fields = list(columns) if columns else list(record)
            writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
        writer.writerow(_flat(record))
    return n


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], width: int | None = None) -> str:
    """A plain-text table that fits ``width`` columns (the terminal's, 80 at most by default).

    The last column (usually the comment text) takes the room the others leave.
    """
    width = width or min(shutil.get_terminal_size((80, 24)).columns, 120)
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    sizes = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    fixed = [min(s, 24) for s in sizes[:-1]]
    last = max(width - sum(fixed) - 2 * (len(columns) - 1), 10)
    sizes = fixed + [min(sizes[-1], last)]
    lines = ["  ".join(_shorten(c, s).ljust(s) for c, s in zip(columns, sizes)).rstrip()]
    lines.append("  ".join("-" * s for s in sizes))
    for row in cells:
        lines.append("  ".join(_shorten(v, s).ljust(s) for v, s in zip(row, sizes)).rstrip())
    return "\n".join(lines)


def write_records(
    records: Iterable[dict[str, Any]],
    fmt: OutputFormat | str,
    out: IO[str] | None = None,
    columns: Sequence[str] | None = None,
    table_columns: Sequence[str] | None = None,
) -> int:
    """Write records in the chosen format; return how many were written."""
    out = out or sys.stdout
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.jsonl:
        return write_jsonl(records, out)
    if fmt is OutputFormat.json:
        return write_json(records, out)
    if fmt is OutputFormat.csv:
        return write_csv(records, out, columns)
    rows = list(records)
    if rows:
        out.write(format_table(rows, table_columns or columns or list(rows[0])) + "\n")
    return len(rows)


def iter_chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of at most ``size`` items, for bounded-memory streaming."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
