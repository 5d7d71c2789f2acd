"""ASGI middleware of the server: limits and checks that run before any route reads a request.

In the order a request meets them (:func:`install` adds them to an app):

1. :class:`SecurityHeaders`: every response carries :data:`SECURITY_HEADERS`.
2. :class:`BodyLimit`: a body larger than :data:`MAX_BODY_BYTES` is refused with 413, from its
   ``Content-Length`` before a byte is read, or as soon as a chunked body passes the limit.
   It applies to every route, so a router added later is covered too.
3. :class:`TokenGate`: requests under a protected prefix (``/api/``, ``/v1alpha1/``) without a
   valid token get 401 before their body is read (routes still check the token and the role:
   this gate only keeps unauthenticated bodies out of memory).
4. :class:`CleanJSON`: a JSON body is parsed once here; ``NaN``/``Infinity`` (not JSON) and lone
   surrogates (not encodable text) are refused with 422, so no route can store or echo them
   and fail with a 500.

Errors are JSON ``{"detail": ...}``, as FastAPI's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders, QueryParams

#: The page loads only its own files; inline scripts and handlers never run (defence in depth).
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
#: Largest request body accepted (1,000 texts of ``POST /api/score`` at about 1 KiB each fit easily).
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Path prefixes whose requests need a token before their body is read.
PROTECTED_PREFIXES = ("/api/", "/v1alpha1/")

Send = Callable[[dict], Any]
Receive = Callable[[], Any]


async def send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """A complete JSON error response ``{"detail": detail}``."""
    body = json.dumps({"detail": detail}).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response (and ``no-store`` under ``/api``)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
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


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for a request body over ``limit`` bytes: declared (``Content-Length``) or counted as it streams."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body over {self.limit:,} bytes"
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await send_json(send, 400, "invalid Content-Length")
                return
            if int(declared) > self.limit:
                await send_json(send, 413, message, {"connection": "close"})
                return
        received = 0
        started = False

        async def counted() -> dict:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return event

        async def tracked(event: dict) -> None:
            nonlocal started
            started = started or event["type"] == "http.response.start"
            await send(event)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await send_json(send, 413, message, {"connection": "close"})


def _token(scope: dict) -> str | None:
    """The token a request carries: ``Authorization: Bearer``, ``X-Token`` or ``?key=``."""
    headers = Headers(scope=scope)
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if headers.get("x-token"):
        return headers["x-token"]
    return QueryParams(scope.get("query_string", b"").decode("latin-1")).get("key")


class TokenGate:
    """401 before the body is read, for protected paths without a valid token.

    ``check(app_state, token) -> bool`` is the deployment's token check (run in a worker
    thread: it may query the database).
    """

    def __init__(self, app: Any, check: Callable[[Any, str], bool], prefixes: Iterable[str] = PROTECTED_PREFIXES):
        self.app = app
        self.check = check
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            token = _token(scope)
            state = scope["app"].state if "app" in scope else None
            try:
                valid = bool(token) and await run_in_threadpool(self.check, state, token)
            except Exception as exc:  # the database behind the accounts is down: say so, never a 500
                await send_json(send, 503, f"cannot check the token: {exc}")
                return
            if not valid:
                await send_json(send, 401, "missing, invalid or revoked token", {"www-authenticate": "Bearer"})
                return
        await self.app(scope, receive, send)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class CleanJSON:
    """422 for a JSON body holding ``NaN``/``Infinity`` or a lone surrogate; 400 for one that does not parse.

    The body (already bounded by :class:`BodyLimit`) is read here and handed on unchanged.
    """

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "json" not in Headers(scope=scope).get("content-type", ""):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                return
            chunks.append(event.get("body", b""))
            if not event.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _json_problem(body)
        if problem:
            await send_json(send, problem[0], problem[1])
            return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _json_problem(body: bytes) -> tuple[int, str] | None:
    """(status, message) of what is wrong with a JSON body, or None (an empty body is the route's business)."""
    if not body.strip():
        return None
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        return 400, "the body is not UTF-8"
    except ValueError as exc:
        return 400, f"invalid JSON: {str(exc).splitlines()[0]}"
    except RecursionError:
        return 400, "invalid JSON: nested too deeply"
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return 422, "the body holds a lone surrogate (\\ud800-\\udfff): not text"
    return None


def install(app: Any, check_token: Callable[[Any, str], bool], limit: int = MAX_BODY_BYTES) -> None:
    """Add the middleware to ``app`` (a Starlette or FastAPI app), outermost first as listed in the module doc."""
    app.add_middleware(CleanJSON)
    app.add_middleware(TokenGate, check=check_token)
    app.add_middleware(BodyLimit, limit=limit)
    app.add_middleware(SecurityHeaders)
