"""Judging on real comments: the article split, the labelled-sample loader, the report, the target-domain rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classifier import judge

SAMPLE = judge.SAMPLE_FILE


def test_article_split_is_the_rule_the_labelling_sample_used(shared_data):
    published = judge.published_rows(shared_data)
    sample = pd.read_csv(SAMPLE, dtype=str)
    rows = sample["row"].astype(int).to_numpy()
    assert (published["split"].to_numpy()[rows] == sample["split"].to_numpy()).all()
    assert [judge.sha1(t) for t in published["text"].to_numpy()[rows]] == sample["text_sha1"].tolist()
    assert 0.4 < (published["split"] == "dev").mean() < 0.7


@pytest.fixture()
def labels_fixture(tmp_path):
    """A tiny labels file in the lead's format for the first 12 sample items (labels invented for the test)."""
    sample = pd.read_csv(SAMPLE, dtype=str).iloc[:12]
    hostile = [0, 0, 0, 0, 1, 1, 2, 2, 2, 0, 0, 2]
    frame = pd.DataFrame({"item": sample["item"], "hostile": hostile, "insult": [int(h == 2) for h in hostile],
                          "threat": 0, "identity_attack": 0, "profanity": [h % 2 for h in hostile],
                          "sentiment": "negative", "settled": 0})  # fmt: skip
    path = tmp_path / "labels.csv"
    frame.to_csv(path, index=False)
    return path, sample, hostile


def test_labelled_rows_join_by_row_and_check_the_text(shared_data, labels_fixture, tmp_path):
    path, sample, hostile = labels_fixture
    rows = judge.labelled_rows(shared_data, labels=path)
    assert len(rows) == 12 and rows["hostile"].tolist() == hostile
    assert rows["split"].tolist() == sample["split"].tolist()
    dev = judge.labelled_rows(shared_data, "dev", labels=path)
    assert set(dev["split"]) == {"dev"} and len(dev) == (sample["split"] == "dev").sum()
    broken = sample.copy()
    broken.loc[broken.index[0], "text_sha1"] = "0" * 40
    broken.to_csv(tmp_path / "sample.csv", index=False)
    with pytest.raises(Exception, match="no longer match"):
        judge.labelled_rows(shared_data, labels=path, sample=tmp_path / "sample.csv")
    assert judge.labelled_rows(shared_data, labels=tmp_path / "absent.csv").empty


def test_labelled_report_counts_what_is_held_at_each_level(shared_data, labels_fixture):
    path, _, hostile = labels_fixture
    rows = judge.labelled_rows(shared_data, labels=path)
    p = np.array([0.1, 0.2, 0.3, 0.9, 0.5, 0.1, 0.95, 0.7, 0.2, 0.05, 0.6, 0.99])
    decisions = ["reject" if x >= 0.9 else "review" if x >= 0.5 else "approve" for x in p]
    report = judge.labelled_report(rows, p, decisions)
    assert report["counts"] == {"0": 6, "1": 2, "2": 4}
    assert report["hostile_2_held"] == 0.75 and report["hostile_2_rejected"] == 0.5
    assert report["acceptable_0_held"] == round(2 / 6, 4) and report["acceptable_0_rejected"] == round(1 / 6, 4)
    assert 0 < report["roc_auc_2_vs_0"] < 1


def test_target_domain_rows_never_take_a_dev_article(shared_data, labels_fixture, monkeypatch):
    path, sample, _ = labels_fixture
    monkeypatch.setattr(judge, "LABELS_FILE", path)
    rows, files = judge.target_domain_rows(shared_data, borderline="positive", borderline_weight=0.5)
    published = judge.published_rows(shared_data)
    dev_texts = set(published.loc[published["split"] == "dev", "text"])
    assert not dev_texts.intersection(rows["text"])
    labelled = rows[rows["source"] == judge.LABELLED_SOURCE]
    assert len(labelled) == (sample["split"] == "train").sum()
    weak = rows[rows["source"] == judge.PUBLISHED_SOURCE]
    assert set(weak["label"]) == {"0"} and not set(weak["text"]).intersection(labelled["text"])
    assert {f["file"] for f in files} == {"labels.csv", judge.PUBLISHED_FILE}


def test_held_shares_and_cross_article_shares():
    assert judge.held_shares(["approve", "review", "reject", "approve"]) == {"n": 4, "held": 0.5, "rejected": 0.25}
    rng = np.random.default_rng(1)
    p = rng.random(2000)
    articles = [f"https://example.org/{i % 40}" for i in range(2000)]
    out = judge.cross_article_shares(p, np.zeros(2000, bool), articles, reject_share=0.01, review_share=0.08)
    for block in out.values():
        assert block["held"] < 0.12 and block["rejected"] < 0.03


def test_evaluate_real_reports_every_part_for_the_shipped_model(capsys):
    import json

    from classifier.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--real", "--format", "json"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    real = json.loads(out)["real_comments"]
    b = real["b_published_dev"]
    assert b["n"] > 4000 and b["held"] <= 0.09 and b["rejected"] <= 0.015  # the card's thresholds hold its shares
    assert real["d_labelled_dev"]["n"] > 800 and real["d_labelled_dev"]["counts"]["2"] > 0
    assert "out-of-fold" in real["a_en_news_ucc"]["scores"] and 0.5 < real["a_en_news_ucc"]["roc_auc"] < 1
    assert real["functional"]["all"]["n"] == 480
