#!/usr/bin/env python3
"""The V2 server `studio serve --device` starts on a phone or board: Python 3.8+, the standard
library and onnxruntime (with numpy) only; the studio's V2 code (v2.py) is pushed beside it.

    python3 device_server.py --bundle DIR [--port 0] [--threads N] [--max-body BYTES]

It listens on the device's 127.0.0.1 only (the studio reaches it through ``adb forward``), prints
one JSON line ``{"type": "listening", "port": N, "pid": N}`` (or ``{"type": "error", ...}`` and
exit 3), and stops when its stdin closes, i.e. when the adb shell that started it ends. Only the
model file named by the bundle's manifest is loaded; the bundle's own code never runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__:  # imported by the studio (tests, type checks)
    from studio.core.serve import v2
else:  # run as a script on the device, v2.py beside it
    import v2  # type: ignore[import-not-found,no-redef]


class DeviceModel(v2.BundleModel):
    """The bundle's model in one onnxruntime session, every file re-hashed before it loads;
    requests are checked and answered by the same V2 code as `studio serve` and the exports."""

    def infer_body(self, body: bytes) -> dict[str, Any]:
        try:
            request = json.loads(body)
        except ValueError as exc:
            raise v2.RequestError("The request body is not valid JSON") from exc
        return self.infer(request)


def _handler(model: DeviceModel, max_body: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection

        def log_message(self, format: str, *args: Any) -> None:  # quiet, like `studio serve`
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _model_path(self, suffix: str) -> bool:
            prefix = "/v2/models/" + model.name
            if self.path == prefix + suffix:
                return True
            if self.path.startswith("/v2/models/"):
                self._send(
                    404, {"error": f"Unknown route or model; this server serves '{model.name}'"}
                )
                return False
            self._send(404, {"error": "Unknown route"})
            return False

        def do_GET(self) -> None:
            if self.path in ("/v2/health/live", "/v2/health/ready"):
                self._send(200, {self.path.rsplit("/", 1)[1]: True})
            elif self.path.endswith("/ready") and self._model_path("/ready"):
                self._send(200, {"name": model.name, "ready": True})
            elif not self.path.endswith("/ready") and self._model_path(""):
                self._send(200, model.metadata())

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length", "")
            if not length.isdigit():
                self._send(411, {"error": "Send the request with a Content-Length"})
                return
            if int(length) > max_body:
                self.close_connection = True  # the body is left unread
                self._send(
                    413, {"error": f"The request is larger than the limit of {max_body} bytes"}
                )
                return
            body = self.rfile.read(int(length))
            if not self._model_path("/infer"):
                return
            try:
                self._send(200, model.infer_body(body))
            except v2.RequestError as exc:
                self._send(exc.status, {"error": getattr(exc, "message", None) or str(exc)})
            except Exception as exc:  # a bug or the device out of memory: one line, not a trace
                self._send(
                    500, {"error": f"The server failed on this request ({type(exc).__name__})"}
                )

    return Handler


def _emit(kind: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"type": kind, **fields}) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--max-body", type=int, default=32 << 20)
    args = parser.parse_args(argv)
    try:
        model = DeviceModel(Path(args.bundle), args.threads or 1)
        server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(model, args.max_body))
    except Exception as exc:  # no onnxruntime, a broken model, a port in use: one line
        _emit(
            "error", message=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        return 3
    server.daemon_threads = True
    _emit("listening", port=server.server_address[1], pid=os.getpid(), model=model.name)

    def watch_stdin() -> None:
        sys.stdin.read()  # EOF: the adb shell that started us is gone
        server.shutdown()

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
