"""Sentiment: the pipeline's parts, `train --task sentiment` + `evaluate`, score fields, the shipped model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from typer.testing import CliRunner

from classifier.cli import app
from classifier.sentiment import PolarityLexicon, SocialNoise, build_sentiment_pipeline
from tests.conftest import DATA, MODELS

LABELS = ["negative", "neutral", "positive"]
POSITIVE = [
    "Merci pour cet excellent article, très bien documenté.",
    "Bravo aux bénévoles, vous êtes formidables !",
    "Quelle belle victoire, toute la ville est fière de son équipe.",
    "Très bonne nouvelle pour le quartier, enfin un parc pour les enfants.",
    "Courage à la famille, on pense fort à vous ❤️",
]
NEGATIVE = [
    "Article bâclé et mensonger, c'est une honte.",
    "Ce ministre est un incapable, quelle catastrophe pour le pays.",
    "Ferme-la, pauvre abruti, personne ne veut lire tes conneries.",
    "Encore une hausse des impôts, c'est scandaleux et injuste.",
    "Franchement pas terrible ce spectacle, on s'est ennuyés.",
]


@pytest.fixture(scope="module")
def sentiment_sample(shared_data) -> pd.DataFrame:
    """A small three-class sample of the shared sentiment corpus (tweets and reviews)."""
    df = pd.read_csv(shared_data / "fr_sentiment_train.csv", keep_default_na=False)
    parts = [g.sample(min(len(g), 70), random_state=0) for _, g in df.groupby(["source", "label"])]
    return pd.concat(parts).sample(frac=1, random_state=0).reset_index(drop=True)


# --------------------------------------------------------------------------- parts


def test_social_noise_removes_tweet_artefacts_only():
    out = SocialNoise().fit([]).transform(["RT @user Super #écologie http://t.co/x via @moi", "gros b@tard &gt; lui"])
    assert out[0].split() == ["Super", "écologie"]
    assert out[1].split() == ["gros", "b@tard", "lui"]


@pytest.mark.parametrize(
    "text, positive, negative",
    [
        ("Ce n'est pas mal du tout", 1, 0),  # fixed phrase: praise
        ("Franchement pas terrible", 0, 1),  # fixed phrase: criticism, not flipped
        ("Ce film n'est pas bon", 0, 1),  # negation flips "bon"
        ("Il n'est pas nul du tout", 1, 0),  # negation flips "nul"
        ("Bravo, super article !", 2, 0),
        ("Quelle honte, des incompétents", 0, 2),
        ("Le conseil municipal se réunit mardi.", 0, 0),
        ("Pas bon. Excellent en revanche", 1, 1),  # punctuation ends the negation
    ],
)
def test_lexicon_counts_with_negation(text, positive, negative):
    raw = PolarityLexicon().counts([text])[0]
    names = PolarityLexicon.names
    assert np.expm1(raw[names.index("positive")]).round() == positive
    assert np.expm1(raw[names.index("negative")]).round() == negative


def test_lexicon_emoji_question_and_address():
    raw = dict(zip(PolarityLexicon.names, PolarityLexicon().counts(["Tu viens ce soir ? 😍 :)"])[0]))
    assert raw["emoji_positive"] > 0 and raw["emoji_negative"] == 0
    assert raw["question"] == 1 and raw["second_person"] > 0
    assert raw["no_polar"] == 0


def test_pipeline_clones_and_orders_columns(sentiment_sample):
    pipe = clone(build_sentiment_pipeline(min_df=1, C=2.0))
    assert pipe.get_params()["clf__C"] == 2.0
    texts, labels = sentiment_sample["text"].tolist(), sentiment_sample["label"].to_numpy()
    pipe.fit(texts, labels, clf__sample_weight=np.ones(len(texts)))  # how `classifier train` passes weights
    assert list(pipe.classes_) == LABELS
    proba = pipe.predict_proba(POSITIVE + NEGATIVE)
    assert proba.shape == (10, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (pipe.predict(texts) == labels).mean() > 0.8  # it fits its training data
    refit = clone(pipe).fit(texts, labels)  # a clone is unfitted and refits the same way
    assert np.allclose(refit.predict_proba(texts[:20]), pipe.predict_proba(texts[:20]))


def test_polar_only_training_gives_two_columns():
    texts = POSITIVE + NEGATIVE
    pipe = build_sentiment_pipeline(min_df=1).fit(texts, ["positive"] * 5 + ["negative"] * 5)
    assert list(pipe.classes_) == ["negative", "positive"]
    assert pipe.predict_proba(["Merci, bravo !"]).shape == (1, 2)


# --------------------------------------------------------------------------- train / evaluate / score


@pytest.fixture(scope="module")
def trained(tmp_path_factory, sentiment_sample):
    """`classifier train --task sentiment` on a CSV the test writes; returns (csv, model dir, stdout)."""
    tmp = tmp_path_factory.mktemp("sentiment")
    data = tmp / "sentiment.csv"
    sentiment_sample.rename(columns={"label": "mood"}).to_csv(data, index=False)
    out = tmp / "model"
    result = CliRunner().invoke(
        app,
        ["train", str(data), "--task", "sentiment", "--label-column", "mood", "--cv", "2",
         "--source-weight", "umsab_fr_tweets=3", "--out", str(out), "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return data, out, result.stdout


def test_train_writes_a_sentiment_card(trained):
    _, out, _ = trained
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert card["task"] == "sentiment"
    assert card["classes"] == LABELS
    assert card["parameters"]["builder"].endswith("build_sentiment_pipeline")
    heldout = card["metrics"]["heldout"]
    assert {"all", "umsab_fr_tweets", "allocine_tv_dongdemelo"} <= set(heldout)
    assert 0.0 <= heldout["all"]["macro_f1"] <= 1.0
    assert "macro_f1" in (out / "CARD.md").read_text(encoding="utf-8")


def test_evaluate_reports_macro_f1_per_class_and_confusion(trained):
    data, out, _ = trained
    result = CliRunner().invoke(app, ["evaluate", str(data), "--model", str(out), "--label-column", "mood", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["metrics"]
    overall = report["all"]
    assert overall["macro_f1"] > 0.8  # scored on its own training rows
    assert set(overall["per_class"]) == set(LABELS)
    assert all({"precision", "recall"} <= set(v) for v in overall["per_class"].values())
    matrix = np.array(overall["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == overall["n"]
    assert "source=umsab_fr_tweets" in report


def test_score_returns_sentiment_fields(trained):
    _, out, _ = trained
    result = CliRunner().invoke(app, ["score", "--text", POSITIVE[0], "--text", NEGATIVE[0],
                                      "--sentiment-model", str(out), "--format", "jsonl"])  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(records) == 2
    for r in records:
        assert r["sentiment"] in LABELS
        assert abs(r["negative"] + r["neutral"] + r["positive"] - 1.0) < 1e-3
    assert records[0]["positive"] > records[1]["positive"]


# --------------------------------------------------------------------------- the shipped model


@pytest.fixture(scope="module")
def shipped():
    from classifier.model import load_model

    if not (MODELS / "sentiment-fr" / "card.json").is_file():
        pytest.skip("models/sentiment-fr not built yet")
    return load_model(task="sentiment")


def test_shipped_model_ranks_obvious_comments(shipped):
    assert shipped.task == "sentiment" and list(shipped.classes) == LABELS
    proba = shipped.predict_proba(POSITIVE + NEGATIVE)
    pos, neg = proba[:, 2], proba[:, 0]
    assert pos[:5].min() > pos[5:].max()
    assert neg[5:].min() > neg[:5].max()
    assert list(np.asarray(shipped.classes)[proba.argmax(axis=1)]) == ["positive"] * 5 + ["negative"] * 5


def test_shipped_model_card_reports_sources_and_eval_set(shipped):
    metrics = shipped.card["metrics"]
    assert {"umsab_fr_tweets", "allocine_tv_dongdemelo", "allocine_blard_sample"} <= set(metrics["heldout"])
    assert metrics["eval"]["all"]["macro_f1"] >= 0.6
    assert "DEFT" in shipped.card["licence_note"]


def test_shipped_model_on_our_news_comments(shipped):
    """Polar rows of our own evaluation set: the right pole wins for most of them."""
    df = pd.read_csv(DATA / "eval_news_fr.csv", keep_default_na=False)
    polar = df[df.sentiment != "neutral"]
    proba = shipped.predict_proba(polar["text"].tolist())
    right = np.where(polar["sentiment"] == "positive", proba[:, 2] > proba[:, 0], proba[:, 0] > proba[:, 2])
    assert right.mean() >= 0.75
