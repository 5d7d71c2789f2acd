"""Agreement between the two labellers, the items to settle, and the final labels.

    .venv/bin/python data/labelling/agreement.py            # kappas, and to_settle.csv (items only)
    .venv/bin/python data/labelling/agreement.py --final    # + labels.csv from labels_a/b and settled.csv

Why these items are settled: a disagreement on `hostile` or `sentiment`, or on an attribute of
an item that either labeller rated hostile >= 1. Everything else keeps the shared value (for
attributes of items both rated 0, a disagreement is resolved to 0: no attribute without hostility).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent
FIELDS = ("hostile", "insult", "threat", "identity_attack", "profanity", "sentiment")
ATTRIBUTES = FIELDS[1:5]


def read(name: str) -> pd.DataFrame:
    frame = pd.read_csv(HERE / name, keep_default_na=False).set_index("item").sort_index()
    assert list(frame.index) == list(range(1, len(frame) + 1)), f"{name}: items missing or repeated"
    return frame


def agreement(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    report = {"items": len(a)}
    for field in FIELDS:
        report[field] = {
            "agreement": round(float((a[field] == b[field]).mean()), 3),
            "kappa": round(float(cohen_kappa_score(a[field], b[field])), 3),
        }
    report["hostile"]["kappa_linear"] = round(float(cohen_kappa_score(a.hostile, b.hostile, weights="linear")), 3)
    a2, b2 = (a.hostile == 2).astype(int), (b.hostile == 2).astype(int)
    report["hostile_2_vs_rest"] = {"kappa": round(float(cohen_kappa_score(a2, b2)), 3)}
    a1, b1 = (a.hostile >= 1).astype(int), (b.hostile >= 1).astype(int)
    report["hostile_1plus_vs_0"] = {"kappa": round(float(cohen_kappa_score(a1, b1)), 3)}
    return report


def to_settle(a: pd.DataFrame, b: pd.DataFrame) -> pd.Index:
    differs = (a.hostile != b.hostile) | (a.sentiment != b.sentiment)
    flagged = (a.hostile >= 1) | (b.hostile >= 1)
    for field in ATTRIBUTES:
        differs |= flagged & (a[field] != b[field])
    return a.index[differs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--final", action="store_true", help="write labels.csv from the settled items")
    args = parser.parse_args()
    a, b = read("labels_a.csv"), read("labels_b.csv")
    report = agreement(a, b)
    items = to_settle(a, b)
    report["settled_items"] = len(items)
    print(json.dumps(report, indent=1))
    (HERE / "agreement.json").write_text(json.dumps(report, indent=1) + "\n")
    if not args.final:
        pd.DataFrame({"item": items}).to_csv(HERE / "to_settle.csv", index=False)
        return
    final = a.copy()
    for field in ATTRIBUTES:  # both rated hostile 0: an attribute disagreement falls to 0
        final[field] = (a[field] & b[field]).where((a.hostile == 0) & (b.hostile == 0), a[field])
    settled = pd.read_csv(HERE / "settled.csv", keep_default_na=False).set_index("item")
    assert set(settled.index) == set(items), "settled.csv must hold exactly the items to settle"
    final.loc[settled.index, list(FIELDS)] = settled[list(FIELDS)]
    final["settled"] = final.index.isin(settled.index).astype(int)
    final.reset_index().to_csv(HERE / "labels.csv", index=False)


if __name__ == "__main__":
    main()
