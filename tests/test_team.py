"""A moderation team over HTTP, on both stores: accounts and roles, revocation, claims, and the page's filters.

Tokens come from ``classifier queue user add`` (the library call behind it); the
deployment token (CLASSIFIER_TOKEN) is an admin. Decisions carry the token's name.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from fastapi.testclient import TestClient

from classifier.accounts import ADMIN, add_user, hash_token
from classifier.queue import ingest
from classifier.store import open_store
from classifier.web.app import create_app
from tests.queue_support import ROOT, KeywordScorer, classifier_cmd, write_jsonl

ADMIN_TOKEN = "deployment-admin-token-93"

ROWS = [
    {"id": "1", "page": "https://journal.test/a1", "author": "Lectrice75", "text": "Très bon article, merci."},
    {"id": "2", "page": "https://journal.test/a1", "author": "Troll13", "text": "Espèce d'idiot, tu n'as rien compris", "reply_to": "1"},
    {"id": "3", "page": "https://journal.test/a1", "author": "Troll13", "text": "Quel crétin ce ministre"},
    {"id": "4", "page": "https://journal.test/b2", "author": "Troll13", "text": "Encore un idiot au pouvoir"},
    {"id": "5", "page": "https://journal.test/b2", "author": "Paul", "text": "Je ne suis pas d'accord avec l'éditorial"},
]


@pytest.fixture
def team(tmp_path, queue_db):
    """A queue of ROWS with accounts alice (moderator), bob (moderator) and chef (admin); yields (client, tokens, db)."""
    store = open_store(queue_db, create=True)
    ingest(store, [str(write_jsonl(tmp_path / "c.jsonl", ROWS))], KeywordScorer())
    tokens = {name: add_user(store, name, role) for name, role in (("alice", "moderator"), ("bob", "moderator"), ("chef", "admin"))}
    store.close()
    with TestClient(create_app(queue_db, ADMIN_TOKEN, KeywordScorer())) as client:
        yield client, {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}, queue_db


def _pending(client, headers, **params):
    response = client.get("/api/comments", params={"status": "pending", **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_tokens_are_stored_only_as_hashes(team):
    _, auth, db = team
    token = auth["alice"]["Authorization"].split()[1]
    assert len(token) >= 40
    store = open_store(db)
    (row,) = [u for u in store.users() if u["name"] == "alice"]
    assert "token_hash" not in row and store.user_by_token_hash(hash_token(token))["name"] == "alice"
    assert store.user_by_token_hash(token) is None  # the token itself is nowhere in the database
    with pytest.raises(ValueError, match="exists"):
        add_user(store, "alice", "admin")
    with pytest.raises(ValueError, match="reserved"):
        add_user(store, "Auto", "moderator")
    store.close()


def test_decided_by_comes_from_the_token(team):
    client, auth, _ = team
    target = _pending(client, auth["alice"])[0]["id"]
    decided = client.post(
        f"/api/comments/{target}/decision", json={"decision": "reject", "by": "bob"}, headers={**auth["alice"], "X-Moderator": "bob"}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decided_by"] == "alice"
    assert client.get("/api/me", headers=auth["alice"]).json() == {"name": "alice", "role": "moderator"}
    assert client.get("/api/me", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json() == {"name": ADMIN, "role": "admin"}


def test_a_moderator_token_cannot_change_settings_manage_accounts_or_export(team):
    client, auth, _ = team
    admin_only = [
        ("GET", "/api/settings", None),
        ("PUT", "/api/settings", {"auto_reject_above": 0.5, "banned": ["idiot"]}),
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"name": "eve", "role": "admin"}),
        ("DELETE", "/api/users/bob", None),
        ("GET", "/api/export", None),
    ]
    for method, path, body in admin_only:
        response = client.request(method, path, json=body, headers=auth["alice"])
        assert response.status_code == 403, (method, path)
    assert client.get("/api/settings", headers=auth["chef"]).json()["banned"] == []  # nothing changed
    assert [u["name"] for u in client.get("/api/users", headers=auth["chef"]).json()] == ["alice", "bob", "chef"]
    assert client.get("/api/me", headers=auth["bob"]).status_code == 200  # bob was not revoked

    changed = client.put("/api/settings", json={"auto_reject_above": 0.97, "banned": [" Connard "]}, headers=auth["chef"])
    assert changed.status_code == 200 and changed.json()["banned"] == ["connard"]
    bad = client.put("/api/settings", json={"auto_approve_below": 0.9, "auto_reject_above": 0.5}, headers=auth["chef"])
    assert bad.status_code == 422
    export = client.get("/api/export", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert export.status_code == 200 and export.text.startswith("text,label,")


def test_a_revoked_token_gets_401_at_once(team):
    client, auth, _ = team
    assert client.get("/api/comments", headers=auth["bob"]).status_code == 200
    created = client.post("/api/users", json={"name": "dora", "role": "moderator"}, headers=auth["chef"])
    assert created.status_code == 201
    dora = {"Authorization": "Bearer " + created.json()["token"]}
    assert client.get("/api/me", headers=dora).json()["name"] == "dora"
    assert client.delete("/api/users/bob", headers=auth["chef"]).status_code == 204
    assert client.delete("/api/users/nobody", headers=auth["chef"]).status_code == 404
    for path in ("/api/comments", "/api/me", "/api/stats"):
        response = client.get(path, headers=auth["bob"])
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    target = _pending(client, dora)[0]["id"]
    assert client.post(f"/api/comments/{target}/decision", json={"decision": "approve"}, headers=auth["bob"]).status_code == 401
    listed = {u["name"]: u["active"] for u in client.get("/api/users", headers=auth["chef"]).json()}
    assert listed == {"alice": True, "bob": False, "chef": True, "dora": True}


def test_claims_split_the_queue_and_show_who_reviews_what(team):
    client, auth, _ = team
    alice = client.post("/api/claim", params={"limit": 2}, headers=auth["alice"]).json()
    bob = client.post("/api/claim", params={"limit": 2}, headers=auth["bob"]).json()
    assert len(alice) == len(bob) == 2 and not {c["id"] for c in alice} & {c["id"] for c in bob}
    order = [c["id"] for c in _pending(client, auth["bob"])]
    assert [c["id"] for c in alice] == order[:2] and [c["id"] for c in bob] == order[2:4]
    shown = {c["id"]: c["claimed_by"] for c in _pending(client, auth["bob"])}
    assert shown[alice[0]["id"]] == "alice" and shown[bob[0]["id"]] == "bob" and shown[order[4]] is None
    refused = client.post(f"/api/comments/{alice[0]['id']}/decision", json={"decision": "approve"}, headers=auth["bob"])
    assert refused.status_code == 409 and "being reviewed by alice" in refused.json()["detail"]
    done = client.post(f"/api/comments/{alice[0]['id']}/decision", json={"decision": "approve"}, headers=auth["alice"])
    assert done.status_code == 200 and done.json()["claimed_by"] is None


def test_author_history_parent_and_filters(team):
    client, auth, _ = team
    items = _pending(client, auth["alice"])
    by_text = {c["text"]: c for c in items}
    reply = by_text["Espèce d'idiot, tu n'as rien compris"]
    assert reply["parent"]["text"] == "Très bon article, merci." and reply["parent"]["author"] == "Lectrice75"
    assert by_text["Très bon article, merci."]["parent"] is None
    assert reply["author_history"] == {"pending": 3, "approved": 0, "rejected": 0}
    client.post(f"/api/comments/{reply['id']}/decision", json={"decision": "reject"}, headers=auth["alice"])
    troll = _pending(client, auth["alice"], author="Troll13")
    assert {c["text"] for c in troll} == {"Quel crétin ce ministre", "Encore un idiot au pouvoir"}
    assert troll[0]["author_history"] == {"pending": 2, "approved": 0, "rejected": 1}

    on_b2 = _pending(client, auth["alice"], page="https://journal.test/b2")
    assert {c["author"] for c in on_b2} == {"Troll13", "Paul"}
    assert [c["text"] for c in _pending(client, auth["alice"], q="IDIOT")] == ["Encore un idiot au pouvoir"]  # case-insensitive
    assert {c["author"] for c in _pending(client, auth["alice"], q="roll1")} == {"Troll13"}  # an author's name too
    assert _pending(client, auth["alice"], q="éditorial")[0]["author"] == "Paul"
    assert _pending(client, auth["alice"], q="100% sûr") == []  # LIKE wildcards are literal
    rejected = client.get("/api/comments", params={"status": "rejected", "q": "idiot"}, headers=auth["alice"]).json()["items"]
    assert [c["id"] for c in rejected] == [reply["id"]]
    assert client.get("/api/comments", params={"q": "id"}, headers=auth["alice"]).status_code == 422  # too short to index


def test_cli_user_add_prints_a_token_once_list_and_revoke(queue_db, tmp_path):
    def cli(*args):
        return subprocess.run(classifier_cmd("queue", "user", *args, "--db", queue_db), cwd=ROOT, capture_output=True, text=True, timeout=60)

    added = cli("add", "camille", "--role", "admin")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token) >= 40 and "\n" not in token and token not in added.stderr
    assert cli("add", "camille").returncode == 1  # exists already
    listed = cli("list", "--format", "json")
    assert '"camille"' in listed.stdout and token not in listed.stdout and hash_token(token) not in listed.stdout
    store = open_store(queue_db)
    with TestClient(create_app(queue_db, None, KeywordScorer())) as client:
        assert client.get("/api/settings", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert cli("revoke", "camille").returncode == 0
        assert client.get("/api/settings", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert cli("revoke", "nobody").returncode == 1
    store.close()


def test_attribute_filters(team):
    client, auth, _ = team
    hostile = _pending(client, auth["alice"], attribute="hostile")
    assert {c["text"] for c in hostile} == {"Espèce d'idiot, tu n'as rien compris", "Quel crétin ce ministre", "Encore un idiot au pouvoir"}
    assert all(c["hostile"] >= 0.5 for c in hostile)
    assert _pending(client, auth["alice"], attribute="shouting") == []
    assert client.get("/api/comments", params={"attribute": "rude"}, headers=auth["alice"]).status_code == 422


def test_cli_list_filters_like_the_page(team):
    _, _, db = team
    listed = subprocess.run(
        classifier_cmd("queue", "list", "--db", db, "--search", "idiot", "--author", "Troll13", "--format", "jsonl"),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert sorted(json.loads(line)["text"] for line in listed.stdout.splitlines()) == [
        "Encore un idiot au pouvoir", "Espèce d'idiot, tu n'as rien compris",
    ]  # fmt: skip
    bad = subprocess.run(classifier_cmd("queue", "list", "--db", db, "--attribute", "rude"), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") <= 2 and "Traceback" not in bad.stderr
