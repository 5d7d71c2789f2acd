"""`classifier calibrate`: thresholds from a newsroom's approved comments hold the shares asked for."""

from __future__ import annotations

import csv
import tomllib

import numpy as np
import pytest

from classifier.calibrate import CalibrationError, thresholds_for_shares
from classifier.cli import main
from classifier.model import load_model
from classifier.policy import make_policy
from classifier.store import Entry, open_store
from classifier.judge import held_shares, model_scorer, published_rows


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_thresholds_hold_the_shares_with_ties_and_shouting():
    rng = np.random.default_rng(0)
    hostile = np.round(rng.random(1000), 2)  # many ties
    shouting = rng.random(1000) < 0.02
    t = thresholds_for_shares(hostile, shouting, reject_share=0.01, review_share=0.08)
    held = (hostile >= t["review"]) | shouting
    assert held.mean() <= 0.08 and (hostile >= t["reject"]).mean() <= 0.01
    assert held.mean() > 0.06  # not far below the target either
    assert t["review"] <= t["reject"]


def test_shares_out_of_order_are_a_usage_error():
    with pytest.raises(CalibrationError):
        thresholds_for_shares([0.1, 0.2], [False, False], reject_share=0.2, review_share=0.1)


@pytest.fixture(scope="module")
def approved_csv(tmp_path_factory, shared_data):
    """600 comments a real newsroom published (a slice of the train articles), as a newsroom's export."""
    rows = published_rows(shared_data, "train").iloc[:600]
    path = tmp_path_factory.mktemp("calibrate") / "approved.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(rows["text"]))
    return path, rows["text"].tolist()


def test_calibrate_on_a_file_writes_a_config_that_holds_the_shares(approved_csv, tmp_path, capsys):
    path, texts = approved_csv
    out = tmp_path / "moderation.toml"
    code, stdout, err = run(capsys, "calibrate", "--approved", str(path), "--review-share", "0.1",
                            "--reject-share", "0.02", "--out", str(out), "--format", "json")  # fmt: skip
    assert code == 0, err
    config = tomllib.loads(out.read_text())
    assert set(config["thresholds"]) == {"review", "reject"}
    model = load_model()
    decisions = model_scorer(model, make_policy(model.thresholds, config=out))(texts)[1]
    shares = held_shares(decisions)
    assert shares["held"] <= 0.1 and shares["rejected"] <= 0.02
    assert '"held"' in stdout


def test_calibrate_on_a_queue_uses_the_approved_decisions_only(approved_csv, tmp_path, capsys):
    _, texts = approved_csv
    db = tmp_path / "queue.db"
    store = open_store(db, create=True)
    entries = [Entry(id=f"c{i}", text=t, hostile=0.0, shouting=False, caps_ratio=0.0, model="m@1", priority=0.0)
               for i, t in enumerate(texts[:300] + ["Ferme ta gueule sale connard"])]  # fmt: skip
    store.enqueue(entries)
    for e in entries[:-1]:
        store.decide(e.id, "approve", by="moderator")
    store.decide(entries[-1].id, "reject", by="moderator")
    store.close()
    out = tmp_path / "queue.toml"
    code, _, err = run(capsys, "calibrate", "--db", str(db), "--out", str(out))
    assert code == 0, err
    config = tomllib.loads(out.read_text())
    model = load_model()
    decisions = model_scorer(model, make_policy(model.thresholds, config=out))(texts[:300])[1]
    shares = held_shares(decisions)
    assert shares["held"] <= 0.08 and shares["rejected"] <= 0.01
    assert "300 approved comments" in out.read_text()
    assert config["thresholds"]["review"] <= config["thresholds"]["reject"]


def test_calibrate_needs_exactly_one_source(capsys, tmp_path):
    code, out, err = run(capsys, "calibrate")
    assert code == 2 and out == "" and err.count("\n") == 1


def test_queue_ingest_reads_the_calibrated_config(approved_csv, tmp_path, capsys):
    path, texts = approved_csv
    strict = tmp_path / "strict.toml"
    strict.write_text("[thresholds]\nreview = 0.0\nreject = 0.0\n", encoding="utf-8")
    db = tmp_path / "ingest.db"
    code, _, err = run(capsys, "queue", "ingest", "--db", str(db), str(path), "--config", str(strict))
    assert code == 0, err
    store = open_store(db)
    decisions = {c["model_decision"] for c in store.list_comments("pending", limit=1000)}
    store.close()
    assert decisions == {"reject"}  # every comment reaches a reject threshold of 0
