"""A Perspective-compatible API (commentanalyzer v1alpha1) on ``classifier serve``.

Newsrooms that score comments through Google's Perspective API (directly, or through
Coral Talk's "custom endpoint" setting) switch by changing one URL:

* ``POST /v1alpha1/comments:analyze`` scores ``comment.text`` for the ``requestedAttributes``
  (:data:`ATTRIBUTE_NAMES`: Perspective's six production attributes and our
  ``SHOUTING_EXPERIMENTAL`` caps rule), with sentence ``spanScores`` on request (offsets in
  UTF-16 code units, end exclusive), ``languages`` / ``detectedLanguages`` and ``clientToken``;
* ``POST /v1alpha1/comments:suggestscore`` stores a client's correction as a labelled example
  in the queue's database (``classifier queue export`` includes it);
* ``GET /$discovery/rest?version=v1alpha1`` is the discovery document, with ``rootUrl`` set to
  this server's own address, so Google's discovery-based clients work unchanged.

The API key travels as ``?key=`` (or the queue API's headers) and must be a token this server
accepts; errors have Google's shape (:func:`google_error`). The request body is read only after
the key is checked. Scoring runs in the thread pool, one batch per request (the comment and its
sentences together).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from classifier import __version__
from classifier.schema import ATTRIBUTES, LANGUAGES

VERSION = "v1alpha1"
#: Attribute names on the wire (upper case) -> our attribute names.
ATTRIBUTE_NAMES = {name.upper(): name for name in ATTRIBUTES}
#: Perspective refuses comments over 20 KB of UTF-8.
MAX_COMMENT_BYTES = 20480
#: Score types we answer; Perspective's others (STD_DEV_SCORE, PERCENTILE, RAW) are refused.
SCORE_TYPES = ("PROBABILITY", "SCORE_TYPE_UNSPECIFIED")
ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
#: Google's status names for the HTTP codes we answer with.
STATUS = {
    400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "UNIMPLEMENTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
    503: "UNAVAILABLE",
}  # fmt: skip
#: A sentence: up to and including its end punctuation (or the end of a line), without the spaces after it.
_SENTENCE = re.compile(r"[^\s].*?(?:[.!?…]+(?=\s|$)|(?=\n)|$)", re.S)
_TAG = re.compile(r"<[^>]*>")


class AttributeModel(Protocol):
    """What the router needs from a scorer: :class:`classifier.moderator.Moderator` fits."""

    def score_attributes(self, texts: Sequence[str], only: Sequence[str] | None = None) -> list[dict[str, float]]: ...
    def available_attributes(self) -> tuple[str, ...]: ...


class PerspectiveError(Exception):
    """A request error answered in Google's format."""

    def __init__(self, code: int, message: str, error_type: str | None = None, **extra: Any):
        super().__init__(message)
        self.code, self.message, self.error_type, self.extra = code, message, error_type, extra


def google_error(code: int, message: str, error_type: str | None = None, **extra: Any) -> dict[str, Any]:
    """Google's error body: ``{"error": {"code", "message", "status", "details": [...]}}``."""
    details: list[dict[str, Any]] = []
    if error_type is not None:
        details.append({"@type": ERROR_TYPE, "errorType": error_type, **extra})
    return {"error": {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN"), "details": details}}


def invalid_key_error() -> dict[str, Any]:
    """Perspective's answer to a missing or wrong API key."""
    body = google_error(400, "API key not valid. Please pass a valid API key.")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "commentanalyzer.googleapis.com"},
        }
    ]
    return body


# ---------------------------------------------------------------------------- request parsing


@dataclass(frozen=True)
class Requested:
    """One requested attribute: our name, the name to answer with, and its threshold."""

    attribute: str
    wire: str
    threshold: float | None


@dataclass(frozen=True)
class Analysis:
    """A parsed ``comments:analyze`` request."""

    text: str
    requested: tuple[Requested, ...]
    languages: tuple[str, ...]  # as the client gave them
    spans: bool
    do_not_store: bool
    client_token: str | None
    community_id: str | None


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PerspectiveError(400, f"Invalid value at '{where}': expected an object", "INVALID_REQUEST")
    return value


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise PerspectiveError(400, f"Invalid value at '{key}': expected a string", "INVALID_REQUEST")
    return value


def comment_text(body: dict[str, Any]) -> str:
    """``comment.text`` checked (non-empty, at most :data:`MAX_COMMENT_BYTES`); HTML is reduced to its text."""
    comment = _object(body.get("comment"), "comment")
    text = comment.get("text")
    if text is not None and not isinstance(text, str):
        raise PerspectiveError(400, "Invalid value at 'comment.text': expected a string", "INVALID_REQUEST")
    kind = comment.get("type") or "PLAIN_TEXT"
    if kind not in ("PLAIN_TEXT", "HTML", "TEXT_TYPE_UNSPECIFIED"):
        raise PerspectiveError(400, f"Invalid value at 'comment.type': {kind!r}", "INVALID_REQUEST")
    if text and kind == "HTML":
        import html

        text = html.unescape(_TAG.sub(" ", text))
    if not text or not text.strip():
        raise PerspectiveError(400, "Comment must be non-empty.", "COMMENT_EMPTY")
    if len(text.encode("utf-8")) > MAX_COMMENT_BYTES:
        raise PerspectiveError(400, f"Comment text too long: over {MAX_COMMENT_BYTES} bytes of UTF-8.", "COMMENT_TOO_LONG")
    return text


def requested_languages(body: dict[str, Any]) -> tuple[str, ...]:
    languages = body.get("languages") or []
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise PerspectiveError(400, "Invalid value at 'languages': expected a list of strings", "INVALID_REQUEST")
    return tuple(languages)


def parse_analysis(body: Any, available: Sequence[str]) -> Analysis:
    """Check an analyze request; raise :class:`PerspectiveError` with Perspective's error type."""
    body = _object(body, "request")
    text = comment_text(body)
    attributes = _object(body.get("requestedAttributes"), "requestedAttributes")
    if not attributes:
        raise PerspectiveError(400, "Must request at least one attribute.", "NO_REQUESTED_ATTRIBUTES")
    requested = []
    for wire, params in attributes.items():
        base = wire.split("@", 1)[0]  # "TOXICITY@6": a model version we do not have; the latest answers
        name = ATTRIBUTE_NAMES.get(base.upper())
        if name is None:
            raise PerspectiveError(400, f"Unknown attribute: {wire}", "INVALID_REQUEST")
        if name not in available:
            raise PerspectiveError(400, f"Attribute {base} is not available on this server (its model is not installed)", "INVALID_REQUEST")
        params = _object(params, f"requestedAttributes.{wire}")
        kind = params.get("scoreType") or "PROBABILITY"
        if kind not in SCORE_TYPES:
            raise PerspectiveError(400, f"Score type {kind} is not supported (PROBABILITY only).", "INVALID_REQUEST")
        threshold = params.get("scoreThreshold")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise PerspectiveError(400, f"Invalid value at 'requestedAttributes.{wire}.scoreThreshold'", "INVALID_REQUEST")
        requested.append(Requested(name, base, None if threshold is None else float(threshold)))
    for flag in ("spanAnnotations", "doNotStore"):
        if body.get(flag) is not None and not isinstance(body.get(flag), bool):
            raise PerspectiveError(400, f"Invalid value at '{flag}': expected a boolean", "INVALID_REQUEST")
    for key in ("sessionId",):
        _optional_str(body, key)
    _object(body.get("context"), "context")
    return Analysis(
        text=text,
        requested=tuple(requested),
        languages=requested_languages(body),
        spans=bool(body.get("spanAnnotations")),
        do_not_store=body.get("doNotStore") is not False,
        client_token=_optional_str(body, "clientToken"),
        community_id=_optional_str(body, "communityId"),
    )


def scored_language(text: str, languages: Sequence[str], attribute: str) -> tuple[str, list[str]]:
    """The language to score ``text`` as, and the detected languages (empty when the client gave them).

    A client's ``languages`` ("fr", "fr-CH", "EN") are used when one of them is supported;
    otherwise the text's language is detected. An unsupported language is Perspective's
    ``LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE``.
    """
    from classifier.language import detect_one

    if languages:
        supported = [code for code in (x.split("-")[0].split("_")[0].lower() for x in languages) if code in LANGUAGES]
        if supported:
            return supported[0], []
        unsupported = list(languages)
    else:
        found = detect_one(text)
        if found.language is not None:
            return found.language, [found.language]
        unsupported = [found.guess]
    raise PerspectiveError(
        400,
        f"Attribute {attribute.upper()} does not support request languages: {','.join(unsupported)}",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        languageNotSupportedByAttributeError={"detectedLanguages": unsupported, "attribute": attribute.upper()},
    )


def sentence_spans(text: str) -> list[tuple[int, int, str]]:
    """``(begin, end, sentence)`` of each sentence, offsets in UTF-16 code units (end exclusive)."""
    spans = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group().rstrip()
        if not sentence:
            continue
        begin = _utf16_len(text[: match.start()])
        spans.append((begin, begin + _utf16_len(sentence), sentence))
    return spans


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _score(value: float) -> dict[str, Any]:
    return {"value": round(float(value), 6), "type": "PROBABILITY"}


def analyze(model: AttributeModel, request: Analysis) -> tuple[dict[str, Any], str]:
    """The analyze response body, and the language the comment was scored as."""
    language, detected = scored_language(request.text, request.languages, request.requested[0].wire)
    spans = sentence_spans(request.text) if request.spans else []
    texts = [request.text] + ([s for _, _, s in spans] if len(spans) > 1 else [])
    scores = model.score_attributes(texts, only=[item.attribute for item in request.requested])
    whole, parts = scores[0], scores[1:] or [scores[0]]
    out: dict[str, Any] = {}
    for item in request.requested:
        value = whole[item.attribute]
        if item.threshold is not None and value < item.threshold:
            continue
        entry: dict[str, Any] = {}
        if request.spans:
            entry["spanScores"] = [
                {"begin": b, "end": e, "score": _score(part[item.attribute])}
                for (b, e, _), part in zip(spans, parts)
                if item.threshold is None or part[item.attribute] >= item.threshold
            ]
        entry["summaryScore"] = _score(value)
        out[item.wire] = entry
    body: dict[str, Any] = {"attributeScores": out, "languages": list(request.languages) or [language]}
    if detected:
        body["detectedLanguages"] = detected
    if request.client_token is not None:
        body["clientToken"] = request.client_token
    return body, language


# ---------------------------------------------------------------------------- feedback


@dataclass(frozen=True)
class Suggestion:
    """A parsed ``comments:suggestscore`` request: the comment and the scores a person chose."""

    text: str
    scores: dict[str, float]
    languages: tuple[str, ...]
    client_token: str | None
    community_id: str | None
    session_id: str | None
    context: dict[str, Any] = field(default_factory=dict)


def parse_suggestion(body: Any) -> Suggestion:
    body = _object(body, "request")
    text = comment_text(body)
    given = _object(body.get("attributeScores"), "attributeScores")
    if not given:
        raise PerspectiveError(400, "Must suggest at least one attribute score.", "NO_REQUESTED_ATTRIBUTES")
    scores = {}
    for wire, entry in given.items():
        name = ATTRIBUTE_NAMES.get(wire.split("@", 1)[0].upper())
        if name is None:
            raise PerspectiveError(400, f"Unknown attribute: {wire}", "INVALID_REQUEST")
        value = _object(_object(entry, f"attributeScores.{wire}").get("summaryScore"), f"attributeScores.{wire}.summaryScore").get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise PerspectiveError(
                400, f"Invalid value at 'attributeScores.{wire}.summaryScore.value': a number between 0 and 1", "INVALID_REQUEST"
            )
        scores[name] = float(value)
    return Suggestion(
        text=text,
        scores=scores,
        languages=requested_languages(body),
        client_token=_optional_str(body, "clientToken"),
        community_id=_optional_str(body, "communityId"),
        session_id=_optional_str(body, "sessionId"),
        context=_object(body.get("context"), "context"),
    )


# ---------------------------------------------------------------------------- rate limit


class RateLimiter:
    """At most ``per_minute`` requests per key in any sliding minute (a token bucket per key)."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic):
        self.per_minute = float(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.per_minute, now))
            tokens = min(self.per_minute, tokens + (now - last) * self.per_minute / 60.0)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            return allowed


# ---------------------------------------------------------------------------- discovery


def discovery_document(root_url: str) -> dict[str, Any]:
    """The v1alpha1 discovery document of the two methods, rooted at ``root_url`` (ends with "/")."""

    def method(name: str, request: str, response: str, description: str) -> dict[str, Any]:
        return {
            "id": f"commentanalyzer.comments.{name}",
            "path": f"{VERSION}/comments:{name}",
            "flatPath": f"{VERSION}/comments:{name}",
            "httpMethod": "POST",
            "description": description,
            "parameters": {},
            "parameterOrder": [],
            "request": {"$ref": request},
            "response": {"$ref": response},
        }

    def query(description: str, kind: str = "string", **more: Any) -> dict[str, Any]:
        return {"description": description, "location": "query", "type": kind, **more}

    score = {"$ref": "Score"}
    text_entry = {"$ref": "TextEntry"}
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"commentanalyzer:{VERSION}",
        "name": "commentanalyzer",
        "version": VERSION,
        "revision": __version__,
        "title": "Perspective Comment Analyzer API (classifier, self-hosted)",
        "description": "Perspective-compatible scoring by the local classifier: French and English; attributes "
        + ", ".join(ATTRIBUTE_NAMES) + ".",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "basePath": "",
        "batchPath": "batch",
        "parameters": {
            "key": query("API key: a token of this server."),
            "alt": query("Data format for response.", default="json", enum=["json"]),
            "prettyPrint": query("Returns response with indentations and line breaks.", "boolean", default="true"),
            "fields": query("Selector specifying which fields to include in a partial response (ignored)."),
            "quotaUser": query("Ignored."),
        },
        "resources": {
            "comments": {
                "methods": {
                    "analyze": method("analyze", "AnalyzeCommentRequest", "AnalyzeCommentResponse",
                                      "Analyzes the provided text and returns scores for requested attributes."),
                    "suggestscore": method("suggestscore", "SuggestCommentScoreRequest", "SuggestCommentScoreResponse",
                                           "Suggest comment scores as training data."),
                }
            }
        },
        "schemas": {
            "TextEntry": {"id": "TextEntry", "type": "object", "properties": {
                "text": {"type": "string"}, "type": {"type": "string", "enum": ["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"]}}},
            "Context": {"id": "Context", "type": "object", "properties": {
                "entries": {"type": "array", "items": text_entry},
                "articleAndParentComment": {"type": "object", "properties": {"article": text_entry, "parentComment": text_entry}}}},
            "AttributeParameters": {"id": "AttributeParameters", "type": "object", "properties": {
                "scoreType": {"type": "string", "enum": ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY"]},
                "scoreThreshold": {"type": "number", "format": "float"}}},
            "Score": {"id": "Score", "type": "object", "properties": {
                "value": {"type": "number", "format": "float"}, "type": {"type": "string"}}},
            "SpanScore": {"id": "SpanScore", "type": "object", "properties": {
                "begin": {"type": "integer", "format": "int32"}, "end": {"type": "integer", "format": "int32"}, "score": score}},
            "AttributeScores": {"id": "AttributeScores", "type": "object", "properties": {
                "summaryScore": score, "spanScores": {"type": "array", "items": {"$ref": "SpanScore"}}}},
            "AnalyzeCommentRequest": {"id": "AnalyzeCommentRequest", "type": "object", "properties": {
                "comment": text_entry, "context": {"$ref": "Context"},
                "requestedAttributes": {"type": "object", "additionalProperties": {"$ref": "AttributeParameters"}},
                "languages": strings, "doNotStore": {"type": "boolean"}, "spanAnnotations": {"type": "boolean"},
                "clientToken": {"type": "string"}, "sessionId": {"type": "string"}, "communityId": {"type": "string"}}},
            "AnalyzeCommentResponse": {"id": "AnalyzeCommentResponse", "type": "object", "properties": {
                "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}},
                "languages": strings, "detectedLanguages": strings, "clientToken": {"type": "string"}}},
            "SuggestCommentScoreRequest": {"id": "SuggestCommentScoreRequest", "type": "object", "properties": {
                "comment": text_entry, "context": {"$ref": "Context"},
                "attributeScores": {"type": "object", "additionalProperties": {"$ref": "AttributeScores"}},
                "languages": strings, "clientToken": {"type": "string"}, "sessionId": {"type": "string"},
                "communityId": {"type": "string"}}},
            "SuggestCommentScoreResponse": {"id": "SuggestCommentScoreResponse", "type": "object", "properties": {
                "detectedLanguages": strings, "requestedLanguages": strings, "clientToken": {"type": "string"}}},
        },
    }  # fmt: skip


# ---------------------------------------------------------------------------- the router


@dataclass
class PerspectiveOptions:
    """How ``classifier serve`` runs the Perspective API.

    ``rate_limit``: requests per minute per key (None: no limit); ``store_analyzed``: a request
    with ``doNotStore: false`` enqueues its comment for moderation (off by default: analyze stores nothing).
    """

    rate_limit: float | None = None
    store_analyzed: bool = False


def create_router(
    get_model: Callable[[], Any],
    key_ok: Callable[[str], bool],
    store: Any,
    options: PerspectiveOptions | None = None,
) -> APIRouter:
    """The Perspective routes; ``key_ok`` says whether an API key is one of this server's tokens.

    They are described by the discovery document (Google's clients read it), not by OpenAPI.

    ``store`` is the queue's :class:`~classifier.store.QueueStore` (suggestscore feedback and opt-in
    storing of analyzed comments).
    """
    options = options or PerspectiveOptions()
    limiter = RateLimiter(options.rate_limit) if options.rate_limit else None
    router = APIRouter()

    def answer(body: dict[str, Any], request: Request, status: int = 200) -> Response:
        """JSON as Google sends it: indented unless ``prettyPrint=false``."""
        pretty = request.query_params.get("prettyPrint", "true").lower() not in ("false", "0")
        content = json.dumps(body, ensure_ascii=False, indent=2 if pretty else None).encode("utf-8")
        return Response(content, status_code=status, media_type="application/json; charset=UTF-8",
                        headers={"cache-control": "no-store"})

    def refuse(exc: PerspectiveError, request: Request) -> Response:
        return answer(google_error(exc.code, exc.message, exc.error_type, **exc.extra), request, exc.code)

    def api_key(request: Request) -> str | None:
        key = request.query_params.get("key")
        if key is None:
            auth = request.headers.get("authorization", "")
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-token")
        return key or None

    async def guarded(request: Request, work: Callable[[Any], dict[str, Any]]) -> Response:
        key = api_key(request)
        if key is None or not key_ok(key):
            return answer(invalid_key_error(), request, 400)
        if limiter is not None and not limiter.allow(key):
            return answer(google_error(429, "Quota exceeded: too many requests for this API key.", "RATE_LIMIT_EXCEEDED"), request, 429)
        try:
            body = json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError):
            return refuse(PerspectiveError(400, "Invalid JSON payload received.", "INVALID_REQUEST"), request)
        try:
            return answer(await run_in_threadpool(work, body), request)
        except PerspectiveError as exc:
            return refuse(exc, request)

    def do_analyze(body: Any) -> dict[str, Any]:
        model = get_model()
        request = parse_analysis(body, model.available_attributes())
        response, language = analyze(model, request)
        if options.store_analyzed and not request.do_not_store:
            from classifier.queue import enqueue_texts

            enqueue_texts(store, model, [request.text], page=request.community_id or "perspective", languages=[language])
        return response

    def do_suggest(body: Any) -> dict[str, Any]:
        suggestion = parse_suggestion(body)
        language, detected = scored_language(suggestion.text, suggestion.languages, next(iter(suggestion.scores)))
        store.add_feedback(
            text=suggestion.text,
            scores=suggestion.scores,
            language=language,
            client_token=suggestion.client_token,
            community_id=suggestion.community_id,
            session_id=suggestion.session_id,
            context=suggestion.context,
        )
        out: dict[str, Any] = {"detectedLanguages": detected or [language]}
        if suggestion.languages:
            out["requestedLanguages"] = list(suggestion.languages)
        if suggestion.client_token is not None:
            out["clientToken"] = suggestion.client_token
        return out

    @router.post(f"/{VERSION}/comments:analyze", summary="Perspective: score a comment's attributes", include_in_schema=False)
    async def comments_analyze(request: Request) -> Response:
        return await guarded(request, do_analyze)

    @router.post(f"/{VERSION}/comments:suggestscore", summary="Perspective: store a moderator's scores as training data", include_in_schema=False)
    async def comments_suggestscore(request: Request) -> Response:
        return await guarded(request, do_suggest)

    @router.get("/$discovery/rest", summary="Perspective: the discovery document", include_in_schema=False)
    def discovery(request: Request, version: str = VERSION) -> Response:
        if version != VERSION:
            return answer(google_error(404, f"Discovery document not found for API service: commentanalyzer {version}"), request, 404)
        return answer(discovery_document(str(request.base_url)), request)

    return router


# ---------------------------------------------------------------------------- errors of the layers below


class GoogleErrors:
    """ASGI middleware: the server's own ``{"detail": ...}`` errors under ``/v1alpha1/`` in Google's format.

    The server's limits answer before any route runs (no token: 401; body too large: 413;
    malformed JSON: 400/422; unknown method: 405). Perspective clients read Google's body,
    so those become: a missing or wrong key, Perspective's 400 "API key not valid"; a body
    too large, 400 ``COMMENT_TOO_LONG``; other client errors, 400 ``INVALID_REQUEST``; the
    rest keep their code with Google's body. Add it outermost (after the limits).
    """

    def __init__(self, app: Any, prefix: str = f"/{VERSION}/"):
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}

        async def rewrite(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                held["start"] = message  # wait for the body: is it the layers' {"detail": ...}?
                return
            if "start" in held and message["type"] == "http.response.body":
                start, body = held.pop("start"), message.get("body", b"")
                converted = _google_body(start["status"], body)
                if converted is not None:
                    status, content = converted
                    headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"content-type")]
                    headers += [(b"content-type", b"application/json; charset=UTF-8"), (b"content-length", str(len(content)).encode())]
                    start, body = {**start, "status": status, "headers": headers}, content
                await send(start)
                await send({**message, "body": body})
                return
            await send(message)

        await self.app(scope, receive, rewrite)


def _google_body(status: int, body: bytes) -> tuple[int, bytes] | None:
    """(status, Google's body) for a ``{"detail": ...}`` error, or None to leave the response alone."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"detail"}:
        return None
    detail = data["detail"] if isinstance(data["detail"], str) else json.dumps(data["detail"])
    if status == 401:
        status, error = 400, invalid_key_error()
    elif status == 413:
        status, error = 400, google_error(400, f"Comment text too long: {detail}.", "COMMENT_TOO_LONG")
    elif status in (400, 422):
        status, error = 400, google_error(400, detail, "INVALID_REQUEST")
    else:
        error = google_error(status, detail)
    return status, json.dumps(error).encode("utf-8")

