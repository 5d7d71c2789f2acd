"""CommentFeatures: normalisation, batch/single consistency, caching, pickling, threads, sklearn conventions."""

from __future__ import annotations

import pickle
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from classifier.features import (
    STYLE_NAMES,
    CommentFeatures,
    chunk_tokens,
    chunks_tokens,
    normalize_chunk,
    tokenize_texts,
)
from classifier.model import build_pipeline


@pytest.fixture(scope="module")
def corpus(shared_data) -> pd.DataFrame:
    """400 real French forum comments (balanced hostile / not) from ToxiFrench."""
    frame = pd.read_csv(shared_data / "fr_toxic_toxifrench.csv", keep_default_na=False)
    return pd.concat([frame[frame.label == 0].head(200), frame[frame.label == 1].head(200)], ignore_index=True)


@pytest.fixture(scope="module")
def fitted(corpus) -> CommentFeatures:
    lexicon = [("connard", "cds"), ("salope", "cds"), ("abruti", "dmc"), ("idiot", "ddp")]
    return CommentFeatures(min_df=2, lexicon=lexicon).fit(corpus.text.tolist())


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("CONNARD", "connard"),
        ("connnnnard", "connard"),
        ("c0nnard", "connard"),
        ("s.a.l.o.p.e", "salope"),
        ("encul3", "encule"),
        ("Enculé", "encule"),
        ("p*tain", "ptain"),
        ("COP28", "cop28"),  # digits after letters and before digits stay digits
        ("3ème", "3eme"),
    ],
)
def test_normalisation_folds_case_accents_elongations_and_obfuscations(raw, folded):
    assert normalize_chunk(raw) == folded


def test_tokens_split_on_punctuation_after_folding():
    assert tokenize_texts(["T'es qu'un C0NNARD !!!", ""]) == [["t", "es", "qu", "un", "connard"], []]


def test_obfuscated_spellings_get_the_features_of_the_plain_word(fitted):
    rows = fitted.transform(["tu es un connard", "tu es un c0nnnnard", "TU ES UN CONNARD"])
    n_text = fitted.blocks_["lexicon"][0]
    plain, obfuscated, shouted = rows[:, :n_text].toarray()
    assert np.allclose(plain, obfuscated)
    assert np.allclose(plain, shouted)
    # ... but the raw-text style columns still see the capitals
    caps = fitted.blocks_["style"][0] + STYLE_NAMES.index("caps_share")
    assert rows[2, caps] > rows[0, caps] == 0


def test_lexicon_counts_words_of_each_category(fitted):
    lex0 = fitted.blocks_["lexicon"][0]
    cds = lex0 + fitted.lexicon_categories_.index("cds")
    rows = fitted.transform(["connard et s.a.l.o.p.e", "bonne journée à tous"])
    assert rows[0, cds] > 0 and rows[1, cds] == 0


def test_batch_equals_one_by_one_and_rows_are_normalised(fitted, corpus):
    texts = corpus.text.tolist()[:60] + ["", "!!!", "a\ue000b"]
    batch = fitted.transform(texts).toarray()
    single = np.vstack([fitted.transform([t]).toarray() for t in texts])
    assert batch.shape == (len(texts), fitted.n_features_out_) == single.shape
    assert np.allclose(batch, single)
    word_end, char_end = fitted.blocks_["char"]
    norms = np.linalg.norm(batch[:60, word_end:char_end], axis=1)
    assert np.allclose(norms[norms > 0], 1.0)


def test_cache_is_not_pickled_and_is_bounded(corpus):
    vec = CommentFeatures(min_df=2, cache_size=50).fit(corpus.text.tolist())
    texts = corpus.text.tolist()[:200]
    assert len({chunk for t in texts for chunk in t.split()}) > 500  # more distinct chunks than the bound
    for start in range(0, 200, 5):
        batch = texts[start : start + 5]
        vec.transform(batch)
        # at most the bound, or one batch's chunks right after a reset
        assert len(vec._cache.ids) <= max(51, 1 + len({c for t in batch for c in t.split()}))
    before = vec.transform(corpus.text.tolist()[:20]).toarray()
    restored = pickle.loads(pickle.dumps(vec))
    assert "_cache" not in restored.__dict__
    assert np.allclose(restored.transform(corpus.text.tolist()[:20]).toarray(), before)


def test_cache_is_also_bounded_by_the_values_it_stores(fitted, corpus, monkeypatch):
    import classifier.features as features

    texts = corpus.text.tolist()[:200]
    expected = fitted.transform(texts).toarray()
    vec = pickle.loads(pickle.dumps(fitted))  # same model, empty cache
    monkeypatch.setattr(features, "MAX_CACHED_VALUES", 3_000)
    got = []
    for start in range(0, 200, 10):
        got.append(vec.transform(texts[start : start + 10]).toarray())
        batch_values = vec._analyse_chunks(list({c for t in texts[start : start + 10] for c in t.split()})).ptr[-1]
        assert vec._cache.nnz <= 3_000 + batch_values  # cleared once over the bound
    assert np.allclose(np.vstack(got), expected)


def test_concurrent_scoring_matches_serial(fitted, corpus):
    texts = corpus.text.tolist()
    fresh = clone(fitted).fit(texts)  # empty cache: threads race to fill it
    chunks = [texts[i : i + 40] for i in range(0, len(texts), 40)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda c: fresh.transform(c).toarray(), chunks))
    serial = [fitted.transform(c).toarray() for c in chunks]
    assert all(np.allclose(a, b) for a, b in zip(parallel, serial))


def test_feature_names_match_the_columns(fitted):
    names = fitted.get_feature_names_out()
    assert len(names) == fitted.n_features_out_
    assert names[-1] == "style:log_length" and any(n.startswith("word:") and " " in n for n in names)


@pytest.mark.parametrize(
    "params",
    [{"char_ngram_range": (4, 2)}, {"word_ngram_range": (1, 3)}, {"min_df": 0}, {"style_scale": -1}],
)
def test_bad_parameters_are_rejected_in_fit_not_init(params, corpus):
    vec = CommentFeatures(**params)  # storing parameters never fails
    with pytest.raises(ValueError):
        vec.fit(corpus.text.tolist())


def test_pipeline_clones_and_grid_searches(corpus):
    pipe = build_pipeline(min_df=2, calibration_cv=2, max_char_features=5_000)
    assert clone(pipe).get_params()["features__min_df"] == 2
    grid = GridSearchCV(
        pipe,
        {"features__word_ngram_range": [(1, 1), (1, 2)], "clf__estimator__C": [0.5, 4.0]},
        cv=2,
        scoring="roc_auc",
    )
    grid.fit(corpus.text.tolist(), corpus.label.to_numpy())
    assert grid.best_score_ > 0.6  # ToxiFrench is learnable even from 200 rows of each class
    assert grid.predict_proba(["Merci pour votre travail"]).shape == (1, 2)


def _chunk_record_one_by_one(vec: CommentFeatures, chunk: str) -> tuple[dict[int, float], list[float], int, int]:
    """The definition of one chunk's cached record, the slow and obvious way (the test oracle).

    (tf-idf value per text column, lexicon counts then style counts, first and last token id).
    """
    tokens = chunk_tokens(chunk)
    n_word = vec.blocks_["char"][0]
    counts: dict[int, float] = {}
    lexicon = [0.0] * len(vec.lexicon_categories_)
    lo, hi = vec.char_ngram_range
    for token in tokens:
        keys = [vec.word_vocabulary_.get(token)]
        padded = f" {token} "
        grams = [padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
        keys += [n_word + vec.char_vocabulary_[g] if g in vec.char_vocabulary_ else None for g in grams]
        for col in vec.lexicon_words_.get(token, ()):
            lexicon[col] += 1.0
        for key in keys:
            if key is not None:
                counts[key] = counts.get(key, 0.0) + 1.0
    for a, b in zip(tokens, tokens[1:]):
        col = vec.word_vocabulary_.get(f"{a} {b}")
        if col is not None:
            counts[col] = counts.get(col, 0.0) + 1.0
    style = [
        sum(ch.isupper() for ch in chunk),
        sum(ch.isalpha() for ch in chunk),
        chunk.count("!"),
        chunk.count("?"),
        len(re.findall(r"(?<=[!?])[!?]", chunk)),
        len(re.findall(r"([^\W\d_])\1\1", chunk)),
        len(chunk) + 1,
    ]
    values = {col: count * vec.idf_[col] for col, count in counts.items()}
    first = vec.tokens_.get(tokens[0], -1) if tokens else -2
    last = vec.tokens_.get(tokens[-1], -1) if tokens else -2
    return values, lexicon + [float(x) for x in style], first, last


def _records(vec: CommentFeatures, chunks: list[str]) -> list[tuple]:
    """The batched analysis of ``chunks`` as one (columns, tf-idf values, dense, first, last) tuple per chunk."""
    rows = vec._analyse_chunks(chunks)
    out = []
    for i in range(len(chunks)):
        at = slice(rows.ptr[i], rows.ptr[i + 1])
        cols = rows.indices[at].astype(np.int64)
        out.append((cols, rows.counts[at] * vec.idf_[cols], rows.dense[i], int(rows.first[i]), int(rows.last[i])))
    return out


TRICKY_CHUNKS = [
    "", "!!!", "?!?!", "C0NNNNARD!!!", "s.a.l.o.p.e", "p*tain", "Éléphant", "ΣΑΣ", "ﬁnance", "x²", "½",
    "aaaaaaa", "Aaaa", "l'article,", "T'es", "__init__", "\ud800", "😡😡😡", "COP28", "3ème", "a\u0301b",
    "ǅemal", "İstanbul", "straße", "https://exemple.fr/a?b=c", "#Macron", "@abruti", "c'est-à-dire",
]  # fmt: skip


def test_batched_chunk_analysis_equals_the_one_chunk_definition(fitted, corpus):
    chunks = list(dict.fromkeys(c for t in corpus.text.tolist() for c in t.split())) + TRICKY_CHUNKS
    records = _records(fitted, chunks)
    assert len(records) == len(chunks)
    for chunk, (cols, vals, dense, first, last) in zip(chunks, records):
        ref_values, ref_dense, ref_first, ref_last = _chunk_record_one_by_one(fitted, chunk)
        assert dict(zip(cols.tolist(), vals.tolist())) == pytest.approx(ref_values, rel=1e-12), chunk
        assert dense.tolist() == ref_dense, chunk
        assert (first, last) == (ref_first, ref_last), chunk


def test_chunks_fold_together_as_they_fold_alone(shared_data):
    texts = pd.read_csv(shared_data / "fr_toxic_toxifrench.csv", keep_default_na=False).text.tolist()[:3000]
    chunks = list(dict.fromkeys(c for t in texts for c in t.split())) + TRICKY_CHUNKS
    assert chunks_tokens(chunks) == [chunk_tokens(c) for c in chunks]
    assert chunks_tokens(["a\nb", "C0NNARD"]) == [["a", "b"], ["connard"]]  # a newline inside a chunk


def _contributions_one_text(vec: CommentFeatures, text: str, weights: np.ndarray):
    """The definition of chunk contributions, for one text, the slow and obvious way (the test oracle).

    A column's contribution ``weights[c] * x[c]`` is split between the text's
    chunks by their raw (idf-weighted) values of that column; lexicon columns
    by category counts; a word pair across two chunks gets its column's
    contribution divided by the number of such crossings in the text.
    """
    chunks = text.split()
    x = vec.transform([text]).toarray()[0]
    contrib = x * weights
    records = _records(vec, chunks)
    total = np.zeros(vec.n_features_out_)
    for cols, vals, *_ in records:
        total[cols] += vals
    lex0, lex1 = vec.blocks_["lexicon"]
    lex_total = sum((np.asarray(r[2][: lex1 - lex0]) for r in records), np.zeros(lex1 - lex0))
    lex_share = np.divide(contrib[lex0:lex1], lex_total, out=np.zeros(lex1 - lex0), where=lex_total > 0)
    values = [float((contrib[cols] * vals / total[cols]).sum() + lex_share @ dense[: lex1 - lex0]) for cols, vals, dense, *_ in records]
    nonempty = [i for i, r in enumerate(records) if r[3] != -2]
    found = []
    pair_column = dict(zip(vec.pair_keys_.tolist(), vec.pair_columns_.tolist()))
    for i, j in zip(nonempty, nonempty[1:]):
        if records[i][4] >= 0 and records[j][3] >= 0:
            col = pair_column.get(records[i][4] * len(vec.tokens_) + records[j][3])
            if col is not None:
                found.append((i, j, col))
    uses = {col: sum(1 for *_, c in found if c == col) for *_, col in found}
    return chunks, np.array(values), [(i, j, contrib[col] / uses[col]) for i, j, col in found]


def test_batched_contributions_equal_the_one_text_definition(fitted, corpus):
    texts = corpus.text.tolist()[:120] + [
        "", "a", "connard connard sale connard", "c'est vrai, c' est faux, de la de la", "C0NNARD !!!", "a \ue000 b",
    ]  # fmt: skip
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(3, fitted.n_features_out_))  # one row per class, as a multinomial model
    rows = rng.integers(0, 3, size=len(texts))
    batch = fitted.chunk_contributions(texts, weights, rows)
    assert len(batch) == len(texts)
    n_pairs = 0
    for text, row, (chunks, values, pairs) in zip(texts, rows, batch):
        ref_chunks, ref_values, ref_pairs = _contributions_one_text(fitted, text, weights[row])
        assert chunks == ref_chunks
        assert np.allclose(values, ref_values, rtol=1e-9, atol=1e-12)
        assert [(i, j) for i, j, _ in pairs] == [(i, j) for i, j, _ in ref_pairs]
        assert np.allclose([v for *_, v in pairs], [v for *_, v in ref_pairs], rtol=1e-9, atol=1e-12)
        n_pairs += len(pairs)
    assert n_pairs > 0  # the word-pair path was exercised
