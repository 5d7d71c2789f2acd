"""Record writers shared by every command: ``--format json|jsonl|csv|table``.

Records are plain dicts; writers stream where the format allows (jsonl, csv)
so large inputs keep bounded memory. Comments are untrusted text, so the
writers that reach a person are safe by default:

* ``table`` shows control characters (ESC, BEL, ...) and bidi controls as
  escapes (``\x1b``, ``\u202e``): a comment cannot drive the terminal or
  reorder what is shown;
* ``csv`` neutralises cells that a spreadsheet would run as a formula (a text
  starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'``);
  ``raw=True`` (``--raw-csv``) writes the cells as they are, for programs
  (``classifier train`` among them) that read the CSV back.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from classifier.schema import OutputFormat

__all__ = ["OutputFormat", "format_table", "iter_chunks", "write_records"]


#: Characters a terminal would act on, or that reorder text: C0/C1 controls (but newline and tab) and bidi controls.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: First characters that make a spreadsheet evaluate a cell (OWASP "CSV injection"), also after leading spaces.
FORMULA_START = ("=", "+", "-", "@")
#: What neutralises such a cell: a leading apostrophe (spreadsheets then show the text as typed).
FORMULA_GUARD = "'"


def visible(text: str) -> str:
    """``text`` with control and bidi characters shown as escapes (``\\x1b``), safe to print on a terminal."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def neutralise(text: str) -> str:
    """A CSV cell a spreadsheet will not run: a text starting with ``=``, ``+``, ``-``, ``@`` (after spaces),
    tab or CR gets :data:`FORMULA_GUARD` in front (and keeps it when read back: the guard cannot be told
    from a text that starts with ``'`` itself, so machine consumers ask for ``--raw-csv``)."""
    if text[:1] in ("\t", "\r") or text.lstrip().startswith(FORMULA_START):
        return FORMULA_GUARD + text
    return text


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


def _csv_cell(value: Any, raw: bool) -> str:
    text = _cell(value)
    if "\r" in text:  # the csv module leaves a bare CR unquoted (our line end is LF): keep the row whole
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if raw or isinstance(value, (int, float)) else neutralise(text)


def _flat(record: dict[str, Any], raw: bool = False) -> dict[str, str]:
    return {k: _csv_cell(v, raw) for k, v in record.items()}


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


def write_csv(
    records: Iterable[dict[str, Any]], out: IO[str], columns: Sequence[str] | None = None, raw: bool = False
) -> int:
    """CSV with a header; text cells neutralised against spreadsheet formulas unless ``raw``."""
    writer = None
    n = 0
    for n, record in enumerate(records, 1):
        if writer is None:
            fields = list(columns) if columns else list(record)
            writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
        writer.writerow(_flat(record, raw))
    return n


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], width: int | None = None) -> str:
    """A plain-text table that fits ``width`` columns (the terminal's, 80 at most by default).

    The last column (usually the comment text) takes the room the others leave.
    """
    width = width or min(shutil.get_terminal_size((80, 24)).columns, 120)
    headers = [visible(c) for c in columns]
    cells = [[visible(_cell(r.get(c))) for c in columns] for r in rows]
    sizes = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    fixed = [min(s, 24) for s in sizes[:-1]]
    last = max(width - sum(fixed) - 2 * (len(columns) - 1), 10)
    sizes = fixed + [min(sizes[-1], last)]
    lines = ["  ".join(_shorten(h, s).ljust(s) for h, s in zip(headers, sizes)).rstrip()]
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
    raw_csv: bool = False,
) -> int:
    """Write records in the chosen format; return how many were written (``raw_csv``: see :func:`write_csv`)."""
    out = out or sys.stdout
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.jsonl:
        return write_jsonl(records, out)
    if fmt is OutputFormat.json:
        return write_json(records, out)
    if fmt is OutputFormat.csv:
        return write_csv(records, out, columns, raw=raw_csv)
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
