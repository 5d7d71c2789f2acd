"""The Python API (`Moderator`) on the shipped model, and the decision policy's pure functions."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from classifier import Moderator, Result
from classifier import policy as pol
from classifier.errors import EXIT_USAGE, ModelError
from classifier.schema import DECISIONS, SCORE_ATTRIBUTES, SENTIMENTS
from tests.conftest import DATA, MODELS, ROOT

INSULT = "Ferme ta gueule, espèce de connard, retourne à l'école."
POLITE = "Merci pour cet article très clair et bien documenté."
SHOUT = "C'EST UNE HONTE, PERSONNE NE RESPECTE PLUS RIEN DANS CE PAYS !"


@pytest.fixture(scope="module")
def mod() -> Moderator:
    return Moderator.load()


# --------------------------------------------------------------------------- Moderator


def test_score_takes_a_list_and_returns_a_list_of_results_in_order(mod):
    texts = [POLITE, INSULT, SHOUT]
    results = mod.score(texts)
    assert isinstance(results, list) and len(results) == 3
    assert all(isinstance(r, Result) for r in results)
    assert [r.text for r in results] == texts
    for r in results:
        assert 0.0 <= r.hostile <= 1.0
        assert r.decision in DECISIONS
        assert r.model.startswith(mod.model.name + "@")
    assert mod.score([]) == []
    assert len(mod.score(t for t in texts)) == 3  # any iterable of texts


def test_a_single_string_is_an_error_not_a_list_of_characters(mod):
    with pytest.raises(TypeError, match="score_one"):
        mod.score(INSULT)
    with pytest.raises(TypeError):
        mod.score([POLITE, None])
    with pytest.raises(TypeError):
        mod.score_one([POLITE])


def test_score_one_is_score_of_a_one_item_list(mod):
    one = mod.score_one(INSULT)
    assert one == mod.score([INSULT])[0]


def test_the_shipped_model_ranks_insults_above_civil_comments(mod):
    insult, polite = mod.score([INSULT, POLITE])
    assert insult.hostile > polite.hostile
    assert insult.decision != "approve" and polite.decision == "approve"
    # the reasons of a flagged comment are words of that comment
    assert insult.reasons and all(reason.casefold() in INSULT.casefold() for reason in insult.reasons)
    assert polite.reasons == ()


def test_own_evaluation_set_hostile_comments_score_higher_on_average(mod):
    df = pd.read_csv(DATA / "eval_news_fr.csv", keep_default_na=False)
    scored = mod.score_frame(df, column="text")
    means = scored.groupby(df["hostile"].astype(int))["hostile"].mean()
    assert means[1] > means[0] + 0.2


def test_shouting_is_a_rule_and_a_reason(mod):
    shout, polite = mod.score([SHOUT, POLITE])
    assert shout.shouting and shout.caps_ratio >= 0.7
    assert any(r.startswith("shouting (caps ") for r in shout.reasons)
    assert shout.decision in ("review", "reject")  # shouting alone is held for review by default
    assert not polite.shouting and not any(r.startswith("shouting") for r in polite.reasons)


def test_shouting_alone_gives_its_reason_and_a_review(mod):
    calm = Moderator(mod.model, pol.Policy(review=1.0, reject=1.0), mod.sentiment)  # hostility flags nothing
    shout, polite = calm.score([SHOUT, POLITE])
    assert shout.reasons == (pol.shouting_reason(shout.caps_ratio),) and shout.decision == "review"
    assert polite.reasons == () and polite.decision == "approve"


def test_result_to_dict_is_flat_and_json_ready(mod):
    data = mod.score_one(POLITE).to_dict()
    assert list(data) == ["text", "hostile", *SCORE_ATTRIBUTES, "shouting", "caps_ratio", "sentiment", *SENTIMENTS,
                          "decision", "reasons", "language", "model"]  # fmt: skip
    json.dumps(data)
    assert isinstance(data["reasons"], list)


def test_sentiment_comes_with_the_shipped_sentiment_model_when_it_exists(mod):
    result = mod.score_one(POLITE)
    if (MODELS / "sentiment-fr" / "card.json").is_file():
        assert result.sentiment in SENTIMENTS
        assert set(result.sentiment_scores) == set(SENTIMENTS)
        assert result.sentiment_scores[result.sentiment] == max(result.sentiment_scores.values())
    else:
        assert mod.sentiment is None and result.sentiment is None and result.sentiment_scores is None


def test_score_frame_keeps_the_input_columns_and_index(mod):
    df = pd.DataFrame({"comment": [POLITE, INSULT], "author": ["a", "b"]}, index=[10, 20])
    out = mod.score_frame(df, column="comment")
    assert list(out.index) == [10, 20]
    assert list(out.columns[:2]) == ["comment", "author"]
    assert {"hostile", "shouting", "caps_ratio", "sentiment", "decision", "reasons", "model"} <= set(out.columns)
    assert out.loc[20, "hostile"] > out.loc[10, "hostile"]
    assert "hostile" not in df.columns  # the input frame is left alone
    with pytest.raises(KeyError, match="comment"):
        mod.score_frame(df.rename(columns={"comment": "body"}), column="comment")


def test_one_instance_is_safe_to_share_between_threads(mod):
    df = pd.read_csv(DATA / "eval_news_fr.csv", keep_default_na=False)
    texts = df["text"].tolist()
    batches = [texts[i::8] for i in range(8)]
    expected = [mod.score(b) for b in batches]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(mod.score, batches)) == expected


def test_load_overrides_the_card_thresholds(tmp_path):
    strict = Moderator.load(review=0.0, reject=0.0)
    assert strict.score_one(POLITE).decision == "reject"
    config = tmp_path / "moderation.toml"
    config.write_text('[thresholds]\nreview = 1.0\nreject = 1.0\n[policy]\nshouting = "approve"\n')
    lenient = Moderator.load(config=config)
    assert {r.decision for r in lenient.score([POLITE, INSULT, SHOUT])} == {"approve"}


def test_load_refuses_a_missing_model(tmp_path):
    with pytest.raises(ModelError):
        Moderator.load(tmp_path / "nothing-here")


def test_importing_the_package_loads_no_model_and_no_sklearn():
    code = (
        "import sys, classifier, classifier.moderator, classifier.policy\n"
        "from classifier import Moderator\n"
        "assert 'sklearn' not in sys.modules and 'pandas' not in sys.modules, 'heavy import'\n"
        "assert 'classifier.model' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------- policy (pure functions)

POLICY = pol.Policy(review=0.4, reject=0.8)


@pytest.mark.parametrize(
    ("hostile", "shouting", "expected"),
    [(0.1, False, "approve"), (0.4, False, "review"), (0.79, False, "review"), (0.8, False, "reject"),
     (0.1, True, "review"), (0.9, True, "reject")],
)  # fmt: skip
def test_decide_applies_the_thresholds_then_the_shouting_rule(hostile, shouting, expected):
    assert pol.decide(hostile, shouting, POLICY) == expected


def test_shouting_can_be_ignored_by_policy():
    assert pol.decide(0.1, True, pol.Policy(0.4, 0.8, shouting="approve")) == "approve"


def test_reasons_lists_ngrams_then_the_shouting_rule():
    assert pol.reasons(["abruti", "", "ferme"], True, 0.923) == ("abruti", "ferme", "shouting (caps 92%)")
    assert pol.reasons([], False, 0.9) == ()


def test_reaches_orders_the_decisions():
    assert pol.reaches("reject", "review") and pol.reaches("review", "review")
    assert not pol.reaches("approve", "review") and not pol.reaches("review", "reject")


def test_make_policy_precedence_card_then_config_then_options(tmp_path):
    card = {"review": 0.3, "reject": 0.7}
    assert pol.make_policy(card) == pol.Policy(0.3, 0.7)
    config = tmp_path / "c.toml"
    config.write_text("[thresholds]\nreject = 0.9\n")
    assert pol.make_policy(card, config) == pol.Policy(0.3, 0.9)
    assert pol.make_policy(card, config, review=0.5) == pol.Policy(0.5, 0.9)


@pytest.mark.parametrize(
    "content",
    ["[thresholds]\nreview = 0.9\nreject = 0.2\n", "[thresholds]\nreveiw = 0.5\n", "[thresholds\n",
     "[thresholds]\nreview = 2\n", '[policy]\nshouting = "ban"\n', "[other]\nx = 1\n"],
)  # fmt: skip
def test_bad_configs_are_usage_errors_with_a_clear_message(tmp_path, content):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(pol.PolicyError) as info:
        pol.make_policy({"review": 0.3, "reject": 0.7}, config)
    assert info.value.exit_code == EXIT_USAGE
    assert "\n" not in str(info.value)


def test_the_gate_only_moderator_decides_alike_without_sentiment_or_ngram_reasons(mod):
    gate = Moderator.load(sentiment=False, reasons=False, attributes=False)
    df = pd.read_csv(DATA / "eval_news_fr.csv", keep_default_na=False)
    texts = df.text.tolist()[:80] + [SHOUT, INSULT]
    full, fast = mod.score(texts), gate.score(texts)
    assert [r.hostile for r in fast] == pytest.approx([r.hostile for r in full], abs=1e-12)
    assert [r.decision for r in fast] == [r.decision for r in full]
    assert [(r.shouting, r.caps_ratio) for r in fast] == [(r.shouting, r.caps_ratio) for r in full]
    assert all(r.sentiment is None and r.sentiment_scores is None for r in fast)
    assert gate.model_id == f"{mod.model.name}@{mod.model.version}"
    # only the shouting rule is left as a reason, where it fired
    assert [r.reasons for r in fast] == [(pol.shouting_reason(r.caps_ratio),) if r.shouting else () for r in fast]
    assert any(r.reasons and not r.shouting for r in full)  # the full scorer did explain some
