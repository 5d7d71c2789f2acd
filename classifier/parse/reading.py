"""Reading one input (a file or stdin) into text: binary, empty and encoding checks.

UTF-8 is the default; other bytes fall back to cp1252 (the usual culprit for
French pages), then to what charset-normalizer detects, with a warning naming
the file. Every failure is an :class:`~classifier.errors.InputError` whose
one-line message names the file.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import InputError
from classifier.text import fix_mojibake

#: The name a source read from standard input goes by.
STDIN = "-"

Warn = Callable[[str], None]

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_BINARY_MAGIC = (b"PAR1", b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff", b"\x7fELF")


@dataclass(frozen=True)
class Source:
    """The raw bytes of one input and the name it is reported under."""

    name: str
    data: bytes

    @property
    def suffix(self) -> str:
        return "" if self.name == STDIN else Path(self.name).suffix.lower()


def read_source(path: str | Path) -> Source:
    """The bytes of a file, or of stdin for ``-``; refuses unreadable and empty inputs.

    The name is normalised ("./seeds/x" and "seeds//x" are "seeds/x") because it
    is part of every comment id: the same file must give the same ids.
    """
    name = str(path) if str(path) == STDIN else os.path.normpath(path)
    try:
        data = sys.stdin.buffer.read() if name == STDIN else Path(name).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not data.strip():
        raise InputError(f"{name}: empty file")
    return Source(name, data)


def _bom_encoding(data: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), None)


def is_binary(data: bytes) -> bool:
    """True for bytes that are no text in any encoding we read (NUL bytes, known binary magics)."""
    if _bom_encoding(data) in ("utf-16", "utf-32"):
        return False
    head = data[:8192]
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


def decode(source: Source, warn: Warn) -> str:
    """The text of a source: UTF-8, else cp1252, else a detected encoding (with a warning).

    Double-encoded UTF-8 ("Ã©") is repaired here, on the whole text, so that
    the layout (bullets, quotes) reads right before the comments are cut out.
    """
    if is_binary(source.data):
        raise InputError(f"{source.name}: binary file, not text")
    encoding = _bom_encoding(source.data)
    if encoding:
        try:
            return fix_mojibake(source.data.decode(encoding))
        except UnicodeDecodeError:
            raise InputError(f"{source.name}: invalid {encoding} text") from None
    try:
        return fix_mojibake(source.data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = source.data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(source.data).best()
        text, encoding = (str(best), best.encoding) if best else (source.data.decode("latin-1"), "latin-1")
    warn(f"{source.name}: not valid UTF-8, read as {encoding}")
    return fix_mojibake(text)


def xml_root(source: Source, warn: Warn):
    """The root element of an XML export; malformed XML is an InputError naming the file.

    External entities and network access are disabled. Bytes that are not
    in the declared encoding are decoded like any text (:func:`decode`).
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    if is_binary(source.data):
        raise InputError(f"{source.name}: binary file, not text")
    try:
        return etree.fromstring(source.data, parser)
    except etree.XMLSyntaxError as exc:
        if "encoding" not in str(exc).lower() and "utf-8" not in str(exc).lower():
            raise InputError(f"{source.name}: malformed XML ({_xml_error(exc)})") from None
    text = decode(source, warn)
    text = text.lstrip("\ufeff")
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    try:
        return etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{source.name}: malformed XML ({_xml_error(exc)})") from None


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
