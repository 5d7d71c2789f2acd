"""Judging a hostile model on real news comments, the way a newsroom would.

Why its own module: the figures that matter are not those of the training mix
(~40 % hostile tweets and chats) but those of the comments a news site really
gets. Four measurements, reported by ``classifier evaluate --real`` and written
into every model card by ``classifier train``:

(a) transfer to ``en_news_ucc.csv`` (real English reader comments, crowd labels):
    ROC AUC of a model not trained on it, or of its out-of-fold scores when it is;
(b) the shares of ``fr_news_published_20min.csv`` (comments a newsroom published)
    that the model holds (``review`` or ``reject``, the shouting rule included,
    as ``classifier score`` decides) and rejects, on the dev articles only;
(c) recall on the labelled hostile sets at the same thresholds (see
    :func:`classifier.train.evaluate_frames`);
(d) our hand-labelled sample of the published comments (``data/labelling``),
    dev split: clearly hostile (2) comments held, acceptable (0) ones held and
    rejected, ROC AUC of 2 against 0 and per attribute.

The dev/train rule is by article, one place: :func:`article_split`. Every
comment of a dev article stays out of training (as a weak negative too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classifier.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_FILE = "fr_news_published_20min.csv"
UCC_FILE = "en_news_ucc.csv"
UCC_SOURCE = "ucc_globeandmail_en"
LABELLING = ROOT / "data" / "labelling"
SAMPLE_FILE = LABELLING / "sample.csv"
LABELS_FILE = LABELLING / "labels.csv"
#: The labelled attributes (0/1 each) beside ``hostile`` (0 acceptable, 1 borderline, 2 clearly hostile).
ATTRIBUTES = ("insult", "threat", "identity_attack", "profanity")
UCC_ATTRIBUTES = ("hostile", "antagonize", "dismissive", "condescending", "sarcastic", "generalisation_unfair")
LABELLED_SOURCE, PUBLISHED_SOURCE = "own_labels_20min_fr", "published_20min_fr"
SPLIT_RULE = "by article: dev when the first byte of sha1(article_url) mod 5 is below 3, else train"

#: ``texts -> (P(hostile), decision)`` of a model under its policy, as ``classifier score`` gives them.
Scorer = Callable[[list[str]], tuple[np.ndarray, list[str]]]


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def article_split(url: str) -> str:
    """``dev`` or ``train`` for a comment's article (see :data:`SPLIT_RULE`)."""
    return "dev" if int(sha1(url)[:2], 16) % 5 < 3 else "train"


def published_rows(data_dir: Path, split: str | None = None) -> pd.DataFrame:
    """The published comments (``row`` = 0-based position in the file, ``split`` by article), optionally one split."""
    path = Path(data_dir) / PUBLISHED_FILE
    if not path.is_file():
        raise InputError(f"{path}: no such file (the published comments of ../shared/data)")
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    frame.insert(0, "row", np.arange(len(frame)))
    frame["split"] = frame["article_url"].map(article_split)
    return frame if split is None else frame[frame["split"] == split].reset_index(drop=True)


def labelled_rows(data_dir: Path, split: str | None = None, labels: Path | None = None, sample: Path | None = None) -> pd.DataFrame:
    """Our settled hand labels joined to their comments (by ``row``, checked by ``text_sha1``).

    Returns an empty frame when the labels are not there yet. A label row whose
    text no longer matches its sha1 is an error: the published file changed.
    """
    labels, sample = Path(labels or LABELS_FILE), Path(sample or SAMPLE_FILE)
    if not labels.is_file():
        return pd.DataFrame(columns=["item", "row", "text", "hostile", *ATTRIBUTES, "sentiment", "split", "stratum"])
    keys = pd.read_csv(sample, keep_default_na=False, dtype=str)
    marks = pd.read_csv(labels, keep_default_na=False, dtype=str)
    table = keys.merge(marks, on="item", how="inner", validate="one_to_one")
    published = published_rows(data_dir)
    rows = table["row"].astype(int).to_numpy()
    texts = published["text"].to_numpy()[rows]
    bad = [i for i, (t, h) in enumerate(zip(texts, table["text_sha1"])) if sha1(t) != h]
    if bad:
        raise InputError(f"{labels}: {len(bad)} labelled rows no longer match {PUBLISHED_FILE} (e.g. item {table['item'].iloc[bad[0]]})")
    table["text"] = texts
    table["row"] = rows
    for column in ("hostile", *ATTRIBUTES):
        table[column] = pd.to_numeric(table[column], errors="raise").astype(int)
    table["split"] = published["split"].to_numpy()[rows]  # the rule, not a copy of it
    return table if split is None else table[table["split"] == split].reset_index(drop=True)


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y).astype(int)
    return round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None


def _share(mask) -> float | None:
    mask = np.asarray(mask, dtype=bool)
    return round(float(mask.mean()), 4) if len(mask) else None


def held_shares(decisions: Sequence[str]) -> dict[str, Any]:
    """How many comments a model holds (``review`` or ``reject``) and rejects."""
    d = np.asarray(list(decisions), dtype=object)
    return {"n": len(d), "held": _share(d != "approve"), "rejected": _share(d == "reject")}


def ucc_report(y: np.ndarray, p: np.ndarray, frame: pd.DataFrame, folds: np.ndarray | None = None) -> dict[str, Any]:
    """(a): ROC AUC on the UCC comments, per crowd attribute, and per fold when the scores are out-of-fold."""
    out: dict[str, Any] = {"n": len(y), "positives": int(np.sum(y)), "roc_auc": _auc(y, p)}
    out["attributes_roc_auc"] = {a: _auc(frame[a].astype(int).to_numpy(), p) for a in UCC_ATTRIBUTES if a in frame}
    if folds is not None:
        out["folds_roc_auc"] = [_auc(y[folds == k], p[folds == k]) for k in sorted(set(folds.tolist()))]
        out["scores"] = "out-of-fold (every row scored by a model that did not train on it)"
    else:
        out["scores"] = "model not trained on this file"
    return out


def labelled_report(frame: pd.DataFrame, p: np.ndarray, decisions: Sequence[str]) -> dict[str, Any]:
    """(d): on our labelled dev comments, what the model holds of each hostile level, AUCs, per attribute."""
    if frame.empty:
        return {"n": 0, "note": f"no labels yet ({LABELS_FILE.relative_to(ROOT)})"}
    h = frame["hostile"].to_numpy()
    d = np.asarray(list(decisions), dtype=object)
    held, rejected = d != "approve", d == "reject"
    out: dict[str, Any] = {"n": len(h), "counts": {str(k): int((h == k).sum()) for k in (0, 1, 2)}}
    for level, name in ((2, "hostile_2"), (1, "borderline_1"), (0, "acceptable_0")):
        out[f"{name}_held"] = _share(held[h == level])
        out[f"{name}_rejected"] = _share(rejected[h == level])
    both = h != 1
    out["roc_auc_2_vs_0"] = _auc(h[both] == 2, p[both])
    out["roc_auc_12_vs_0"] = _auc(h >= 1, p)
    out["attributes_roc_auc"] = {a: _auc(frame[a].to_numpy(), p) for a in ATTRIBUTES}
    uniform = (frame["stratum"] == "uniform").to_numpy() if "stratum" in frame else np.zeros(len(h), bool)
    if uniform.any():  # the uniform draw alone estimates shares of the whole file
        out["uniform"] = {"n": int(uniform.sum()), "hostile_2_share": _share(h[uniform] == 2),
                          "held": _share(held[uniform]), "rejected": _share(rejected[uniform])}  # fmt: skip
    return out


def real_comment_report(
    scorer: Scorer,
    data_dir: Path,
    *,
    ucc_out_of_fold: tuple[pd.DataFrame, np.ndarray, np.ndarray] | None = None,
    score_ucc: bool = True,
) -> dict[str, Any]:
    """(a), (b) and (d) for one model; ``ucc_out_of_fold`` = (rows, scores, fold) when it trained on UCC.

    The rows of ``ucc_out_of_fold`` are the training rows from UCC (``label`` and the crowd attributes);
    ``score_ucc=False`` leaves (a) out (a model trained on UCC cannot be judged by scoring it again).
    """
    data_dir = Path(data_dir)
    report: dict[str, Any] = {"split_rule": SPLIT_RULE}
    ucc = data_dir / UCC_FILE
    if ucc.is_file() and (score_ucc or ucc_out_of_fold is not None):
        if ucc_out_of_fold is not None:
            frame, p, folds = ucc_out_of_fold
            report["a_en_news_ucc"] = ucc_report(frame["label"].astype(int).to_numpy(), p, frame, folds)
        else:
            frame = pd.read_csv(ucc, keep_default_na=False, dtype=str)
            p, _ = scorer(frame["text"].tolist())
            report["a_en_news_ucc"] = ucc_report(frame["label"].astype(int).to_numpy(), p, frame)
    published = published_rows(data_dir, "dev")
    _, decisions = scorer(published["text"].tolist())
    report["b_published_dev"] = {"file": PUBLISHED_FILE, "articles": int(published["article_url"].nunique()),
                                 **held_shares(decisions)}  # fmt: skip
    lengths = published["text"].str.len().to_numpy()
    long = lengths > 400
    report["b_published_dev"]["held_above_400_chars"] = _share(np.asarray(decisions)[long] != "approve")
    labelled = labelled_rows(data_dir, "dev")
    p_lab, d_lab = scorer(labelled["text"].tolist()) if len(labelled) else (np.zeros(0), [])
    report["d_labelled_dev"] = labelled_report(labelled, p_lab, d_lab)
    return report


def model_scorer(model, policy) -> Scorer:
    """The scores and decisions ``classifier score`` gives (text hygiene, the shouting rule), for a loaded model."""
    from classifier.policy import decide
    from classifier.text import clean_text, shouting_scores

    def score(texts: list[str]) -> tuple[np.ndarray, list[str]]:
        if not texts:
            return np.zeros(0), []
        p = np.asarray(model.predict_proba([clean_text(t) for t in texts]))[:, 1]
        shouts = shouting_scores(texts)
        return p, [decide(h, s, policy) for h, (s, _) in zip(p.tolist(), shouts)]

    return score


def cross_article_shares(
    p: np.ndarray, shouting: Sequence[bool], articles: Sequence[str], *, reject_share: float, review_share: float
) -> dict[str, Any]:
    """Shares on fresh articles: thresholds calibrated on half of the articles, measured on the other half, both ways.

    The halves are by the parity of the article's sha1 (second byte); the
    figure is what a newsroom calibrating on past articles would see on new ones.
    """
    from classifier.calibrate import thresholds_for_shares
    from classifier.policy import Policy, decide

    half = np.array([int(sha1(a)[2:4], 16) % 2 for a in articles])
    shouting = np.asarray(shouting, dtype=bool)
    out = {}
    for k in (0, 1):
        fit, test = half == k, half != k
        t = thresholds_for_shares(p[fit], shouting[fit], reject_share=reject_share, review_share=review_share)
        policy = Policy(t["review"], t["reject"])
        shares = held_shares([decide(h, s, policy) for h, s in zip(p[test].tolist(), shouting[test].tolist())])
        out[f"calibrated_on_half_{k}"] = {"thresholds": t, **shares}
    return out


def _labels_name() -> str:
    """How cards name our labels file: its path inside ``data/`` (where the card test finds it)."""
    return str(LABELS_FILE.relative_to(ROOT / "data")) if LABELS_FILE.is_relative_to(ROOT / "data") else LABELS_FILE.name


def sentiment_rows(data_dir: Path) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Our sentiment labels of the train articles' labelled comments, as training rows (source :data:`LABELLED_SOURCE`)."""
    from classifier.model import sha256_file

    labelled = labelled_rows(data_dir, "train")
    rows = pd.DataFrame({"text": labelled["text"], "label": labelled["sentiment"], "source": LABELLED_SOURCE,
                         "file": _labels_name()})  # fmt: skip
    files = [{"file": _labels_name(), "sha256": sha256_file(LABELS_FILE), "rows_read": len(labelled), "rows_excluded": 0,
              "rows_bad": 0, "licence": "our labels (MIT) of third-party comments (research use only)",
              "rule": f"train split ({SPLIT_RULE}); column sentiment"}]  # fmt: skip
    return rows, files


def sentiment_report(model, data_dir: Path) -> dict[str, Any]:
    """Macro-F1 (and the rest of :func:`classifier.metrics.multiclass_metrics`) on our labelled dev comments."""
    from classifier.metrics import multiclass_metrics
    from classifier.text import clean_text

    labelled = labelled_rows(data_dir, "dev")
    if labelled.empty:
        return {"n": 0}
    proba = model.predict_proba([clean_text(t) for t in labelled["text"]])
    return multiclass_metrics(labelled["sentiment"].to_numpy(), proba, [str(c) for c in model.classes_])


def target_domain_rows(
    data_dir: Path, *, borderline: str = "positive", borderline_weight: float = 0.5
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Training rows from the target domain, train articles only: our labels, then the other published comments.

    * labelled train split: hostile 2 -> 1, 0 -> 0; borderline (1) by the
      ``borderline`` rule: ``"positive"`` (label 1, ``row_weight`` =
      ``borderline_weight``), ``"negative"`` (label 0, same) or ``"drop"``;
    * every other published comment of a train article: label 0 (a newsroom
      accepted it) -- weak negatives.
    Rows carry ``source`` (:data:`LABELLED_SOURCE` / :data:`PUBLISHED_SOURCE`,
    weighted by the recipe's source weights), ``file`` and ``row_weight``.
    """
    from classifier.model import sha256_file

    if borderline not in ("positive", "negative", "drop"):
        raise InputError(f"borderline rule must be positive, negative or drop, got {borderline!r}")
    published = published_rows(data_dir, "train")
    labelled = labelled_rows(data_dir, "train")
    frames, files = [], []
    if len(labelled):
        h = labelled["hostile"].to_numpy()
        keep = h != 1 if borderline == "drop" else np.ones(len(h), bool)
        label = np.where(h == 2, 1, np.where(h == 1, int(borderline == "positive"), 0))
        weight = np.where(h == 1, borderline_weight, 1.0)
        frames.append(pd.DataFrame({"text": labelled["text"][keep], "label": label[keep].astype(str),
                                    "source": LABELLED_SOURCE, "file": _labels_name(),
                                    "row_weight": weight[keep]}))  # fmt: skip
        files.append({"file": _labels_name(), "sha256": sha256_file(LABELS_FILE), "rows_read": len(labelled),
                      "rows_excluded": int((~keep).sum()), "rows_bad": 0,
                      "licence": "our labels (MIT) of third-party comments (research use only)",
                      "rule": f"train split ({SPLIT_RULE}); hostile 2 -> 1, 0 -> 0, borderline 1 -> {borderline}"})  # fmt: skip
    weak = published[~published["row"].isin(labelled["row"])]
    frames.append(pd.DataFrame({"text": weak["text"], "label": "0", "source": PUBLISHED_SOURCE,
                                "file": PUBLISHED_FILE, "row_weight": 1.0}))  # fmt: skip
    files.append({"file": PUBLISHED_FILE, "sha256": sha256_file(Path(data_dir) / PUBLISHED_FILE),
                  "rows_read": len(published), "rows_excluded": len(published) - len(weak), "rows_bad": 0,
                  "licence": "none stated; third-party comments, research use only",
                  "rule": f"train articles only ({SPLIT_RULE}), minus our labelled rows: label 0 (weak negatives)"})  # fmt: skip
    return pd.concat(frames, ignore_index=True), files


FUNCTIONAL_FILE = ROOT / "data" / "functional" / "cases.csv"


def functional_report(scorer: Scorer, review: float, path: Path | None = None) -> dict[str, Any]:
    """Per functionality of the functional suite: cases, share right (held iff hostile), held share, ROC AUC.

    Held = P(hostile) at or above ``review``: the hostile score alone, as the
    suite asks (its ALL-CAPS cases test the score, not the shouting rule).
    """
    path = Path(path or FUNCTIONAL_FILE)
    if not path.is_file():
        return {}
    cases = pd.read_csv(path, keep_default_na=False, dtype=str)
    y = cases["hostile"].astype(int).to_numpy()
    p, _ = scorer(cases["text"].tolist())
    held = p >= review
    out: dict[str, Any] = {}
    groups = [("all", np.ones(len(y), bool))]
    groups += [(f"{lang}/{f}", ((cases["functionality"] == f) & (cases["language"] == lang)).to_numpy())
               for f, lang in sorted(set(zip(cases["functionality"], cases["language"])))]  # fmt: skip
    for name, mask in groups:
        out[name] = {"n": int(mask.sum()), "hostile": int(y[mask].sum()), "correct": _share(held[mask] == (y[mask] == 1)),
                     "held": _share(held[mask]), "roc_auc": _auc(y[mask], p[mask])}  # fmt: skip
    return out


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per part of a real-comment report (for tables, CSV and JSONL): its numbers, nested ones dotted."""
    rows = []
    for part, block in report.items():
        if not isinstance(block, dict):
            continue
        if part == "functional":
            rows += [{"set": f"functional/{name}", **m} for name, m in block.items()]
            continue
        row: dict[str, Any] = {"set": part}
        for key, value in block.items():
            if isinstance(value, dict):
                row.update({f"{key}.{k}": v for k, v in value.items() if not isinstance(v, (dict, list))})
            elif not isinstance(value, list):
                row[key] = value
        rows.append(row)
    return rows
