"""The sentence-encoder view: a scikit-learn transformer, stacked with the n-grams in one linear model."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from classifier.encoder import DIMENSIONS, SentenceEncoder
from classifier.model import LoadedModel, build_pipeline

HOSTILE = ["Ferme ta gueule connard", "Espèce d'abruti va", "T'es qu'un gros con", "Sale ordure dégage",
           "You are a fucking idiot", "Shut up you moron", "Crétin fini, retourne à l'école", "Bande de débiles"]
BENIGN = ["Merci pour cet article très clair", "Je ne suis pas d'accord avec cette analyse", "Bonne journée à tous",
          "Thanks for the balanced piece", "Quelle belle photo du lac", "Le conseil a voté le budget hier",
          "I disagree with the minister's plan", "Article intéressant, bravo au journaliste"]  # fmt: skip


def test_encoder_follows_estimator_conventions_and_pickles_without_the_model():
    enc = SentenceEncoder(scale=0.5)
    assert enc.get_params() == {"scale": 0.5, "threads": 1} and clone(enc).scale == 0.5
    X = enc.fit(["a"]).transform(["Bonjour", "Bonjour", "Au revoir"])
    assert X.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(X, axis=1), 0.5, atol=1e-4) and np.allclose(X[0], X[1])
    again = pickle.loads(pickle.dumps(enc))
    assert len(pickle.dumps(enc)) < 1000 and np.allclose(again.transform(["Bonjour"]), X[:1])
    with pytest.raises(ValueError):
        enc.transform("a single string")


@pytest.fixture(scope="module")
def stacked():
    texts, y = HOSTILE * 3 + BENIGN * 3, [1] * 24 + [0] * 24
    pipe = build_pipeline(min_df=1, encoder_scale=1.0, C=2.0).fit(texts, y)
    return LoadedModel(pipeline=pipe, card={"thresholds": {"review": 0.4, "reject": 0.7}})


def test_stacked_model_scores_like_its_pipeline(stacked):
    texts = ["Quel abruti ce type", "Merci beaucoup", "idiot"]
    assert np.allclose(stacked.predict_proba(texts), stacked.pipeline.predict_proba(texts), atol=1e-9)


def test_explanations_come_from_the_ngram_part(stacked):
    reasons = stacked.explain(["Ferme ta gueule connard"], floor=0.4)[0]
    assert reasons and all(r.split()[0] in "Ferme ta gueule connard" for r in reasons)


def test_stacked_model_saves_and_loads_through_the_safe_format(stacked, tmp_path):
    from classifier.model import load_model, save_model

    out = save_model(stacked.pipeline, tmp_path / "stacked", {"name": "stacked", "version": "1", "task": "hostile",
                                                              "thresholds": {"review": 0.4, "reject": 0.7}})  # fmt: skip
    again = load_model(out)
    texts = ["Quel abruti", "Merci"]
    assert np.allclose(again.predict_proba(texts), stacked.predict_proba(texts))
