"""`classifier train` / `classifier evaluate` on small files the tests write (hostile and sentiment)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from classifier.cli import app, main
from classifier.errors import EXIT_INPUT, EXIT_USAGE
from classifier.train import Dataset, clean_rows, read_table


@pytest.fixture(scope="module")
def hostile_files(shared_data, tmp_path_factory):
    """A CSV, a JSONL and a Parquet file cut from ToxiFrench and CyberAgressionAdo, plus bad rows."""
    folder = tmp_path_factory.mktemp("hostile")
    toxi = pd.read_csv(shared_data / "fr_toxic_toxifrench.csv", keep_default_na=False).sample(420, random_state=1)
    ado = pd.read_csv(shared_data / "fr_hostile_cyberado_fine.csv", keep_default_na=False).sample(240, random_state=1)
    train_csv = folder / "forum.csv"
    bad = pd.DataFrame({"text": ["", "un texte au label inconnu"], "label": ["1", "peut-être"], "source": ["forum", "forum"]})
    pd.concat([toxi[["text", "label"]].head(300).assign(source="forum"), bad]).to_csv(train_csv, index=False)
    ado[["text", "label"]].head(200).assign(source="chat").to_json(folder / "chat.jsonl", orient="records", lines=True, force_ascii=False)
    heldout = folder / "heldout.parquet"
    pd.concat([toxi.tail(120).assign(source="forum"), ado.tail(40).assign(source="chat")])[["text", "label", "source"]].to_parquet(heldout)
    return train_csv, folder / "chat.jsonl", heldout


def test_train_then_evaluate_hostile(hostile_files, tmp_path):
    train_csv, chat_jsonl, heldout = hostile_files
    out = tmp_path / "model"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["train", str(train_csv), str(chat_jsonl), "--out", str(out), "--cv", "2", "--source-weight", "chat=0.5",
         "--param", "max_char_features=20000", "--format", "json"],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    assert "forum.csv: row 301: empty text; skipped" in result.stderr
    assert "forum.csv: row 302: bad label 'peut-être'; skipped" in result.stderr
    rows = json.loads(result.stdout)
    assert {r["part"] for r in rows} == {"heldout"} and {r["set"] for r in rows} >= {"all", "forum", "chat"}

    card = json.loads((out / "card.json").read_text())
    assert card["task"] == "hostile" and card["classes"] == [0, 1]
    assert [f["file"] for f in card["data"]] == ["forum.csv", "chat.jsonl"]
    assert card["data"][0]["rows_bad"] == 2 and card["data"][1]["weights"] == {"chat": 0.5}
    assert len(card["data"][0]["sha256"]) == 64
    assert card["metrics"]["cv"]["folds"] == 2 and "roc_auc" in card["metrics"]["cv"]
    assert 0 < card["thresholds"]["review"] <= card["thresholds"]["reject"] < 1
    assert (out / "CARD.md").read_text().startswith("# model 1.0.0")

    result = runner.invoke(app, ["evaluate", str(heldout), "--model", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    overall = report["metrics"]["all"]
    assert overall["n"] == 160 and overall["roc_auc"] > 0.6  # better than chance on unseen rows
    assert len(overall["review"]["confusion_matrix"]) == 2
    assert {"source=forum", "source=chat"} <= set(report["metrics"])

    table = runner.invoke(app, ["evaluate", str(heldout), "--model", str(out), "--format", "table"])
    assert table.exit_code == 0 and "roc_auc" in table.stdout and "source=forum" in table.stdout


def test_training_is_reproducible(hostile_files, tmp_path):
    train_csv, _, _ = hostile_files
    runner = CliRunner()
    cards = []
    for name in ("a", "b"):
        args = ["train", str(train_csv), "--out", str(tmp_path / name), "--cv", "2", "--seed", "3", "--param", "max_char_features=5000"]
        assert runner.invoke(app, args).exit_code == 0
        cards.append(json.loads((tmp_path / name / "card.json").read_text()))
    assert cards[0]["metrics"] == cards[1]["metrics"] and cards[0]["thresholds"] == cards[1]["thresholds"]


def test_train_and_evaluate_sentiment(shared_data, tmp_path):
    frame = pd.read_csv(shared_data / "fr_sentiment_train.csv", keep_default_na=False)
    tweets = frame[frame.source == "umsab_fr_tweets"].groupby("label").head(90)
    data = tmp_path / "tweets.csv"
    tweets.rename(columns={"label": "sentiment"}).to_csv(data, index=False)
    out = tmp_path / "sentiment"
    runner = CliRunner()
    args = ["train", str(data), "--task", "sentiment", "--label-column", "sentiment", "--out", str(out), "--cv", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    card = json.loads((out / "card.json").read_text())
    assert card["task"] == "sentiment" and card["classes"] == ["negative", "neutral", "positive"]
    assert card["thresholds"] == {} and "macro_f1" in card["metrics"]["cv"]

    result = runner.invoke(app, ["evaluate", str(data), "--model", str(out), "--label-column", "sentiment", "--format", "json"])
    assert result.exit_code == 0, result.output
    overall = json.loads(result.stdout)["metrics"]["all"]
    assert overall["macro_f1"] > 0.4  # training rows: well above the 0.33 of chance
    assert set(overall["per_class"]) == {"negative", "neutral", "positive"}
    assert all(set(v) >= {"precision", "recall", "f1"} for v in overall["per_class"].values())
    assert len(overall["confusion_matrix"]) == 3 and sum(map(sum, overall["confusion_matrix"])) == overall["n"]


def test_cleaning_drops_duplicates_and_conflicting_labels():
    frame = pd.DataFrame(
        {
            "text": ["Merci !", "merci", "Connard", "CONNNARD !!", "Ã§a va", "Bonne idée"],
            "label": ["0", "0", "1", "0", "0", "0"],
            "source": "s",
            "file": "f.csv",
        }
    )
    data = clean_rows(Dataset(frame=frame))
    assert sorted(data.frame.text) == ["Bonne idée", "Merci !", "ça va"]
    assert data.cleaning["conflicting_label_rows_dropped"] == 2
    assert data.cleaning["duplicate_rows_dropped"] == 1 and data.cleaning["texts_repaired"] == 1


def run(capsys, *args: str) -> tuple[int, str]:
    """Exit code and the last stderr line (progress lines may precede it); never a traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return exit_info.value.code, err.splitlines()[-1]


def test_bad_training_input_is_one_line_with_an_exit_code(hostile_files, tmp_path, capsys):
    train_csv, _, _ = hostile_files
    code, err = run(capsys, "train", str(train_csv), "--label-column", "hostile")
    assert code == EXIT_INPUT and err.startswith("classifier: ") and "no column 'hostile'" in err
    code, err = run(capsys, "train", str(tmp_path / "absent.csv"))
    assert code == EXIT_INPUT and "no such file" in err
    code, err = run(capsys, "train", str(train_csv), "--source-weight", "nowhere=2")
    assert code == EXIT_INPUT and "nowhere" in err
    code, err = run(capsys, "train", str(train_csv), "--source-weight", "forum")
    assert code == EXIT_USAGE and "KEY=VALUE" in err
    code, err = run(capsys, "train", "--preset", "unknown")
    assert code == EXIT_USAGE and "unknown preset" in err


def test_read_table_reads_csv_jsonl_and_parquet(hostile_files):
    for path in hostile_files:
        table = read_table(path)
        assert {"text", "label"} <= set(table.columns) and len(table) > 100
