"""Quality metrics shared by `classifier train` (model card) and `classifier evaluate`.

Binary tasks (hostile): ROC AUC, PR AUC, and precision/recall/F1 plus the
confusion matrix at the model's decision thresholds. Multi-class tasks
(sentiment): macro-F1, accuracy, per-class precision/recall/F1 and the
confusion matrix. Results are plain JSON-ready dicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The reject threshold is the lowest score whose flagged comments are at least this precise.
REJECT_PRECISION = 0.9
THRESHOLD_RULE = (
    "review = the P(hostile) that maximises F1 on the held-out part of the training data (rows weighted "
    "like their source in training); "
    f"reject = the lowest P(hostile) >= review whose precision there is >= {REJECT_PRECISION}."
)


def _r(x: float) -> float:
    return round(float(x), 4)


def choose_thresholds(y, p, sample_weight=None) -> dict[str, float]:
    """Decision thresholds on P(hostile) from held-out labels and scores (see :data:`THRESHOLD_RULE`).

    ``sample_weight`` (the training source weights) keeps a large, down-weighted
    source from setting the thresholds alone.
    """
    from sklearn.metrics import precision_recall_curve

    precision, recall, cut = precision_recall_curve(np.asarray(y), np.asarray(p), sample_weight=sample_weight)
    precision, recall = precision[:-1], recall[:-1]
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    review = float(cut[int(np.argmax(f1))])
    precise = np.flatnonzero((precision >= REJECT_PRECISION) & (cut >= review))
    reject = float(cut[precise[0]]) if precise.size else max(review, 0.9)
    return {"review": _r(review), "reject": _r(max(reject, review))}


def binary_metrics(y, p, thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """ROC AUC, PR AUC and, at each threshold, precision/recall/F1 and the confusion matrix."""
    from sklearn.metrics import (
        average_precision_score,
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    out: dict[str, Any] = {"n": len(y), "positives": int(y.sum())}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = _r(roc_auc_score(y, p))
        out["pr_auc"] = _r(average_precision_score(y, p))
    both = 0 < y.sum() < len(y)  # precision/recall/F1 mean little on a one-class group: its flag rate does
    for name, cut in (thresholds or {}).items():
        pred = (p >= cut).astype(int)
        prec, rec, f1, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
        block = {"threshold": cut, "flagged": _r(pred.mean()) if len(pred) else None,
                 "precision": _r(prec) if both else None, "recall": _r(rec) if y.sum() else None,
                 "f1": _r(f1) if both else None, "confusion_matrix": confusion_matrix(y, pred, labels=[0, 1]).tolist()}
        out[name] = block
        if name == "review":  # headline figures: the flagging threshold
            out.update({k: block[k] for k in ("flagged", "precision", "recall", "f1")})
    return out


def multiclass_metrics(y, proba, classes) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class precision/recall/F1 and the confusion matrix (rows = truth)."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    classes = list(classes)
    y = np.asarray(y).astype(str)
    pred = np.asarray(classes, dtype=object)[np.asarray(proba).argmax(axis=1)].astype(str)
    labels = [str(c) for c in classes]
    prec, rec, f1, support = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    present = [c for c in labels if c in set(y)]
    return {
        "n": len(y),
        "macro_f1": _r(f1_score(y, pred, labels=present, average="macro", zero_division=0)) if present else None,
        "accuracy": _r(accuracy_score(y, pred)),
        "per_class": {
            c: {"precision": _r(prec[i]), "recall": _r(rec[i]), "f1": _r(f1[i]), "support": int(support[i])}
            for i, c in enumerate(labels)
        },
        "labels": labels,
        "confusion_matrix": confusion_matrix(y, pred, labels=labels).tolist(),
    }


def task_metrics(y, proba, classes, thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """Binary metrics on P(last class) for two classes, multi-class metrics otherwise."""
    classes = list(classes)
    if len(classes) == 2:
        return binary_metrics(np.asarray(y) == classes[1], np.asarray(proba)[:, 1], thresholds)
    return multiclass_metrics(y, proba, classes)


def summarise_folds(folds: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """Mean and standard deviation of each key over cross-validation folds."""
    out: dict[str, Any] = {"folds": len(folds)}
    for key in keys:
        values = [f[key] for f in folds if f.get(key) is not None]
        if values:
            out[key] = {"mean": _r(np.mean(values)), "sd": _r(np.std(values))}
    return out


def metric_rows(report: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per group of a metrics report (for tables, CSV and JSONL)."""
    rows = []
    for group, m in report.items():
        row: dict[str, Any] = {"set": group, "n": m.get("n")}
        if "macro_f1" in m:
            row.update({"macro_f1": m.get("macro_f1"), "accuracy": m.get("accuracy")})
            row.update({f"f1_{c}": v["f1"] for c, v in m.get("per_class", {}).items()})
        else:
            row.update({k: m.get(k) for k in ("positives", "roc_auc", "pr_auc", "flagged", "precision", "recall", "f1")})
            if "review" in m:
                row["confusion_review"] = m["review"]["confusion_matrix"]
        rows.append(row)
    return rows
