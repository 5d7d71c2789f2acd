"""The moderation queue over HTTP: a JSON API (FastAPI, OpenAPI at ``/openapi.json``) and the moderator page.

Every ``/api`` request needs a moderator's token (``classifier queue user add``) or the
deployment's token (an admin), as ``Authorization: Bearer <token>`` or ``X-Token: <token>``;
without one, or with a revoked one, the answer is 401 (see :mod:`classifier.web.auth`).
Decisions are recorded under the token's account name. Settings, accounts and the
export need an admin (403 otherwise). The page at ``/`` and its static files are
public: they hold no data, and the page asks for a token before any call.

Decisions commit (``synchronous=FULL``) before the response leaves, so an
acknowledged decision survives a crash of the server.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, create_model

from classifier import __version__
from classifier import accounts
from classifier.errors import StoreError
from classifier.queue import EXPORT_COLUMNS, Scorer, export_rows, in_context, normalise_word
from classifier.schema import DECISIONS, QUEUE_DECISIONS, STATUSES, QueueStatus
from classifier.store import ATTRIBUTE_FILTERS, MIN_SEARCH, ROLES, Filters, Settings, SettingsError, UnknownComment, UnknownUser, open_store
from classifier.web import middleware
from classifier.web.auth import AdminUser, CurrentUser, current_user

#: The API's types for the values declared in :mod:`classifier.schema`.
StatusValue = Literal[STATUSES]  # type: ignore[valid-type]
DecisionValue = Literal[QUEUE_DECISIONS]  # type: ignore[valid-type]
ModelDecisionValue = Literal[DECISIONS]  # type: ignore[valid-type]
RoleValue = Literal[ROLES]  # type: ignore[valid-type]
AttributeValue = Literal[tuple(ATTRIBUTE_FILTERS)]  # type: ignore[valid-type]

STATIC = Path(__file__).resolve().parent / "static"
#: Largest ``offset`` of a listing (beyond any queue; SQLite integers stop at 2**63).
MAX_OFFSET = 1_000_000_000
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
    claimed_by: str | None = Field(default=None, description="the moderator reviewing this pending comment, if any")
    claimed_until: str | None = Field(default=None, description="when that claim expires")


class Parent(BaseModel):
    id: str
    author: str | None
    text: str
    status: str


class ListedComment(CommentOut):
    author_history: dict[str, int] | None = Field(
        default=None, description="how many of this author's comments are pending, approved, rejected"
    )
    parent: Parent | None = Field(default=None, description="the comment this one replies to, when it is queued")


#: Comments per status (one field per :class:`~classifier.schema.QueueStatus`).
Counts = create_model("Counts", **{status: (int, ...) for status in STATUSES})


class CommentList(BaseModel):
    items: list[ListedComment]
    counts: Counts
    status: StatusValue
    limit: int
    offset: int


class DecisionIn(BaseModel):
    decision: DecisionValue
    note: str | None = Field(default=None, max_length=2000)


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class Me(BaseModel):
    name: str
    role: RoleValue


class SettingsIn(BaseModel):
    auto_approve_below: float | None = Field(default=None, ge=0.0, le=1.0)
    auto_reject_above: float | None = Field(default=None, ge=0.0, le=1.0)
    banned: list[str] = Field(default_factory=list, max_length=1000)
    suspect: list[str] = Field(default_factory=list, max_length=1000)


class SettingsOut(BaseModel):
    auto_approve_below: float | None
    auto_reject_above: float | None
    banned: list[str]
    suspect: list[str]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=accounts.MAX_NAME)
    role: RoleValue = "moderator"


class UserOut(BaseModel):
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    active: bool


class NewUser(BaseModel):
    name: str
    role: str
    token: str = Field(description="shown once: only its hash is stored")


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


def create_app(db: str | Path, token: str | None = None, moderator: Scorer | None = None) -> FastAPI:
    """The HTTP app for the queue at ``db`` (a SQLite file or a ``postgresql://`` URL).

    ``token`` is the deployment's admin token (``CLASSIFIER_TOKEN``), None when only the
    accounts in the database may call. ``moderator`` scores ``POST /api/score``; None loads
    the shipped model on first use. Raises StoreError at once when the database is locked,
    corrupted or unknown.
    """
    store = open_store(db, create=True)
    scorer: dict[str, Scorer] = {"moderator": moderator} if moderator is not None else {}

    def get_scorer() -> Scorer:
        if "moderator" not in scorer:
            from classifier.moderator import Moderator

            scorer["moderator"] = Moderator.load()
        return scorer["moderator"]

    app = FastAPI(
        title="classifier moderation queue",
        version=__version__,
        description="Review reader comments scored by the local model; decisions retrain it. "
        "Every /api call needs `Authorization: Bearer <token>` (a moderator's or an admin's).",
        docs_url=None,  # the interactive docs load scripts from a CDN; /openapi.json is enough
        redoc_url=None,
    )
    app.state.store = store
    app.state.admin_token = token or None
    middleware.install(app, check_token=lambda state, token: accounts.authenticate(state.store, token, state.admin_token) is not None)
    api = APIRouter(prefix="/api", dependencies=[Depends(current_user)])

    @app.exception_handler(StoreError)
    def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    def _comment(comment_id: str) -> dict[str, Any]:
        try:
            return store.get(comment_id)
        except UnknownComment:
            raise HTTPException(404, f"no comment {comment_id!r} in the queue") from None

    @api.get("/me", response_model=Me, summary="Who I am: the account behind my token")
    def me(user: CurrentUser) -> dict[str, Any]:
        return {"name": user.name, "role": user.role}

    @api.get("/comments", response_model=CommentList, summary="Comments with a status; pending by priority")
    def list_comments(
        status: Annotated[StatusValue, Query()] = QueueStatus.pending.value,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        page: Annotated[str | None, Query(max_length=2000, description="only this page (article)")] = None,
        author: Annotated[str | None, Query(max_length=200, description="only this author")] = None,
        attribute: Annotated[
            AttributeValue | None,
            Query(description="only hostile (probability >= 0.5), shouting, or held by a suspect word"),
        ] = None,
        q: Annotated[
            str | None, Query(min_length=MIN_SEARCH, max_length=200, description="text or author contains this")
        ] = None,
    ) -> dict[str, Any]:
        """Each item also has its author's history (pending/approved/rejected counts) and its parent when a reply."""
        filters = Filters(page=page or None, author=author or None, attribute=attribute, search=q)
        return {
            "items": in_context(store, store.list_comments(status, limit, offset, filters)),
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

    def _decide(comment_id: str, decision: str, by: str, note: str | None) -> dict[str, Any]:
        try:
            return store.decide(comment_id, decision, by=by, note=note)
        except UnknownComment:
            raise HTTPException(404, f"no comment {comment_id!r} in the queue") from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None

    @api.post("/comments/{comment_id}/decision", response_model=CommentOut, summary="Approve, reject or undo")
    def decide(comment_id: str, body: DecisionIn, user: CurrentUser) -> dict[str, Any]:
        """Record a decision under the caller's account (committed durably before the answer); return the comment.

        ``undo`` puts a decided comment back in pending (409 if it is pending already); a
        pending comment another moderator has claimed is 409 too ("being reviewed by ...").
        """
        return _decide(comment_id, body.decision, user.name, body.note)

    @api.post("/comments/{comment_id}/undo", response_model=CommentOut, summary="Back to pending")
    def undo(comment_id: str, user: CurrentUser, body: NoteIn | None = None) -> dict[str, Any]:
        return _decide(comment_id, "undo", user.name, (body or NoteIn()).note)

    @api.post("/claim", response_model=list[ListedComment], summary="Reserve pending comments for me")
    def claim(user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[dict[str, Any]]:
        """The caller's claimed comments (renewed) topped up to ``limit`` with the highest-priority free ones.

        Reserved for 10 minutes; two moderators claiming at once never get the same comment.
        """
        return in_context(store, store.claim(user.name, limit))

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

    # ---- admin only: settings, accounts, export

    @api.get("/settings", response_model=SettingsOut, summary="The queue rules (admin)")
    def get_settings(_: AdminUser) -> dict[str, Any]:
        return store.settings().to_dict()

    @api.put("/settings", response_model=SettingsOut, summary="Replace the queue rules (admin)")
    def put_settings(body: SettingsIn, _: AdminUser) -> dict[str, Any]:
        words = {key: tuple(dict.fromkeys(w for w in map(normalise_word, getattr(body, key)) if w)) for key in ("banned", "suspect")}
        try:
            settings = Settings(auto_approve_below=body.auto_approve_below, auto_reject_above=body.auto_reject_above, **words)
        except SettingsError as exc:
            raise HTTPException(422, str(exc)) from None
        store.save_settings(settings)
        return settings.to_dict()

    @api.get("/users", response_model=list[UserOut], summary="Moderator accounts (admin)")
    def get_users(_: AdminUser) -> list[dict[str, Any]]:
        return accounts.list_users(store)

    @api.post("/users", response_model=NewUser, status_code=201, summary="Create an account; its token is shown once (admin)")
    def post_user(body: UserIn, _: AdminUser) -> dict[str, Any]:
        try:
            token = accounts.add_user(store, body.name, body.role)
        except ValueError as exc:
            raise HTTPException(409 if "exists" in str(exc) else 422, str(exc)) from None
        return {"name": accounts.check_name(body.name), "role": body.role, "token": token}

    @api.delete("/users/{name}", status_code=204, summary="Revoke an account's token (admin)")
    def delete_user(name: str, _: AdminUser) -> Response:
        try:
            store.revoke_user(name)
        except UnknownUser:
            raise HTTPException(404, f"no account {name!r}") from None
        return Response(status_code=204)

    @api.get("/export", summary="Moderator decisions as labelled training rows, CSV (admin)")
    def export(_: AdminUser) -> Response:
        from classifier.output import write_csv

        out = io.StringIO()
        if not write_csv(export_rows(store), out, columns=EXPORT_COLUMNS):
            out.write(",".join(EXPORT_COLUMNS) + "\n")  # an empty export still has its header
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

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

