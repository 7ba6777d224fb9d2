"""The HTTP face of a served model: Open Inference Protocol (V2) routes, `/metrics`, limits.

Every refusal is JSON ``{"error": "<one line>"}`` with its status: 400 bad tensors, 401 no or wrong
token, 404 unknown model, 413 too large, 503 queue full.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from studio.core.serve.metrics import Metrics
from studio.core.serve.model import RequestError, ServedModel

log = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Limits:
    workers: int = 2
    """Inference requests run at once (threads into one onnxruntime session)."""
    queue: int = 64
    """Requests allowed to wait for a worker; one more is answered 503."""
    max_body: int = 32 << 20
    """Largest request body in bytes; a larger one is answered 413 unread."""


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class BearerToken:
    """Every route needs ``Authorization: Bearer <token>`` (compared in constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = _error(
                    "Missing or wrong token: send 'Authorization: Bearer <token>'", 401
                )
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = RequestError(f"The request is larger than the limit of {limit} bytes", 413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a chunked upload that never declared its length
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(model: ServedModel, limits: Limits, metrics: Metrics, token: str | None) -> ASGIApp:
    state: dict[str, anyio.CapacityLimiter] = {}

    def endpoint(route: str, handler: Endpoint) -> Endpoint:
        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestError as exc:
                response = _error(exc.message, exc.status)
            except Exception:  # a bug: logged with its traceback, the client gets one line
                log.exception("studio serve: %s failed", route)
                response = _error("The server failed on this request; see its log", 500)
            metrics.count(route, response.status_code)
            return response

        return wrapped

    def served(request: Request) -> ServedModel:
        name = request.path_params["name"]
        if name != model.name:
            raise RequestError(f"Unknown model '{name}'; this server serves '{model.name}'", 404)
        return model

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(request: Request) -> Response:
        return JSONResponse({"ready": True})

    async def metadata(request: Request) -> Response:
        return JSONResponse(served(request).metadata())

    async def model_ready(request: Request) -> Response:
        return JSONResponse({"name": served(request).name, "ready": True})

    def work(body: bytes, began: list[bool]) -> bytes:
        metrics.start()
        began.append(True)
        # orjson: the standard json module's parsing was a third of a small request's time.
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RequestError("The request body is not valid JSON") from exc
        return orjson.dumps(model.infer(request))

    async def infer(request: Request) -> Response:
        served(request)
        body = await _read_body(request, limits.max_body)
        if not metrics.admit(limits.workers + limits.queue):
            raise RequestError("The server is busy (its queue is full); try again shortly", 503)
        started = time.perf_counter()
        limiter = state.setdefault("limiter", anyio.CapacityLimiter(limits.workers))
        began: list[bool] = []  # whether a worker took it, or it left while still waiting
        try:
            answer = await anyio.to_thread.run_sync(work, body, began, limiter=limiter)
        finally:
            metrics.leave(started=bool(began))
        metrics.observe(time.perf_counter() - started)
        return Response(answer, media_type="application/json")

    async def prometheus(request: Request) -> Response:
        return PlainTextResponse(metrics.text(), media_type="text/plain; version=0.0.4")

    routes = [
        ("/v2/health/live", "live", live, "GET"),
        ("/v2/health/ready", "ready", ready, "GET"),
        ("/v2/models/{name}", "model", metadata, "GET"),
        ("/v2/models/{name}/ready", "model_ready", model_ready, "GET"),
        ("/v2/models/{name}/infer", "infer", infer, "POST"),
        ("/metrics", "metrics", prometheus, "GET"),
    ]
    app: ASGIApp = Starlette(
        routes=[Route(path, endpoint(name, h), methods=[m]) for path, name, h, m in routes]
    )
    return BearerToken(app, token) if token else app
