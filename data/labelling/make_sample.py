"""Draw the hand-labelled sample of ``fr_news_published_20min.csv`` (reproducible, seed fixed).

Why a mixed draw: published comments are mostly acceptable, so a purely uniform sample holds
too few hostile ones to measure recall. The sample is 1,100 comments drawn uniformly (use these
alone for shares of the whole file) plus 500 drawn uniformly among the other comments that the
shipped model hostile-fr 1.1.1 held for review (hostile >= 0.45), shuffled together so that the
labellers cannot tell the strata apart.

The split is by article (sha1 of the article URL): dev when its first byte mod 5 is 0, 1 or 2,
else train. The dev part is never trained on.

Writes ``sample.csv`` here (item, row, text_sha1, article_sha1, stratum, split: no comment text,
since the corpus stays in ../shared) and, outside the repository, the items to label
(``--items``: item, title, text).

    .venv/bin/python data/labelling/make_sample.py --items /tmp/items.csv
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PUBLISHED = HERE.parents[1] / ".." / "shared" / "data" / "fr_news_published_20min.csv"
SEED = 20261201
UNIFORM, ENRICHED, REVIEW = 1100, 500, 0.45


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=Path, required=True, help="where to write item,title,text (outside the repo)")
    parser.add_argument("--published", type=Path, default=PUBLISHED)
    args = parser.parse_args()
    from classifier.model import load_model

    frame = pd.read_csv(args.published, keep_default_na=False)
    rng = np.random.default_rng(SEED)
    uniform = rng.choice(len(frame), size=UNIFORM, replace=False)
    scores = load_model().predict_proba(frame["text"].tolist())[:, 1]
    rest = np.setdiff1d(np.flatnonzero(scores >= REVIEW), uniform)
    enriched = rng.choice(rest, size=ENRICHED, replace=False)
    rows = np.concatenate([uniform, enriched])
    strata = ["uniform"] * UNIFORM + ["held_by_1.1.1"] * ENRICHED
    order = rng.permutation(len(rows))
    sample = pd.DataFrame({"row": rows[order], "stratum": np.array(strata)[order]})
    sample.insert(0, "item", np.arange(1, len(sample) + 1))
    picked = frame.iloc[sample["row"]]
    sample["text_sha1"] = [sha1(t) for t in picked["text"]]
    sample["article_sha1"] = [sha1(u) for u in picked["article_url"]]
    sample["split"] = ["dev" if int(h[:2], 16) % 5 < 3 else "train" for h in sample["article_sha1"]]
    sample.to_csv(HERE / "sample.csv", index=False)
    items = pd.DataFrame({"item": sample["item"], "title": picked["title"].values, "text": picked["text"].values})
    items.to_csv(args.items, index=False)
    print(sample.groupby(["split", "stratum"]).size().to_string())


if __name__ == "__main__":
    main()
