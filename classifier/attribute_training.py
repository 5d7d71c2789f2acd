"""Training data and recipe of the attribute model (``models/attributes-fr``): ``classifier train --preset attributes``.

Every labelled source says something about some attributes and nothing about others; the
mapping below (:data:`MAPPINGS`) turns each source's own columns into 1, 0 or NaN (not
labelled) per attribute of :data:`~classifier.schema.MODEL_ATTRIBUTES`:

* translated Jigsaw: its six flags (severe_toxic, insult, threat, identity_hate, obscene);
* CyberAgressionAdo: ``verbal_abuse`` (name_calling and denigration = insult, threat = threat;
  none = 0 for all) and ``hate_speech`` (identity attack);
* the identity-hate superset: identity attack only (its 0 rows still hold plain insults);
* ToxiFrench and RTP-LX: a non-toxic row is 0 for insult, threat, identity attack and severity;
* Davidson: ``orig_class`` hate = identity attack, offensive = profanity, neither = 0 for all;
* UCC news comments: ``hostile`` = insult; a comment neither hostile nor antagonising is 0 for
  threat and severity, and also for identity attack unless it generalises unfairly;
* our hostile supplements (``data/hostile_supplement_*.csv``) through their categories, and our
  attribute supplements (``data/attributes_supplement_*.csv``) with a label per attribute.

HurtLex (conservative level) enters through the shared features' lexicon columns (its
categories: slurs, genitalia, prostitution, homosexuality... weigh for identity attack and
profanity). A stratified 80/20 split by source measures each attribute on the held-out rows of
each source and chooses its thresholds; the model is then refitted on everything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classifier.schema import MODEL_ATTRIBUTES

NAME, VERSION, OUT = "attributes-fr", "1.0.0", "models/attributes-fr"
PRESET = "attributes"
SEED = 0
HELDOUT = 0.2
#: Davidson's offensive tweets kept (of 19,190): enough for profanity, not a flood of one register.
DAVIDSON_OFFENSIVE = 5000
#: Training weight per source.
WEIGHTS = {
    "jigsaw_toxic_mt_fr": 1.0, "rtp_lx_fr": 0.5, "cyberagressionado_v1": 1.0, "fr_hs_superset": 0.5,
    "toxifrench_benchmark": 1.0, "toxifrench_agreement": 1.0, "davidson_en": 0.3, "ucc_globeandmail_en": 1.0,
    "own_news_supplement_fr": 3.0, "own_news_supplement_en": 3.0,
    "own_attributes_supplement_fr": 10.0, "own_attributes_supplement_en": 10.0,
}  # fmt: skip
PARAMS = {"C": 2.0, "char_ngram_range": (3, 5), "max_char_features": 60_000, "max_word_features": 30_000}
N = np.nan

#: Categories of our hostile supplements -> (severe_toxicity, insult, threat, identity_attack, profanity).
SUPPLEMENT_CATEGORIES = {
    **{c: (N, 1, 0, N, N) for c in ("insult_commenter", "insult_journalist", "insult_public_figure",
                                     "obfuscated_insult", "sarcasm_hostile", "shouting_hostile")},
    "threat": (N, N, 1, N, N),
    "identity_hate": (N, N, 0, 1, N),
    "dehumanising": (N, N, 0, 1, N),
    "vulgar_not_hostile": (0, 0, 0, 0, 1),
    **{c: (0, 0, 0, 0, N) for c in ("harsh_civil", "counter_speech", "quote_history", "sarcasm_civil", "acronyms",
                                     "neutral_info", "question", "disagreement_polite", "positive_praise",
                                     "supportive", "shouting_civil")},
}  # fmt: skip


def _labels(frame: pd.DataFrame, rows: list[tuple]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(MODEL_ATTRIBUTES), index=frame.index, dtype=float)
    return pd.concat([frame[["text", "source"]], out], axis=1)


def _jigsaw_rtp(t: pd.DataFrame) -> pd.DataFrame:
    jig = t[t["source"] == "jigsaw_toxic_mt_fr"]
    jig_rows = [tuple(int(r[c]) for c in ("severe_toxic", "insult", "threat", "identity_hate", "obscene")) for _, r in jig.iterrows()]
    rtp = t[(t["source"] == "rtp_lx_fr") & (t["label"].astype(str) == "0")]
    return pd.concat([_labels(jig, jig_rows), _labels(rtp, [(0, 0, 0, 0, N)] * len(rtp))])


def _cyberado(t: pd.DataFrame) -> pd.DataFrame:
    def row(abuse: str, hate: str) -> tuple:
        hate_flag = 1 if hate == "yes" else 0
        if abuse == "none":
            return (0, 0, 0, hate_flag, N)
        insult = 1 if abuse in ("name_calling", "denigration") else N
        return (N, insult, 1 if abuse == "threat" else 0, hate_flag, N)

    return _labels(t, [row(a, h) for a, h in zip(t["verbal_abuse"], t["hate_speech"])])


def _superset(t: pd.DataFrame) -> pd.DataFrame:
    t = t[t["subset"] != "cyberado"]  # the fine file relabels those rows
    return _labels(t, [(N, N, N, int(v), N) for v in t["label"]])


def _toxifrench(t: pd.DataFrame) -> pd.DataFrame:
    t = t[t["label"].astype(str) == "0"]
    return _labels(t, [(0, 0, 0, 0, N)] * len(t))


def _davidson(t: pd.DataFrame) -> pd.DataFrame:
    offensive = t[t["orig_class"] == "offensive_language"]
    keep = offensive.sample(n=min(DAVIDSON_OFFENSIVE, len(offensive)), random_state=SEED).index
    t = t[(t["orig_class"] != "offensive_language") | t.index.isin(keep)]
    rows = {"hate_speech": (N, N, N, 1, N), "offensive_language": (N, N, N, 0, 1), "neither": (0, 0, 0, 0, 0)}
    return _labels(t, [rows[c] for c in t["orig_class"]])


def _ucc(t: pd.DataFrame) -> pd.DataFrame:
    def row(r) -> tuple:
        calm = int(r["hostile"]) == 0 and int(r["antagonize"]) == 0
        return (0 if calm else N, int(r["hostile"]), 0 if calm else N,
                0 if calm and int(r["generalisation_unfair"]) == 0 else N, N)  # fmt: skip

    return _labels(t, [row(r) for _, r in t.iterrows()])


def _hostile_supplement(t: pd.DataFrame) -> pd.DataFrame:
    rows = [SUPPLEMENT_CATEGORIES.get(c, (N,) * 5) if not (c == "negation" and int(y) == 0) else (0, 0, 0, 0, N)
            for c, y in zip(t["category"], t["label"])]  # fmt: skip
    return _labels(t, rows)


def _attribute_supplement(t: pd.DataFrame) -> pd.DataFrame:
    values = t[list(MODEL_ATTRIBUTES)].replace("", np.nan).astype(float)
    return pd.concat([t[["text", "source"]], values], axis=1)


#: File -> (where it lives: "shared" = ../shared/data, "own" = this repository; its mapping to attribute labels).
MAPPINGS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = {
    "fr_toxic_translated.csv": ("shared", _jigsaw_rtp),
    "fr_hostile_cyberado_fine.csv": ("shared", _cyberado),
    "fr_hostile_superset.csv": ("shared", _superset),
    "fr_toxic_toxifrench.csv": ("shared", _toxifrench),
    "en_hostile_davidson.csv": ("shared", _davidson),
    "en_news_ucc.csv": ("shared", _ucc),
    "data/hostile_supplement_fr.csv": ("own", _hostile_supplement),
    "data/hostile_supplement_en.csv": ("own", _hostile_supplement),
    "data/attributes_supplement_fr.csv": ("own", _attribute_supplement),
    "data/attributes_supplement_en.csv": ("own", _attribute_supplement),
}
LICENCE_EXTRA = {
    "en_news_ucc.csv": "CC BY-NC-SA 4.0 (non-commercial, share-alike; Price et al. 2020)",
    "attributes_supplement_fr.csv": "own work for this project, MIT",
    "attributes_supplement_en.csv": "own work for this project, MIT",
}


def load_rows(shared: Path, root: Path) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every source's rows with per-attribute labels (NaN = not labelled), cleaned and de-duplicated."""
    from classifier.model import sha256_file
    from classifier.text import clean_text
    from classifier.train import LICENCES

    frames, files = [], []
    for name, (where, mapping) in MAPPINGS.items():
        path = (shared if where == "shared" else root) / name
        table = pd.read_csv(path, keep_default_na=False, dtype=str)
        mapped = mapping(table)
        mapped["file"] = Path(name).name
        frames.append(mapped)
        base = Path(name).name
        files.append({"file": base, "sha256": sha256_file(path), "rows_used": len(mapped),
                      "licence": LICENCE_EXTRA.get(base) or LICENCES.get(base, "see the data's own terms")})  # fmt: skip
    rows = pd.concat(frames, ignore_index=True)
    rows["text"] = [clean_text(t) for t in rows["text"]]
    rows = rows[rows["text"].str.strip() != ""]
    key = rows["text"].str.casefold()
    rows = rows[~key.duplicated(keep="first")].reset_index(drop=True)  # the first source of a text keeps it
    return rows, files


def heldout_mask(rows: pd.DataFrame, fraction: float = HELDOUT) -> np.ndarray:
    """A stable ``fraction`` of each source's rows, chosen by a hash of the text (stratified by source)."""
    digest = np.array([int(hashlib.sha1(f"{SEED}|{t}".encode()).hexdigest()[:8], 16) / 2**32 for t in rows["text"]])
    return digest < fraction


def build(lexicon=None):
    """The untrained attribute pipeline: shared features, one head per attribute."""
    from sklearn.pipeline import Pipeline

    from classifier.attributes import AttributeHeads
    from classifier.features import CommentFeatures

    params = {k: v for k, v in PARAMS.items() if k != "C"}
    return Pipeline([("features", CommentFeatures(lexicon=lexicon, **params)),
                     ("clf", AttributeHeads(attributes=MODEL_ATTRIBUTES, C=PARAMS["C"], seed=SEED))])  # fmt: skip


def _fit(rows: pd.DataFrame, lexicon):
    weights = rows["source"].map(WEIGHTS).fillna(1.0).to_numpy()
    return build(lexicon).fit(rows["text"].tolist(), rows[list(MODEL_ATTRIBUTES)].to_numpy(), clf__sample_weight=weights)


def evaluate(pipeline, rows: pd.DataFrame, thresholds: dict[str, dict[str, float]] | None = None) -> tuple[dict, np.ndarray]:
    """Per-attribute metrics overall and per source (only rows labelled for that attribute)."""
    from classifier.metrics import binary_metrics

    probs = pipeline.predict_proba(rows["text"].tolist())
    report: dict[str, dict[str, Any]] = {}
    for j, attribute in enumerate(MODEL_ATTRIBUTES):
        labelled = ~rows[attribute].isna().to_numpy()
        y, p = rows[attribute].to_numpy()[labelled].astype(int), probs[labelled, j]
        cuts = (thresholds or {}).get(attribute)
        block = {"all": binary_metrics(y, p, cuts)}
        for source in sorted(set(rows["source"][labelled])):
            mine = (rows["source"].to_numpy()[labelled] == source)
            block[source] = binary_metrics(y[mine], p[mine], cuts)
        report[attribute] = block
    return report, probs


def train_attributes(shared: Path, root: Path, progress: Callable[[str], Any] = lambda m: None) -> dict[str, Any]:
    """Build ``models/attributes-fr`` (seed 0: the same data give the same artefact) and return its card."""
    from classifier.metrics import choose_thresholds
    from classifier.model import save_model
    from classifier.train import read_lexicon

    lexicon, lexicon_info = read_lexicon(shared / "lexicon_hurtlex_fr.csv")
    rows, files = load_rows(shared, root)
    held = heldout_mask(rows)
    progress(f"attributes: {len(rows)} rows, {int(held.sum())} held out; fitting on the rest")
    first = _fit(rows[~held], lexicon)
    test = rows[held].reset_index(drop=True)
    _, probs = evaluate(first, test)
    thresholds = {}
    for j, attribute in enumerate(MODEL_ATTRIBUTES):
        labelled = ~test[attribute].isna().to_numpy()
        weights = test["source"].map(WEIGHTS).fillna(1.0).to_numpy()[labelled]
        thresholds[attribute] = choose_thresholds(test[attribute].to_numpy()[labelled].astype(int), probs[labelled, j], weights)
    heldout, _ = evaluate(first, test, thresholds)
    progress("attributes: refitting on every row")
    final = _fit(rows, lexicon)
    data_per_attribute = {
        a: {s: {"rows": int(g[a].notna().sum()), "positives": int((g[a] == 1).sum())}
            for s, g in rows.groupby("source") if g[a].notna().any()}
        for a in MODEL_ATTRIBUTES
    }  # fmt: skip
    card = {
        "name": NAME, "version": VERSION, "task": "attributes", "classes": list(MODEL_ATTRIBUTES),
        "description": "Per-attribute probabilities for reader comments (French first, English second): "
        "severe_toxicity, insult, threat, identity_attack, profanity, one logistic head each over one shared "
        "feature transform. toxicity is the hostile model's probability (models/hostile-fr).",
        "rebuild_command": f"classifier train --preset {PRESET}",
        "data": files,
        "weights": WEIGHTS,
        "label_mapping": __doc__.split("\n\n")[1],
        "data_per_attribute": data_per_attribute,
        "lexicon": lexicon_info,
        "parameters": {**PARAMS, "seed": SEED, "heldout": HELDOUT, "davidson_offensive": DAVIDSON_OFFENSIVE},
        "metrics": {"heldout_per_attribute": heldout},
        "attribute_thresholds": thresholds,  # per attribute (the card's flat "thresholds" are a single model's)
        "threshold_rule": "per attribute, on its held-out labelled rows: " + choose_thresholds.__doc__.splitlines()[0],
        "licence_note": "Trained on data under these terms: "
        + "; ".join(f"{f['file']}: {f['licence']}" for f in [*files, lexicon_info]),
        "limitations": [
            "Sources label different attributes; each head learns from the rows labelled for it (see data_per_attribute): "
            "severe_toxicity and threat rest on few positives, mostly translated Jigsaw, CyberAgressionAdo and our supplements.",
            "Bag of words and characters: a quoted or reported threat ('le suspect a menacé...') and counter-speech can still score.",
            "English rests on Davidson tweets, UCC news comments and our short English supplement.",
            "Non-commercial / research-use terms of the training data and of HurtLex (CC BY-NC-SA 4.0) carry over.",
        ],
    }  # fmt: skip
    save_model(final, root / OUT, card)
    (root / OUT / "CARD.md").write_text(render_attribute_card(card | _saved(root / OUT)), encoding="utf-8")
    return card


def _saved(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "card.json").read_text(encoding="utf-8"))


def render_attribute_card(card: dict[str, Any]) -> str:
    """CARD.md of the attribute model: per-attribute held-out metrics and thresholds, data, licences."""
    keys = ("n", "positives", "roc_auc", "pr_auc", "precision", "recall", "f1")
    lines = [f"# {card['name']} {card['version']} — per-attribute model", "", card["description"], "",
             f"Artefact `{card['artefact']['file']}` sha256 `{card['artefact']['sha256']}` "
             f"({card['artefact']['bytes'] / 1e6:.1f} MB).", "", "## Rebuild", "", "```bash", card["rebuild_command"], "```", "",
             "## Held-out metrics per attribute (20 % of each source, by text hash; at the review threshold)", ""]  # fmt: skip
    for attribute, block in card["metrics"]["heldout_per_attribute"].items():
        t = card["attribute_thresholds"][attribute]
        lines += [f"### {attribute} (review {t['review']}, reject {t['reject']})", "",
                  "| source | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        for source, m in block.items():
            lines.append(f"| {source} | " + " | ".join("" if m.get(k) is None else str(m.get(k)) for k in keys) + " |")
        lines.append("")
    lines += ["## Data per attribute (rows labelled / positives)", "", "| attribute | source | rows | positives |", "|---|---|---|---|"]
    for attribute, sources in card["data_per_attribute"].items():
        lines += [f"| {attribute} | {s} | {v['rows']} | {v['positives']} |" for s, v in sources.items()]
    lines += ["", "## Label mapping", "", card["label_mapping"], "", "## Training data", "",
              "| file | sha256 | rows | licence |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {f['file']} | `{f['sha256'][:12]}…` | {f['rows_used']} | {f['licence']} |" for f in card["data"]]
    lines += ["", "Source weights: " + ", ".join(f"{k} {v}" for k, v in card["weights"].items()), "",
              "## Parameters", "", "```json", json.dumps(card["parameters"]), "```", "",
              "## Libraries", "", ", ".join(f"{k} {v}" for k, v in card["libraries"].items()), "",
              "## Licences", "", card["licence_note"], "", "## Known limitations", ""]  # fmt: skip
    lines += [f"- {x}" for x in card["limitations"]]
    return "\n".join(lines) + "\n"
