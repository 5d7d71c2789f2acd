"""The model artefact: pipeline builder, save with a card, verified load, explanations.

A model is one directory: ``model.skops`` (the whole fitted Pipeline in skops'
format: a zip of JSON and ``.npy`` arrays), ``card.json`` (what it was trained
on, how well it does, its thresholds, the sha256 of the artefact and the library
versions) and ``CARD.md`` (the same for humans).

Loading never runs code from the model folder: skops rebuilds only the types of
:data:`TRUSTED_TYPES` (ours) and the scikit-learn, numpy and scipy types skops
itself trusts, and refuses anything else; no pickle is ever read. Before that,
:func:`load_model` checks the card (:func:`check_card`), confines the artefact
to the folder, and checks the sha256 of the bytes it is about to load and the
scikit-learn version. Every refusal is a :class:`~classifier.errors.ModelError`
(exit code 3). The zip is written deterministically (fixed timestamps and
member names): the same pipeline gives the same bytes and sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.errors import ModelError



def _shipped_models_dir() -> Path:
    """The shipped models: package data of an installed wheel (``classifier/models/``), else the checkout's ``models/``.

    The build copies the checkout's top-level ``models/`` (the source of truth) into the
    package, so ``pip install .`` scores out of the box and an editable install keeps
    reading (and ``classifier train --preset`` keeps writing) the checkout's folder.
    """
    from importlib.resources import files

    packaged = files("classifier") / "models"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / "models"


#: The shipped models, one folder per task.
MODELS_DIR = _shipped_models_dir()
SHIPPED = {"hostile": "hostile-fr", "sentiment": "sentiment-fr", "attributes": "attributes-fr"}
MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
CARD_MD = "CARD.md"
LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "skops")
#: The types of ours (and the private scikit-learn ones our pipelines hold) that skops may rebuild,
#: beside the scikit-learn, numpy and scipy types skops trusts itself. Nothing else loads.
TRUSTED_TYPES = (
    "classifier.attributes.AttributeHeads",
    "classifier.encoder.SentenceEncoder",
    "classifier.features.CommentFeatures",
    "classifier.sentiment.PolarityLexicon",
    "classifier.sentiment.SocialNoise",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.KFold",
    "sklearn.model_selection._split.StratifiedKFold",
)
#: The fixed timestamp of every member of a saved artefact (the zip format's earliest).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- building


def build_pipeline(
    *,
    classes: int = 2,
    C: float = 4.0,
    estimator: str = "logreg",
    calibration_cv: int = 3,
    style_scale: float = 0.3,
    encoder_scale: float | None = None,
    seed: int = 0,
    **feature_params: Any,
):
    """The default text classifier: :class:`~classifier.features.CommentFeatures` -> calibrated linear model.

    ``classes`` > 2 gives a multinomial model (sentiment and other multi-class
    tasks); ``estimator`` is ``"logreg"`` or ``"svm"`` (linear SVM, whose
    scores the sigmoid calibration turns into probabilities). ``encoder_scale``
    adds the sentence-encoder view (:class:`~classifier.encoder.SentenceEncoder`)
    beside the n-grams: ``[n-grams | encoder_scale x embedding]``. One calibrated
    model (``ensemble=False``), not an average of ``calibration_cv`` models, so
    scoring costs one dot product.

    >>> pipe = build_pipeline(min_df=1)
    >>> [name for name, _ in pipe.steps]
    ['features', 'clf']
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    from classifier.features import CommentFeatures

    if estimator == "logreg":
        solver = "liblinear" if classes == 2 else "lbfgs"
        base = LogisticRegression(C=C, solver=solver, max_iter=2000, random_state=seed)
    elif estimator == "svm":
        base = LinearSVC(C=C, random_state=seed)
    else:
        raise ValueError(f"unknown estimator {estimator!r} (logreg or svm)")
    features = CommentFeatures(style_scale=style_scale, **feature_params)
    if encoder_scale:
        from sklearn.pipeline import FeatureUnion

        from classifier.encoder import SentenceEncoder

        features = FeatureUnion([("ngrams", features), ("encoder", SentenceEncoder(scale=encoder_scale))])
    # shuffled folds: training files arrive one source after another
    folds = StratifiedKFold(n_splits=calibration_cv, shuffle=True, random_state=seed)
    clf = CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False)
    return Pipeline([("features", features), ("clf", clf)])


# --------------------------------------------------------------------------- saving


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"python": platform.python_version(), **{name: version(name) for name in LIBRARIES}}


def dump_pipeline(pipeline) -> bytes:
    """The skops bytes of ``pipeline``, made deterministic.

    skops names the arrays it stores, and the shared objects it records, by
    their ``id()`` (a memory address) and stamps each zip member with the
    current time. Both are rewritten: ids and member names become numbers in
    order of appearance, timestamps :data:`_ZIP_EPOCH`.
    """
    import skops.io as sio

    raw = sio.dumps(pipeline)
    with zipfile.ZipFile(io.BytesIO(raw)) as zin:
        schema = json.loads(zin.read("schema.json"))
        members = {name: zin.read(name) for name in zin.namelist() if name != "schema.json"}
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def renumber(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    node[key] = ids.setdefault(value, len(ids) + 1)
                elif key == "file" and isinstance(value, str) and value in members:
                    node[key] = files.setdefault(value, f"{len(files) + 1:05d}{Path(value).suffix}")
                else:
                    renumber(value)
        elif isinstance(node, list):
            for value in node:
                renumber(value)

    renumber(schema)
    if set(files) != set(members):
        raise ModelError("cannot save the model: skops wrote arrays its schema does not name")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        entries = [("schema.json", json.dumps(schema, indent=2).encode("utf-8"))]
        entries += sorted((new, members[old]) for old, new in files.items())
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data, compresslevel=6)
    return out.getvalue()


def save_model(pipeline, directory, card: dict[str, Any]) -> Path:
    """Write ``model.skops``, ``card.json`` (with sha256, library versions, date) and ``CARD.md``.

    Returns the directory. ``card`` is copied, not modified. The artefact has
    no timestamp inside: same pipeline, same bytes, same sha256.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    artefact = out / MODEL_FILE
    data = dump_pipeline(pipeline)
    artefact.write_bytes(data)
    card = dict(card)
    card.setdefault("created", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    card["artefact"] = {
        "file": MODEL_FILE, "format": "skops", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
    }  # fmt: skip
    card["libraries"] = library_versions()
    (out / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / CARD_MD).write_text(render_card(card), encoding="utf-8")
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict) and {"mean", "sd"} <= set(value):
        return f"{value['mean']:.3f} ± {value['sd']:.3f}"
    return str(value)


def _metric_rows(title: str, block: dict[str, dict[str, Any]], keys: list[str]) -> list[str]:
    lines = [f"### {title}", "", "| set | n | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    if "flagged" in keys:
        lines[1:1] = ["", "flagged = share of comments at or above the review threshold.", ""]
    for name, m in block.items():
        lines.append(f"| {name} | {m.get('n', '')} | " + " | ".join(_fmt(m.get(k, "")) for k in keys) + " |")
    return lines + [""]


def _real_comment_lines(real: dict[str, Any]) -> list[str]:
    """The card's "Real comments" section: (a) UCC transfer, (b) published shares, (d) our labels, the functional suite."""
    lines = ["### Real news comments", "", f"Split of the published comments: {real.get('split_rule', '')}.", ""]
    a = real.get("a_en_news_ucc")
    if a:
        folds = ", ".join(_fmt(x) for x in a.get("folds_roc_auc", []))
        lines += [f"(a) `en_news_ucc.csv` ({a['n']} English reader comments, {a['positives']} hostile or antagonising): "
                  f"ROC AUC {_fmt(a.get('roc_auc'))} ({a.get('scores')}" + (f"; per fold {folds}" if folds else "") + "); "
                  + "per crowd attribute " + ", ".join(f"{k} {_fmt(v)}" for k, v in a.get("attributes_roc_auc", {}).items()) + ".", ""]  # fmt: skip
    b = real.get("b_published_dev")
    if b:
        lines += [f"(b) `{b['file']}`, dev articles ({b['articles']} articles, {b['n']} published comments): held "
                  f"(review or reject, shouting included) {_fmt(b['held'])}, rejected {_fmt(b['rejected'])}; above 400 "
                  f"characters held {_fmt(b.get('held_above_400_chars'))}."]  # fmt: skip
        for name, fresh in b.get("fresh_articles", {}).items():
            lines.append(f"  Fresh articles ({name.replace('_', ' ')}, thresholds {fresh['thresholds']}): held "
                         f"{_fmt(fresh['held'])}, rejected {_fmt(fresh['rejected'])} of {fresh['n']}.")  # fmt: skip
        lines.append("")
    d = real.get("d_labelled_dev")
    if d and d.get("n"):
        lines += [f"(d) Our labelled sample of the published comments, dev split ({d['n']} comments; hostile 0/1/2: "
                  f"{d['counts']}): clearly hostile (2) held {_fmt(d['hostile_2_held'])}, rejected "
                  f"{_fmt(d['hostile_2_rejected'])}; borderline (1) held {_fmt(d['borderline_1_held'])}; acceptable (0) held "
                  f"{_fmt(d['acceptable_0_held'])}, rejected {_fmt(d['acceptable_0_rejected'])}; ROC AUC 2 vs 0 "
                  f"{_fmt(d['roc_auc_2_vs_0'])}, 1-2 vs 0 {_fmt(d['roc_auc_12_vs_0'])}; per attribute "
                  + ", ".join(f"{k} {_fmt(v)}" for k, v in d.get("attributes_roc_auc", {}).items()) + "."]  # fmt: skip
        if d.get("uniform"):
            u = d["uniform"]
            lines.append(f"  Uniform draw only ({u['n']}): clearly hostile share {_fmt(u['hostile_2_share'])}, held "
                         f"{_fmt(u['held'])}, rejected {_fmt(u['rejected'])}.")  # fmt: skip
        if d.get("sentiment"):
            lines.append(f"  Sentiment macro-F1 {_fmt(d['sentiment'].get('macro_f1'))}.")
        lines.append("")
    if d and d.get("sentiment") and not d.get("n"):  # a sentiment model: macro-F1 on our labelled dev comments
        m = d["sentiment"]
        lines += [f"(d) Our labelled sample of the published comments, dev split ({m['n']} comments): sentiment macro-F1 "
                  f"{_fmt(m.get('macro_f1'))}, accuracy {_fmt(m.get('accuracy'))}; per class F1 "
                  + ", ".join(f"{c} {_fmt(v['f1'])}" for c, v in m.get("per_class", {}).items()) + ".", ""]  # fmt: skip
    functional = real.get("functional")
    if functional:
        lines += ["### Functional suite (data/functional/cases.csv, never trained on)", "",
                  "correct = held when hostile, approved when not.", "",
                  "| functionality | n | hostile | correct | held | ROC AUC |", "|---|---|---|---|---|---|"]  # fmt: skip
        for name, m in functional.items():
            lines.append(f"| {name} | {m['n']} | {m['hostile']} | {_fmt(m['correct'])} | {_fmt(m['held'])} | {_fmt(m['roc_auc'])} |")
        lines.append("")
    return lines


def render_card(card: dict[str, Any]) -> str:
    """The human-readable CARD.md: purpose, data and licences, metrics, thresholds, rebuild command."""
    binary = card.get("task") == "hostile" or len(card.get("classes", [])) == 2
    keys = ["roc_auc", "pr_auc", "flagged", "precision", "recall", "f1"] if binary else ["macro_f1", "accuracy"]
    lines = [
        f"# {card.get('name')} {card.get('version')} — {card.get('task')} model",
        "",
        card.get("description", ""),
        "",
        f"Created {card.get('created')}; classes {card.get('classes')}; "
        f"artefact `{card.get('artefact', {}).get('file', MODEL_FILE)}` sha256 `{card.get('artefact', {}).get('sha256', '')[:16]}…` "
        f"({card.get('artefact', {}).get('bytes', 0) / 1e6:.1f} MB).",
        "",
        "## Rebuild",
        "",
        "```bash",
        card.get("rebuild_command", ""),
        "```",
        "",
        "## Training data",
        "",
        "| file | sha256 | rows used | weight | licence |",
        "|---|---|---|---|---|",
    ]
    for item in card.get("data", []):
        weights = ", ".join(f"{s}={w}" for s, w in item.get("weights", {}).items())
        lines.append(
            f"| {item['file']} | `{item['sha256'][:12]}…` | {item.get('rows_used', '')} | {weights} | "
            f"{item.get('licence', 'see data README')} |"
        )
    cleaning = card.get("cleaning", {})
    if cleaning:
        lines += ["", "Cleaning: " + ", ".join(f"{k} {v}" for k, v in cleaning.items()) + "."]
    lines += ["", "## Metrics", ""]
    metrics = card.get("metrics", {})
    if "cv" in metrics:
        lines += [f"Cross-validation ({metrics['cv'].get('folds')} folds, training part): "
                  + ", ".join(f"{k} {_fmt(v)}" for k, v in metrics["cv"].items() if isinstance(v, dict)), ""]
    if metrics.get("real_comments"):
        lines += _real_comment_lines(metrics["real_comments"])
    for title, key in [("Held-out part of each source", "heldout"),
                       ("Our hand-written evaluation sets (never trained on; same authors and style as the training "
                        "supplements: optimistic)", "eval")]:  # fmt: skip
        if metrics.get(key):
            lines += _metric_rows(title, metrics[key], keys)
    if card.get("thresholds"):
        lines += ["## Decision thresholds", "", json.dumps(card["thresholds"]), "",
                  card.get("threshold_rule", ""), ""]
    lines += ["## Parameters", "", "```json", json.dumps(card.get("parameters", {}), indent=2), "```", ""]
    lines += ["## Libraries", "", ", ".join(f"{k} {v}" for k, v in card.get("libraries", {}).items()), ""]
    if card.get("licence_note"):
        lines += ["## Licences", "", card["licence_note"], ""]
    if card.get("notes"):
        lines += ["## Notes", ""] + [f"- {x}" for x in card["notes"]] + [""]
    if card.get("notes"):
        lines += ["## Design choices and why", ""] + [f"- {x}" for x in card["notes"]] + [""]
    if card.get("limitations"):
        lines += ["## Known limitations", ""] + [f"- {x}" for x in card["limitations"]] + [""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- loading


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def model_dir(path=None, task: str = "hostile") -> Path:
    """The directory of a model: ``path`` if given, else the shipped model for ``task``."""
    if path is not None:
        return Path(path)
    if task not in SHIPPED:
        raise ModelError(f"no shipped model for task {task!r} (known: {', '.join(SHIPPED)})")
    return MODELS_DIR / SHIPPED[task]


def read_card(directory: Path) -> dict[str, Any]:
    """The model card of ``directory``, checked (:func:`check_card`): any flaw is a one-line ModelError."""
    card_path = directory / CARD_FILE
    if not card_path.is_file():
        raise ModelError(f"no model at {directory} (missing {CARD_FILE})")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"unreadable model card {card_path}: {exc}") from None
    problem = check_card(card)
    if problem:
        raise ModelError(f"malformed model card {card_path}: {problem}")
    return card


def _is_probability(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def check_card(card: Any) -> str | None:
    """What is wrong with a model card (None when nothing): the fields loading and scoring rely on."""
    if not isinstance(card, dict):
        return "not a JSON object"
    artefact = card.get("artefact")
    if not isinstance(artefact, dict) or not isinstance(artefact.get("sha256"), str):
        return "artefact must be an object with a sha256"
    name = artefact.get("file", MODEL_FILE)
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name:
        return f"artefact.file must be a file name inside the model folder, got {name!r}"
    if not isinstance(card.get("libraries", {}), dict):
        return "libraries must be an object"
    for key in ("name", "version", "task"):
        if not isinstance(card.get(key, ""), (str, int, float)) or isinstance(card.get(key), bool):
            return f"{key} must be a string"
    thresholds = card.get("thresholds", {})
    if not isinstance(thresholds, dict) or not all(_is_probability(v) for v in thresholds.values()):
        return f"thresholds must map names to probabilities between 0 and 1, got {thresholds!r}"
    if {"review", "reject"} <= set(thresholds) and thresholds["review"] > thresholds["reject"]:
        return f"review threshold ({thresholds['review']}) is above the reject threshold ({thresholds['reject']})"
    return None


def load_model(path=None, task: str = "hostile") -> LoadedModel:
    """Load a model directory after checking its card, its sha256 and its scikit-learn version.

    Raises :class:`~classifier.errors.ModelError` (exit code 3) with a one-line
    message when the model is missing, malformed, tampered with, incompatible,
    or holds a type that is not trusted. No code from the folder ever runs.
    """
    from importlib.metadata import version

    directory = model_dir(path, task)
    if directory.is_file():
        directory = directory.parent
    card = read_card(directory)
    artefact = directory / card["artefact"].get("file", MODEL_FILE)  # a bare file name: check_card
    if artefact.suffix != Path(MODEL_FILE).suffix:
        raise ModelError(
            f"refusing {artefact}: only skops artefacts ({MODEL_FILE}) are loaded, because a pickle can run "
            f"code when loaded (rebuild the model: see {CARD_MD})"
        )
    try:
        data = artefact.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"no model at {directory} (missing {artefact.name})") from None
    except OSError as exc:
        raise ModelError(f"cannot read {artefact}: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != card["artefact"]["sha256"]:  # the bytes checked are the bytes loaded
        raise ModelError(f"refusing {artefact}: its sha256 does not match {CARD_FILE} (tampered or replaced)")
    built = str(card.get("libraries", {}).get("scikit-learn", ""))
    installed = version("scikit-learn")
    if _major_minor(built) != _major_minor(installed):
        raise ModelError(
            f"refusing {artefact}: built with scikit-learn {built or 'unknown'}, installed {installed} "
            f"(rebuild it: see {CARD_MD})"
        )
    pipeline = load_pipeline(data, artefact)
    return LoadedModel(pipeline=pipeline, card=card, path=directory)


def load_pipeline(data: bytes, name: str | Path = MODEL_FILE):
    """The pipeline in skops bytes, rebuilt from trusted types only (else a one-line ModelError)."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.loads(data, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise ModelError(f"refusing {name}: it holds types that are not trusted ({exc})") from None
    except Exception as exc:  # a verified artefact that still fails to load: report, don't trace
        message = str(exc).splitlines()[0] if str(exc) else ""
        raise ModelError(f"cannot load {name}: {type(exc).__name__}: {message}") from None


# --------------------------------------------------------------------------- the loaded model

#: A reason must carry at least this share of the strongest reason's contribution.
MIN_REASON_SHARE = 0.2
#: Candidates per comment that the model verifies (alone, and removed from the comment).
REASON_CANDIDATES = 6
#: Removing a reason from its comment must lower the log-odds of P(hostile) by at least this much
#: (log-odds, not probability: a comment at 0.999 with two insults still drops for each).
MIN_REASON_DROP = 0.2
#: Words and phrases scored alone, remembered (bounded: cleared when full).
ALONE_CACHE_SIZE = 50_000


@dataclass
class LoadedModel:
    """A verified, loaded model: the fitted pipeline, its card and helpers."""

    pipeline: Any
    card: dict[str, Any]
    path: Path | None = None
    _linear: tuple | None = field(default=None, init=False, repr=False)
    _scorer: Any = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.card.get("name", "unknown")

    @property
    def version(self) -> str:
        return str(self.card.get("version", "0"))

    @property
    def task(self) -> str:
        return self.card.get("task", "hostile")

    @property
    def classes(self) -> list:
        return list(self.pipeline.classes_)

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.card.get("thresholds", {}))

    def predict_proba(self, texts) -> np.ndarray:
        """``pipeline.predict_proba(texts)``, computed directly when the pipeline is a linear model.

        Same probabilities as the pipeline (the same arithmetic: transforms,
        ``X @ coef.T + intercept``, then the sigmoid calibration or the
        logistic/softmax link), without scikit-learn's per-call input
        validation, which costs as much as the model on small batches.
        Pipelines of another shape go through ``pipeline.predict_proba``.
        """
        texts = list(texts)
        scorer = self._scorer
        if scorer is None:
            scorer = self._scorer = _direct_scorer(self.pipeline) or self.pipeline.predict_proba
        return scorer(texts)

    def _linear_parts(self):
        """(feature transformer, coefficient matrix) or (None, None) if the pipeline is not ours."""
        if self._linear is None:
            from classifier.features import CommentFeatures

            try:
                features = self.pipeline.named_steps["features"]
                clf = self.pipeline.named_steps["clf"]
                base = clf.calibrated_classifiers_[0].estimator if hasattr(clf, "calibrated_classifiers_") else clf
                coef = np.asarray(base.coef_)
                if hasattr(features, "transformer_list"):  # n-grams beside an encoder: their own columns
                    coef, features = coef[:, : features.transformer_list[0][1].n_features_out_], features.transformer_list[0][1]
            except (AttributeError, KeyError, IndexError, TypeError):
                self._linear = (None, None)
            else:
                ok = isinstance(features, CommentFeatures) and coef.shape[1] == features.n_features_out_
                self._linear = (features, coef) if ok else (None, None)
        return self._linear

    def explain(self, texts, top_k: int = 3, floor: float | None = None) -> list[list[str]]:
        """For each text, at most ``top_k`` whole words or phrases that really carry its score.

        Hostile (binary) models explain P(hostile); multi-class models explain
        each text's most probable class. Candidates come from the linear
        contributions (coefficient x feature value, positive only; character
        n-grams and lexicon hits credited to the whole word they come from; word
        pairs to the phrase), kept by :mod:`classifier.reasons` (whole words,
        no function words, each word once, at least :data:`MIN_REASON_SHARE` of
        the strongest). A binary model then verifies each candidate: scored
        alone it must reach ``floor`` (default: the card's review threshold),
        and the comment without it must score at least :data:`MIN_REASON_DROP`
        lower in log-odds -- so a word hostile only by its company is no reason.
        """
        texts = list(texts)
        features, coef = self._linear_parts()
        if features is None or not texts:
            return [[] for _ in texts]
        rows = [0] * len(texts) if coef.shape[0] == 1 else self.predict_proba(texts).argmax(axis=1)
        candidates = [_candidates(*parts) for parts in features.chunk_contributions(texts, coef, rows)]
        if coef.shape[0] != 1:
            return [[label for label, _ in found[:top_k]] for found in candidates]
        return self._verified(texts, candidates, top_k, self.thresholds.get("review", 0.5) if floor is None else floor)

    def _verified(self, texts, candidates, top_k: int, floor: float) -> list[list[str]]:
        """The candidates that are hostile alone and whose removal lowers their comment's score."""
        alone_cache = self.__dict__.setdefault("_alone", {})
        labels = {label for found in candidates for label, _ in found[:REASON_CANDIDATES]}
        new = sorted(labels.difference(alone_cache))
        if len(alone_cache) + len(new) > ALONE_CACHE_SIZE:
            alone_cache.clear()
        if new:
            alone_cache.update(zip(new, self.predict_proba(new)[:, 1].tolist()))
        variants, owners = [], []
        for d, found in enumerate(candidates):
            for label, chunks in found[:REASON_CANDIDATES]:
                if alone_cache[label] >= floor:
                    pieces = texts[d].split()
                    variants.append(" ".join(c for k, c in enumerate(pieces) if k not in chunks))
                    owners.append((d, label))
        out: list[list[str]] = [[] for _ in texts]
        if not variants:
            return out
        from scipy.special import logit

        eps = 1e-12
        base = logit(np.clip(self.predict_proba(texts)[:, 1], eps, 1 - eps))
        without = logit(np.clip(self.predict_proba(variants)[:, 1], eps, 1 - eps))
        for (d, label), p in zip(owners, without.tolist()):
            if len(out[d]) < top_k and base[d] - p >= MIN_REASON_DROP:
                out[d].append(label)
        return out


def _candidates(chunks: list[str], values, pairs) -> list[tuple[str, frozenset[int]]]:
    """Reason candidates of one text, strongest first: (label, the chunk positions it covers).

    Words by :func:`classifier.reasons.reason_word`, phrases of two adjacent
    chunks by :func:`classifier.reasons.is_reason_text`; each word once.
    """
    from classifier.reasons import is_reason_text, reason_word, strip_edges

    scores: dict[str, float] = {}
    where: dict[str, set[int]] = {}
    for k, (chunk, value) in enumerate(zip(chunks, values.tolist())):
        word = reason_word(chunk)
        if word is not None:
            scores[word] = scores.get(word, 0.0) + value
            where.setdefault(word, set()).add(k)
    for i, j, value in pairs:
        left, right = strip_edges(chunks[i]), strip_edges(chunks[j])
        label = f"{left} {right}"
        if left and right and is_reason_text(label):
            scores[label] = scores.get(label, 0.0) + value
            where.setdefault(label, set()).update((i, j))
    ranked = sorted(((v, k) for k, v in scores.items() if v > 0), reverse=True)
    found: list[tuple[str, frozenset[int]]] = []
    used: set[str] = set()
    for value, label in ranked:
        if value < MIN_REASON_SHARE * ranked[0][0]:
            break
        words = label.casefold().split()
        if not used.intersection(words):  # no word twice ("connard", then "sale connard")
            found.append((label, frozenset(where[label])))
            used.update(words)
    return found


def _direct_scorer(pipeline):
    """``texts -> probabilities`` computed straight from a fitted linear pipeline's parts, or None.

    Handles a Pipeline whose last step is a LogisticRegression (binary: logistic
    link; multi-class: softmax) or a ``CalibratedClassifierCV(ensemble=False)``
    with sigmoid calibration over one linear model (binary). Anything else: None.
    """
    from scipy.special import expit
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.utils.extmath import softmax

    if not isinstance(pipeline, Pipeline):
        return None
    transforms = [step for _, step in pipeline.steps[:-1] if step not in (None, "passthrough")]
    if not all(hasattr(step, "transform") for step in transforms):
        return None
    final = pipeline.steps[-1][1]
    if isinstance(final, LogisticRegression):
        linear, calibrator = final, None
    elif (
        isinstance(final, CalibratedClassifierCV)
        and len(getattr(final, "calibrated_classifiers_", ())) == 1
        and final.calibrated_classifiers_[0].method == "sigmoid"
        and len(final.classes_) == 2
    ):
        linear = final.calibrated_classifiers_[0].estimator
        calibrator = final.calibrated_classifiers_[0].calibrators[0]
        if not hasattr(calibrator, "a_"):
            return None
    else:
        return None
    coef = getattr(linear, "coef_", None)
    intercept = getattr(linear, "intercept_", None)
    if coef is None or intercept is None or len(linear.classes_) != len(final.classes_):
        return None
    intercept = np.asarray(intercept, dtype=np.float64)
    binary = np.asarray(coef).shape[0] == 1
    linear_part = _linear_scorer(transforms.pop() if transforms else None, np.asarray(coef))

    def score(texts):
        X = texts
        for step in transforms:
            X = step.transform(X)
        decision = linear_part(X) + intercept
        if not binary:
            return softmax(decision, copy=False)
        decision = decision.ravel()
        positive = expit(-(calibrator.a_ * decision + calibrator.b_)) if calibrator is not None else expit(decision)
        return np.column_stack([1.0 - positive, positive])

    return score


def _linear_scorer(step, coef: np.ndarray):
    """``X -> step.transform(X) @ coef.T`` (``step`` None: ``X @ coef.T``), without the transformed matrix where it can.

    :class:`~classifier.features.CommentFeatures` scores its blocks before
    normalising them; a FeatureUnion sums its parts' scores over their columns.
    """
    from sklearn.pipeline import FeatureUnion

    from classifier.features import CommentFeatures

    if isinstance(step, CommentFeatures):
        return step.linear_scorer(coef)
    if isinstance(step, FeatureUnion) and not step.transformer_weights:
        parts = [part for _, part in step.transformer_list if part not in (None, "drop")]
        widths = [getattr(part, "n_features_out_", None) for part in parts]
        if None not in widths and sum(widths) == coef.shape[1]:
            starts = np.cumsum([0, *widths])
            scorers = [_linear_scorer(part, coef[:, a:b]) for part, a, b in zip(parts, starts, starts[1:])]
            return lambda X: sum(scorer(X) for scorer in scorers)
    coef_t = np.ascontiguousarray(coef.T)
    if step is None:
        return lambda X: np.asarray(X @ coef_t)
    return lambda X: np.asarray(step.transform(X) @ coef_t)
