"""The retraining loop: ingest, moderators decide, export, train with other data, reload the new model.

The newsroom's rule here is one the shipped model cannot know: reject the spam that
advertises a (made-up) betting site. After one loop, the retrained model must rank the
held-out spam above the held-out civil comments, and better than the model in service.
"""

from __future__ import annotations

import csv
import json
import subprocess

import pytest
from fastapi.testclient import TestClient

from classifier.moderator import Moderator
from classifier.web.app import create_app
from tests.conftest import SEEDS
from tests.queue_support import ROOT, classifier_cmd, write_jsonl

pytestmark = pytest.mark.slow

TOKEN = "retrain-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPAM = [
    f"{opener} sur zorblix-paris point com, {offer} {n} euros offerts"
    for n, (opener, offer) in enumerate(
        (o, f) for o in ("Pariez maintenant", "Gagnez gros", "Inscrivez-vous vite", "Rejoignez-nous", "Cliquez ici")
        for f in ("bonus de", "cadeau de", "jusqu'à", "remboursement de", "mise gratuite de")
    )
]
CIVIL = [
    f"{opinion} {topic}"
    for opinion in ("Merci pour cet éclairage sur", "Je ne partage pas votre analyse sur", "Article intéressant concernant",
                    "Il faudrait plus de chiffres sur", "Bonne synthèse à propos de")
    for topic in ("la réforme des retraites", "le budget de la ville", "la saison du club", "les élections locales", "la météo de l'été")
]  # fmt: skip
#: Generic labelled data the newsroom trains with, besides its own decisions.
BASE = [(f"{t} {k}", 1) for k in range(4) for t in ("Espèce d'idiot", "Ferme-la, crétin", "Bande d'abrutis", "Pauvre débile")] + [
    (f"{t} {k}", 0) for k in range(4) for t in ("Merci pour l'article", "Je suis d'accord", "Très bon reportage", "Bonne journée")
]


def _run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(classifier_cmd(*args), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def _auc(scores_pos: list[float], scores_neg: list[float]) -> float:
    pairs = [(p > n) + 0.5 * (p == n) for p in scores_pos for n in scores_neg]
    return sum(pairs) / len(pairs)


def test_decisions_retrain_the_model(tmp_path):
    db = tmp_path / "queue.db"
    source = write_jsonl(tmp_path / "newsroom.jsonl", [{"text": t, "author": "lecteur"} for t in SPAM + CIVIL])
    _run("queue", "ingest", "--db", str(db), str(SEEDS), str(source))

    with TestClient(create_app(db, TOKEN)) as client:  # moderators apply the newsroom's rule
        items = client.get("/api/comments", params={"limit": 1000}, headers=AUTH).json()["items"]
        for item in items:
            if item["text"] in SPAM or item["text"] in CIVIL:
                decision = "reject" if item["text"] in SPAM else "approve"
                response = client.post(f"/api/comments/{item['id']}/decision", json={"decision": decision, "note": "charte"}, headers=AUTH)
                assert response.status_code == 200

    decisions, heldout = tmp_path / "decisions.csv", tmp_path / "heldout.csv"
    _run("queue", "export", "--db", str(db), "--format", "csv", "--holdout", "0.4", "--holdout-out", str(heldout), "--out", str(decisions))
    with decisions.open(encoding="utf-8") as f:
        trained_on = list(csv.DictReader(f))
    with heldout.open(encoding="utf-8") as f:
        held = list(csv.DictReader(f))
    assert len(trained_on) + len(held) == len(SPAM) + len(CIVIL)
    assert not {r["id"] for r in trained_on} & {r["id"] for r in held}
    assert {r["label"] for r in held} == {"0", "1"} and {r["label"] for r in trained_on} == {"0", "1"}

    base = tmp_path / "base.csv"
    with base.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(BASE)
    model_dir = tmp_path / "hostile-newsroom"
    _run("train", str(decisions), str(base), "--text-column", "text", "--label-column", "label",
         "--cv", "0", "--eval", str(heldout), "--out", str(model_dir))  # fmt: skip
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    assert card["metrics"]["eval"], "the card reports metrics on the held-out decisions"

    spam = [r["text"] for r in held if r["label"] == "1"]
    civil = [r["text"] for r in held if r["label"] == "0"]
    before, after = Moderator.load(), Moderator.load(model_dir)
    auc_before = _auc([r.hostile for r in before.score(spam)], [r.hostile for r in before.score(civil)])
    auc_after = _auc([r.hostile for r in after.score(spam)], [r.hostile for r in after.score(civil)])
    assert auc_after >= 0.9 and auc_after > auc_before
