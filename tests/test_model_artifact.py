"""The shipped hostile model: verified loading, refusals, scoring order, explanations, card contents."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from classifier.cli import main
from classifier.errors import EXIT_MODEL, ModelError
from classifier.model import (
    MODEL_FILE,
    MODELS_DIR,
    LoadedModel,
    build_pipeline,
    load_model,
    save_model,
    sha256_file,
)
from tests.conftest import DATA, MODELS, ROOT

SHIPPED = MODELS / "hostile-fr"

HOSTILE_BENIGN = [
    ("Ferme ta gueule espèce de connard", "Merci pour cet article très clair"),
    ("T'es qu'une s.a.l.o.p.e", "Je ne suis pas d'accord avec l'analyse du journaliste"),
    ("Retourne dans ton pays sale raton", "Bon courage aux bénévoles de l'association"),
    ("You are a fucking idiot", "Thanks for the clear and balanced article"),
]


@pytest.fixture(scope="module")
def model():
    return load_model()


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run the console entry point; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_shipped_model_is_in_the_repository_models_folder():
    assert MODELS_DIR == MODELS
    assert {p.name for p in SHIPPED.iterdir()} >= {MODEL_FILE, "card.json", "CARD.md"}
    assert SHIPPED.joinpath(MODEL_FILE).stat().st_size < 15_000_000  # "a few MB"


def test_shipped_model_loads_and_ranks_hostile_above_benign(model):
    assert model.task == "hostile" and model.name == "hostile-fr" and model.classes == [0, 1]
    hostile, benign = zip(*HOSTILE_BENIGN)
    p = model.pipeline.predict_proba(list(hostile) + list(benign))[:, 1]
    assert np.all(p[: len(hostile)] > p[len(hostile) :].max())
    assert np.all((p >= 0) & (p <= 1))


def test_thresholds_come_from_the_card(model):
    t = model.thresholds
    assert 0 < t["review"] <= t["reject"] < 1
    assert t == json.loads((SHIPPED / "card.json").read_text())["thresholds"]


def test_explain_gives_the_texts_own_words(model):
    texts = ["Ferme ta gueule espèce de c0nnard !!!", "Merci pour cet article"]
    reasons = model.explain(texts, top_k=3)
    assert len(reasons) == 2 and 1 <= len(reasons[0]) <= 3
    assert any("c0nnard" in r or "gueule" in r for r in reasons[0])
    for reason in reasons[0]:
        assert all(word in texts[0] for word in reason.split())
    assert len({r.casefold() for r in reasons[0]}) == len(reasons[0])


def test_concurrent_scoring_is_consistent(model):
    texts = [h for pair in HOSTILE_BENIGN for h in pair] * 25
    serial = model.pipeline.predict_proba(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = list(pool.map(model.pipeline.predict_proba, [texts[i : i + 20] for i in range(0, len(texts), 20)]))
    assert np.allclose(np.vstack(parts), serial)


def test_card_records_data_metrics_versions_licences_and_rebuild_command(shared_data):
    card = json.loads((SHIPPED / "card.json").read_text())
    for key in ("name", "version", "task", "created", "data", "cleaning", "parameters", "metrics", "thresholds",
                "libraries", "licence_note", "rebuild_command", "artefact"):  # fmt: skip
        assert key in card, key
    assert card["artefact"]["sha256"] == sha256_file(SHIPPED / MODEL_FILE)
    for item in card["data"]:  # the card names the exact files it was trained on: shared corpora and our data/
        path = shared_data / item["file"] if (shared_data / item["file"]).is_file() else DATA / item["file"]  # our labels: data/labelling/
        assert item["sha256"] == sha256_file(path), item["file"]
        assert item["rows_used"] > 0 and item["licence"]
    assert {"python", "scikit-learn", "numpy", "scipy", "joblib"} <= set(card["libraries"])
    assert "research" in card["licence_note"] and "NC" in card["licence_note"]
    assert card["metrics"]["cv"]["folds"] >= 2
    assert {"fr_hs_superset", "toxifrench_benchmark", "davidson_en"} <= set(card["metrics"]["heldout"])
    assert "eval_news_fr.csv" in card["metrics"]["eval"]
    assert card["rebuild_command"] == "classifier train --preset shipped"
    assert "/work/" not in json.dumps(card)  # no machine paths in the artefact's card


@pytest.fixture()
def model_copy(tmp_path) -> Path:
    target = tmp_path / "hostile-copy"
    shutil.copytree(SHIPPED, target)
    return target


def _labelled_csv(tmp_path) -> Path:
    path = tmp_path / "few.csv"
    path.write_text("text,label\nFerme ta gueule connard,1\nMerci pour l'article,0\n", encoding="utf-8")
    return path


def test_tampered_artefact_is_refused_before_unpickling(model_copy, tmp_path, capsys):
    with open(model_copy / MODEL_FILE, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        load_model(model_copy)
    code, out, err = run(capsys, "evaluate", str(_labelled_csv(tmp_path)), "--model", str(model_copy))
    assert code == EXIT_MODEL and out == ""
    assert err.count("\n") == 1 and err.startswith("classifier: ") and "sha256" in err


def test_incompatible_scikit_learn_is_refused(model_copy, tmp_path, capsys):
    card = json.loads((model_copy / "card.json").read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        load_model(model_copy)
    code, _, err = run(capsys, "evaluate", str(_labelled_csv(tmp_path)), "--model", str(model_copy))
    assert code == EXIT_MODEL and err.count("\n") == 1 and "scikit-learn" in err


def test_missing_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no model"):
        load_model(tmp_path / "nowhere")


def test_save_model_round_trip(model, tmp_path):
    out = save_model(model.pipeline, tmp_path / "again", {"name": "again", "version": "9", "task": "hostile"})
    again = load_model(out)
    texts = ["Bravo", "Espèce d'abruti"]
    assert np.allclose(again.pipeline.predict_proba(texts), model.pipeline.predict_proba(texts))
    assert (out / "CARD.md").read_text().startswith("# again 9")
    assert str(ROOT) not in (out / "card.json").read_text()


def _news_texts() -> list[str]:
    import pandas as pd

    return [t for f in ("eval_news_fr.csv", "eval_news_en.csv") for t in pd.read_csv(DATA / f, keep_default_na=False)["text"]]


@pytest.mark.parametrize("task", ["hostile", "sentiment"])
def test_direct_scoring_gives_the_pipelines_probabilities(task):
    if not (MODELS / {"hostile": "hostile-fr", "sentiment": "sentiment-fr"}[task] / "card.json").is_file():
        pytest.skip(f"no shipped {task} model")
    loaded = load_model(task=task)
    texts = _news_texts() + ["", "!!!", "a"]
    direct = loaded.predict_proba(texts)
    assert loaded._scorer != loaded.pipeline.predict_proba  # the direct path, not the fallback
    assert direct.shape == (len(texts), len(loaded.classes))
    assert np.allclose(direct, loaded.pipeline.predict_proba(texts), rtol=0, atol=1e-9)
    assert np.allclose(direct.sum(axis=1), 1.0)


def test_other_pipelines_fall_back_to_scikit_learn(shared_data):
    import pandas as pd

    frame = pd.read_csv(shared_data / "fr_toxic_toxifrench.csv", keep_default_na=False).head(300)
    pipe = build_pipeline(min_df=2, calibration_cv=2, max_char_features=3_000)
    pipe.set_params(clf__ensemble=True)  # an average of two calibrated models: no direct path
    pipe.fit(frame.text.tolist(), frame.label.astype(int).to_numpy())
    loaded = LoadedModel(pipeline=pipe, card={"name": "t", "task": "hostile"})
    texts = frame.text.tolist()[:50]
    assert np.array_equal(loaded.predict_proba(texts), pipe.predict_proba(texts))
    from classifier.model import _direct_scorer

    assert _direct_scorer(pipe) is None  # the scores above came through pipe.predict_proba


def test_batched_explanations_equal_one_text_at_a_time(model):
    texts = _news_texts()
    assert model.explain(texts, top_k=3) == [model.explain([t], top_k=3)[0] for t in texts]
