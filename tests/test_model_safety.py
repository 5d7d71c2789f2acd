"""Models that cannot run code: skops with trusted types only, the artefact confined, every bad card exit 3."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classifier.cli import main
from classifier.errors import EXIT_MODEL, ModelError
from classifier.model import MODEL_FILE, build_pipeline, dump_pipeline, load_model, save_model
from tests.conftest import MODELS, SHARED_DATA

SHIPPED = MODELS / "hostile-fr"


class Tripwire:
    """Leaves a file behind if anything ever rebuilds it (unpickling or an untrusted skops type)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):  # what pickle would call on load
        return (open, (self.marker, "w"))

    def __setstate__(self, state):  # what skops would call on load
        Path(state["marker"]).write_text("ran")


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def _refused(capsys, folder: Path) -> str:
    """Score with the model at ``folder``: exit 3, one line on stderr, nothing on stdout."""
    code, out, err = run(capsys, "score", "--model", str(folder), "--text", "Merci", "--format", "jsonl")
    assert code == EXIT_MODEL, err
    assert out == "" and err.count("\n") == 1 and err.startswith("classifier: ") and "Traceback" not in err
    return err


def _folder_with(tmp_path, artefact: bytes, name: str = MODEL_FILE, **card_changes) -> Path:
    """A model folder holding ``artefact`` under ``name`` and the shipped card, its sha256 updated to match."""
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(artefact)
    card = json.loads((SHIPPED / "card.json").read_text(encoding="utf-8"))
    card["artefact"] = {"file": name, "sha256": hashlib.sha256(artefact).hexdigest(), "bytes": len(artefact)}
    card.update(card_changes)
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def small_pipeline():
    frame = pd.read_csv(SHARED_DATA / "fr_toxic_toxifrench.csv", nrows=400, dtype=str, keep_default_na=False)
    texts, labels = frame["text"].tolist(), frame["label"].astype(int).to_numpy()
    return build_pipeline(min_df=1, max_char_features=5000, max_word_features=2000).fit(texts, labels), texts


# ---------------------------------------------------------------------------- no code runs


@pytest.mark.parametrize("name", ["model.pkl.gz", "model.joblib", "model.pkl", MODEL_FILE])
def test_a_pickle_with_a_matching_sha256_never_runs(tmp_path, capsys, name):
    marker = tmp_path / "ran"
    payload = pickle.dumps(Tripwire(str(marker)))
    folder = _folder_with(tmp_path, gzip.compress(payload) if name.endswith(".gz") else payload, name=name)
    with pytest.raises(ModelError):
        load_model(folder)
    _refused(capsys, folder)
    assert not marker.exists()


def test_a_skops_artefact_with_an_untrusted_type_is_refused_before_building_it(tmp_path, capsys, small_pipeline):
    import skops.io as sio

    marker = tmp_path / "ran"
    pipeline, _ = small_pipeline
    pipeline.tripwire_ = Tripwire(str(marker))  # an untrusted object inside a trusted one
    try:
        data = sio.dumps(pipeline)
    finally:
        del pipeline.tripwire_
    folder = _folder_with(tmp_path, data)
    with pytest.raises(ModelError, match="not trusted"):
        load_model(folder)
    assert "Tripwire" in _refused(capsys, folder)
    assert not marker.exists()


def test_a_skops_artefact_calling_a_function_is_refused(tmp_path, capsys, small_pipeline):
    import os

    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipeline, _ = small_pipeline
    evil = Pipeline([("run", FunctionTransformer(os.system)), *pipeline.steps])
    folder = _folder_with(tmp_path, sio.dumps(evil))
    assert "system" in _refused(capsys, folder)


@pytest.mark.parametrize("name", ["../hostile-fr/" + MODEL_FILE, "/etc/passwd", "sub/model.skops", "..", ""])
def test_the_artefact_path_is_confined_to_the_model_folder(tmp_path, capsys, name):
    folder = _folder_with(tmp_path, (SHIPPED / MODEL_FILE).read_bytes())
    card = json.loads((folder / "card.json").read_text())
    card["artefact"]["file"] = name
    (folder / "card.json").write_text(json.dumps(card))
    err = _refused(capsys, folder)
    assert "artefact.file" in err


# ---------------------------------------------------------------------------- malformed cards


MALFORMED = {
    "not-json": "{ not json",
    "a-list": "[1, 2]",
    "a-string": '"model"',
    "no-artefact": {"name": "x", "thresholds": {"review": 0.4, "reject": 0.6}},
    "artefact-a-string": {"artefact": "model.skops"},
    "sha256-a-number": {"artefact": {"file": MODEL_FILE, "sha256": 12}},
    "file-a-number": {"artefact": {"file": 3, "sha256": "0" * 64}},
    "libraries-a-list": {"artefact": {"file": MODEL_FILE, "sha256": "0" * 64}, "libraries": ["sklearn"]},
    "thresholds-a-list": {"artefact": {"file": MODEL_FILE, "sha256": "0" * 64}, "thresholds": [0.4, 0.6]},
    "threshold-a-string": {"artefact": {"file": MODEL_FILE, "sha256": "0" * 64}, "thresholds": {"review": "high"}},
    "name-an-object": {"artefact": {"file": MODEL_FILE, "sha256": "0" * 64}, "name": {"a": 1}},
}


@pytest.mark.parametrize("card", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_malformed_card_is_exit_3_with_one_line(tmp_path, capsys, card):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes((SHIPPED / MODEL_FILE).read_bytes())
    (folder / "card.json").write_text(card if isinstance(card, str) else json.dumps(card), encoding="utf-8")
    _refused(capsys, folder)
    code, out, err = run(capsys, "evaluate", str(tmp_path / "none.csv"), "--model", str(folder))
    assert code == EXIT_MODEL and err.count("\n") == 1


def test_a_card_that_is_not_utf8_is_exit_3(tmp_path, capsys):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "card.json").write_bytes(b'{"name": "\xff"}')
    _refused(capsys, folder)


# ---------------------------------------------------------------------------- the format


def test_saving_the_same_pipeline_twice_gives_the_same_bytes_and_a_faithful_model(tmp_path, small_pipeline):
    pipeline, texts = small_pipeline
    first = save_model(pipeline, tmp_path / "a", {"name": "a", "task": "hostile", "thresholds": {"review": 0.4, "reject": 0.6}})
    second = save_model(pipeline, tmp_path / "b", {"name": "a", "task": "hostile", "thresholds": {"review": 0.4, "reject": 0.6}})
    assert (first / MODEL_FILE).read_bytes() == (second / MODEL_FILE).read_bytes()
    card = json.loads((first / "card.json").read_text())
    assert card["artefact"]["sha256"] == hashlib.sha256((first / MODEL_FILE).read_bytes()).hexdigest()
    with zipfile.ZipFile(first / MODEL_FILE) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert not any(name.endswith(".pkl") for name in archive.namelist())
    loaded = load_model(first)
    assert np.array_equal(loaded.pipeline.predict_proba(texts), pipeline.predict_proba(texts))
    assert np.allclose(loaded.predict_proba(texts), pipeline.predict_proba(texts), rtol=0, atol=1e-9)


def test_the_shipped_models_are_skops_and_rebuild_to_their_card_sha256():
    for name in ("hostile-fr", "sentiment-fr"):
        loaded = load_model(MODELS / name)
        assert loaded.card["artefact"]["file"] == MODEL_FILE and loaded.card["artefact"]["format"] == "skops"
        assert hashlib.sha256(dump_pipeline(loaded.pipeline)).hexdigest() == loaded.card["artefact"]["sha256"]
        assert not list((MODELS / name).glob("*.pkl*")) and not list((MODELS / name).glob("*.joblib"))
