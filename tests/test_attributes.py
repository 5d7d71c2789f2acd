"""Per-attribute scores: the heads learn only from labelled rows, the label mapping, the shipped model and its card."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from classifier.attribute_training import MAPPINGS, load_rows
from classifier.attributes import AttributeHeads, AttributeScorer
from classifier.moderator import Moderator
from classifier.schema import MODEL_ATTRIBUTES, SCORE_ATTRIBUTES
from tests.conftest import MODELS, ROOT

CARD = MODELS / "attributes-fr" / "card.json"
#: Sentences written for these tests (not in any training file).
INSULTS = {
    "fr": ["Tu es un abruti fini et un parfait crétin", "Quelle bande de guignols incompétents, ces rédacteurs"],
    "en": ["You are a brainless idiot and a total moron", "What a bunch of clueless clowns these editors are"],
}
THREATS = {
    "fr": ["Je vais venir chez toi ce soir et tu vas le regretter", "Fais attention en sortant, je sais où tu habites"],
    "en": ["I am coming to your house tonight and you will regret it", "Watch out when you leave, I know where you live"],
}


def test_each_head_learns_only_from_the_rows_labelled_for_it():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    Y = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [np.nan, 0], [np.nan, 1]])
    heads = AttributeHeads(attributes=("a", "b")).fit(X, Y)
    assert heads.n_rows_.tolist() == [4, 6]
    only_a = AttributeHeads(attributes=("a",)).fit(X[:4], Y[:4, :1])
    np.testing.assert_allclose(heads.coef_[0], only_a.coef_[0])  # the unlabelled rows changed nothing
    assert heads.predict_proba(X).shape == (6, 2)
    with pytest.raises(ValueError, match="both labels"):
        AttributeHeads(attributes=("a", "b")).fit(X[:2], np.array([[1, 0], [1, 1]]))


def test_sources_map_their_own_columns_to_attributes(shared_data):
    rows, files = load_rows(shared_data, ROOT)
    assert {f["file"] for f in files} == {name.split("/")[-1] for name in MAPPINGS}
    by_source = dict(tuple(rows.groupby("source")))
    cyber = pd.read_csv(shared_data / "fr_hostile_cyberado_fine.csv", keep_default_na=False)
    threat_texts = set(cyber.loc[cyber["verbal_abuse"] == "threat", "text"])
    labelled = by_source["cyberagressionado_v1"]
    assert labelled.loc[labelled["text"].isin(threat_texts), "threat"].eq(1).all()
    davidson = by_source["davidson_en"]
    assert davidson["threat"].dropna().eq(0).all()  # only "neither" tweets say anything about threats
    hate = davidson["identity_attack"] == 1
    assert davidson.loc[hate, "profanity"].isna().all() and davidson.loc[~hate, "profanity"].notna().all()
    superset = by_source["fr_hs_superset"]
    assert superset[["insult", "threat", "severe_toxicity", "profanity"]].isna().all().all()
    for attribute in MODEL_ATTRIBUTES:  # every head has both labels, from French and from English sources
        for english in (False, True):
            part = rows[rows["source"].str.endswith("_en") == english]
            assert set(part[attribute].dropna().unique()) == {0.0, 1.0}, (attribute, english)
    assert not rows["text"].str.casefold().duplicated().any()


needs_model = pytest.mark.skipif(not CARD.is_file(), reason="models/attributes-fr not built")


@pytest.fixture(scope="module")
def scorer():
    return AttributeScorer.load()


@needs_model
@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_insult_scores_higher_on_insult_and_a_threat_higher_on_threat(scorer, language):
    for insult in INSULTS[language]:
        scores = scorer.score([insult])[0]
        assert scores["insult"] > scores["threat"], (insult, scores)
    for threat in THREATS[language]:
        scores = scorer.score([threat])[0]
        assert scores["threat"] > scores["insult"], (threat, scores)


@needs_model
def test_one_transform_scores_every_attribute_like_the_pipeline(scorer):
    texts = INSULTS["fr"] + THREATS["en"] + ["Merci pour cet article très clair"]
    fast = scorer.predict_proba(texts)
    slow = scorer.model.pipeline.predict_proba(texts)
    np.testing.assert_allclose(fast, slow, atol=1e-9)
    assert ((fast >= 0) & (fast <= 1)).all() and scorer.attributes == MODEL_ATTRIBUTES


@needs_model
def test_moderator_results_carry_every_attribute_and_toxicity_is_the_hostile_probability():
    mod = Moderator.load(sentiment=False, reasons=False)
    result = mod.score([INSULTS["fr"][0]])[0]
    assert set(result.attributes) == set(SCORE_ATTRIBUTES)
    assert result.attributes["toxicity"] == pytest.approx(result.hostile, abs=1e-4)
    assert all(0.0 <= v <= 1.0 for v in result.attributes.values())
    assert mod.available_attributes()[-1] == "shouting_experimental"


@needs_model
def test_the_card_has_per_attribute_heldout_metrics_thresholds_data_and_licences():
    card = json.loads(CARD.read_text(encoding="utf-8"))
    assert card["rebuild_command"] == "classifier train --preset attributes"
    heldout = card["metrics"]["heldout_per_attribute"]
    assert set(heldout) == set(MODEL_ATTRIBUTES) == set(card["attribute_thresholds"])
    for attribute, block in heldout.items():
        assert 0.5 < block["all"]["roc_auc"] <= 1.0, attribute
        thresholds = card["attribute_thresholds"][attribute]
        assert 0.0 < thresholds["review"] <= thresholds["reject"] <= 1.0
    french = {"cyberagressionado_v1", "jigsaw_toxic_mt_fr"}
    english = {"ucc_globeandmail_en", "davidson_en"}
    assert french <= set(heldout["insult"]) and english <= set(heldout["insult"])
    assert {"scikit-learn", "numpy"} <= set(card["libraries"])
    assert "CC BY-NC-SA 4.0" in card["licence_note"]
    assert card["artefact"]["bytes"] < 20_000_000
