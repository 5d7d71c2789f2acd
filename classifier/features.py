"""The feature transformer of the text models: n-gram TF-IDF, lexicon and style in one pass.

:class:`CommentFeatures` turns raw comments into one sparse matrix::

    [ word 1-2-gram TF-IDF | char_wb 2-5-gram TF-IDF | lexicon counts | style ]

* n-grams are taken on a *normalised* text: case- and accent-folded,
  elongations collapsed ("connnnard" -> "connard"), obfuscations undone
  ("c0nnard", "s.a.l.o.p.e", "encul3", "p*tain");
* lexicon columns count the words of each category of an optional lexicon
  (e.g. HurtLex), so insults unseen in training still weigh;
* style columns come from the *raw* text: share of capitals among letters,
  all-caps flag, "!" and "?" counts, runs of them, elongated words, length.

Why one transformer rather than a FeatureUnion: throughput. A comment is
split on whitespace into chunks; everything above is additive over chunks, so
each distinct chunk is analysed once and cached (comment vocabularies are
Zipfian), and a batch becomes one sparse product (documents x chunks) @
(chunks x features). The chunks a batch brings that are not cached yet are
analysed together too: folded by one pass of each regular expression over the
chunks joined by newlines, their character n-grams looked up as exact integer
keys with one sorted search (:class:`_GramKeys`), their style counted over
their code points. Per-comment Python work is a few C-level calls, and a
linear model can score the raw blocks before dividing by their norms
(:meth:`CommentFeatures.linear_scorer`).

The cache is a scoring-time memo in growing arrays (no Python object per
chunk): bounded, shared safely between threads, and never pickled. The
estimator follows scikit-learn conventions (only parameters in ``__init__``,
learned state ending in ``_``), so the model is one Pipeline that clones,
grid-searches and pickles.
"""

from __future__ import annotations

import math
import re
import threading
from itertools import chain, islice, repeat
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from classifier import packing
from classifier.text import DOC_SEP as _SEP
from classifier.text import fold, split_batch

# --------------------------------------------------------------------------- normalisation

# Each pattern starts with the character it is about, its context checked by look-behinds
# after it: the regular-expression engine then skips ahead to candidates (10x faster on a batch).
#: letters separated by dots, dashes, stars or underscores: "s.a.l.o.p.e", "c-o-n" (the first letter stays)
_SPELLED = re.compile(r"[.\-*_](?<=(?<![^\W\d_])[^\W\d_].)(?:[^\W\d_][.\-*_])+[^\W\d_](?![^\W\d_])")
_SPELLED_SEP = re.compile(r"[.\-*_]")
#: a star inside a word stands for a hidden letter: "p*tain", "enc*le"
_INNER_STAR = re.compile(r"\*(?<=[^\W\d_]\*)\**(?=[^\W\d_])")
#: leetspeak digit or symbol right after a letter, not followed by a digit: "c0nnard", "encul3", "s@lope"
_LEET = re.compile(r"[01345@$](?<=[^\W\d_].)(?![0-9])")
_LEET_MAP = str.maketrans("01345@$", "oieasas")
#: three or more times the same character -> two ("connnnard" -> "connard")
_ELONGATION = re.compile(r"(\w)\1{2,}")
_WORD = re.compile(r"[^\W_]+")
_WORD_OR_LINE = re.compile(r"[^\W_]+|\n")


def normalize_chunk(chunk: str) -> str:
    """Fold one whitespace-delimited chunk: case, accents, obfuscations, elongations.

    Every step is local to a chunk, so a batch is folded in one pass of each
    step over the chunks joined by newlines (see :func:`chunks_tokens`).

    >>> [normalize_chunk(c) for c in ["C0NNNNARD", "s.a.l.o.p.e", "Éléphant", "p*tain"]]
    ['connard', 'salope', 'elephant', 'ptain']
    """
    text = fold(chunk)
    text = _SPELLED.sub(lambda m: _SPELLED_SEP.sub("", m.group()), text)
    text = _INNER_STAR.sub("", text)
    text = _LEET.sub(lambda m: m.group().translate(_LEET_MAP), text)
    return _ELONGATION.sub(r"\1\1", text)


def chunk_tokens(chunk: str) -> list[str]:
    """The normalised word tokens of one chunk ("T'es" -> ["t", "es"])."""
    return _WORD.findall(normalize_chunk(chunk))


def chunks_tokens(chunks: list[str]) -> list[list[str]]:
    """:func:`chunk_tokens` of many chunks, folding them all in one pass of each regular expression.

    The chunks are joined by newlines: no folding step matches or makes a
    newline, or crosses a non-letter, so each chunk folds as it would alone.
    A chunk that holds a newline itself is folded on its own.
    """
    flat, per_chunk = _fold_tokens(chunks)
    it = iter(flat)
    return [list(islice(it, n)) for n in per_chunk.tolist()]


def _fold_tokens(chunks: list[str]) -> tuple[list[str], np.ndarray]:
    """The tokens of all the chunks back to back, and how many each chunk has (see :func:`chunks_tokens`)."""
    if not chunks:
        return [], np.zeros(0, np.int64)
    joined = "\n".join(chunks)
    if joined.count("\n") != len(chunks) - 1:  # a chunk holds a newline itself
        tokens = [chunk_tokens(c) for c in chunks]
        return list(chain.from_iterable(tokens)), np.fromiter(map(len, tokens), dtype=np.int64, count=len(chunks))
    found = _WORD_OR_LINE.findall(normalize_chunk(joined))
    breaks = np.flatnonzero(np.fromiter(map("\n".__eq__, found), dtype=bool, count=len(found)))
    per_chunk = np.diff(np.concatenate([[-1], breaks, [len(found)]])) - 1
    return [t for t in found if t != "\n"], per_chunk


def tokenize_texts(texts: list[str]) -> list[list[str]]:
    """Normalised word tokens of each text (the tokens the n-gram features see)."""
    chunked = [text.split() for text in texts]
    distinct = list(dict.fromkeys(chain.from_iterable(chunked)))
    tokens_of = dict(zip(distinct, chunks_tokens(distinct)))
    return [[token for chunk in chunks for token in tokens_of[chunk]] for chunks in chunked]


def _as_list(X) -> list[str]:
    if isinstance(X, str):
        raise ValueError("expected a list of texts, got a single string")
    return ["" if x is None else str(x) for x in X]


# --------------------------------------------------------------------------- style counts

STYLE_NAMES = ("caps_share", "all_caps", "exclamations", "questions", "punct_runs", "elongations", "log_length")
_LETTER = re.compile(r"[^\W\d_]")


def _code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as an array (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _style_counts(chunks: list[str]) -> np.ndarray:
    """Additive raw counts of each chunk (one row each): capitals, letters, !, ?, !/? runs, elongations, characters.

    One numpy pass over the code points of all the chunks: "!/? runs" counts a
    "!" or "?" right after another, "elongations" a letter three times in a row
    (non-overlapping: a run of n counts n // 3), "characters" the chunk's
    length plus one (its separator).
    """
    m = len(chunks)
    out = np.zeros((m, len(STYLE_NAMES)))
    if not m:
        return out
    codes = _code_points("\n".join(chunks))
    chunk_of = np.cumsum(codes == 10)  # chunks hold no newline: they come from str.split()
    distinct, inverse = np.unique(codes, return_inverse=True)
    classes = np.array([(c.isupper(), c.isalpha(), _LETTER.match(c) is not None) for c in map(chr, distinct.tolist())], dtype=bool)
    upper, alpha, letter = classes.reshape(-1, 3)[inverse].T
    bang, quest = codes == 33, codes == 63
    either = bang | quest
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))  # runs of one code point
    lengths = np.diff(np.append(starts, len(codes)))
    elongated = letter[starts] & (lengths >= 3)
    for column, where in enumerate([upper, alpha, bang, quest, np.concatenate([[False], either[1:] & either[:-1]])]):
        out[:, column] = np.bincount(chunk_of[where], minlength=m)
    out[:, 5] = np.bincount(chunk_of[starts[elongated]], lengths[elongated] // 3, minlength=m)
    out[:, 6] = np.fromiter(map(len, chunks), dtype=np.float64, count=m) + 1.0
    return out


def _style_features(counts: np.ndarray, scale: float) -> np.ndarray:
    """Per-document style features (columns :data:`STYLE_NAMES`) from summed chunk counts."""
    upper, letters, bang, quest, runs, elong, length = counts.T
    share = upper / np.maximum(letters, 1.0)
    return scale * np.column_stack(
        [
            share,
            ((share >= 0.7) & (letters >= 8)).astype(np.float64),
            np.log1p(bang),
            np.log1p(quest),
            np.log1p(runs),
            np.log1p(elong),
            np.log1p(length) / math.log(1000.0),
        ]
    )


# --------------------------------------------------------------------------- the transformer

#: The scoring cache is also cleared beyond this many stored n-gram values (8 bytes each: about 64 MB).
MAX_CACHED_VALUES = 8_000_000
_MEMOS = ("_cache", "_grams", "_blocks")  # scoring-time memos: never saved, dropped by fit
_PACKED_INDEXES = ("char_vocabulary_", "tokens_", "word_vocabulary_")  # {str: int} dicts saved as arrays


class _ChunkRows(NamedTuple):
    """The analysis of some chunks, one row each (CSR-like): text columns and counts, dense counts, first/last token."""

    ptr: np.ndarray  # row i's columns and counts are indices/counts[ptr[i]:ptr[i + 1]]
    indices: np.ndarray  # text columns (word and char blocks)
    counts: np.ndarray  # raw counts (the tf-idf value is count x idf)
    dense: np.ndarray  # lexicon category counts, then style counts (whole numbers: float32 holds them exactly)
    first: np.ndarray  # first token's id in ``tokens_`` (-1: outside, -2: the chunk has no token)
    last: np.ndarray


class _ChunkCache:
    """Chunk -> id, and each id's analysis in growing arrays (no Python object per chunk).

    Append-only: rows are written before their ids are published, and growth
    copies the arrays before swapping them in, so a reader that looked an id up
    finds its row in the arrays it reads afterwards. Misses are filled under a lock.
    """

    def __init__(self, n_dense: int):
        self.ids: dict[str, int] = {_SEP: 0}  # id 0: the separator between documents, an empty row
        self.lock = threading.Lock()
        self.n, self.nnz = 1, 0
        self.rows = _ChunkRows(
            np.zeros(1025, np.int64), np.zeros(1 << 14, np.int32), np.zeros(1 << 14, np.float32),
            np.zeros((1024, n_dense), np.float32), np.full(1024, -2, np.int64), np.full(1024, -2, np.int64),
        )  # fmt: skip

    def append(self, new: _ChunkRows) -> range:
        """Store the rows of ``new`` and return their ids (the caller publishes them)."""
        m, nnz = len(new.first), len(new.indices)
        n, at = self.n, self.nnz
        sizes = (n + m + 1, at + nnz, at + nnz, n + m, n + m, n + m)
        rows = self.rows = _ChunkRows(*(_with_room(a, size) for a, size in zip(self.rows, sizes)))
        rows.ptr[n + 1 : n + m + 1] = at + new.ptr[1:]
        rows.indices[at : at + nnz] = new.indices
        rows.counts[at : at + nnz] = new.counts
        rows.dense[n : n + m] = new.dense
        rows.first[n : n + m] = new.first
        rows.last[n : n + m] = new.last
        self.n, self.nnz = n + m, at + nnz
        return range(n, n + m)


def _search(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, found) of each key in ``sorted_keys``: ``sorted_keys[position] == key`` where found."""
    if not len(sorted_keys):
        return np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return at, sorted_keys[at] == keys


def _with_room(array: np.ndarray, size: int) -> np.ndarray:
    """``array``, or a copy half as large again (at least ``size`` rows) when it holds fewer than ``size``."""
    if size <= len(array):
        return array
    grown = np.zeros((max(size, len(array) * 3 // 2),) + array.shape[1:], array.dtype)
    grown[: len(array)] = array
    return grown


class _GramKeys:
    """Exact integer keys of character n-grams, to look up a batch's n-grams in the vocabulary with one search.

    A gram's key is its characters' ranks in the vocabulary's alphabet
    (1-based) as the digits of a number in base ``len(alphabet) + 1``: distinct
    grams get distinct keys, and a window holding a character outside the
    alphabet (or the separator between tokens) cannot be a vocabulary gram.
    """

    def __init__(self, vocabulary: dict[str, int], longest: int):
        grams = list(vocabulary)
        self.alphabet = np.array(sorted(map(ord, set("".join(grams)))), dtype=np.uint32)
        self.base = len(self.alphabet) + 1
        if self.base**longest >= 2**63:
            raise ValueError(f"character n-grams of {longest} over {self.base - 1} distinct characters do not fit 64 bits")
        lengths = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        digits = self._digits(_code_points("".join(grams)))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        keys = np.zeros(len(grams), dtype=np.int64)
        for k in range(longest):
            has = lengths > k
            keys[has] += digits[starts[has] + k] * self.base**k
        order = np.argsort(keys)
        self.keys = keys[order]
        self.columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(grams))[order]

    def _digits(self, codes: np.ndarray) -> np.ndarray:
        rank, known = _search(self.alphabet, codes)
        return np.where(known, rank + 1, 0).astype(np.int64)

    def lookup(self, tokens: list[str], lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """(token index, vocabulary column) of every n-gram (``lo`` to ``hi`` characters) of the space-padded tokens."""
        if not tokens or not len(self.keys):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        text = "\0".join(f" {t} " for t in tokens)  # "\0" is in no token: windows across tokens never match
        codes = _code_points(text)
        digits = self._digits(codes)
        token_of = np.cumsum(codes == 0)
        found_tokens, found_columns = [], []
        keys, valid = digits.copy(), digits > 0
        for n in range(1, hi + 1):
            if n > 1:  # grow the windows by one character
                width = len(digits) - n + 1
                if width <= 0:
                    break
                keys = keys[:width] + digits[n - 1 :] * self.base ** (n - 1)
                valid = valid[:width] & (digits[n - 1 :] > 0)
            if n < lo:
                continue
            where = np.flatnonzero(valid)
            at, hit = _search(self.keys, keys[where])
            found_tokens.append(token_of[where[hit]])
            found_columns.append(self.columns[at[hit]])
        if not found_tokens:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(found_tokens), np.concatenate(found_columns)


class CommentFeatures(TransformerMixin, BaseEstimator):
    """Word and character n-gram TF-IDF, lexicon counts and style features of raw comments.

    Parameters
    ----------
    char_ngram_range : (int, int)
        Sizes of the character n-grams taken inside each token padded by
        spaces (scikit-learn's ``char_wb``).
    word_ngram_range : (1, 1) or (1, 2)
        Words only, or words and word pairs.
    min_df : int
        Keep n-grams seen in at least this many training documents.
    max_char_features, max_word_features : int or None
        Keep the most frequent n-grams of each block (vocabulary cap = artefact size).
        Term frequencies are raw counts times smooth idf; each TF-IDF block is
        L2-normalised per row (idf is folded into the cached chunk rows, so a
        batch costs one sparse product and one normalisation).
    lexicon : sequence of (word, category) pairs or None
        Lexicon whose per-category word counts (log1p) become features.
    lexicon_scale, style_scale : float
        Weights of the lexicon and style columns beside the unit-norm TF-IDF blocks.
    cache_size : int
        Distinct chunks kept in the scoring cache (cleared when full, or when it
        holds more than :data:`MAX_CACHED_VALUES` n-gram values).

    Examples
    --------
    >>> vec = CommentFeatures(min_df=1).fit(["Tu es un connard", "Merci pour l'article"])
    >>> vec.transform(["c0nnnnard !!!"]).shape == (1, vec.n_features_out_)
    True
    """

    def __init__(
        self,
        char_ngram_range=(2, 5),
        word_ngram_range=(1, 2),
        min_df=2,
        max_char_features=150_000,
        max_word_features=60_000,
        lexicon=None,
        lexicon_scale=0.5,
        style_scale=0.3,
        cache_size=500_000,
    ):
        self.char_ngram_range = char_ngram_range
        self.word_ngram_range = word_ngram_range
        self.min_df = min_df
        self.max_char_features = max_char_features
        self.max_word_features = max_word_features
        self.lexicon = lexicon
        self.lexicon_scale = lexicon_scale
        self.style_scale = style_scale
        self.cache_size = cache_size

    # -- saving: the chunk cache is a scoring-time memo, not model state; the large dicts are
    # packed into arrays (classifier/packing.py) so that skops saves and loads them fast
    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never strip the live object
        for memo in _MEMOS:
            state.pop(memo, None)
        for name in _PACKED_INDEXES:
            if isinstance(state.get(name), dict):
                state[name] = packing.pack_index(state[name])
        if isinstance(state.get("lexicon_words_"), dict):
            state["lexicon_words_"] = packing.pack_lists(state["lexicon_words_"])
        if state.get("lexicon") is not None:
            state["lexicon"] = packing.pack_rows(state["lexicon"], 2)
        state["_packed"] = True
        return state

    def __setstate__(self, state):
        state = dict(state)
        if state.pop("_packed", False):
            for name in _PACKED_INDEXES:
                if name in state:
                    state[name] = packing.unpack_index(state[name])
            if "lexicon_words_" in state:
                state["lexicon_words_"] = packing.unpack_lists(state["lexicon_words_"])
            if state.get("lexicon") is not None:
                state["lexicon"] = packing.unpack_rows(state["lexicon"], 2)
        super().__setstate__(state)

    def _gram_keys(self) -> _GramKeys:
        keys = self.__dict__.get("_grams")
        if keys is None:
            keys = self.__dict__.setdefault("_grams", _GramKeys(self.char_vocabulary_, self.char_ngram_range[1]))
        return keys

    def _cache_state(self) -> _ChunkCache:
        cache = self.__dict__.get("_cache")
        if cache is None:
            cache = self.__dict__.setdefault("_cache", _ChunkCache(self._n_dense()))
        return cache

    def _n_dense(self) -> int:
        return len(self.lexicon_categories_) + len(STYLE_NAMES)

    # -- fitting

    def _validate(self):
        lo, hi = self.char_ngram_range
        if not (1 <= lo <= hi):
            raise ValueError(f"char_ngram_range must be 1 <= lo <= hi, got {self.char_ngram_range}")
        if tuple(self.word_ngram_range) not in ((1, 1), (1, 2)):
            raise ValueError(f"word_ngram_range must be (1, 1) or (1, 2), got {self.word_ngram_range}")
        if int(self.min_df) < 1:
            raise ValueError(f"min_df must be >= 1, got {self.min_df}")
        if float(self.lexicon_scale) < 0 or float(self.style_scale) < 0:
            raise ValueError("lexicon_scale and style_scale must be >= 0")

    def _char_grams(self, token: str) -> list[str]:
        padded = f" {token} "
        lo, hi = self.char_ngram_range
        return [padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]

    @staticmethod
    def _select(df: np.ndarray, names: list[str], min_df: int, max_features) -> list[int]:
        """Indices of kept n-grams: df >= min_df, the most frequent first (ties by name: deterministic)."""
        candidates = [i for i in np.flatnonzero(df >= min_df).tolist()]
        candidates.sort(key=lambda i: (-df[i], names[i]))
        if max_features:
            candidates = candidates[: int(max_features)]
        return sorted(candidates, key=lambda i: names[i])

    def fit(self, X, y=None):
        self._validate()
        for memo in _MEMOS:
            self.__dict__.pop(memo, None)
        docs = tokenize_texts(_as_list(X))
        n_docs = len(docs)
        min_df = int(self.min_df)

        # document frequencies of tokens, token pairs and character n-grams
        token_df: dict[str, int] = {}
        pair_df: dict[tuple[str, str], int] = {}
        for tokens in docs:
            for t in set(tokens):
                token_df[t] = token_df.get(t, 0) + 1
            if self.word_ngram_range[1] == 2:
                for pair in set(zip(tokens, tokens[1:])):
                    pair_df[pair] = pair_df.get(pair, 0) + 1
        gram_df: dict[str, int] = {}
        token_grams = {t: set(self._char_grams(t)) for t in token_df}
        for tokens in docs:
            for g in set(chain.from_iterable(token_grams[t] for t in set(tokens))):
                gram_df[g] = gram_df.get(g, 0) + 1

        grams = list(gram_df)
        keep = self._select(np.array([gram_df[g] for g in grams]), grams, min_df, self.max_char_features)
        self.char_vocabulary_ = {grams[i]: j for j, i in enumerate(keep)}
        self.char_idf_ = self._idf(np.array([gram_df[grams[i]] for i in keep]), n_docs)

        self.tokens_ = {t: j for j, t in enumerate(sorted(t for t, d in token_df.items() if d >= min_df))}
        entries = [(t, d) for t, d in token_df.items() if d >= min_df]
        entries += [(f"{a} {b}", d) for (a, b), d in pair_df.items() if d >= min_df and a in self.tokens_ and b in self.tokens_]
        names = [e for e, _ in entries]
        keep = self._select(np.array([d for _, d in entries]), names, min_df, self.max_word_features)
        self.word_vocabulary_ = {names[i]: j for j, i in enumerate(keep)}
        self.word_idf_ = self._idf(np.array([entries[i][1] for i in keep]), n_docs)
        pairs = [(w, j) for w, j in self.word_vocabulary_.items() if " " in w]
        V = len(self.tokens_)
        keys = np.array([self.tokens_[w.split(" ")[0]] * V + self.tokens_[w.split(" ")[1]] for w, _ in pairs], dtype=np.int64)
        order = np.argsort(keys)
        self.pair_keys_ = keys[order]
        self.pair_columns_ = np.array([j for _, j in pairs], dtype=np.int64)[order]

        self.lexicon_categories_ = []
        self.lexicon_words_ = {}
        if self.lexicon is not None:
            self.lexicon_categories_ = sorted({str(c) for _, c in self.lexicon})
            column = {c: i for i, c in enumerate(self.lexicon_categories_)}
            for word, category in self.lexicon:
                tokens = chunk_tokens(str(word))
                if len(tokens) == 1:  # single words: multi-word entries would need phrase matching
                    cols = self.lexicon_words_.setdefault(tokens[0], [])
                    if column[str(category)] not in cols:
                        cols.append(column[str(category)])
        n_word, n_char, n_lex = len(self.word_vocabulary_), len(self.char_vocabulary_), len(self.lexicon_categories_)
        self.blocks_ = {"word": (0, n_word), "char": (n_word, n_word + n_char),
                        "lexicon": (n_word + n_char, n_word + n_char + n_lex),
                        "style": (n_word + n_char + n_lex, n_word + n_char + n_lex + len(STYLE_NAMES))}  # fmt: skip
        self.n_features_out_ = self.blocks_["style"][1]
        self.idf_ = np.concatenate([self.word_idf_, self.char_idf_])
        self._gram_keys()  # an alphabet too large for exact 64-bit keys fails here, not when scoring
        return self

    @staticmethod
    def _idf(df, n_docs):
        return np.log((1.0 + n_docs) / (1.0 + np.asarray(df, dtype=np.float64))) + 1.0

    # -- analysis of the chunks missing from the cache, as one batch

    def _analyse_chunks(self, chunks: list[str]) -> _ChunkRows:
        """The rows of the chunks: text columns and raw counts, dense counts, first and last token id.

        Dense counts = lexicon category counts then style counts (additive over
        chunks). First/last token id is -1 for a token outside the vocabulary,
        -2 for a chunk without tokens. The whole batch is a few array
        operations: (chunks x distinct tokens) @ (tokens x n-gram columns), the
        tokens' character n-grams looked up in one pass, word pairs by key search.
        """
        m = len(chunks)
        flat, per_chunk = _fold_tokens(chunks)
        distinct = list(dict.fromkeys(flat))
        n_tok = len(distinct)
        local = dict(zip(distinct, range(n_tok)))
        occ = np.fromiter(map(local.__getitem__, flat), dtype=np.int64, count=len(flat))
        chunk_of = np.repeat(np.arange(m), per_chunk)
        n_word, n_text = self.blocks_["char"]

        # tokens x text columns: the word itself, then its character n-grams
        gram_tok, gram_cols = self._gram_keys().lookup(distinct, *self.char_ngram_range)
        word_cols = np.fromiter(map(self.word_vocabulary_.get, distinct, repeat(-1)), dtype=np.int64, count=n_tok)
        word_hit = word_cols >= 0
        rows = np.concatenate([np.flatnonzero(word_hit), gram_tok])
        cols = np.concatenate([word_cols[word_hit], n_word + gram_cols])
        T = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_tok, n_text))
        O = sp.csr_matrix((np.ones(len(occ)), (chunk_of, occ)), shape=(m, n_tok))  # chunks x tokens, counts
        C = O @ T
        # word pairs inside a chunk: consecutive tokens of the chunk (each token its own one-token "chunk")
        vocab_id = np.fromiter(map(self.tokens_.get, distinct, repeat(-1)), dtype=np.int64, count=n_tok)
        if self.pair_keys_.size:
            a, _, pair_cols = self._chunk_pairs(vocab_id[occ], vocab_id[occ], chunk_of)
            C = C + sp.csr_matrix((np.ones(len(a)), (chunk_of[a], pair_cols)), shape=C.shape)
        C = C.tocsr()
        C.sum_duplicates()
        # dense counts: lexicon categories of the tokens, then the raw chunk's style
        lexicon = np.zeros((n_tok, len(self.lexicon_categories_)))
        for t, cats in enumerate(map(self.lexicon_words_.get, distinct)):
            if cats:
                lexicon[t, cats] += 1.0
        dense = np.hstack([O @ lexicon, _style_counts(chunks)])
        start = np.concatenate([[0], np.cumsum(per_chunk)])[:-1]
        has = per_chunk > 0
        first = np.full(m, -2, np.int64)
        last = np.full(m, -2, np.int64)
        first[has] = vocab_id[occ[start[has]]]
        last[has] = vocab_id[occ[start[has] + per_chunk[has] - 1]]
        return _ChunkRows(C.indptr.astype(np.int64), C.indices.astype(np.int32), C.data.astype(np.float32), dense, first, last)

    # -- scoring

    def _chunk_ids(self, flat: list[str]) -> tuple[np.ndarray, _ChunkRows]:
        """The cache ids of the chunks (analysing the missing ones), and the cache's rows to read them in."""
        cache = self._cache_state()
        ids = np.fromiter(map(cache.ids.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        if len(ids) and ids.min() < 0:
            with cache.lock:
                missing = set(flat).difference(cache.ids)
                reset = len(cache.ids) + len(missing) > int(self.cache_size) or cache.nnz > MAX_CACHED_VALUES
                if reset:  # bounded: start afresh
                    cache = self.__dict__["_cache"] = _ChunkCache(self._n_dense())
                    missing = set(flat).difference(cache.ids)
                missing = list(missing)
                cache.ids.update(zip(missing, cache.append(self._analyse_chunks(missing))))
            if reset:
                ids = np.fromiter(map(cache.ids.get, flat), dtype=np.int64, count=len(flat))
            else:  # only the chunks that were missing
                at = np.flatnonzero(ids < 0).tolist()
                ids[at] = [cache.ids[flat[i]] for i in at]
        return ids, cache.rows

    def _gather(self, rows: _ChunkRows, uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, columns, tf-idf values) of the cached rows ``uniq``, back to back (CSR parts)."""
        starts = rows.ptr[uniq]
        lengths = rows.ptr[uniq + 1] - starts
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        at = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        columns = rows.indices[at].astype(np.int64)
        return indptr, columns, rows.counts[at] * self.idf_[columns]

    @staticmethod
    def _distinct(ids: np.ndarray, n_ids: int) -> tuple[np.ndarray, np.ndarray]:
        """``np.unique(ids, return_inverse=True)``; for a large batch by marking ids in [0, n_ids) (no sort)."""
        if len(ids) * 8 < n_ids:
            return np.unique(ids, return_inverse=True)
        seen = np.zeros(n_ids, dtype=bool)
        seen[ids] = True
        uniq = np.flatnonzero(seen)
        local = np.zeros(n_ids, dtype=np.int64)
        local[uniq] = np.arange(len(uniq))
        return uniq, local[ids]

    def _parts(self, texts: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        """The n-gram TF-IDF (before normalisation) of a batch, as one sparse product, and its dense columns.

        (documents x rows) @ (rows x n-gram columns), where the rows are the
        batch's distinct chunks and one row per word pair found across chunks;
        the dense (lexicon and style) columns come from the chunks' summed counts.
        """
        n_docs, n_text = len(texts), self.blocks_["lexicon"][0]
        if not n_docs:
            return sp.csr_matrix((0, n_text)), np.zeros((0, self.n_features_out_ - n_text))
        flat = split_batch(texts)
        ids, rows = self._chunk_ids(flat)
        is_sep = ids == 0
        per_doc = np.diff(np.concatenate([[-1], np.flatnonzero(is_sep), [len(ids)]])) - 1
        uniq, inv = self._distinct(ids[~is_sep], len(rows.first))
        n_local = len(uniq)
        c_indptr, c_indices, c_data = self._gather(rows, uniq)
        chunk_indptr = np.concatenate([[0], np.cumsum(per_doc)])
        D = sp.csr_matrix((np.ones(len(inv)), inv, chunk_indptr), shape=(n_docs, n_local))
        extras = self._dense_features(D @ rows.dense[uniq])

        # word pairs across chunks: consecutive chunks with tokens, in the same document
        pair_cols, pair_doc, pair_row = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        if self.pair_keys_.size and n_local:
            first = rows.first[uniq][inv]
            last = rows.last[uniq][inv]
            doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), per_doc)
            a, _, found = self._chunk_pairs(first, last, doc_of)
            pair_cols, pair_row = np.unique(found, return_inverse=True)
            pair_doc = doc_of[a]
        n_pairs = len(pair_cols)
        if n_pairs:  # each document's row: its chunks, then its word pairs
            pairs_per_doc = np.bincount(pair_doc, minlength=n_docs)
            indptr = np.concatenate([[0], np.cumsum(per_doc + pairs_per_doc)])
            columns = np.empty(indptr[-1], dtype=np.int64)
            chunk_rank = np.arange(len(inv)) - np.repeat(chunk_indptr[:-1], per_doc)
            columns[np.repeat(indptr[:-1], per_doc) + chunk_rank] = inv
            pair_start = np.concatenate([[0], np.cumsum(pairs_per_doc)])[:-1]
            columns[indptr[pair_doc] + per_doc[pair_doc] + np.arange(len(pair_doc)) - pair_start[pair_doc]] = n_local + pair_row
            D = sp.csr_matrix((np.ones(len(columns)), columns, indptr), shape=(n_docs, n_local + n_pairs))
        nnz = c_indptr[-1]
        T = sp.csr_matrix(
            (np.concatenate([c_data, self.word_idf_[pair_cols]]), np.concatenate([c_indices, pair_cols]),
             np.concatenate([c_indptr, nnz + np.arange(1, n_pairs + 1)])),
            shape=(n_local + n_pairs, n_text),
        )  # fmt: skip
        return D @ T, extras

    def _matrix(self, texts: list[str]) -> sp.csr_matrix:
        """All the columns of a batch, the n-gram blocks not yet normalised."""
        X, extras = self._parts(texts)
        return sp.hstack([X, sp.csr_matrix(extras)], format="csr")

    def _block_norms(self, X: sp.csr_matrix) -> np.ndarray:
        """The (documents x [word, char]) L2 norms of the rows' two n-gram blocks (1 where a block is empty)."""
        blocks = self.__dict__.get("_blocks")
        if blocks is None:  # a column -> block indicator, kept with the scoring memos
            word_end, text_end = self.blocks_["char"]
            blocks = np.zeros((self.n_features_out_, 2))
            blocks[:word_end, 0] = blocks[word_end:text_end, 1] = 1.0
            blocks = self.__dict__.setdefault("_blocks", blocks)
        squares = sp.csr_matrix((X.data * X.data, X.indices, X.indptr), shape=X.shape)
        norms = np.sqrt(squares @ blocks[: X.shape[1]])
        norms[norms == 0] = 1.0
        return norms

    def _normalise(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """L2-normalise the word block and the char block of every row, separately (dense columns untouched)."""
        word_end, text_end = self.blocks_["char"]
        norms = self._block_norms(X)
        scale = np.column_stack([1.0 / norms, np.ones(len(norms))])
        row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        X.data *= scale[row, (X.indices >= word_end).astype(np.int64) + (X.indices >= text_end)]
        return X

    def _dense_features(self, dense_docs: np.ndarray) -> np.ndarray:
        n_lex = len(self.lexicon_categories_)
        lexicon = np.log1p(dense_docs[:, :n_lex]) * float(self.lexicon_scale)
        return np.hstack([lexicon, _style_features(dense_docs[:, n_lex:], float(self.style_scale))])

    def _chunk_pairs(self, first, last, doc_of):
        """Word pairs across consecutive chunks of one document (or tokens of one chunk) that are in the vocabulary.

        ``first``/``last`` are each chunk's first and last token ids (-1: none
        in the vocabulary, -2: no token). Returns the left and right chunk
        positions and the pairs' columns.
        """
        nonempty = np.flatnonzero(first != -2)
        a, b = nonempty[:-1], nonempty[1:]
        ok = (doc_of[a] == doc_of[b]) & (last[a] >= 0) & (first[b] >= 0)
        a, b = a[ok], b[ok]
        at, found = _search(self.pair_keys_, last[a] * len(self.tokens_) + first[b])
        return a[found], b[found], self.pair_columns_[at[found]]

    def transform(self, X):
        check_is_fitted(self, "idf_")
        return self._normalise(self._matrix(_as_list(X)))

    def linear_scorer(self, weights):
        """A function ``texts -> self.transform(texts) @ weights.T``, for a linear model's ``weights``.

        Faster than transforming then multiplying: the raw (unnormalised)
        matrix is multiplied by the weights of each block, and by a block
        indicator for its squared values, so each row's block scores are
        divided by the block norms afterwards instead of every non-zero before.
        """
        check_is_fitted(self, "idf_")
        W = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        k = W.shape[0]
        word_end, text_end = self.blocks_["char"]
        split = np.zeros((text_end, 2 * k))  # [word block weights | char block weights]
        split[:word_end, :k] = W[:, :word_end].T
        split[word_end:, k:] = W[:, word_end:text_end].T

        dense_weights = np.ascontiguousarray(W[:, text_end:].T)

        def score(texts) -> np.ndarray:
            X, extras = self._parts(_as_list(texts))
            norms = self._block_norms(X)
            raw = X @ split
            return raw[:, :k] / norms[:, :1] + raw[:, k : 2 * k] / norms[:, 1:] + extras @ dense_weights

        return score

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "idf_")
        words = sorted(self.word_vocabulary_, key=self.word_vocabulary_.get)
        chars = sorted(self.char_vocabulary_, key=self.char_vocabulary_.get)
        return np.array(
            [f"word:{w}" for w in words]
            + [f"char:{c}" for c in chars]
            + [f"lexicon:{c}" for c in self.lexicon_categories_]
            + [f"style:{s}" for s in STYLE_NAMES],
            dtype=object,
        )

    # -- explanations

    def chunk_contributions(self, texts: list[str], weights: np.ndarray, rows) -> list[tuple[list[str], np.ndarray, list[tuple[int, int, float]]]]:
        """How much of ``weights[row] · features(text)`` each whitespace chunk and each pair of chunks carries.

        ``weights`` are a linear model's coefficients of this transformer's
        columns (classes x features); ``rows[d]`` is the row that explains text
        ``d``. A column's contribution is split between the chunks of the text
        that produce it, by raw (idf-weighted) count; word pairs that straddle
        two chunks are credited to the pair. Style columns are not credited to
        any chunk. Returns, per text, (chunks, value per chunk, [(chunk i,
        chunk j, value) per word pair]).

        Batched and cheap: a chunk's share of an n-gram column is its raw value
        x weight / the document's block norm, so a chunk's value is its cached
        row times the weights (one sparse product for the batch's distinct
        chunks) over its document's norms. Only a word pair found both inside
        a chunk and across two chunks of the same text needs a per-text fix-up.
        """
        texts = _as_list(texts)
        n_docs = len(texts)
        W = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        X, extras = self._parts(texts)
        norms = self._block_norms(X)
        n_word, n_text = self.blocks_["char"]
        lex0, lex1 = self.blocks_["lexicon"]

        chunks = [t.split() for t in texts]
        per_doc = np.fromiter(map(len, chunks), dtype=np.int64, count=n_docs)
        bounds = np.concatenate([[0], np.cumsum(per_doc)])
        flat = [c for cs in chunks for c in cs]
        values = np.zeros(len(flat))
        pairs: list[list[tuple[int, int, float]]] = [[] for _ in range(n_docs)]
        if not flat:
            return [(chunks[k], values[bounds[k] : bounds[k + 1]], pairs[k]) for k in range(n_docs)]
        ids, cached = self._chunk_ids(flat)
        doc_of = np.repeat(np.arange(n_docs), per_doc)
        uniq, inv = self._distinct(ids, len(cached.first))
        t_indptr, t_indices, t_data = self._gather(cached, uniq)
        T = sp.csr_matrix((t_data, t_indices, t_indptr), shape=(len(uniq), n_text))
        # n-gram columns: per distinct chunk, raw values x weights, per block; then over the document's norms
        word_w, char_w = W[:, :n_text].copy(), W[:, :n_text].copy()
        word_w[:, n_word:] = 0.0
        char_w[:, :n_word] = 0.0
        row_of = rows[doc_of]
        values += np.asarray(T @ word_w.T)[inv, row_of] / norms[doc_of, 0]
        values += np.asarray(T @ char_w.T)[inv, row_of] / norms[doc_of, 1]
        D = sp.csr_matrix((np.ones(len(inv)), inv, bounds), shape=(n_docs, len(uniq)))  # documents x chunks
        # lexicon columns: split by category counts
        n_lex = lex1 - lex0
        if n_lex:
            dense = cached.dense[uniq, :n_lex]  # (a chunk that is the batch separator itself has the empty row 0)
            lex_total = np.asarray(D @ dense)
            lex_contrib = extras[:, :n_lex] * W[rows, lex0:lex1]
            lex_share = np.divide(lex_contrib, lex_total, out=np.zeros_like(lex_contrib), where=lex_total > 0)
            values += (lex_share[doc_of] * dense[inv]).sum(axis=1)
        if not self.pair_keys_.size:
            return [(chunks[k], values[bounds[k] : bounds[k + 1]], pairs[k]) for k in range(n_docs)]
        # word pairs across chunks: the pair's column, shared by its occurrences in the document
        first = cached.first[uniq][inv]
        last = cached.last[uniq][inv]
        a, b, col = self._chunk_pairs(first, last, doc_of)
        col = col.astype(np.int64)
        pair_doc = doc_of[a]
        _, key_inv, uses = np.unique(pair_doc * self.n_features_out_ + col, return_inverse=True, return_counts=True)
        cross = uses[key_inv] * self.word_idf_[col]  # the raw value the crossing pairs give the column
        inside = np.zeros(len(col))  # the raw value chunks give it (rare: "l'article" vs "l' article")
        maybe = np.flatnonzero(np.isin(col, T.indices))
        if maybe.size:
            docs, local = np.unique(pair_doc[maybe], return_inverse=True)
            inside[maybe] = np.asarray((D[docs] @ T).tocsr()[local, col[maybe]]).ravel()
        for n in np.flatnonzero(inside).tolist():
            d, c = int(pair_doc[n]), int(col[n])
            w = W[rows[d], c] / norms[d, 0]
            for k in range(bounds[d], bounds[d + 1]):  # the chunks' share grows with the crossing pairs
                row = slice(T.indptr[inv[k]], T.indptr[inv[k] + 1])
                rec_cols, rec_vals = T.indices[row], T.data[row]
                values[k] += rec_vals[rec_cols == c].sum() * w * cross[n] / uses[key_inv[n]] / inside[n]
        value = W[rows[pair_doc], col] * (inside + cross) / norms[pair_doc, 0] / uses[key_inv]
        start = bounds[pair_doc]
        for dd, i, j, val in zip(pair_doc.tolist(), (a - start).tolist(), (b - start).tolist(), value.tolist()):
            pairs[dd].append((i, j, val))
        return [(chunks[k], values[bounds[k] : bounds[k + 1]], pairs[k]) for k in range(n_docs)]
