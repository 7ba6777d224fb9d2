"""Start and stop `studio serve`: the address check, the token, the socket and uvicorn.

127.0.0.1 needs nothing; any other interface lets the network run the model, so it needs a token
(STUDIO_SERVE_TOKEN, or one kept in the keyring under "serve"). Stopping (Ctrl+C or ``stop``)
refuses new connections and lets requests in flight finish.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core import messages
from studio.core.errors import BadInput
from studio.core.model.loader import TensorInfo
from studio.core.serve import require_stack
from studio.core.serve.model import ServedModel

TOKEN_ENV = "STUDIO_SERVE_TOKEN"
# Requests in flight get this long to finish after a stop; uvicorn then closes them.
GRACE_S = 30.0


@dataclass(frozen=True)
class ServeOptions:
    bundle: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    queue: int = 64
    max_body: int = 32 << 20


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def serve_token(host: str) -> str | None:
    """The token clients must send, or None on loopback without one; refuses an open network."""
    from studio.core.hubs.tokens import get_token

    token = os.environ.get(TOKEN_ENV, "").strip() or get_token("serve")
    if token or is_loopback(host):
        return token or None
    raise BadInput(
        f"Serving on {host} lets other computers run the model, so it needs a token",
        f"Set {TOKEN_ENV} (clients then send 'Authorization: Bearer <token>'), "
        "or serve on 127.0.0.1",
    )


def _bind(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise BadInput(
            msg=messages.message("serve.bad_port", messages.Fix(option="port"), port=port)
        )
    try:
        family = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise BadInput(
            msg=messages.message(
                "serve.cannot_listen",
                messages.Fix(action="other_port"),
                host=host,
                port=port,
                reason=str(exc.strerror or exc),
            )
        ) from exc


class Server:
    """A bound server for one bundle; ``run`` blocks (Ctrl+C stops it), ``start`` uses a thread."""

    def __init__(self, options: ServeOptions) -> None:
        require_stack()
        import uvicorn

        from studio.core.serve.app import Limits, build_app
        from studio.core.serve.metrics import Metrics
        from studio.core.serve.model import is_llm, verified_manifest

        self.token = serve_token(options.host)
        bundle = options.bundle.expanduser()
        manifest = verified_manifest(bundle)
        if is_llm(manifest):
            from studio.core.serve.openai import ServedLLM

            self.model: ServedModel | ServedLLM = ServedLLM(bundle, manifest)
        else:
            self.model = ServedModel(bundle, manifest)
        self.manifest = manifest
        self.metrics = Metrics()
        limits = Limits(workers=options.workers, queue=options.queue, max_body=options.max_body)
        if min(options.workers, options.queue + 1, options.max_body) < 1:
            raise BadInput(
                msg=messages.message(
                    "serve.bad_limits",
                    workers=options.workers,
                    max_body=options.max_body,
                    queue=options.queue,
                )
            )
        app = build_app(self.model, limits, self.metrics, self.token)
        self.socket = _bind(options.host, options.port)
        self.port: int = self.socket.getsockname()[1]
        host = options.host.strip("[]")
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=int(GRACE_S),
            lifespan="off",
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve until Ctrl+C (uvicorn turns SIGINT/SIGTERM into a graceful stop)."""
        self._uvicorn.run(sockets=[self.socket])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="studio-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("studio serve did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop accepting, finish requests in flight, then return."""
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(GRACE_S + 5)
        self.socket.close()

    def curl_example(self) -> str:
        if isinstance(self.model, ServedModel):
            return v2_curl(self.url, self.model.name, self.manifest.inputs, bool(self.token))
        auth = f" -H 'Authorization: Bearer ${TOKEN_ENV}'" if self.token else ""
        chat = {"messages": [{"role": "user", "content": "Hello"}], "stream": True}
        return (
            f"curl{auth} -H 'Content-Type: application/json' {self.url}/v1/chat/completions "
            f"-N -d '{json.dumps(chat)}'"
        )


def v2_curl(url: str, model: str, inputs: list[TensorInfo], token: bool) -> str:
    """A curl command inferring ``model`` at ``url`` (the values left for the user to fill)."""
    from studio.core.serve.v2 import V2_DATATYPES

    auth = f" -H 'Authorization: Bearer ${TOKEN_ENV}'" if token else ""
    example: dict[str, Any] = {"inputs": []}
    for t in inputs:
        shape = [d if isinstance(d, int) else 1 for d in t.shape]
        datatype = V2_DATATYPES.get(t.dtype, t.dtype.upper())
        example["inputs"].append(
            {"name": t.name, "shape": shape, "datatype": datatype, "data": "[...]"}
        )
    body = json.dumps(example).replace('"[...]"', "[...]")
    return (
        f"curl{auth} -H 'Content-Type: application/json' {url}/v2/models/{model}/infer -d '{body}'"
    )
