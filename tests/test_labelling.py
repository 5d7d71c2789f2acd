"""Our hand labels of real published comments: they join the shared file and agree with their report."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

LABELLING = Path(__file__).resolve().parents[1] / "data" / "labelling"
sys.path.insert(0, str(LABELLING))
import agreement  # noqa: E402  (the script that produced agreement.json and labels.csv)


def test_sample_rows_point_at_the_same_texts_of_the_published_file(shared_data):
    published = pd.read_csv(shared_data / "fr_news_published_20min.csv", keep_default_na=False)
    sample = pd.read_csv(LABELLING / "sample.csv")
    texts = published["text"].iloc[sample["row"]]
    assert [hashlib.sha1(t.encode()).hexdigest() for t in texts] == sample["text_sha1"].tolist()
    urls = published["article_url"].iloc[sample["row"]]
    assert [hashlib.sha1(u.encode()).hexdigest() for u in urls] == sample["article_sha1"].tolist()
    by_article = sample.groupby("article_sha1")["split"].nunique()
    assert (by_article == 1).all()  # the split is by article: no article on both sides


def test_final_labels_cover_every_item_with_allowed_values_and_match_the_agreement_report():
    labels = pd.read_csv(LABELLING / "labels.csv")
    assert labels["item"].tolist() == list(range(1, 1601))
    assert set(labels["hostile"]) <= {0, 1, 2}
    assert set(labels["sentiment"]) <= {"negative", "neutral", "positive"}
    for field in agreement.ATTRIBUTES:
        assert set(labels[field]) <= {0, 1}
    a, b = agreement.read("labels_a.csv"), agreement.read("labels_b.csv")
    assert agreement.agreement(a, b) | {"settled_items": len(agreement.to_settle(a, b))} == json.loads(
        (LABELLING / "agreement.json").read_text()
    )
    settled = labels.set_index("item")["settled"]
    same = (a.hostile == b.hostile) & (a.sentiment == b.sentiment)
    assert (labels.set_index("item").loc[same & (settled == 0), "hostile"] == a.hostile[same & (settled == 0)]).all()
