"""`studio serve` as a background job (the Demo step's Serve buttons): serve until cancelled.

The address and a curl example go out as one ``serving`` event as soon as the server listens;
cancelling the job (SIGTERM to its child process) stops it the way Ctrl+C stops the CLI: this
PC's server finishes its requests, a device's forward is removed and its server ended.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from studio.core.errors import OutputError
from studio.core.progress import Reporter
from studio.core.serve.on_device import DeviceServeOptions, serve_on_device
from studio.core.serve.server import ServeOptions, Server


def _stop_on_sigterm() -> None:
    """A job is cancelled with SIGTERM: turn it into an exception so ``finally`` cleans up."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def serve_until_cancelled(
    bundle: str, device: str | None = None, *, report: Reporter
) -> dict[str, Any]:
    """Serve ``bundle`` on this PC (``device`` None) or on a device, on a free port, until the
    job is cancelled; one line when a device's server ends by itself (the device went away)."""
    _stop_on_sigterm()
    ended: Callable[[float], bool]
    if device:
        remote = serve_on_device(
            DeviceServeOptions(bundle=Path(bundle), device=device, port=0), report=report
        )
        where, url, curl, stop, ended = (
            remote.serial,
            remote.url,
            remote.curl_example(),
            remote.stop,
            remote.wait,
        )
    else:
        local = Server(ServeOptions(bundle=Path(bundle), port=0))
        local.start()
        where, url, curl, stop = "this-pc", local.url, local.curl_example(), local.stop
        ended = threading.Event().wait  # serves until cancelled
    try:
        report.progress(1.0, f"Serving at {url}")
        report.event({"type": "serving", "where": where, "url": url, "curl": curl})
        while not ended(0.5):
            pass
    except KeyboardInterrupt:
        return {"stopped": True, "where": where}
    finally:
        stop()
    raise OutputError(
        f"The server on {where} stopped (the device went away or the server exited)",
        "Check the connection on the Deploy step and serve again",
    )
