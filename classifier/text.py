"""Text rules shared by the parser, the features and the scorer.

One place for each rule: the hygiene applied to every incoming text
(:func:`clean_text`), the accent folding used wherever text is matched
(:func:`fold`) and the shouting rule (:func:`caps_ratio`,
:func:`is_shouting`), so that the CLI, the API and the queue agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from itertools import repeat

# --------------------------------------------------------------------------- hygiene

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_PARAGRAPH = re.compile(r"\n\s*\n+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MOJIBAKE_HINT = re.compile(r"[ÃÂâÅ][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|Ã[©¨ª«®¯´¹¼]")


def fix_mojibake(text: str) -> str:
    """Repair double-encoded UTF-8 ("Ã©" -> "é", "cÅ“ur" -> "cœur") and leave clean text alone.

    Only ftfy's encoding repair (with its HTML-entity and terminal-escape
    steps): NFC, line breaks and control characters are :func:`clean_text`'s
    job, and the features fold ligatures and full-width forms themselves.
    """
    if not ("Ã" in text or "Â" in text or "â" in text or "Å" in text) or not _MOJIBAKE_HINT.search(text):
        return text
    import ftfy  # lazy: only texts that look broken pay for it

    return ftfy.fix_text(text, _ftfy_config())


@functools.cache
def _ftfy_config():
    import ftfy

    return ftfy.TextFixerConfig(
        fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
        fix_surrogates=False, remove_control_chars=False, normalization=None,
    )  # fmt: skip


def replace_surrogates(text: str) -> str:
    """Lone surrogates (from JSON such as ``"\\ud800"``, which no UTF-8 output can hold) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds a lone surrogate: it could not be written as UTF-8."""
    return _SURROGATE.search(text) is not None


def clean_text(text: str) -> str:
    """Mojibake repaired, NFC, control characters removed, lone surrogates replaced, whitespace normalised.

    Paragraph breaks (blank lines) are kept as a single blank line; other runs
    of whitespace inside a line become one space.
    """
    text = fix_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", text)
    if text.isprintable() and "  " not in text:
        # the common case, decided fast (the scorer cleans every comment): no control
        # character, line break or unusual space, so only the ends can change
        return text.strip(" ")
    text = replace_surrogates(_CONTROL.sub("", text))
    paragraphs = []
    for block in _PARAGRAPH.split(text):
        lines = [_SPACES.sub(" ", line).strip() for line in block.split("\n")]
        joined = " ".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)


# --------------------------------------------------------------------------- folding

_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> str:
    """Lower case, compatibility forms and accents removed: the one folding rule.

    Used by the features' n-grams (on whole batches: every step is local to a
    character, so a joined batch folds as its parts do), the parser's date and
    author matching (:func:`fold_same_length`), the sentiment lexicon and the
    queue's banned and suspect words, so "Débile", "DEBILE" and "ｄébile" agree
    everywhere.

    >>> fold("Éléphant ﬁdèle")
    'elephant fidele'
    """
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower()))


_FOLDED_CHARS: dict[str, str] = {}


def fold_same_length(text: str) -> str:
    """:func:`fold` character by character, keeping any character that would not fold to exactly one.

    Same length as ``text``, so spans found in the folded copy map back to the original.
    """
    if text.isascii():
        return text.lower()
    out = []
    for ch in text:
        folded = _FOLDED_CHARS.get(ch)
        if folded is None:
            one = fold(ch)
            folded = _FOLDED_CHARS.setdefault(ch, one if len(one) == 1 else ch)
        out.append(folded)
    return "".join(out)


# --------------------------------------------------------------------------- batches

#: A private-use character put between the documents of a batch: a token of its own.
DOC_SEP = "\ue000"


def split_batch(texts: list[str]) -> list[str]:
    """The whitespace-delimited tokens of all the texts, with a :data:`DOC_SEP` token between documents.

    One split for the whole batch (much faster than one per text); a text
    holding the separator itself has it replaced by a space.
    """
    flat = f" {DOC_SEP} ".join(texts).split()
    if flat.count(DOC_SEP) != len(texts) - 1:
        flat = f" {DOC_SEP} ".join(t.replace(DOC_SEP, " ") for t in texts).split()
    return flat


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


def _token_words(token: str) -> list[str]:
    """The words of at least two letters of one whitespace-delimited token that count for shouting.

    Every rule stays inside a token, so a text's counts are the sum of its
    tokens' counts (memoised: comment vocabularies are Zipfian).
    """
    if token.isalpha():  # letters only: one word, nothing to remove
        return [token] if len(token) >= 2 else []
    pieces: Iterable[str] = (token,)
    if "@" in token or "#" in token or "://" in token or "www." in token.lower():
        pieces = _HANDLE.sub(" ", _URL.sub(" ", token)).split()  # URLs, e-mails, @mentions, #tags
    words = []
    for piece in pieces:
        if not _DIGIT.search(piece):  # numbers, COP28, G7, 3eme
            words.extend(w for w in _WORD.findall(piece) if len(w) >= 2)  # single letters: elisions, initials
    return words


_FIELD = 15  # bits per count: four counts of a token packed in one int64 (a token counts at most 32,767 letters)
_FULL = (1 << _FIELD) - 1
_SEPARATOR = -2  # the packed value of DOC_SEP
_TOKEN_COUNTS: dict[str, int] = {}


def _token_counts(token: str) -> int:
    """Letters and capitals of the token's words that are not short all-capital words (acronyms), then
    letters and capitals of its words that are not well-known acronyms: four counts packed in one int."""
    if token == DOC_SEP:
        return _SEPARATOR
    if token.isalpha() and token.islower():  # the common case: one lower-case word, no capital to count
        n = len(token) if len(token) >= 2 else 0
        counts: tuple[int, ...] = (n, 0, 0 if token.upper() in KNOWN_ACRONYMS else n, 0)
    else:
        words = _token_words(token)
        plain = "".join(w for w in words if not (w.isupper() and len(w) <= 5))
        known = "".join(w for w in words if w.upper() not in KNOWN_ACRONYMS)
        counts = (len(plain), sum(map(str.isupper, plain)), len(known), sum(map(str.isupper, known)))
    packed = sum(min(n, _FULL) << (_FIELD * i) for i, n in enumerate(counts))
    if len(_TOKEN_COUNTS) > 500_000:  # bounded memory; the frequent tokens come back fast
        _TOKEN_COUNTS.clear()
    _TOKEN_COUNTS[token] = packed
    return packed


def shouting_scores(texts: list[str]) -> list[tuple[bool, float]]:
    """``(is_shouting(text), caps_ratio(text))`` of each text: one split of the batch and a few array operations.

    Every rule of :func:`caps_ratio` stays inside a whitespace-delimited token,
    so a text's counts are the sums of its tokens' counts, memoised per token
    (comment vocabularies are Zipfian).
    """
    import numpy as np

    if not texts:
        return []
    flat = split_batch([_strip_signature(t) for t in texts])
    packed = np.fromiter(map(_TOKEN_COUNTS.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
    missing = np.flatnonzero(packed == -1).tolist()
    if missing:
        fresh = {t: _token_counts(t) for t in {flat[i] for i in missing}}
        packed[missing] = [fresh[flat[i]] for i in missing]
    is_sep = packed == _SEPARATOR
    doc, keep = np.cumsum(is_sep)[~is_sep], packed[~is_sep]
    plain, plain_upper, known, known_upper = (
        np.bincount(doc, (keep >> (_FIELD * i)) & _FULL, minlength=len(texts)) for i in range(4)
    )
    fallback = plain < SHOUTING_MIN_LETTERS  # too few letters besides acronyms: count them, but the known ones
    letters = np.where(fallback, known, plain)
    upper = np.where(fallback, known_upper, plain_upper)
    ratio = np.divide(upper, letters, out=np.zeros(len(texts)), where=letters > 0)
    shouting = (letters >= SHOUTING_MIN_LETTERS) & (ratio >= SHOUTING_MIN_RATIO)
    return list(zip(shouting.tolist(), ratio.tolist()))


def caps_ratio(text: str) -> float:
    """Share of capital letters among the letters that count for shouting.

    Not counted: URLs, e-mail addresses, @mentions and #hashtags, tokens with
    digits (numbers, "COP28"), single letters (elisions such as "L'", initials),
    a trailing author signature, and acronyms -- all-capital words of at most
    five letters (ONU, OTAN, SNCF) whenever the text has enough other letters
    to judge by. A short text made only of such words falls back to counting
    them, except for the well-known acronyms in :data:`KNOWN_ACRONYMS`.
    """
    return shouting_scores([text])[0][1]


def is_shouting(text: str) -> bool:
    """True when most counted letters are capitals over enough letters (see :func:`caps_ratio`)."""
    return shouting_scores([text])[0][0]
