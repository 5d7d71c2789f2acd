"""Server limits and clean errors: body limit before reading, token before body, 4xx JSON for malformed input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from classifier.errors import EXIT_USAGE, ClassifierError
from classifier.queue import ingest
from classifier.store import open_store
from classifier.web.app import create_app
from classifier.web.middleware import MAX_BODY_BYTES, SECURITY_HEADERS
from classifier.web.security import MIN_TOKEN_LENGTH, check_token
from tests.queue_support import KeywordScorer, write_jsonl

TOKEN = "hardening-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class CountingScorer(KeywordScorer):
    """The keyword scorer, counting calls: a refused request must never reach it."""

    calls = 0

    def score(self, texts):
        CountingScorer.calls += 1
        return super().score(texts)


@pytest.fixture
def client(tmp_path):
    db = tmp_path / "queue.db"
    store = open_store(db, create=True)
    ingest(store, [str(write_jsonl(tmp_path / "c.jsonl", [{"text": "Quel crétin"}, {"text": "Merci"}]))], KeywordScorer())
    store.close()
    with TestClient(create_app(db, TOKEN, CountingScorer()), raise_server_exceptions=False) as client:
        yield client


def _pending_id(client) -> str:
    return client.get("/api/comments", headers=AUTH).json()["items"][0]["id"]


def _json_error(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    for key, value in SECURITY_HEADERS.items():
        assert response.headers[key] == value
    return response.json()["detail"]


# ---------------------------------------------------------------------------- body limit and token first


@pytest.mark.parametrize("auth", [AUTH, {}], ids=["with-token", "without"])
def test_a_body_over_the_limit_is_413_from_its_content_length(client, auth):
    body = b'{"texts": ["' + b"a" * MAX_BODY_BYTES + b'"]}'
    before = CountingScorer.calls
    response = client.post("/api/score", content=body, headers={**auth, "content-type": "application/json"})
    assert "over" in _json_error(response, 413)
    assert CountingScorer.calls == before


def test_a_chunked_body_over_the_limit_is_413_once_it_passes_it(client):
    chunk = b"a" * 65536
    sent = {"n": 0}

    def stream():
        yield b'{"texts": ["'
        for _ in range(MAX_BODY_BYTES // len(chunk) + 8):
            sent["n"] += 1
            yield chunk
        yield b'"]}'

    response = client.post("/api/score", content=stream(), headers={**AUTH, "content-type": "application/json"})
    _json_error(response, 413)


def test_the_limit_applies_to_every_route_known_or_not(client):
    big = b"x" * (MAX_BODY_BYTES + 1)
    for path in ("/", "/api/stats", "/static/app.js", "/nowhere"):
        assert client.post(path, content=big, headers=AUTH).status_code == 413, path
    # Perspective clients read Google's body: the same limit answers there as 400 COMMENT_TOO_LONG
    response = client.post("/v1alpha1/comments:analyze", content=big, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["errorType"] == "COMMENT_TOO_LONG"


def test_the_token_is_checked_before_the_body_is_read(client):
    """An unauthenticated body is never read: a stream that would fail if read still gets a clean 401."""

    def exploding():
        raise AssertionError("the body of an unauthenticated request was read")
        yield b""  # pragma: no cover

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Token": TOKEN[:-1]}):
        response = client.post("/api/score", content=exploding(), headers={**headers, "content-type": "application/json"})
        assert "token" in _json_error(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    # under /v1alpha1/ a missing key is Perspective's 400 "API key not valid", still before the body is read
    response = client.post("/v1alpha1/comments:analyze", content=exploding(), headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "API key not valid" in response.json()["error"]["message"]


def test_the_page_and_its_files_stay_public(client):
    assert client.get("/").status_code == 200
    assert client.get("/static/app.js").status_code == 200


# ---------------------------------------------------------------------------- malformed parameters: 4xx, never 500


@pytest.mark.parametrize("offset", ["1e20", "99999999999999999999999", "-1", "nan", "1.5", ""])
def test_a_malformed_offset_is_422(client, offset):
    _json_error(client.get("/api/comments", params={"offset": offset}, headers=AUTH), 422)


@pytest.mark.parametrize("limit", ["0", "1e3", "100000", "x"])
def test_a_malformed_limit_is_422(client, limit):
    _json_error(client.get("/api/comments", params={"limit": limit}, headers=AUTH), 422)


@pytest.mark.parametrize(
    "body",
    [
        b'{"decision": "approve", "note": NaN}',
        b'{"decision": "approve", "note": Infinity}',
        b'{"decision": "approve", "note": -Infinity}',
        b'{"decision": NaN}',
    ],
)
def test_a_note_holding_nan_is_a_4xx(client, body):
    comment = _pending_id(client)
    response = client.post(f"/api/comments/{comment}/decision", content=body, headers={**AUTH, "content-type": "application/json"})
    assert response.status_code in (400, 422)
    _json_error(response, response.status_code)
    assert client.get(f"/api/comments/{comment}", headers=AUTH).json()["status"] == "pending"


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"])
def test_a_lone_surrogate_in_a_note_or_a_text_to_score_is_422(client, escape):
    comment = _pending_id(client)
    note = b'{"decision": "reject", "note": "' + escape.encode() + b'"}'
    headers = {**AUTH, "content-type": "application/json"}
    assert "surrogate" in _json_error(client.post(f"/api/comments/{comment}/decision", content=note, headers=headers), 422)
    texts = b'{"texts": ["bonjour", "' + escape.encode() + b'"]}'
    assert "surrogate" in _json_error(client.post("/api/score", content=texts, headers=headers), 422)
    assert client.get(f"/api/comments/{comment}", headers=AUTH).json()["status"] == "pending"


def test_a_surrogate_pair_is_text_and_scores(client):
    body = json.dumps({"texts": ["merci 😀"]}).encode()  # ensure_ascii: a valid \\ud83d\\ude00 pair
    assert b"\\ud83d\\ude00" in body
    response = client.post("/api/score", content=body, headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == 200 and response.json()["results"][0]["text"] == "merci 😀"


@pytest.mark.parametrize("body", [b"{", b"[1, 2", b"\xff\xfe{}", b'{"texts": "' + b"[" * 100_000 + b'"}', b"[" * 100_000])
def test_a_body_that_is_not_json_is_a_4xx(client, body):
    response = client.post("/api/score", content=body, headers={**AUTH, "content-type": "application/json"})
    assert 400 <= response.status_code < 500
    _json_error(response, response.status_code)


def test_a_bad_content_length_is_400(client):
    response = client.post("/api/score", content=b"{}", headers={**AUTH, "content-type": "application/json", "content-length": "x"})
    assert response.status_code == 400


# ---------------------------------------------------------------------------- token strength


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
@pytest.mark.parametrize("token", ["x", "s3cret", "a" * (MIN_TOKEN_LENGTH - 1)])
def test_a_weak_token_refuses_to_serve_beyond_loopback(host, token):
    with pytest.raises(ClassifierError) as caught:
        check_token(token, host)
    assert caught.value.exit_code == EXIT_USAGE and str(MIN_TOKEN_LENGTH) in str(caught.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_a_weak_token_on_loopback_only_warns(host):
    assert "weak" in check_token("x", host)


def test_a_strong_token_serves_anywhere_without_warning():
    strong = "Zq8v3K_1p9XcL0mN4bR7tY2u"
    assert check_token(strong, "0.0.0.0") is None and check_token(strong, "127.0.0.1") is None
    with pytest.raises(ClassifierError):
        check_token("a" * 40, "0.0.0.0")  # long but one repeated character


def test_serve_refuses_a_one_character_token_on_all_interfaces(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "classifier", "serve", "--db", str(tmp_path / "q.db"), "--host", "0.0.0.0", "--port", "0"],
        env={**os.environ, "CLASSIFIER_TOKEN": "x"}, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.count("\n") == 1 and "weak token" in proc.stderr
