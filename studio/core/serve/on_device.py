"""`studio serve BUNDLE --device SERIAL`: the bundle deployed, the device's Python serving it, and
``adb forward`` exposing it on 127.0.0.1 of this PC.

The device runs the studio's own device_server.py (pushed with the V2 codec to a folder of its
own, never into the bundle), so no code from the bundle runs and bundles made before this
existed serve too. Stopping removes the forward and ends the remote process; if this program dies
instead, adbd ends it when the shell closes and the server stops when its stdin does.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.bundle.folder import Manifest
from studio.core.devices.adb_device import AdbDevice
from studio.core.devices.base import StreamedProcess
from studio.core.devices.deploy import deploy_bundle, resolve_target
from studio.core.devices.listing import get_device
from studio.core.devices.models import THIS_PC_SERIAL
from studio.core.errors import BadInput, JobCancelled, OutputError, StudioError
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.serve.model import is_llm, verified_manifest
from studio.core.serve.server import v2_curl

HERE = Path(__file__).resolve().parent
SERVER_FILES = ("device_server.py", "v2.py")
TOOLS_FOLDER = ".studio-serve"  # no bundle gets this folder: device folder names never start "."
START_TIMEOUT_S = 120.0  # loading onnxruntime and the model on a slow board


@dataclass(frozen=True)
class DeviceServeOptions:
    bundle: Path
    device: str | None = None
    port: int = 8000
    to: str | None = None
    threads: int = 0
    max_body: int = 32 << 20


def _free_local_port(port: int) -> int:
    """``port`` when nothing on this PC listens there (0: any free one)."""
    if not 0 <= port <= 65535:
        raise BadInput(f"Port {port} is not a port number", "Give --port between 1 and 65535")
    try:
        with socket.create_server(("127.0.0.1", port)) as probe:
            return int(probe.getsockname()[1])
    except OSError as exc:
        raise _port_taken(port) from exc


def _port_taken(port: int) -> BadInput:
    return BadInput(
        f"Port {port} on this PC is already in use, so the device's server cannot appear there",
        "Choose another --port (0 picks a free one)",
    )


class DeviceServer:
    """A server running on a device, reachable at ``url`` on this PC until ``stop``."""

    def __init__(self, dev: AdbDevice, process: StreamedProcess, manifest: Manifest) -> None:
        self.dev = dev
        self.serial = dev.serial
        self.manifest = manifest
        self.model = manifest.model.name
        self.port = 0
        self.remote_port = 0
        self.pid = 0
        self._process = process
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._ended = threading.Event()
        self._forwarded = False
        self._pump = threading.Thread(target=self._read, name="device-serve", daemon=True)
        self._pump.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        try:
            for line in self._process.lines:
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if isinstance(event, dict):
                        self._events.put(event)
        finally:
            self._ended.set()
            self._events.put(None)

    def wait_listening(self, cancel: threading.Event | None) -> None:
        """Block until the device's server listens; one line when it cannot."""
        waited = 0.0
        while True:
            if cancel is not None and cancel.is_set():
                raise JobCancelled("Stopped")
            try:
                event = self._events.get(timeout=0.2)
            except queue.Empty:
                waited += 0.2
                if waited > START_TIMEOUT_S:
                    raise OutputError(
                        f"The server on {self.serial} did not start within {START_TIMEOUT_S:.0f} s",
                        "Check the device (is it busy or very slow?) and try again",
                    ) from None
                continue
            if event is None or event.get("type") == "error":
                tail = self._process.stderr_tail().strip().splitlines()
                why = (event or {}).get("message") or (tail[-1] if tail else "it exited")
                raise OutputError(
                    f"The server on {self.serial} could not start: {why}",
                    "Check that the device's python3 has onnxruntime and numpy, and that the "
                    "bundle loads there (`studio run BUNDLE --device SERIAL`)",
                )
            if event.get("type") == "listening":
                self.remote_port, self.pid = int(event["port"]), int(event["pid"])
                return

    def forward(self, port: int) -> None:
        from adbutils import AdbError

        local = _free_local_port(port)
        try:
            self.dev.handle.forward(f"tcp:{local}", f"tcp:{self.remote_port}", norebind=True)
        except AdbError as exc:
            raise _port_taken(local) from exc
        except OSError as exc:
            raise OutputError(
                f"The adb server did not set up the forward to {self.serial} ({exc})",
                "Check that the device is still connected (`studio devices`), then try again",
            ) from exc
        self.port, self._forwarded = local, True

    def curl_example(self) -> str:
        return v2_curl(self.url, self.model, self.manifest.inputs, token=False)

    def wait(self, timeout: float | None = None) -> bool:
        """True once the device's server has ended (stopped, crashed or the device went away)."""
        return self._ended.wait(timeout)

    def stop(self) -> None:
        """Remove the forward and end the remote process; safe to call twice."""
        if self._forwarded:
            self._forwarded = False
            with contextlib.suppress(Exception):  # the device may be gone already
                self.dev.handle.forward_remove(f"tcp:{self.port}", raise_non_found=False)
        if self.pid and not self._ended.is_set():
            with contextlib.suppress(StudioError):
                self.dev.run_shell(f"kill {self.pid} 2>/dev/null", timeout=10)
        self._process.cancel()
        self._pump.join(2)  # a cancelled job child has 3 s before it is killed


def _remote_tools(dev: AdbDevice, cancel: threading.Event | None) -> str:
    folder = dev.default_dir(TOOLS_FOLDER)
    items: list[tuple[Any, str]] = [(HERE / name, dev.join(folder, name)) for name in SERVER_FILES]
    dev.send_files(items, lambda n, name: None, cancel)
    return folder


def serve_on_device(
    options: DeviceServeOptions,
    *,
    report: Reporter = NULL_REPORTER,
    cancel: threading.Event | None = None,
) -> DeviceServer:
    """Deploy, start the device's server and forward ``options.port``; the caller stops it."""
    if options.device == THIS_PC_SERIAL:
        raise BadInput(
            "Serving on this PC needs no device", "Leave out --device to serve on this PC"
        )
    bundle = options.bundle.expanduser()
    manifest = verified_manifest(bundle)
    if is_llm(manifest):
        raise BadInput(
            "Serving a language model on a device is not supported yet",
            "Serve it on this PC (leave out --device), or run it with `studio run --mode generate`",
        )
    _free_local_port(options.port)  # refuse before a long deploy, not after
    dev = get_device(options.device)
    if not isinstance(dev, AdbDevice):
        raise BadInput("Serving on a device works over adb only", "Choose a phone or board")
    remote = resolve_target(dev, manifest, options.to)
    report.progress(0.0, "Checking the device's Python")
    runtime = dev.detect_runtime(remote)
    if runtime.kind != "python":
        raise BadInput(
            f"{dev.serial} cannot serve: "
            + (runtime.missing or f"it offers only {runtime.description}, not Python"),
            "Serving needs python3 with onnxruntime on the device",
        )
    deploy_bundle(bundle, dev.serial, options.to, report=report.sub(0.05, 0.8), cancel=cancel)
    report.progress(0.8, "Starting the server on the device")
    tools = _remote_tools(dev, cancel)
    argv = [*runtime.command, dev.join(tools, "device_server.py"), "--bundle", remote]
    argv += ["--threads", str(options.threads), "--max-body", str(options.max_body)]
    server = DeviceServer(dev, dev.stream(argv, remote), manifest)
    try:
        server.wait_listening(cancel)
        server.forward(options.port)
    except BaseException:
        server.stop()
        raise
    report.progress(1.0, f"Serving on {dev.serial} at {server.url}")
    return server
