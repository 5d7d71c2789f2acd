"""schemathesis against the server's own OpenAPI document: every endpoint, with and without a token, never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings

from classifier.queue import ingest
from classifier.store import open_store
from classifier.web.app import create_app
from tests.queue_support import JSONL_COMMENTS, KeywordScorer, write_jsonl

TOKEN = "schemathesis-token-4c2b9e7f1a"
#: Generated requests per endpoint (each sent three times): bounded, so the run stays well under a minute.
EXAMPLES = 10
HEADERS = {
    "no-token": {},
    "wrong-token": {"Authorization": "Bearer not-the-token"},
    "admin-token": {"Authorization": f"Bearer {TOKEN}"},
}


@pytest.fixture(scope="module")
def operations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    store = open_store(folder / "queue.db", create=True)
    ingest(store, [str(write_jsonl(folder / "c.jsonl", JSONL_COMMENTS))], KeywordScorer())
    store.close()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(folder / "queue.db", TOKEN, KeywordScorer()))
    return {f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in schema.get_all_operations())}


def test_the_document_lists_every_api_endpoint(operations):
    assert {"GET /api/comments", "POST /api/comments/{comment_id}/decision", "POST /api/score", "GET /api/stats"} <= set(operations)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_no_generated_request_makes_a_server_error(operations, mode):
    """Each generated request (valid ones, then invalid ones) is sent without a token, with a wrong one,
    then with the admin's: never a 5xx, and without a valid token always 401 (the token comes first)."""
    seen: dict[str, set[int]] = {}
    for name, operation in sorted(operations.items()):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def check(case):
            kept = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "x-token")}
            for auth, extra in HEADERS.items():
                response = case.call(headers={**kept, **extra})
                where = (name, auth, case.formatted_path, response.status_code, response.text[:300])
                assert response.status_code < 500, where
                if auth != "admin-token" and case.path.startswith("/api"):
                    assert response.status_code == 401, where
                seen.setdefault(name, set()).add(response.status_code)

        check()
    assert set(seen) == set(operations)
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= code < 300 for codes in seen.values() for code in codes)  # the admin token got through
