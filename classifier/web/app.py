"""The moderation queue over HTTP: a JSON API (FastAPI, OpenAPI at ``/openapi.json``) and the moderator page.

Every ``/api`` request needs the deployment's token, as ``Authorization: Bearer <token>``
or ``X-Token: <token>`` (compared in constant time); without it the answer is 401.
The page at ``/`` and its static files are public: they hold no data, and the page
asks the moderator for the token before any call.

Decisions commit (``synchronous=FULL``) before the response leaves, so an
acknowledged decision survives a crash of the server.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, create_model
from starlette.datastructures import MutableHeaders

from classifier import __version__
from classifier.errors import StoreError
from classifier.queue import Scorer
from classifier.schema import DECISIONS, QUEUE_DECISIONS, STATUSES, QueueStatus
from classifier.store import SQLiteStore, UnknownComment

#: The API's types for the values declared in :mod:`classifier.schema`.
StatusValue = Literal[STATUSES]  # type: ignore[valid-type]
DecisionValue = Literal[QUEUE_DECISIONS]  # type: ignore[valid-type]
ModelDecisionValue = Literal[DECISIONS]  # type: ignore[valid-type]

STATIC = Path(__file__).resolve().parent / "static"
#: The page loads only its own files; inline scripts and handlers never run (defence in depth).
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
#: Most texts one ``POST /api/score`` may carry.
MAX_SCORE_TEXTS = 1000


# ---------------------------------------------------------------------------- API shapes


class CommentOut(BaseModel):
    id: str = Field(description="the queue's id (stable: derived from page, author, time and text)")
    source_id: str | None = Field(description="the comment's id in its source, if it had one (also accepted in URLs)")
    text: str
    author: str | None
    published: str | None
    page: str | None
    reply_to: str | None
    hostile: float
    shouting: bool
    caps_ratio: float
    sentiment: str | None
    reasons: list[str]
    suspect: list[str] = Field(description="suspect words of the deployment found in the text (highlighted)")
    model: str
    model_decision: ModelDecisionValue | None = Field(description="the model policy's approve/review/reject")
    priority: float = Field(description="review priority: max(hostile, 1 - |2*hostile - 1|), +1 when held by a suspect word")
    status: StatusValue
    decided_by: str | None
    decided_at: str | None
    note: str | None
    ingested_at: str


#: Comments per status (one field per :class:`~classifier.schema.QueueStatus`).
Counts = create_model("Counts", **{status: (int, ...) for status in STATUSES})


class CommentList(BaseModel):
    items: list[CommentOut]
    counts: Counts
    status: StatusValue
    limit: int
    offset: int


class DecisionIn(BaseModel):
    decision: DecisionValue
    note: str | None = Field(default=None, max_length=2000)
    by: str | None = Field(default=None, max_length=100, description="moderator name (else the X-Moderator header)")


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)
    by: str | None = Field(default=None, max_length=100)


class LogEntry(BaseModel):
    seq: int
    comment_id: str
    decision: DecisionValue
    decided_by: str
    decided_at: str
    model: str | None
    note: str | None


class ScoreIn(BaseModel):
    texts: list[str] = Field(max_length=MAX_SCORE_TEXTS)


class ScoreOut(BaseModel):
    results: list[dict[str, Any]]
    model: str


class Stats(BaseModel):
    counts: dict[str, int]
    decisions: dict[str, int]
    model: str | None = Field(description="the model this server scores with")
    models: dict[str, int] = Field(description="queued comments per model that scored them")
    version: str


# ---------------------------------------------------------------------------- app


class _SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
                if scope["path"].startswith("/api"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db_path: str | Path, token: str, moderator: Scorer | None = None) -> FastAPI:
    """The HTTP app for the queue at ``db_path``, guarded by ``token``.

    ``moderator`` scores ``POST /api/score``; None loads the shipped model on first use.
    Raises StoreError at once when the database is locked, corrupted or unknown.
    """
    if not token:
        raise ValueError("a non-empty token is required")
    store = SQLiteStore(db_path, create=True)
    expected = token.encode("utf-8")
    scorer: dict[str, Scorer] = {"moderator": moderator} if moderator is not None else {}

    def get_scorer() -> Scorer:
        if "moderator" not in scorer:
            from classifier.moderator import Moderator

            scorer["moderator"] = Moderator.load()
        return scorer["moderator"]

    def require_token(
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
        x_token: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> None:
        given = bearer.credentials if bearer is not None else x_token
        if not given or not hmac.compare_digest(given.encode("utf-8"), expected):
            raise HTTPException(401, "missing or invalid token", headers={"WWW-Authenticate": "Bearer"})

    app = FastAPI(
        title="classifier moderation queue",
        version=__version__,
        description="Review reader comments scored by the local model; decisions retrain it. "
        "Every /api call needs `Authorization: Bearer <token>`.",
        docs_url=None,  # the interactive docs load scripts from a CDN; /openapi.json is enough
        redoc_url=None,
    )
    app.state.store = store
    app.add_middleware(_SecurityHeaders)
    api = APIRouter(prefix="/api", dependencies=[Depends(require_token)])

    @app.exception_handler(StoreError)
    def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    def _comment(comment_id: str) -> dict[str, Any]:
        try:
            return store.get(comment_id)
        except UnknownComment:
            raise HTTPException(404, f"no comment {comment_id!r} in the queue") from None

    @api.get("/comments", response_model=CommentList, summary="Comments with a status; pending by priority")
    def list_comments(
        status: Annotated[StatusValue, Query()] = QueueStatus.pending.value,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        return {
            "items": store.list_comments(status, limit, offset),
            "counts": store.counts(),
            "status": status,
            "limit": limit,
            "offset": offset,
        }

    @api.get("/comments/{comment_id}", response_model=CommentOut, summary="One comment")
    def get_comment(comment_id: str) -> dict[str, Any]:
        return _comment(comment_id)

    @api.get("/comments/{comment_id}/history", response_model=list[LogEntry], summary="Its decision log")
    def history(comment_id: str) -> list[dict[str, Any]]:
        _comment(comment_id)
        return store.history(comment_id)

    def _decide(comment_id: str, decision: str, by: str | None, note: str | None) -> dict[str, Any]:
        try:
            return store.decide(comment_id, decision, by=by or "moderator", note=note)
        except UnknownComment:
            raise HTTPException(404, f"no comment {comment_id!r} in the queue") from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None

    @api.post("/comments/{comment_id}/decision", response_model=CommentOut, summary="Approve, reject or undo")
    def decide(
        comment_id: str, body: DecisionIn, x_moderator: Annotated[str | None, Header(max_length=100)] = None
    ) -> dict[str, Any]:
        """Record a moderator decision (committed durably before the answer) and return the updated comment.

        ``undo`` puts a decided comment back in pending (409 if it is pending already).
        """
        return _decide(comment_id, body.decision, body.by or x_moderator, body.note)

    @api.post("/comments/{comment_id}/undo", response_model=CommentOut, summary="Back to pending")
    def undo(
        comment_id: str,
        body: NoteIn | None = None,
        x_moderator: Annotated[str | None, Header(max_length=100)] = None,
    ) -> dict[str, Any]:
        body = body or NoteIn()
        return _decide(comment_id, "undo", body.by or x_moderator, body.note)

    @api.post("/score", response_model=ScoreOut, summary="Score texts without queueing them")
    def score(body: ScoreIn) -> dict[str, Any]:
        model = get_scorer()
        results = [r.to_dict() for r in model.score(body.texts)]
        return {"results": results, "model": getattr(model, "model_id", results[0]["model"] if results else "")}

    @api.get("/stats", response_model=Stats, summary="Counts per status, decisions, model")
    def stats() -> dict[str, Any]:
        counts = store.counts()
        return {
            "counts": {**counts, "total": sum(counts.values())},
            "decisions": store.decision_counts(),
            "model": getattr(scorer.get("moderator"), "model_id", None),
            "models": store.models(),
            "version": __version__,
        }

    @api.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(path: str) -> None:
        raise HTTPException(404, f"no API endpoint /api/{path}")

    app.include_router(api)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app

