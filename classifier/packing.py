"""Large estimator state as plain numpy arrays, so a model saves without pickle and loads fast.

skops (:mod:`classifier.model`) stores arrays as ``.npy`` files read without
pickle, but a Python dict becomes one JSON node per entry: the features'
vocabularies (hundreds of thousands of entries) took 140 MB and 20 s to load
that way. Packed as one UTF-8 byte array of ``"\\0"``-joined keys and one
integer array of values, they take a few MB and load in milliseconds, in the
same key order (the features rely on it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_SEP = "\0"


def pack_strings(strings: Sequence[str]) -> np.ndarray:
    """``strings`` as one uint8 array: their UTF-8 bytes joined by NUL (a string holding NUL is refused)."""
    joined = _SEP.join(strings)
    if joined.count(_SEP) != max(len(strings) - 1, 0):
        raise ValueError("cannot pack a string that holds a NUL character")
    return np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8).copy()


def unpack_strings(packed: np.ndarray, count: int) -> list[str]:
    """The ``count`` strings :func:`pack_strings` packed."""
    if count == 0:
        return []
    strings = np.asarray(packed, dtype=np.uint8).tobytes().decode("utf-8", "surrogatepass").split(_SEP)
    if len(strings) != count:
        raise ValueError(f"packed strings: expected {count}, found {len(strings)}")
    return strings


def pack_index(mapping: dict[str, int]) -> dict[str, Any]:
    """A ``{str: int}`` dict (a vocabulary) as arrays."""
    return {
        "keys": pack_strings(list(mapping)),
        "values": np.fromiter(mapping.values(), dtype=np.int64, count=len(mapping)),
    }


def unpack_index(packed: dict[str, Any]) -> dict[str, int]:
    values = np.asarray(packed["values"], dtype=np.int64)
    return dict(zip(unpack_strings(packed["keys"], len(values)), values.tolist()))


def pack_lists(mapping: dict[str, Iterable[int]]) -> dict[str, Any]:
    """A ``{str: [int, ...]}`` dict as arrays (keys, the lists back to back, their lengths)."""
    lists = [list(v) for v in mapping.values()]
    return {
        "keys": pack_strings(list(mapping)),
        "values": np.fromiter((x for v in lists for x in v), dtype=np.int64),
        "lengths": np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)),
    }


def unpack_lists(packed: dict[str, Any]) -> dict[str, list[int]]:
    lengths = np.asarray(packed["lengths"], dtype=np.int64)
    values = np.asarray(packed["values"], dtype=np.int64).tolist()
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    keys = unpack_strings(packed["keys"], len(lengths))
    return {key: values[a:b] for key, a, b in zip(keys, starts, ends)}


def pack_rows(rows: Sequence[Sequence[str]], width: int) -> dict[str, Any]:
    """A sequence of equal-length string tuples (e.g. ``(word, category)`` pairs) as arrays."""
    if any(len(row) != width for row in rows):
        raise ValueError(f"every row must hold {width} strings")
    return {"cells": pack_strings([str(cell) for row in rows for cell in row]), "rows": len(rows)}


def unpack_rows(packed: dict[str, Any], width: int) -> tuple[tuple[str, ...], ...]:
    count = int(packed["rows"])
    cells = unpack_strings(packed["cells"], count * width)
    return tuple(tuple(cells[i : i + width]) for i in range(0, len(cells), width))
