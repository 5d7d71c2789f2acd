"""Reading one input (a file or stdin): binary, empty and encoding checks, streamed.

:func:`open_source` opens a file or stdin and peeks at its first bytes (:attr:`Source.head`)
to detect binary and empty inputs and, later, the format: the same checks for stdin as for
files. Tables are then streamed line by line (:func:`iter_lines`, bounded memory); page
formats, which need the whole document, read it once (:attr:`Source.data`, :func:`decode`).

UTF-8 is the default (a BOM selects UTF-8, UTF-16 or UTF-32); other bytes fall back to
cp1252 (the usual culprit for French pages), else to what charset-normalizer detects, with
one warning naming the file. Every failure is an :class:`~classifier.errors.InputError`
whose one-line message names the file.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from classifier.errors import InputError
from classifier.text import fix_mojibake

#: The name a source read from standard input goes by.
STDIN = "-"
#: Bytes peeked at the start of every input (format detection, binary and empty checks).
HEAD_BYTES = 64 * 1024
#: A line longer than this (in characters) is reported and skipped (bounded memory); fields up to it are read.
MAX_LINE_CHARS = 16 * 2**20

Warn = Callable[[str], None]

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff", b"\x7fELF")
_BLOCK = 1 << 20
_ESCAPED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, under surrogateescape


class Source:
    """One input: its name (as reported and as the page of its comments), its first bytes, the rest as a stream."""

    def __init__(self, name: str, stream: BinaryIO, path: str | None = None):
        self.name = name
        self.path = path  # the file to reopen (Parquet reads in place); None for stdin and bytes in memory
        self._stream = stream
        self.head = stream.read(HEAD_BYTES)
        self._data: bytes | None = None

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Source:
        """A checked source over bytes already in memory, named like a file (tests, fuzzing)."""
        return _checked(cls(name, io.BytesIO(data)))

    @property
    def label(self) -> str:
        """The name used in messages ("stdin" for ``-``)."""
        return "stdin" if self.name == STDIN else self.name

    @property
    def suffix(self) -> str:
        return "" if self.name == STDIN else Path(self.name).suffix.lower()

    @property
    def data(self) -> bytes:
        """Every byte of the input (read once): for the page formats, which parse whole documents."""
        if self._data is None:
            self._data = self.head + self._stream.read()
        return self._data

    def chunks(self) -> Iterator[bytes]:
        """The bytes in blocks, from the start, without holding them all."""
        if self._data is not None:
            yield self._data
            return
        yield self.head
        while block := self._stream.read(_BLOCK):
            yield block

    def close(self) -> None:
        if self._stream is not _stdin_buffer():
            self._stream.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stdin_buffer():
    stdin = sys.stdin
    return None if stdin is None else getattr(stdin, "buffer", stdin)


def open_source(path: str | Path) -> Source:
    """A file, or stdin for ``-``, opened and checked: missing, unreadable, binary and empty inputs are refused.

    The name is normalised ("./seeds/x" and "seeds//x" are "seeds/x") because it
    is part of every comment id: the same file must give the same ids.
    """
    name = str(path) if str(path) == STDIN else os.path.normpath(path)
    label = "stdin" if name == STDIN else name
    try:
        if name == STDIN:
            stream = _stdin_buffer()
            if stream is None or stream.closed:
                raise InputError("stdin: closed, nothing to read")
            source = Source(name, stream)
        else:
            source = Source(name, open(name, "rb"), path=name)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except (OSError, ValueError) as exc:  # ValueError: a stream closed under us
        raise InputError(f"{label}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return _checked(source)


def _checked(source: Source) -> Source:
    """The source, unless it is empty or binary (then closed, and one InputError naming it)."""
    if not source.head.strip() and len(source.head) < HEAD_BYTES:
        source.close()
        raise InputError(f"{source.label}: empty file")
    if is_binary(source.head):
        source.close()
        raise InputError(f"{source.label}: binary file, not text")
    return source


def _bom_encoding(data: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), None)


def is_binary(data: bytes) -> bool:
    """True for bytes that are no text in any encoding we read (NUL bytes, known binary magics).

    Parquet (``PAR1``) is binary but a format we read.
    """
    if _bom_encoding(data) in ("utf-16", "utf-32") or data.startswith(b"PAR1"):
        return False
    head = data[:8192]
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


def _fallback_encoding(sample: bytes) -> str:
    """The encoding of bytes that are not UTF-8: cp1252 when it decodes them, else charset-normalizer's guess."""
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
        return best.encoding if best else "latin-1"


def decode(source: Source, warn: Warn) -> str:
    """The whole text of a source: UTF-8, else cp1252, else a detected encoding (with a warning).

    Double-encoded UTF-8 ("Ã©") is repaired here, on the whole text, so that
    the layout (bullets, quotes) reads right before the comments are cut out.
    """
    data = source.data
    encoding = _bom_encoding(data)
    if encoding:
        try:
            return fix_mojibake(data.decode(encoding))
        except UnicodeDecodeError:
            raise InputError(f"{source.label}: invalid {encoding} text") from None
    try:
        return fix_mojibake(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    encoding = _fallback_encoding(data)
    warn(f"{source.label}: not valid UTF-8, read as {encoding}")
    return fix_mojibake(data.decode(encoding, errors="replace"))


def iter_lines(source: Source, warn: Warn, on_bad_line: Warn | None = None) -> Iterator[str]:
    """The decoded lines of a source (line ends kept: CR, LF or CRLF), streamed with bounded memory.

    A BOM decides the encoding; otherwise each line is UTF-8 or, failing that, the
    fallback encoding (:func:`_fallback_encoding`, chosen once on the first bad line,
    with one warning). A line longer than :data:`MAX_LINE_CHARS` is reported to
    ``on_bad_line`` (default ``warn``) and skipped.
    """
    report = on_bad_line or warn
    bom = _bom_encoding(source.head)
    wide = bom in ("utf-16", "utf-32")
    # undecodable bytes become lone surrogates (surrogateescape): only those lines pay for the fallback
    errors = "replace" if wide else "surrogateescape"
    text = io.TextIOWrapper(_ChunkStream(source.chunks()), encoding=bom or "utf-8", errors=errors, newline="")
    fallback, number = None, 0
    while line := text.readline(MAX_LINE_CHARS):
        number += 1
        if len(line) == MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            while (rest := text.readline(MAX_LINE_CHARS)) and not rest.endswith(("\n", "\r")):
                pass
            report(f"{source.label}: line {number}: longer than {MAX_LINE_CHARS // 2**20} Mi characters, skipped")
            continue
        if wide:
            if "\ufffd" in line and fallback is None:
                fallback = bom
                warn(f"{source.label}: line {number}: invalid {bom} bytes replaced")
        elif not line.isascii() and _ESCAPED.search(line):  # isascii is O(1)
            raw = line.encode("utf-8", "surrogateescape")
            if fallback is None:
                fallback = _fallback_encoding(raw)
                warn(f"{source.label}: not valid UTF-8 (line {number}), read as {fallback}")
            line = raw.decode(fallback, errors="replace")
        yield line


class _ChunkStream(io.RawIOBase):
    """A readable binary stream over an iterator of blocks (for TextIOWrapper)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._block = b""
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._at >= len(self._block):
            self._block, self._at = next(self._chunks, b""), 0
            if not self._block:
                return 0
        n = min(len(buffer), len(self._block) - self._at)
        buffer[:n] = self._block[self._at : self._at + n]
        self._at += n
        return n


def xml_root(source: Source, warn: Warn):
    """The root element of an XML export; malformed XML is an InputError naming the file.

    External entities and network access are disabled. Bytes that are not
    in the declared encoding are decoded like any text (:func:`decode`).
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    try:
        return etree.fromstring(source.data, parser)
    except etree.XMLSyntaxError as exc:
        if "encoding" not in str(exc).lower() and "utf-8" not in str(exc).lower():
            raise InputError(f"{source.label}: malformed XML ({_xml_error(exc)})") from None
    text = decode(source, warn)
    text = text.lstrip("\ufeff")
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    try:
        return etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{source.label}: malformed XML ({_xml_error(exc)})") from None


def _xml_error(exc: Exception) -> str:
    return " ".join(str(getattr(exc, "msg", None) or exc).split())


def local_name(element) -> str:
    """An XML element's tag without its namespace ("" for comments and the like)."""
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def children(element) -> dict:
    """An element's children by local name (the first of each name)."""
    found: dict = {}
    for node in element:
        found.setdefault(local_name(node), node)
    return found


def child_text(found: dict, name: str) -> str:
    """The stripped text (CDATA included) of the child with this local name, or "" (``found``: :func:`children`)."""
    node = found.get(name)
    return (node.text or "").strip() if node is not None else ""
