"""The Perspective-compatible API: Google's own client against a live ``classifier serve``, Coral Talk's request, errors.

The live tests build ``googleapiclient`` from the discovery document that the server itself
serves, so every field name and URL goes through a client nobody here wrote.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess

import httpx
import pytest
from fastapi.testclient import TestClient

from classifier.web.app import create_app
from classifier.web.perspective import MAX_COMMENT_BYTES, PerspectiveOptions, RateLimiter, sentence_spans
from tests.queue_support import ROOT, classifier_cmd, running_servers

TOKEN = "perspective-test-token-8d2e"
FRENCH = "Tais-toi, espèce d'abruti, personne ne veut lire tes commentaires."
ENGLISH = "Thank you for this clear article. You are a pathetic idiot though!"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("perspective")
    with running_servers(tmp / "queue.db", TOKEN, tmp) as [(base, _proc)]:
        yield base, tmp / "queue.db"


@pytest.fixture(scope="module")
def google(server):
    from googleapiclient import discovery

    base, _ = server
    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        discoveryServiceUrl=f"{base}/$discovery/rest?version=v1alpha1",
        developerKey=TOKEN,
        static_discovery=False,
        cache_discovery=False,
    )


@pytest.fixture(scope="module")
def local():
    """The app in-process (shipped models), for the error bodies."""
    from classifier.moderator import Moderator

    moderator = Moderator.load(sentiment=False, reasons=False)
    return moderator


def _client(tmp_path, moderator, **options) -> TestClient:
    return TestClient(create_app(tmp_path / "q.db", TOKEN, moderator, PerspectiveOptions(**options)))


def _analyze(client: TestClient, body: dict, key: str | None = TOKEN):
    url = "/v1alpha1/comments:analyze" + (f"?key={key}&alt=json" if key else "")
    return client.post(url, json=body)


# ---------------------------------------------------------------------------- a real client, a live server


def test_discovery_document_names_the_server_itself_as_root(server):
    base, _ = server
    doc = httpx.get(f"{base}/$discovery/rest", params={"version": "v1alpha1"}).json()
    assert doc["rootUrl"] == base + "/"
    methods = doc["resources"]["comments"]["methods"]
    assert methods["analyze"]["path"] == "v1alpha1/comments:analyze"
    assert methods["suggestscore"]["httpMethod"] == "POST"


def test_google_client_analyzes_french_without_spans(google):
    body = {"comment": {"text": FRENCH}, "requestedAttributes": {"TOXICITY": {}, "SHOUTING_EXPERIMENTAL": {}}}
    out = google.comments().analyze(body=body).execute()
    toxicity = out["attributeScores"]["TOXICITY"]
    assert toxicity["summaryScore"]["type"] == "PROBABILITY"
    assert 0.5 < toxicity["summaryScore"]["value"] <= 1.0
    assert "spanScores" not in toxicity
    assert 0.0 <= out["attributeScores"]["SHOUTING_EXPERIMENTAL"]["summaryScore"]["value"] < 0.5
    assert out["detectedLanguages"] == ["fr"] and out["languages"] == ["fr"]


def test_google_client_analyzes_english_with_spans_languages_and_client_token(google):
    body = {
        "comment": {"text": ENGLISH},
        "requestedAttributes": {"TOXICITY@6": {}},
        "spanAnnotations": True,
        "languages": ["en"],
        "clientToken": "req-42",
    }
    out = google.comments().analyze(body=body).execute()
    assert out["clientToken"] == "req-42"
    assert out["languages"] == ["en"] and "detectedLanguages" not in out
    spans = out["attributeScores"]["TOXICITY"]["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(0, 33), (34, len(ENGLISH))]
    polite, insult = (s["score"]["value"] for s in spans)
    assert insult > polite


def test_google_client_gets_perspectives_error_for_an_unknown_attribute(google):
    from googleapiclient.errors import HttpError

    body = {"comment": {"text": FRENCH}, "requestedAttributes": {"TOXICITY": {}, "NOT_AN_ATTRIBUTE": {}}}
    with pytest.raises(HttpError) as caught:
        google.comments().analyze(body=body).execute()
    assert caught.value.resp.status == 400
    error = json.loads(caught.value.content)["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "NOT_AN_ATTRIBUTE" in error["message"]
    assert error["details"][0]["errorType"] == "INVALID_REQUEST"


def test_google_client_gets_every_attribute_and_insult_versus_threat(google):
    from tests.test_attributes import INSULTS, THREATS

    every = {name: {} for name in ("TOXICITY", "SEVERE_TOXICITY", "INSULT", "THREAT", "IDENTITY_ATTACK", "PROFANITY",
                                   "SHOUTING_EXPERIMENTAL")}  # fmt: skip
    for language in ("fr", "en"):
        insult, threat = (
            google.comments().analyze(body={"comment": {"text": t}, "requestedAttributes": every}).execute()
            for t in (INSULTS[language][0], THREATS[language][0])
        )
        assert set(insult["attributeScores"]) == set(every) and insult["detectedLanguages"] == [language]
        values = {k: v["summaryScore"]["value"] for k, v in insult["attributeScores"].items()}
        assert all(0.0 <= v <= 1.0 for v in values.values())
        assert values["INSULT"] > values["THREAT"]
        threat_values = {k: v["summaryScore"]["value"] for k, v in threat["attributeScores"].items()}
        assert threat_values["THREAT"] > threat_values["INSULT"]


def test_suggestscore_feedback_appears_in_queue_export(google, server):
    _, db = server
    body = {
        "comment": {"text": "Retourne dans ta grotte, sale troll"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.95}}},
        "languages": ["fr"],
        "clientToken": "coral-7",
        "communityId": "lemonde-debats",
    }
    out = google.comments().suggestscore(body=body).execute()
    assert out["clientToken"] == "coral-7"
    export = subprocess.run(classifier_cmd("queue", "export", "--db", str(db)), cwd=ROOT, capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    rows = [r for r in csv.DictReader(io.StringIO(export.stdout)) if r["decision"] == "suggestscore"]
    assert [(r["text"], r["label"], r["attribute"], float(r["score"]), r["language"]) for r in rows] == [
        ("Retourne dans ta grotte, sale troll", "1", "toxicity", 0.95, "fr")
    ]
    assert rows[0]["page"] == "lemonde-debats"


def test_coral_talks_exact_request_and_the_field_it_reads(server):
    base, _ = server
    coral = {"comment": {"text": FRENCH}, "doNotStore": True, "requestedAttributes": {"TOXICITY": {}}, "languages": ["fr"]}
    response = httpx.post(f"{base}/v1alpha1/comments:analyze", params={"key": TOKEN}, json=coral, timeout=10)
    assert response.status_code == 200
    assert 0.5 < response.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"] <= 1.0
    polite = {**coral, "comment": {"text": "Merci pour cet article très complet."}}
    value = httpx.post(f"{base}/v1alpha1/comments:analyze", params={"key": TOKEN}, json=polite).json()
    assert value["attributeScores"]["TOXICITY"]["summaryScore"]["value"] < 0.5


def test_a_wrong_or_missing_key_is_perspectives_invalid_key_body(server):
    base, _ = server
    body = {"comment": {"text": "bonjour"}, "requestedAttributes": {"TOXICITY": {}}}
    for params in ({"key": "not-the-token"}, {}):
        response = httpx.post(f"{base}/v1alpha1/comments:analyze", params=params, json=body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["message"].startswith("API key not valid") and error["details"][0]["reason"] == "API_KEY_INVALID"
    header = httpx.post(f"{base}/v1alpha1/comments:analyze", headers={"Authorization": f"Bearer {TOKEN}"}, json=body)
    assert header.status_code == 200


# ---------------------------------------------------------------------------- error bodies and options, in-process


def _error_type(response) -> str:
    return response.json()["error"]["details"][0]["errorType"]


def test_error_bodies_follow_googles_format(tmp_path, local):
    client = _client(tmp_path, local)
    cases = [
        ({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY"),
        ({"requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY"),
        ({"comment": {"text": "é" * (MAX_COMMENT_BYTES // 2 + 1)}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_TOO_LONG"),
        ({"comment": {"text": "bonjour"}}, "NO_REQUESTED_ATTRIBUTES"),
        ({"comment": {"text": "bonjour"}, "requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}}}, "INVALID_REQUEST"),
        ({"comment": {"text": "bonjour"}, "requestedAttributes": ["TOXICITY"]}, "INVALID_REQUEST"),
    ]
    for body, expected in cases:
        response = _analyze(client, body)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and error["message"]
        assert error["details"][0]["@type"] == "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
        assert _error_type(response) == expected, body
    broken = client.post(f"/v1alpha1/comments:analyze?key={TOKEN}", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and _error_type(broken) == "INVALID_REQUEST"  # the server's JSON check, in Google's format
    huge = _analyze(client, {"comment": {"text": "a" * 3_000_000}, "requestedAttributes": {"TOXICITY": {}}})
    assert huge.status_code == 400 and _error_type(huge) == "COMMENT_TOO_LONG"  # the body limit, before any route
    wrong_method = client.get(f"/v1alpha1/comments:analyze?key={TOKEN}")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == 405


def test_another_language_is_refused_with_the_detected_language(tmp_path, local):
    client = _client(tmp_path, local)
    german = "Das ist doch völlig übertrieben, die Regierung sollte sich schämen."
    for body, detected in [
        ({"comment": {"text": german}, "requestedAttributes": {"TOXICITY": {}}}, ["de"]),
        ({"comment": {"text": "bonjour"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["ja"]}, ["ja"]),
    ]:
        response = _analyze(client, body)
        assert response.status_code == 400 and _error_type(response) == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
        detail = response.json()["error"]["details"][0]["languageNotSupportedByAttributeError"]
        assert detail == {"detectedLanguages": detected, "attribute": "TOXICITY"}
    regional = _analyze(client, {"comment": {"text": "bonjour"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["fr-CH"]})
    assert regional.status_code == 200 and regional.json()["languages"] == ["fr-CH"]


def test_scores_below_the_threshold_are_left_out(tmp_path, local):
    client = _client(tmp_path, local)
    body = {"comment": {"text": "Merci pour cet article"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.9},
                                                                                   "SHOUTING_EXPERIMENTAL": {"scoreThreshold": 0}}}
    scores = _analyze(client, body).json()["attributeScores"]
    assert list(scores) == ["SHOUTING_EXPERIMENTAL"]


def test_span_offsets_are_utf16_code_units_end_exclusive():
    text = "Bravo 😀 ! Quel idiot.  Fin"
    spans = sentence_spans(text)
    units = text.encode("utf-16-le")
    assert [units[2 * b : 2 * e].decode("utf-16-le") for b, e, _ in spans] == ["Bravo 😀 !", "Quel idiot.", "Fin"]
    assert spans[1][0] == len("Bravo 😀 ! ") + 1  # the emoji is two UTF-16 code units


def test_rate_limit_per_key_answers_429(tmp_path, local):
    client = _client(tmp_path, local, rate_limit=2)
    body = {"comment": {"text": "bonjour"}, "requestedAttributes": {"TOXICITY": {}}}
    codes = [_analyze(client, body).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    last = _analyze(client, body)
    assert last.json()["error"]["status"] == "RESOURCE_EXHAUSTED" and _error_type(last) == "RATE_LIMIT_EXCEEDED"
    clock = [0.0]
    limiter = RateLimiter(60, clock=lambda: clock[0])
    assert all(limiter.allow("k") for _ in range(60)) and not limiter.allow("k")
    clock[0] += 1.0  # one request per second comes back
    assert limiter.allow("k") and not limiter.allow("k") and limiter.allow("other")


def test_analyze_stores_nothing_unless_the_server_opted_in(tmp_path, local):
    from classifier.store import SQLiteStore

    body = {"comment": {"text": "Quel commentaire idiot"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": False}
    (tmp_path / "a").mkdir()
    default = _client(tmp_path / "a", local)
    assert _analyze(default, body).status_code == 200
    assert SQLiteStore(tmp_path / "a" / "q.db").counts()["pending"] == 0
    (tmp_path / "b").mkdir()
    opted = _client(tmp_path / "b", local, store_analyzed=True)
    assert _analyze(opted, {**body, "doNotStore": True}).status_code == 200
    assert SQLiteStore(tmp_path / "b" / "q.db").counts()["pending"] == 0
    assert _analyze(opted, body).status_code == 200
    queued = SQLiteStore(tmp_path / "b" / "q.db").list_comments("pending")
    assert [(c["text"], c["language"]) for c in queued] == [("Quel commentaire idiot", "fr")]
    assert queued[0]["attributes"]["toxicity"] == pytest.approx(queued[0]["hostile"], abs=1e-4)

