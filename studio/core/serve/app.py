"""The HTTP face of a served model: Open Inference Protocol (V2) routes, `/metrics`, limits.

Every refusal is JSON ``{"error": "<one line>"}`` with its status: 400 bad tensors, 401 no or wrong
token, 404 unknown model, 413 too large, 503 queue full.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from studio.core.generate.session import GenerationSummary
from studio.core.serve.metrics import Metrics
from studio.core.serve.model import RequestError, ServedModel
from studio.core.serve.openai import ServedLLM, answer, last_event, new_id, server_sent_events

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
    return await _receive_body(request.scope, request.receive, limit)


def _guarded(route: str, handler: Endpoint, metrics: Metrics) -> Endpoint:
    """A route whose refusals become one JSON line and whose answers are counted."""

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


class _Routes:
    """The endpoints of one served model (V2 and /metrics; the OpenAI ones for a language model)."""

    def __init__(self, model: ServedModel | ServedLLM, limits: Limits, metrics: Metrics) -> None:
        self.model = model
        self.limits = limits
        self.metrics = metrics
        self._limiter: anyio.CapacityLimiter | None = None  # made in the server's event loop

    def served(self, request: Request) -> ServedModel:
        name = request.path_params["name"]
        if name != self.model.name or not isinstance(self.model, ServedModel):
            raise RequestError(
                f"Unknown model '{name}'; this server serves '{self.model.name}'", 404
            )
        return self.model

    async def live(self, request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(self, request: Request) -> Response:
        return JSONResponse({"ready": True})

    async def metadata(self, request: Request) -> Response:
        return JSONResponse(self.served(request).metadata())

    async def model_ready(self, request: Request) -> Response:
        return JSONResponse({"name": self.served(request).name, "ready": True})

    async def prometheus(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.text(), media_type="text/plain; version=0.0.4")

    def _work(self, model: ServedModel, body: bytes, began: list[bool]) -> bytes:
        self.metrics.start()
        began.append(True)
        # orjson: the standard json module's parsing was a third of a small request's time.
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RequestError("The request body is not valid JSON") from exc
        return orjson.dumps(model.infer(request))

    async def infer(self, request: Request) -> Response:
        model = self.served(request)
        body = await _read_body(request, self.limits.max_body)
        return Response(await self.run(model, body), media_type="application/json")

    async def run(self, model: ServedModel, body: bytes) -> bytes:
        """One inference in a worker thread, through the bounded queue; the answer's JSON."""
        if not self.metrics.admit(self.limits.workers + self.limits.queue):
            raise RequestError("The server is busy (its queue is full); try again shortly", 503)
        started = time.perf_counter()
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.limits.workers)
        began: list[bool] = []  # whether a worker took it, or it left while still waiting
        try:
            answer = await anyio.to_thread.run_sync(
                self._work, model, body, began, limiter=self._limiter
            )
        finally:
            self.metrics.leave(started=bool(began))
        self.metrics.observe(time.perf_counter() - started)
        return answer

    async def text_completions(self, request: Request) -> Response:
        return await _completions(self, request, chat=False)

    async def chat_completions(self, request: Request) -> Response:
        return await _completions(self, request, chat=True)

    def table(self) -> list[tuple[str, str, Endpoint, str]]:
        """(path, metric name, endpoint, method) of every route this model answers."""
        routes: list[tuple[str, str, Endpoint, str]] = [
            ("/v2/health/live", "live", self.live, "GET"),
            ("/v2/health/ready", "ready", self.ready, "GET"),
            ("/v2/models/{name}", "model", self.metadata, "GET"),
            ("/v2/models/{name}/ready", "model_ready", self.model_ready, "GET"),
            ("/v2/models/{name}/infer", "infer", self.infer, "POST"),
            ("/metrics", "metrics", self.prometheus, "GET"),
        ]
        if isinstance(self.model, ServedLLM):
            routes[2:5] = [
                ("/v1/completions", "completions", self.text_completions, "POST"),
                ("/v1/chat/completions", "chat_completions", self.chat_completions, "POST"),
            ]
        return routes


async def _completions(routes: _Routes, request: Request, chat: bool) -> Response:
    """An OpenAI completion: one generation at a time, streamed as server-sent events or whole."""
    model, metrics = routes.model, routes.metrics
    assert isinstance(model, ServedLLM)
    body = await _read_body(request, routes.limits.max_body)
    prompt, settings, stream = model.parse(body, chat)
    if not metrics.admit(1 + routes.limits.queue):  # one generation at a time
        raise RequestError("The server is busy (its queue is full); try again shortly", 503)
    began: list[bool] = []
    stop = threading.Event()

    def on_start() -> None:
        metrics.start()
        began.append(True)

    def on_summary(summary: GenerationSummary) -> None:
        metrics.generated(summary.tokens, summary.decode_tokens_per_s)

    events = model.events(prompt, settings, stop, on_start, on_summary)
    started = time.perf_counter()

    async def finish() -> None:
        stop.set()
        with anyio.CancelScope(shield=True):  # also when the client went away mid-stream
            await anyio.to_thread.run_sync(events.close)
        metrics.leave(started=bool(began))
        metrics.observe(time.perf_counter() - started)

    try:
        first = await anyio.to_thread.run_sync(next, events)
        if not stream:
            summary = await anyio.to_thread.run_sync(last_event, first, events)
    except BaseException:
        await finish()
        raise
    if not stream:
        await finish()
        whole = answer(model, new_id(chat), chat, summary)
        return Response(orjson.dumps(whole), media_type="application/json")

    async def pieces() -> AsyncIterator[bytes]:
        try:
            async for piece in server_sent_events(model, chat, events, first):
                yield piece
        finally:
            await finish()

    return StreamingResponse(pieces(), media_type="text/event-stream")


def build_app(
    model: ServedModel | ServedLLM, limits: Limits, metrics: Metrics, token: str | None
) -> ASGIApp:
    routes = _Routes(model, limits, metrics)
    app: ASGIApp = Starlette(
        routes=[
            Route(path, _guarded(name, h, metrics), methods=[m])
            for path, name, h, m in routes.table()
        ]
    )
    if isinstance(model, ServedModel):
        app = FastInfer(app, routes, model)
    return BearerToken(app, token) if token else app


class FastInfer:
    """``POST /v2/models/NAME/infer`` answered straight from ASGI, everything else by Starlette.

    Starlette's middleware layers, routing and Request/Response objects cost about as much CPU
    per request as the demo CNN's inference (benchmarks/README.md); this path does the same
    checks and answers without them.
    """

    def __init__(self, app: ASGIApp, routes: _Routes, model: ServedModel) -> None:
        self.app = app
        self.routes = routes
        self.model = model
        self.path = f"/v2/models/{model.name}/infer"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        try:
            body = await _receive_body(scope, receive, self.routes.limits.max_body)
            status, answer = 200, await self.routes.run(self.model, body)
        except RequestError as exc:
            status, answer = exc.status, orjson.dumps({"error": exc.message})
        except Exception:  # a bug: logged with its traceback, the client gets one line
            log.exception("studio serve: infer failed")
            status = 500
            answer = orjson.dumps({"error": "The server failed on this request; see its log"})
        self.routes.metrics.count("infer", status)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


async def _receive_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    too_large = RequestError(f"The request is larger than the limit of {limit} bytes", 413)
    declared = dict(scope["headers"]).get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestError("The client went away before sending the whole request")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:  # a chunked upload that never declared its length
            raise too_large
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)
