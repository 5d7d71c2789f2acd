"""Text rules shared by the parser, the features and the scorer.

One place for each rule: the hygiene applied to every incoming text
(:func:`clean_text`) and the shouting rule (:func:`caps_ratio`,
:func:`is_shouting`), so that the CLI, the API and the queue agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# --------------------------------------------------------------------------- hygiene

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_PARAGRAPH = re.compile(r"\n\s*\n+")
_MOJIBAKE_HINT = re.compile(r"[ÃÂâ][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|Ã[©¨ª«®¯´¹¼]")


def fix_mojibake(text: str) -> str:
    """Repair double-encoded UTF-8 ("Ã©" -> "é") and leave clean text alone."""
    if not ("Ã" in text or "Â" in text or "â" in text) or not _MOJIBAKE_HINT.search(text):
        return text
    import ftfy  # lazy: only texts that look broken pay for it

    return ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)


def clean_text(text: str) -> str:
    """Mojibake repaired, NFC, control characters removed, whitespace normalised.

    Paragraph breaks (blank lines) are kept as a single blank line; other runs
    of whitespace inside a line become one space.
    """
    text = fix_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", text)
    if text.isprintable() and "  " not in text:
        # the common case, decided fast (the scorer cleans every comment): no control
        # character, line break or unusual space, so only the ends can change
        return text.strip(" ")
    text = _CONTROL.sub("", text)
    paragraphs = []
    for block in _PARAGRAPH.split(text):
        lines = [_SPACES.sub(" ", line).strip() for line in block.split("\n")]
        joined = " ".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)


# --------------------------------------------------------------------------- shouting

#: A comment shouts when at least this share of its counted letters are capitals...
SHOUTING_MIN_RATIO = 0.7
#: ...over at least this many counted letters.
SHOUTING_MIN_LETTERS = 8

#: Acronyms that never count, even in a short text (the length rule covers the rest).
KNOWN_ACRONYMS = frozenset(
    """ONU OTAN UE USA UK URSS SNCF RATP EDF GDF CGT CFDT FO MEDEF PS LR RN FN LFI EELV
    UMP UDI PCF NPA FMI BCE PIB TVA CSG RSA SMIC CAF CPAM SAMU SDF HLM PME TPE ENA BAC
    CNRS INSEE OMS ONG UNESCO UNICEF NBC CNN BBC AFP TASS NASA FBI CIA KGB EI DAESH
    ISIS COVID SIDA VIH IVG PMA GPA LGBT LGBTQ JO PSG OM OL TGV TER RER SUV CEO PDG
    DRH RH IA AI TV WC OK""".split()
)

# (?<!\S): matches start at a token start anyway; the anchor avoids quadratic backtracking.
_URL = re.compile(r"(?:https?://|www\.)\S+|(?<!\S)\S+@\S+\.\w+", re.IGNORECASE)
_HANDLE = re.compile(r"[@#]\w+")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_]+")
_SIGNATURE = re.compile(r"(?:\n|^)\s*(?:--+|—|–)\s*[^\n]{1,40}\s*$")


def _strip_signature(text: str) -> str:
    """Drop a trailing author signature: a '-- Name' line, or a short last line."""
    text = text.rstrip()
    if "--" in text or "—" in text or "–" in text:  # cheap checks first: the scorer runs this per comment
        text = _SIGNATURE.sub("", text)
    body, sep, last = text.rpartition("\n")
    if sep and body.strip() and len(last.split()) <= 3 and len(last) <= 40 and not re.search(r"[.!?…]$", last.strip()):
        return body
    return text


def _counted_words(text: str) -> list[str]:
    """The words of at least two letters that count for shouting, in order.

    Token by token (every rule below stays inside a whitespace-delimited token), with
    the regexes only for the tokens that need them: the scorer runs this per comment.
    """
    words = []
    for token in _strip_signature(text).split():
        if token.isalpha():  # letters only: one word, nothing to remove
            if len(token) >= 2:
                words.append(token)
            continue
        pieces: Iterable[str] = (token,)
        if "@" in token or "#" in token or "://" in token or "www." in token.lower():
            pieces = _HANDLE.sub(" ", _URL.sub(" ", token)).split()  # URLs, e-mails, @mentions, #tags
        for piece in pieces:
            if not _DIGIT.search(piece):  # numbers, COP28, G7, 3eme
                words.extend(w for w in _WORD.findall(piece) if len(w) >= 2)  # single letters: elisions, initials
    return words


def _ratio(words: list[str]) -> tuple[float, int]:
    letters = sum(len(w) for w in words)
    if not letters:
        return 0.0, 0
    upper = sum(map(str.isupper, "".join(words)))
    return upper / letters, letters


def _measure(text: str) -> tuple[float, int]:
    if not any(map(str.isupper, text)):  # no capital at all: ratio 0 (the common case, decided fast)
        return 0.0, 0
    words = _counted_words(text)
    ratio, letters = _ratio([w for w in words if not (w.isupper() and len(w) <= 5)])
    if letters < SHOUTING_MIN_LETTERS:
        ratio, letters = _ratio([w for w in words if w.upper() not in KNOWN_ACRONYMS])
    return ratio, letters


def caps_ratio(text: str) -> float:
    """Share of capital letters among the letters that count for shouting.

    Not counted: URLs, e-mail addresses, @mentions and #hashtags, tokens with
    digits (numbers, "COP28"), single letters (elisions such as "L'", initials),
    a trailing author signature, and acronyms -- all-capital words of at most
    five letters (ONU, OTAN, SNCF) whenever the text has enough other letters
    to judge by. A short text made only of such words falls back to counting
    them, except for the well-known acronyms in :data:`KNOWN_ACRONYMS`.
    """
    return _measure(text)[0]


def is_shouting(text: str) -> bool:
    """True when most counted letters are capitals over enough letters (see :func:`caps_ratio`)."""
    return shouting_score(text)[0]


def shouting_score(text: str) -> tuple[bool, float]:
    """``(is_shouting(text), caps_ratio(text))`` measured once, for scoring many texts."""
    ratio, letters = _measure(text)
    return letters >= SHOUTING_MIN_LETTERS and ratio >= SHOUTING_MIN_RATIO, ratio
