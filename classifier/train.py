"""Training and evaluation for every task: data loading, cleaning, splits, CV, card.

One code path for hostile (binary) and sentiment (multi-class) models:

1. read CSV / JSONL / Parquet files, pick the text and label columns, report
   and skip bad rows (empty text, unknown label);
2. clean: :func:`classifier.text.clean_text` (mojibake, NFC, controls), then
   drop duplicates by normalised text, and every copy of a text whose copies
   disagree on the label;
3. weight each source (``source`` column, or the file name);
4. a stratified held-out split (by source and label) and k-fold
   cross-validation on the rest; calibrated probabilities; thresholds chosen
   on the held-out part;
5. refit on everything, score our own evaluation sets (never trained on), and
   write the model with its card (:func:`classifier.model.save_model`).

``PRESETS["shipped"]`` is the exact recipe of the shipped hostile model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classifier.errors import EXIT_USAGE, ClassifierError, InputError
from classifier.metrics import (
    THRESHOLD_RULE,
    choose_thresholds,
    summarise_folds,
    task_metrics,
)
from classifier.schema import SENTIMENTS, Task

ROOT = Path(__file__).resolve().parents[1]
#: The shared corpora, read in place beside the repository (never copied into it).
SHARED_DATA = ROOT.parent / "shared" / "data"
HELDOUT_FRACTION = 0.2
TASK_LABELS = {Task.hostile.value: ("0", "1"), Task.sentiment.value: SENTIMENTS}
_TRUE = {"1", "1.0", "true", "yes", "hostile", "reject", "rejected"}
_FALSE = {"0", "0.0", "false", "no", "ok", "approve", "approved"}

#: Licences of the shared corpora, as stated in ../shared/data/README.md (carried into every card).
LICENCES = {
    "fr_hostile_superset.csv": "none stated; research use only (gated upstream: no harm to human subjects, not for generative LLMs)",
    "fr_hostile_cyberado_fine.csv": "none stated; research use (CyberAgressionAdo-v1, cite Ollagnier et al. 2022)",
    "fr_toxic_toxifrench.csv": "MIT (ToxiFrench, Delaval et al. 2025)",
    "fr_toxic_translated.csv": "repo MIT; Jigsaw text CC BY-SA 3.0; RTP-LX not verified: research use",
    "en_hostile_davidson.csv": "MIT (Davidson et al. 2017)",
    "fr_sentiment_train.csv": "mixed: XLM-T Apache-2.0 over DEFT-2017 (research-only terms likely); Allocine samples: no licence stated / MIT",
    "lexicon_hurtlex_fr.csv": "CC BY-NC-SA 4.0 (non-commercial, share-alike)",
    "en_news_ucc.csv": "CC BY-NC-SA 4.0 (non-commercial, share-alike; Unhealthy Comment Corpus, Price et al. 2020)",
    # hand-written for this project (data/): our own words, the project's licence
    "sentiment_supplement_fr.csv": "own work for this project, MIT",
    "hostile_supplement_fr.csv": "own work for this project, MIT",
    "hostile_supplement_en.csv": "own work for this project, MIT",
}

#: The recipe of the shipped models: `classifier train --preset NAME` rebuilds them exactly.
PRESETS: dict[str, dict[str, Any]] = {
    "shipped": {
        "task": "hostile",
        "name": "hostile-fr",
        "version": "1.2.0",
        "out": "models/hostile-fr",
        "files": [
            "fr_hostile_superset.csv",
            "fr_hostile_cyberado_fine.csv",
            "fr_toxic_toxifrench.csv",
            "fr_toxic_translated.csv",
            "en_hostile_davidson.csv",
            # real English reader comments: trained on, judged by out-of-fold scores (card, part a)
            "en_news_ucc.csv",
        ],
        # our own hand-written news-comment sentences (data/, training only; never the eval_news_* sets)
        "own_files": ["data/hostile_supplement_fr.csv", "data/hostile_supplement_en.csv"],
        # the target domain (classifier.judge.target_domain_rows): our labels of the train articles'
        # published comments, and their other published comments as weak negatives (dev articles never)
        "target_domain": {"borderline": "positive", "borderline_weight": 0.5},
        "text_column": "text",
        "label_column": "label",
        # the superset's cyberado rows carry hate-speech labels only; the fine file relabels them
        "exclude": {"subset": ["cyberado"]},
        "source_weights": {
            "fr_hs_superset": 0.5,
            "cyberagressionado_v1": 1.0,
            "toxifrench_benchmark": 2.0,
            "toxifrench_agreement": 2.0,
            "jigsaw_toxic_mt_fr": 0.7,
            "rtp_lx_fr": 0.7,
            "davidson_en": 0.3,
            # small and in-domain: 10 chosen on the held-out 20 % (ROC AUC at weight 3 / 10 / 20: supplement
            # 0.945 / 0.956 / 0.958, shared sources 0.943 / 0.941 / 0.939) -- see README "Training and evaluation"
            "own_news_supplement_fr": 10.0,
            "own_news_supplement_en": 10.0,
            # real news comments, chosen on held-out rows (UCC held-out part, our labelled dev split, recall on the
            # hostile sets at thresholds holding 8 % of the dev published comments): UCC 3 (10 did no better);
            # published weak negatives 1 (3 and 10 raise recall on the hostile sets, lower it on our labelled
            # dev comments); our labels 15 (0 / 5 / 15 / 30 tried). See README "Training and evaluation".
            "ucc_globeandmail_en": 3.0,
            "published_20min_fr": 1.0,
            "own_labels_20min_fr": 15.0,
        },
        # thresholds for a newsroom's base rate, on the dev articles' published comments (classifier.calibrate)
        "calibration": {"review_share": 0.08, "reject_share": 0.01},
        "real_comments": True,
        "params": {"C": 2.0, "estimator": "logreg", "char_ngram_range": [3, 5], "lexicon": "lexicon_hurtlex_fr.csv"},
        "eval": ["data/eval_news_fr.csv", "data/eval_news_en.csv"],
        "eval_label_column": "hostile",
        "cv": 3,
        "seed": 0,
        "description": "French-first (English second) hostility scorer for reader comments on news sites: "
        "P(hostile) for insults, threats, harassment, dehumanising or identity-based hate.",
        "notes": [
            "Real news comments in training (1.2): UCC weight 3, our labels (train split) 15, the train articles' "
            "other published comments as weak negatives 1 -- chosen on held-out rows (README, 'Training and "
            "evaluation'): more weak negatives raise recall on the tweet/chat/forum sets at the newsroom's "
            "thresholds but lower it on our labelled real comments; our labels help the real comments most.",
            "Thresholds: classifier.calibrate on the dev articles' published comments (at most 8 % held, 1 % "
            "rejected): a news site's base rate, not the ~40 % hostile training mix (1.1's F1 rule held 29 % of "
            "these comments).",
            "Sentence-encoder view (USE multilingual v3, classifier/encoder.py) measured and not shipped: stacked "
            "as [TF-IDF | 0.5 x embedding] it lifted every real-comment figure on the same held-out rows (UCC ROC AUC "
            "0.634 -> 0.706; our clearly hostile dev comments held 0.31 -> 0.46; ROC AUC 2 vs 0 0.70 -> 0.75, "
            "1-2 vs 0 0.66 -> 0.69), but it encodes 250-300 comments/s per core and its term spans ~8 log-odds "
            "whatever the n-gram score, so no cascade can skip it (an exact one needed it for 99.6 % of the dev "
            "published comments): the default score path would fall below 1,000 comments/s.",
            "Our hand-written eval_news_* sets share authors and style with the training supplements: their "
            "scores are regression checks, optimistic for real comments.",
        ],
        "limitations": [
            "Bag of words and characters: quotes, negation ('je ne dis pas que vous êtes un idiot'), counter-speech "
            "that names a slur to reject it and vulgar-but-friendly remarks score higher than they should; "
            "veiled or sarcastic insults without insulting words score lower.",
            "English is secondary (Davidson tweets and 4,427 UCC reader comments of one newspaper): out-of-fold ROC "
            "AUC on those comments is in the card, well below what a moderator needs for subtle antagonism.",
            "Thresholds hold 8 % (reject 1 %) of one Swiss site's published comments: another newsroom should run "
            "`classifier calibrate` on its own approved comments.",
            "Clearly hostile real comments are often subtle (contempt, identity put-downs in civil words): at those "
            "thresholds the model holds only part of them (card, part d, 13 such comments in our dev split).",
            "Emoji are ignored by the n-grams; ALL CAPS is a style feature here and the shouting rule is separate "
            "(classifier.text.is_shouting).",
            "Non-commercial / research-use terms of the training data and of HurtLex (CC BY-NC-SA 4.0) carry over.",
            "Our training supplements (data/hostile_supplement_*.csv) and evaluation sets (data/eval_news_*.csv) were "
            "written by the same team over the same categories (no shared text): the eval-set scores are optimistic "
            "for other newsrooms' comments; the shared sources' held-out parts are the more independent check.",
        ],
    },
    "sentiment": {
        "task": "sentiment",
        "name": "sentiment-fr",
        "version": "1.1.0",
        "out": "models/sentiment-fr",
        "files": ["fr_sentiment_train.csv"],
        "own_files": ["data/sentiment_supplement_fr.csv"],
        # our sentiment labels of the labelled published comments, train articles only
        "target_domain": {},
        "label_column": "label",
        "source_weights": {"umsab_fr_tweets": 3.0, "own_news_supplement_fr": 10.0, "own_labels_20min_fr": 5.0},
        "eval": ["data/eval_news_fr.csv"],
        "eval_label_column": "sentiment",
        "cv": 5,
        "seed": 0,
        "real_comments": True,
        "description": "Sentiment (negative / neutral / positive) of French reader comments on news sites.",
        "limitations": [
            "Trained on tweets, film/TV reviews, our hand-written sentences and our labels of one Swiss site's "
            "published comments; sarcasm reads as its surface words.",
            "Research-use terms of the training data carry over.",
        ],
    },
}

Progress = Callable[[str], None]
#: Fewest rows of each label ``train`` accepts: the held-out part and every CV fold need some of each.
MIN_ROWS_PER_LABEL = 10


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reading


def read_table(path: str | Path, progress: Progress = _stderr) -> pd.DataFrame:
    """A CSV/TSV, JSONL/JSON or Parquet file, every column as text, read by the parser's one table reader.

    The format is detected as ``classifier parse`` detects it (plain text, such as CSV on
    stdin ``-``, is CSV); encoding fallbacks are warned about, and bad rows (wrong number
    of fields, invalid JSON) are reported with their number and skipped.
    """
    from classifier.parse import TABLE_FORMATS, detect_format
    from classifier.parse.reading import open_source
    from classifier.parse.tabular import TABLE_READERS

    def warn(message: str) -> None:
        progress(f"classifier: {message}")

    with open_source(path) as source:
        fmt = detect_format(source)
        fmt = "csv" if fmt == "dump" else fmt
        if fmt not in TABLE_FORMATS:
            raise InputError(f"{source.label}: not a table ({fmt}): give CSV, TSV, JSONL or Parquet")
        table = TABLE_READERS[fmt](source, warn, warn)
        records = [row.record for row in table.rows]
    columns = list(dict.fromkeys(table.columns if table.columns is not None else (k for r in records for k in r)))
    frame = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    return frame.astype(object).where(frame.notna(), "").astype(str)


def parse_labels(values: pd.Series, task: str) -> tuple[pd.Series, pd.Series]:
    """(normalised labels, valid mask). Hostile: 0/1 (also true/false, yes/no); sentiment: the three classes."""
    raw = values.astype(str).str.strip().str.lower()
    if task == "hostile":
        labels = raw.map(lambda v: "1" if v in _TRUE else ("0" if v in _FALSE else None))
        return labels, labels.notna()
    if task in TASK_LABELS:
        return raw, raw.isin(TASK_LABELS[task])
    return raw, raw != ""


@dataclass
class Dataset:
    """Training rows (text, label, source, file, weight) and what loading them did."""

    frame: pd.DataFrame
    files: list[dict[str, Any]] = field(default_factory=list)
    cleaning: dict[str, int] = field(default_factory=dict)


def load_rows(
    paths: list[str | Path],
    *,
    task: str,
    text_column: str = "text",
    label_column: str = "label",
    exclude: dict[str, list[str]] | None = None,
    keep: tuple[str, ...] = (),
    progress: Progress = _stderr,
    max_reported: int = 5,
) -> Dataset:
    """Read and validate labelled files; bad rows are reported (file, row number, reason) and skipped."""
    from classifier.model import sha256_file

    frames, files, skipped = [], [], 0
    for path in paths:
        table = read_table(path, progress)
        name = Path(str(path)).name
        for column in (text_column, label_column):
            if column not in table.columns:
                raise InputError(f"{path}: no column {column!r} (columns: {', '.join(map(str, table.columns))})")
        wanted = pd.Series(True, index=table.index)
        excluded = 0
        for column, values in (exclude or {}).items():
            if column in table.columns:
                drop = table[column].isin(values)
                excluded += int(drop.sum())
                wanted &= ~drop
        labels, ok = parse_labels(table[label_column], task)
        text = table[text_column].astype(str)
        empty = text.str.strip() == ""
        bad = wanted & (empty | ~ok)
        for n, (row, is_empty) in enumerate(zip(np.flatnonzero(bad), empty[bad])):
            if n < max_reported:
                reason = "empty text" if is_empty else f"bad label {table[label_column].iloc[row]!r}"
                progress(f"classifier: {name}: row {row + 1}: {reason}; skipped")
        if bad.sum() > max_reported:
            progress(f"classifier: {name}: {int(bad.sum()) - max_reported} more bad rows skipped")
        skipped += int(bad.sum())
        good = wanted & ~bad
        source = table["source"] if "source" in table.columns else pd.Series(Path(str(path)).stem, index=table.index)
        source = source.where(source.astype(str).str.strip() != "", Path(str(path)).stem)
        columns = {"text": text[good], "label": labels[good], "source": source[good], "file": name}
        for column in keep:
            columns[column] = table[column][good] if column in table.columns else ""
        frames.append(pd.DataFrame(columns))
        info = {"file": name, "rows_read": len(table), "rows_excluded": excluded, "rows_bad": int(bad.sum())}
        if str(path) != "-":
            info["sha256"] = sha256_file(Path(path))
        info["licence"] = LICENCES.get(name, "not recorded: see the data's own terms")
        files.append(info)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["text", "label", "source", "file"])
    if frame.empty:
        raise InputError("no usable training rows")
    return Dataset(frame=frame, files=files, cleaning={"bad_rows_skipped": skipped})


def clean_rows(data: Dataset) -> Dataset:
    """Hygiene, then one row per normalised text; texts whose copies disagree on the label are dropped."""
    from classifier.features import tokenize_texts
    from classifier.text import clean_text

    frame = data.frame.copy()
    before = len(frame)
    fixed = frame["text"].map(clean_text)
    changed = int((fixed != frame["text"]).sum())
    frame["text"] = fixed
    frame = frame[frame["text"] != ""]
    keys = pd.Series([" ".join(t) for t in tokenize_texts(frame["text"].tolist())], index=frame.index)
    keys = keys.where(keys != "", frame["text"])
    n_labels = frame.groupby(keys)["label"].transform("nunique")
    conflicting = n_labels > 1
    frame = frame[~conflicting]
    keys = keys[~conflicting]
    duplicated = keys.duplicated()
    frame = frame[~duplicated].reset_index(drop=True)
    data.cleaning.update(
        {
            "rows_in": before,
            "texts_repaired": changed,
            "conflicting_label_rows_dropped": int(conflicting.sum()),
            "duplicate_rows_dropped": int(duplicated.sum()),
            "rows_out": len(frame),
        }
    )
    data.frame = frame
    return data


def weigh_rows(data: Dataset, source_weights: dict[str, float]) -> Dataset:
    """Per-row weight: the weight of its ``source`` value, else of its file name or stem, else 1."""
    def weight(source: str, file: str) -> float:
        for key in (source, file, Path(file).stem):
            if key in source_weights:
                return float(source_weights[key])
        return 1.0

    frame = data.frame
    frame["weight"] = [weight(s, f) for s, f in zip(frame["source"], frame["file"])]
    if "row_weight" in frame:  # a per-row factor of derived rows (e.g. borderline labels)
        frame["weight"] *= pd.to_numeric(frame["row_weight"], errors="coerce").fillna(1.0).to_numpy()
    unknown = set(source_weights) - set(frame["source"]) - set(frame["file"]) - {Path(f).stem for f in frame["file"]}
    if unknown:
        raise InputError(f"--source-weight names no source or file in the data: {', '.join(sorted(unknown))}")
    for info in data.files:
        rows = frame[frame["file"] == info["file"]]
        info["rows_used"] = len(rows)
        info["sources"] = {str(s): int(n) for s, n in rows["source"].value_counts().sort_index().items()}
        info["weights"] = {str(s): float(w) for s, w in rows.groupby("source")["weight"].first().sort_index().items()}
        info["labels"] = {str(k): int(v) for k, v in rows["label"].value_counts().sort_index().items()}
    return data


def read_lexicon(path: str | Path, level: str = "conservative") -> tuple[tuple[tuple[str, str], ...], dict[str, Any]]:
    """(word, category) pairs of a HurtLex-style CSV (lemma, category, level), keeping ``level`` rows only.

    Returns the pairs (a plain-data pipeline parameter: no path inside the
    model) and what the card records about the file.
    """
    from classifier.model import sha256_file

    table = read_table(path)
    for column in ("lemma", "category"):
        if column not in table.columns:
            raise InputError(f"{path}: lexicon needs columns lemma and category")
    if "level" in table.columns:
        table = table[table["level"] == level]
    pairs = tuple(sorted({(w.strip(), c.strip()) for w, c in zip(table["lemma"], table["category"]) if w.strip()}))
    name = Path(path).name
    info = {"file": name, "sha256": sha256_file(Path(path)), "level": level, "entries": len(pairs),
            "licence": LICENCES.get(name, "not recorded: see the lexicon's own terms")}  # fmt: skip
    return pairs, info


# --------------------------------------------------------------------------- models per task


def pipeline_builder(task: str) -> Callable[..., Any]:
    """The pipeline builder of a task: sentiment's own module when present, else the default linear model."""
    from functools import partial

    from classifier.model import build_pipeline

    if task == "sentiment":
        try:
            from classifier.sentiment import build_sentiment_pipeline
        except ImportError:
            return partial(build_pipeline, classes=3)
        return build_sentiment_pipeline
    return build_pipeline


def _fit(pipeline, texts, y, weights):
    step = pipeline.steps[-1][0] if hasattr(pipeline, "steps") else None
    fit_params = {f"{step}__sample_weight": weights} if step else {"sample_weight": weights}
    return pipeline.fit(texts, y, **fit_params)


def _strata(frame: pd.DataFrame, n_splits: int) -> np.ndarray:
    """Stratify on source and label where every stratum is big enough, else on label alone."""
    strata = (frame["source"].astype(str) + "|" + frame["label"].astype(str)).to_numpy()
    if pd.Series(strata).value_counts().min() < max(n_splits, 2):
        strata = frame["label"].astype(str).to_numpy()
    return strata


def _labels(frame: pd.DataFrame, task: str) -> np.ndarray:
    return frame["label"].astype(int).to_numpy() if task == "hostile" else frame["label"].to_numpy()


# --------------------------------------------------------------------------- training


def train(
    paths: list[str | Path],
    *,
    task: str = "hostile",
    text_column: str = "text",
    label_column: str = "label",
    source_weights: dict[str, float] | None = None,
    exclude: dict[str, list[str]] | None = None,
    out: str | Path | None = None,
    cv: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    eval_paths: list[str | Path] | None = None,
    eval_label_column: str | None = None,
    name: str | None = None,
    version: str = "1.0.0",
    description: str = "",
    rebuild_command: str = "",
    limitations: list[str] | None = None,
    notes: list[str] | None = None,
    extra: tuple[pd.DataFrame, list[dict[str, Any]]] | None = None,
    calibration: dict[str, float] | None = None,
    real_data_dir: str | Path | None = None,
    progress: Progress = _stderr,
) -> dict[str, Any]:
    """Train, cross-validate, pick thresholds, refit, evaluate and (if ``out``) save. Returns the card.

    ``extra`` = (rows, file records) added to the files' rows before cleaning
    (the target-domain rows of :func:`classifier.judge.target_domain_rows`).
    ``calibration`` = ``{"review_share": .., "reject_share": ..}``: thresholds
    held to those shares of the published dev-article comments of
    ``real_data_dir`` (:mod:`classifier.calibrate`) instead of the F1 rule.
    ``real_data_dir`` also adds the real-comment report (:mod:`classifier.judge`)
    to the card, with out-of-fold scores for the UCC rows when they are trained on.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from classifier import judge

    params = dict(params or {})
    source_weights = dict(source_weights or {})
    progress(f"classifier: reading {len(paths)} file(s)")
    keep = judge.UCC_ATTRIBUTES if task == "hostile" else ()
    data = load_rows(paths, task=task, text_column=text_column, label_column=label_column, exclude=exclude,
                     keep=keep, progress=progress)  # fmt: skip
    if extra is not None:
        data.frame = pd.concat([data.frame, extra[0]], ignore_index=True)
        data.files += extra[1]
    data = weigh_rows(clean_rows(data), source_weights)
    frame = data.frame
    progress(f"classifier: {len(frame)} rows after cleaning ({data.cleaning})")
    classes_seen = sorted(frame["label"].unique())
    if len(classes_seen) < 2:
        raise InputError(f"training data has a single label ({classes_seen[0]}): need at least two")
    per_label = frame["label"].astype(str).value_counts()
    needed = max(MIN_ROWS_PER_LABEL, 2 * max(int(cv), 2))
    if per_label.min() < needed:
        counts = ", ".join(f"{label}: {n}" for label, n in sorted(per_label.items()))
        raise InputError(f"too few rows to train: need at least {needed} of each label, got {counts}")

    lexicon_info = None
    if isinstance(params.get("lexicon"), (str, Path)):
        params["lexicon"], lexicon_info = read_lexicon(params["lexicon"])
    builder = pipeline_builder(task)
    if task != "hostile" and builder.__module__ == "classifier.model":
        params.setdefault("classes", len(classes_seen))
    template = builder(seed=seed, **params)
    y_all = _labels(frame, task)
    texts_all = frame["text"].tolist()
    w_all = frame["weight"].to_numpy(dtype=float)

    n_folds = max(int(cv), 2)
    train_idx, held_idx = train_test_split(
        np.arange(len(frame)), test_size=HELDOUT_FRACTION, random_state=seed, stratify=_strata(frame, n_folds)
    )
    metrics: dict[str, Any] = {}
    out_of_fold = np.full(len(frame), np.nan)  # P(last class) of each row from a model that did not train on it
    fold_of = np.zeros(len(frame), dtype=np.int64)  # 0: the held-out part, k: CV fold k
    if cv and cv > 1:
        folds = []
        sub = frame.iloc[train_idx]
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        for k, (a, b) in enumerate(splitter.split(train_idx, _strata(sub, n_folds)), 1):
            ia, ib = train_idx[a], train_idx[b]
            model = _fit(clone(template), [texts_all[i] for i in ia], y_all[ia], w_all[ia])
            fold_proba = model.predict_proba([texts_all[i] for i in ib])
            out_of_fold[ib], fold_of[ib] = fold_proba[:, -1], k
            m = task_metrics(y_all[ib], fold_proba, model.classes_)
            folds.append(m)
            progress(f"classifier: CV fold {k}/{n_folds}: " + ", ".join(f"{key} {m[key]}" for key in ("roc_auc", "pr_auc", "macro_f1") if key in m))
        metrics["cv"] = summarise_folds(folds, ("roc_auc", "pr_auc", "macro_f1", "accuracy"))

    progress("classifier: fitting on the training part, scoring the held-out part")
    model = _fit(clone(template), [texts_all[i] for i in train_idx], y_all[train_idx], w_all[train_idx])
    held = frame.iloc[held_idx]
    proba = model.predict_proba(held["text"].tolist())
    out_of_fold[held_idx] = proba[:, -1]
    thresholds: dict[str, float] = {}
    if task == "hostile" and not calibration:
        thresholds = choose_thresholds(y_all[held_idx], proba[:, 1], sample_weight=w_all[held_idx])
    heldout = {"all": task_metrics(y_all[held_idx], proba, model.classes_, thresholds)}
    for source in sorted(held["source"].unique()):
        mask = (held["source"] == source).to_numpy()
        heldout[str(source)] = task_metrics(y_all[held_idx][mask], proba[mask], model.classes_, thresholds)
    metrics["heldout"] = heldout

    progress("classifier: refitting on all rows")
    final = _fit(clone(template), texts_all, y_all, w_all)
    threshold_rule = THRESHOLD_RULE if thresholds else ""
    from classifier.model import LoadedModel

    fitted = LoadedModel(pipeline=final, card={})
    if calibration:
        thresholds, threshold_rule = _calibrated_thresholds(fitted, Path(real_data_dir or SHARED_DATA), calibration)
        heldout = {"all": task_metrics(y_all[held_idx], proba, model.classes_, thresholds)}
        for source in sorted(held["source"].unique()):
            mask = (held["source"] == source).to_numpy()
            heldout[str(source)] = task_metrics(y_all[held_idx][mask], proba[mask], model.classes_, thresholds)
        metrics["heldout"] = heldout
    if real_data_dir is not None and task == "sentiment":
        metrics["real_comments"] = {"d_labelled_dev": {"sentiment": judge.sentiment_report(final, Path(real_data_dir))}}
    if real_data_dir is not None and task == "hostile":
        from classifier.policy import Policy

        ucc = (frame["source"] == judge.UCC_SOURCE).to_numpy() & ~np.isnan(out_of_fold)
        oof = (frame[ucc], out_of_fold[ucc], fold_of[ucc]) if ucc.any() else None
        scorer = judge.model_scorer(fitted, Policy(thresholds["review"], thresholds["reject"]))
        metrics["real_comments"] = judge.real_comment_report(scorer, Path(real_data_dir), ucc_out_of_fold=oof)
        metrics["real_comments"]["functional"] = judge.functional_report(scorer, thresholds["review"])
        if calibration:
            metrics["real_comments"]["b_published_dev"]["fresh_articles"] = _fresh_article_shares(fitted, Path(real_data_dir), calibration)
    if eval_paths:
        metrics["eval"] = evaluate_frames(
            final, eval_paths, task=task, text_column=text_column,
            label_column=eval_label_column or label_column, thresholds=thresholds, progress=progress,
        )

    card = {
        "name": name or (Path(out).name if out else f"{task}-model"),
        "version": version,
        "task": task,
        "description": description or f"{task} classifier trained by `classifier train`.",
        "classes": [c.item() if hasattr(c, "item") else c for c in final.classes_],
        "thresholds": thresholds,
        "threshold_rule": threshold_rule,
        "data": data.files,
        "cleaning": data.cleaning,
        "parameters": {
            "builder": f"{builder.__module__}.{getattr(builder, '__name__', getattr(getattr(builder, 'func', None), '__name__', 'builder'))}",
            "params": {k: (lexicon_info if k == "lexicon" and lexicon_info else v) for k, v in params.items()},
            "source_weights": source_weights,
            "exclude": exclude or {},
            "text_column": text_column,
            "label_column": label_column,
            "heldout_fraction": HELDOUT_FRACTION,
            "cv_folds": cv,
            "seed": seed,
        },
        "metrics": metrics,
        "eval_data": [_file_info(p) for p in eval_paths or [] if Path(p).is_file()],
        "lexicon": lexicon_info,
        "licence_note": "Trained on data under these terms: "
        + "; ".join(f"{f['file']}: {f['licence']}" for f in data.files + ([lexicon_info] if lexicon_info else []))
        + ". Research-use and non-commercial terms carry over to this model.",
        "rebuild_command": rebuild_command,
        "notes": list(notes or []),
        "limitations": list(limitations or []),
    }
    if out:
        from classifier.model import save_model

        save_model(final, out, card)
        progress(f"classifier: wrote {out}")
    card["_pipeline"] = final
    return card


def _calibrated_thresholds(model, data_dir: Path, shares: dict[str, float]) -> tuple[dict[str, float], str]:
    """Thresholds holding the target shares of the published dev-article comments, and the rule in words."""
    from classifier import judge
    from classifier.calibrate import calibrate

    dev = judge.published_rows(data_dir, "dev")
    result = calibrate(model, dev["text"].tolist(), reject_share=shares["reject_share"],
                       review_share=shares["review_share"])  # fmt: skip
    rule = (f"chosen by classifier.calibrate on the {len(dev)} published comments of the dev articles of "
            f"{judge.PUBLISHED_FILE} ({judge.SPLIT_RULE}): at most {shares['review_share']:.0%} held "
            f"(review or reject, shouting included) and {shares['reject_share']:.0%} rejected")  # fmt: skip
    return result["thresholds"], rule


def _fresh_article_shares(model, data_dir: Path, shares: dict[str, float]) -> dict[str, Any]:
    """Shares held on dev articles with thresholds calibrated on the other dev articles (two halves, both ways)."""
    from classifier import judge
    from classifier.text import clean_text, shouting_scores

    dev = judge.published_rows(data_dir, "dev")
    p = model.predict_proba([clean_text(t) for t in dev["text"]])[:, 1]
    shouts = [s for s, _ in shouting_scores(dev["text"].tolist())]
    return judge.cross_article_shares(p, shouts, dev["article_url"].tolist(), **shares)


def train_preset(name: str, data_dir: str | Path | None = None, progress: Progress = _stderr) -> dict[str, Any]:
    """Train the recorded recipe ``PRESETS[name]`` (the shipped models), reading the shared corpora from
    ``data_dir`` (default :data:`SHARED_DATA`). Returns the card, as :func:`train` does.
    """
    from classifier import judge

    from classifier.attribute_training import PRESET as ATTRIBUTES_PRESET

    if name == ATTRIBUTES_PRESET:  # the per-attribute model has its own recipe module
        from classifier.attribute_training import train_attributes

        return train_attributes(Path(data_dir) if data_dir else SHARED_DATA, ROOT, progress=progress)
    if name not in PRESETS:
        known = ", ".join([*PRESETS, ATTRIBUTES_PRESET])
        raise ClassifierError(f"unknown preset {name!r} (known: {known})", EXIT_USAGE)
    recipe = PRESETS[name]
    base = Path(data_dir) if data_dir else SHARED_DATA
    target = recipe.get("target_domain")
    if target is None:
        extra = None
    elif recipe["task"] == "sentiment":
        extra = judge.sentiment_rows(base)
    else:
        extra = judge.target_domain_rows(base, **target)
    weights = dict(recipe.get("source_weights", {}))
    if extra is not None and judge.LABELLED_SOURCE not in set(extra[0]["source"]):
        weights.pop(judge.LABELLED_SOURCE, None)  # the hand labels have not landed yet
    return train(
        [base / f for f in recipe["files"]] + [ROOT / f for f in recipe.get("own_files", [])],
        task=recipe["task"], text_column=recipe.get("text_column", "text"),
        label_column=recipe.get("label_column", "label"), source_weights=weights,
        exclude=recipe.get("exclude"), out=ROOT / recipe["out"], cv=recipe.get("cv", 5), seed=recipe.get("seed", 0),
        params={k: (base / v if k == "lexicon" else v) for k, v in recipe.get("params", {}).items()},
        eval_paths=[ROOT / e for e in recipe.get("eval", [])], eval_label_column=recipe.get("eval_label_column"),
        name=recipe["name"], version=recipe["version"], description=recipe.get("description", ""),
        limitations=recipe.get("limitations"), notes=recipe.get("notes"), rebuild_command=f"classifier train --preset {name}",
        extra=extra, calibration=recipe.get("calibration"),
        real_data_dir=base if recipe.get("real_comments") else None, progress=progress,
    )  # fmt: skip


def _file_info(path) -> dict[str, Any]:
    from classifier.model import sha256_file

    return {"file": Path(path).name, "sha256": sha256_file(Path(path))}


# --------------------------------------------------------------------------- evaluation


def evaluate_model(
    paths: list[str | Path],
    *,
    model: str | Path | None = None,
    task: str = "hostile",
    text_column: str = "text",
    label_column: str = "label",
    real_data_dir: str | Path | bool | None = None,
    progress: Progress = _stderr,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``classifier evaluate``: the metrics of a saved model on labelled files, and the real-comment report.

    ``real_data_dir`` (True = ../shared/data) adds :func:`classifier.judge.real_comment_report`
    and the functional suite for a hostile model. When the model trained on
    UCC, part (a) is the card's out-of-fold figure (a refit cannot be judged on
    its own training rows). Returns (the whole report, one flat row per group).
    """
    from classifier import judge
    from classifier.metrics import metric_rows
    from classifier.model import load_model
    from classifier.policy import make_policy

    loaded = load_model(model, task=task)
    report: dict[str, Any] = {"model": loaded.name, "version": loaded.version, "task": loaded.task,
                              "thresholds": loaded.thresholds}  # fmt: skip
    rows: list[dict[str, Any]] = []
    if paths:
        report["metrics"] = evaluate_frames(
            loaded.pipeline, paths, task=loaded.task, text_column=text_column, label_column=label_column,
            thresholds=loaded.thresholds, progress=progress,
        )  # fmt: skip
        rows += metric_rows(report["metrics"])
    if real_data_dir and loaded.task == "hostile":
        base = SHARED_DATA if real_data_dir is True else Path(real_data_dir)
        scorer = judge.model_scorer(loaded, make_policy(loaded.thresholds))
        trained_on_ucc = any(f.get("file") == judge.UCC_FILE for f in loaded.card.get("data", []))
        real = judge.real_comment_report(scorer, base, score_ucc=not trained_on_ucc)
        if trained_on_ucc:
            carded = loaded.card.get("metrics", {}).get("real_comments", {}).get("a_en_news_ucc")
            real["a_en_news_ucc"] = {**(carded or {}), "scores": "from the model card: out-of-fold scores at training"}
        real["functional"] = judge.functional_report(scorer, loaded.thresholds["review"])
        report["real_comments"] = real
        rows += judge.report_rows(real)
    return report, rows


def evaluate_frames(
    pipeline,
    paths: list[str | Path],
    *,
    task: str,
    text_column: str = "text",
    label_column: str = "label",
    thresholds: dict[str, float] | None = None,
    progress: Progress = _stderr,
) -> dict[str, Any]:
    """Metrics of a fitted pipeline on labelled files: overall, per file, per ``source``, per ``category``."""
    data = load_rows(
        paths, task=task, text_column=text_column, label_column=label_column, keep=("category",), progress=progress
    )
    frame = data.frame
    proba = pipeline.predict_proba(frame["text"].tolist())
    y = _labels(frame, task)
    classes = list(pipeline.classes_)
    if task == "hostile":
        classes = [int(c) for c in classes]
    out = {"all": task_metrics(y, proba, classes, thresholds)}
    files = sorted(frame["file"].unique())
    for file in files:
        in_file = (frame["file"] == file).to_numpy()
        prefix = f"{file}/" if len(files) > 1 else ""
        if len(files) > 1:
            out[file] = task_metrics(y[in_file], proba[in_file], classes, thresholds)
        for kind in ("source", "category"):
            values = sorted(v for v in frame.loc[in_file, kind].unique() if v != "")
            if kind == "source" and len(values) < 2:
                continue
            for value in values:
                mask = in_file & (frame[kind] == value).to_numpy()
                out[f"{prefix}{kind}={value}"] = task_metrics(y[mask], proba[mask], classes, thresholds)
    return out
